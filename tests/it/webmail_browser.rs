//! The webmail in a real browser (issue #14): headless Chromium (Debian's `chromium`) driven by
//! playwright-core runs tests/browser/webmail.mjs (sign in, live delivery, read, reply, undo
//! send, attachment, search with highlights, Junk and back, vacation, phone layout, sign out)
//! and tests/browser/webmail_hostile.mjs (hostile HTML: nothing runs, nothing is fetched until
//! remote content is allowed). Screenshots: target/webmail-desktop.png, webmail-phone.png.

use crate::browser_support;
use crate::common::*;
use serde_json::json;
use std::process::Command;

const PW: &str = "a long enough secret";

fn run(script: &str, s: &Server, user: &str, peer: &str) -> String {
    let (browser, dir) = browser_support::ready();
    let out = Command::new("node")
        .arg(script)
        .current_dir(&dir)
        .env("MAILNOOK_URL", s.base_url())
        .env("MAILNOOK_SMTP", s.smtp.to_string())
        .env("MAILNOOK_USER", user)
        .env("MAILNOOK_PASSWORD", PW)
        .env("MAILNOOK_PEER", peer)
        .env("MAILNOOK_SCREENSHOT_DIR", browser_support::screenshot_dir())
        .env("CHROMIUM", &browser)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("TEST PASSED"),
        "{script} failed:\n{stdout}\n{stderr}\nserver log:\n{}",
        s.log()
    );
    stdout
}

#[test]
fn webmail_in_headless_chromium() {
    let s = Server::start();
    let (anna, bob) = ("anna@example.org", "bob@example.org");
    s.add_user(anna, PW);
    s.add_user(bob, PW);
    run("webmail.mjs", &s, anna, bob);

    // What the browser did went through the real server: Bob received the reply and the file.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let acct = s.account(bob, PW).await;
        let r = acct
            .call1(
                "Email/query",
                json!({"filter": {"text": "noon is perfect"}}),
            )
            .await;
        assert_eq!(r["ids"].as_array().map(Vec::len), Some(1), "reply at Bob: {r}");
        let r = acct
            .call(json!([
                ["Email/query", {"accountId": acct.id, "filter": {"subject": "Minutes attached"}}, "q"],
                ["Email/get", {"accountId": acct.id, "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
                  "properties": ["attachments", "subject"]}, "g"]
            ]))
            .await;
        let att = &r[1][1]["list"][0]["attachments"][0];
        assert_eq!(att["name"], "minutes.txt", "{}", r[1]);
        assert_eq!(att["size"], 28 * 50, "{}", r[1]);
        let r = acct
            .call1("Email/query", json!({"filter": {"subject": "Never sent"}}))
            .await;
        assert_eq!(r["ids"], json!([]), "an undone send reached Bob");
    });
    for f in ["webmail-desktop.png", "webmail-phone.png"] {
        let p = browser_support::screenshot_dir().join(f);
        let bytes = std::fs::read(&p).expect("screenshot written");
        assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000, "{f}");
        println!("screenshot: {}", p.display());
    }
    let log = s.log();
    assert!(log.contains("webmail: anna@example.org signed in"), "{log}");
    assert!(
        log.contains("webmail: anna@example.org signed out"),
        "{log}"
    );
}

#[test]
fn hostile_html_runs_nothing_and_fetches_nothing_until_allowed() {
    let s = Server::start();
    s.add_user("anna@example.org", PW);
    run(
        "webmail_hostile.mjs",
        &s,
        "anna@example.org",
        "x@example.org",
    );
}
