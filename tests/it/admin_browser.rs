//! A real browser on the admin page: headless Chromium (Debian's `chromium` package) driven by
//! playwright-core (tests/browser/admin.mjs) signs in over the self-signed certificate, creates
//! users, deletes one through the typed confirmation, sees a refusal, takes screenshots
//! (target/admin-browser.png and target/admin-browser-phone.png) and signs out.
//!
//! `.ci/run` installs what this needs (`apt-get install chromium`, `npm ci` in tests/browser).
//! If the browser or node is missing the test FAILS and says why: it never passes silently.

use crate::browser_support;
use crate::common;
use common::*;
use std::process::Command;

#[test]
fn admin_page_in_headless_chromium() {
    let (browser, dir) = browser_support::ready();
    let shots = browser_support::screenshot_dir();
    for f in ["admin-browser.png", "admin-browser-phone.png"] {
        let _ = std::fs::remove_file(shots.join(f));
    }

    let s = Server::start();
    // Real rows in the SMTP table, so the screenshots show how long addresses wrap.
    s.add_user(
        "a.rather.long.mailbox.name@example.org",
        "a long enough secret",
    );
    s.send(
        "someone.with.a.long.address@sender.example.net",
        &["a.rather.long.mailbox.name@example.org"],
        &common::message(
            "someone.with.a.long.address@sender.example.net",
            "a.rather.long.mailbox.name@example.org",
            "Screenshot",
            "<shot@example.net>",
            "hello",
        ),
    )
    .expect("delivery");
    let _ = s.send(
        "x@sender.example.net",
        &["nobody.here@example.org"],
        b"Subject: refused\r\n\r\nx\r\n",
    );
    let out = Command::new("node")
        .arg("admin.mjs")
        .current_dir(&dir)
        .env("MAILNOOK_URL", s.base_url())
        .env("MAILNOOK_ADMIN", &s.admin)
        .env("MAILNOOK_PASSWORD", &s.admin_password)
        .env("MAILNOOK_SCREENSHOT_DIR", &shots)
        .env("CHROMIUM", &browser)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("BROWSER TEST PASSED"),
        "browser test failed:\n{stdout}\n{stderr}\nserver log:\n{}",
        s.log()
    );
    for f in ["admin-browser.png", "admin-browser-phone.png"] {
        let bytes = std::fs::read(shots.join(f)).expect("screenshot written");
        assert!(bytes.starts_with(b"\x89PNG"), "{f} is a PNG");
        assert!(
            bytes.len() > 10_000,
            "{f} has content ({} bytes)",
            bytes.len()
        );
        println!("screenshot: {}", shots.join(f).display());
    }
    // What the browser did went through the real server.
    let log = s.log();
    assert!(
        log.contains("admin: admin@") && log.contains("signed in"),
        "{log}"
    );
    assert!(log.contains("ran user add dora@example.org"));
    assert!(log.contains("ran user del temp@example.org"));
    assert!(log.contains("ran alias add info@example.org"));
    assert!(log.contains("signed out"));
}
