//! The first start must not lose the admin password (issue #22): with a port busy, it used to
//! create the admin account, print its password once, then exit with "Address already in use";
//! the next start did not show it again. Every listener is now bound before anything is created.

use crate::common;

use common::{Server, bin};
use std::process::{Command, Stdio};

#[test]
fn a_busy_port_creates_nothing_and_the_next_start_shows_the_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("hold a port");
    let port = busy.local_addr().expect("addr").to_string();
    let out = Command::new(bin())
        .args(["serve", "--data-dir"])
        .arg(&data)
        .args([
            "--smtp-listen",
            &port,
            "--https-listen",
            "127.0.0.1:0",
            "--submission-listen",
            "127.0.0.1:0",
            "--sender-auth",
            "off",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run mailnook");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "started on a busy port: {stdout}");
    assert!(
        stderr.contains("cannot listen for SMTP") && stderr.contains(&port),
        "the reason names the port: {stderr}"
    );
    assert!(
        !stdout.contains("Created admin account"),
        "an admin was created (and its password shown) before the failure: {stdout}"
    );
    drop(busy);

    // The next start is the real first start: it creates the admin and shows the password.
    let s = Server::start_in(&data, &[]);
    assert!(
        s.admin.starts_with("admin@") && s.admin_password.len() >= 16,
        "first successful start shows the admin password: {:?}",
        s.stdout
    );
}
