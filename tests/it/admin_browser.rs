//! A real browser on the admin page: headless Chromium (Debian's `chromium` package) driven by
//! playwright-core (tests/browser/admin.mjs) signs in over the self-signed certificate, creates
//! users, deletes one through the typed confirmation, sees a refusal, takes screenshots
//! (target/admin-browser.png and target/admin-browser-phone.png) and signs out.
//!
//! `.ci/run` installs what this needs (`apt-get install chromium`, `npm ci` in tests/browser).
//! If the browser or node is missing the test FAILS and says why: it never passes silently.

use crate::common;
use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn loud_failure(why: &str) -> ! {
    panic!(
        "\n\n========== ADMIN BROWSER TEST CANNOT RUN ==========\n{why}\n\
         Install what it needs with:\n  apt-get update && apt-get install -y chromium nodejs npm\n  \
         (cd tests/browser && npm ci)\n(`make test` does this through tests/setup/deps.sh.)\n\
         ===================================================\n"
    );
}

fn chromium() -> PathBuf {
    let p = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !p.exists() {
        loud_failure(&format!("{} does not exist.", p.display()));
    }
    p
}

fn ensure_playwright(dir: &Path) {
    if dir
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
        return;
    }
    // Not installed yet (a fresh clone): install exactly what package-lock.json pins.
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => loud_failure(&format!(
            "`npm ci` in {} failed:\n{}",
            dir.display(),
            String::from_utf8_lossy(&o.stderr)
        )),
        Err(e) => loud_failure(&format!("cannot run npm: {e}")),
    }
}

#[test]
fn admin_page_in_headless_chromium() {
    let browser = chromium();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    match Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => {}
        _ => loud_failure("node is not installed."),
    }
    ensure_playwright(&dir);
    // CARGO_TARGET_TMPDIR is <target>/tmp: the screenshots go to <target>/.
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("target"));
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
