//! RFC 8620 §5.2 `/changes` through the real HTTP endpoint, driven by real SMTP deliveries:
//! state moves with every delivery, maxChanges pages with hasMoreChanges, created-then-
//! destroyed is not reported, bad states are cannotCalculateChanges, Mailbox/changes reports
//! count-only updates with updatedProperties (RFC 8621 §2.2).

use crate::common;
use common::{Server, message};
use serde_json::{Value, json};

const USER: &str = "alice@example.org";
const PASS: &str = "correct horse battery";

async fn state_of(s: &Server, acct: &str, ty: &str) -> String {
    let r = s
        .call(
            USER,
            PASS,
            json!([[format!("{ty}/get"), {"accountId": acct, "ids": []}, "0"]]),
        )
        .await;
    r[0][1]["state"].as_str().expect("state").to_string()
}

async fn changes(s: &Server, acct: &str, ty: &str, since: &str, max: Option<u64>) -> Value {
    let mut args = json!({"accountId": acct, "sinceState": since});
    if let Some(m) = max {
        args["maxChanges"] = json!(m);
    }
    let r = s
        .call(USER, PASS, json!([[format!("{ty}/changes"), args, "c"]]))
        .await;
    r[0].clone()
}

fn deliver(s: &Server, n: usize) {
    for i in 0..n {
        let raw = message(
            "bob@example.net",
            USER,
            &format!("hello {i}"),
            &format!("m{i}-{}@example.net", std::process::id()),
            "body",
        );
        s.send("bob@example.net", &[USER], &raw).expect("SMTP send");
    }
}

#[tokio::test]
async fn email_and_thread_changes_follow_smtp_deliveries() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    let e0 = state_of(&s, &acct, "Email").await;
    let t0 = state_of(&s, &acct, "Thread").await;
    let m0 = state_of(&s, &acct, "Mailbox").await;

    // Nothing changed: same state back, empty lists.
    let r = changes(&s, &acct, "Email", &e0, None).await;
    assert_eq!(r[0], "Email/changes", "{r}");
    assert_eq!(r[1]["oldState"], json!(e0));
    assert_eq!(r[1]["newState"], json!(e0));
    assert_eq!(r[1]["hasMoreChanges"], json!(false));
    assert_eq!(r[1]["created"], json!([]));

    deliver(&s, 3);
    let e1 = state_of(&s, &acct, "Email").await;
    assert_ne!(e0, e1, "an SMTP delivery must change the Email state");

    let r = changes(&s, &acct, "Email", &e0, None).await;
    assert_eq!(r[1]["created"].as_array().map(Vec::len), Some(3), "{r}");
    assert_eq!(r[1]["newState"], json!(e1));
    assert_eq!(r[1]["updated"], json!([]));
    assert_eq!(r[1]["destroyed"], json!([]));
    assert_eq!(r[1]["accountId"], json!(acct));

    // Paging: never more than maxChanges ids, and the pages add up.
    let mut since = e0.clone();
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let r = changes(&s, &acct, "Email", &since, Some(2)).await;
        let created = r[1]["created"].as_array().cloned().unwrap_or_default();
        assert!(created.len() <= 2, "{r}");
        seen.extend(created);
        since = r[1]["newState"].as_str().expect("newState").to_string();
        pages += 1;
        if r[1]["hasMoreChanges"] == json!(false) {
            break;
        }
        assert!(pages < 10);
    }
    assert_eq!(pages, 2);
    assert_eq!(seen.len(), 3);
    assert_eq!(since, e1);

    let r = changes(&s, &acct, "Thread", &t0, None).await;
    assert_eq!(r[1]["created"].as_array().map(Vec::len), Some(3), "{r}");

    // Only counts moved on the Inbox: updatedProperties says so.
    let r = changes(&s, &acct, "Mailbox", &m0, None).await;
    assert_eq!(r[1]["updated"].as_array().map(Vec::len), Some(1), "{r}");
    assert_eq!(
        r[1]["updatedProperties"],
        json!([
            "totalEmails",
            "unreadEmails",
            "totalThreads",
            "unreadThreads"
        ])
    );
    // From the very beginning the mailboxes were created: no updatedProperties.
    let r = changes(&s, &acct, "Mailbox", "0", None).await;
    assert_eq!(r[1]["created"].as_array().map(Vec::len), Some(6), "{r}");
    assert_eq!(r[1]["updatedProperties"], Value::Null);
}

#[tokio::test]
async fn bad_states_and_arguments() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    for bad in ["abc", "", "-1", "99999999", "1.5"] {
        let r = changes(&s, &acct, "Email", bad, None).await;
        assert_eq!(r[0], "error", "{bad}: {r}");
        assert_eq!(r[1]["type"], "cannotCalculateChanges", "{bad}: {r}");
    }
    let r = changes(&s, &acct, "Email", "0", Some(0)).await;
    assert_eq!(r[1]["type"], "invalidArguments", "{r}");
    let r = s
        .call(
            USER,
            PASS,
            json!([["Email/changes", {"accountId": acct}, "c"]]),
        )
        .await;
    assert_eq!(r[0][1]["type"], "invalidArguments", "{r:?}");
    let r = s
        .call(
            USER,
            PASS,
            json!([["Thread/changes", {"accountId": "anope", "sinceState": "0"}, "c"]]),
        )
        .await;
    assert_eq!(r[0][1]["type"], "accountNotFound", "{r:?}");
    let r = s
        .call(
            USER,
            PASS,
            json!([["Email/changes", {"accountId": acct, "sinceState": "0", "maxChanges": "5"}, "c"]]),
        )
        .await;
    assert_eq!(r[0][1]["type"], "invalidArguments", "{r:?}");
}

#[tokio::test]
async fn trimmed_log_means_cannot_calculate_changes() {
    let dir = tempfile::tempdir().expect("dir");
    let cfg = dir.path().join("mailnook.toml");
    std::fs::write(&cfg, "changelog_keep = 3\n").expect("config");
    let extra = ["--config", cfg.to_str().expect("path")];
    let mut s = Server::start_with(&extra);
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    let e0 = state_of(&s, &acct, "Email").await;
    let mut states = Vec::new();
    for i in 0..5 {
        let raw = message(
            "bob@example.net",
            USER,
            &format!("t{i}"),
            &format!("t{i}@x"),
            "b",
        );
        s.send("bob@example.net", &[USER], &raw).expect("SMTP send");
        states.push(state_of(&s, &acct, "Email").await);
    }
    // The trim runs at start: restart on the same data with the same config.
    s.kill();
    let s2 = Server::start_in(&s.data_dir, &extra);
    // (The start-up sweep runs alongside serving: wait for it, bounded.)
    common::eventually("the start-up trim", || async {
        let r = changes(&s2, &acct, "Email", &e0, None).await;
        (r[1]["type"] == "cannotCalculateChanges").then_some(())
    })
    .await;
    let r = changes(&s2, &acct, "Email", &states[0], None).await;
    assert_eq!(r[1]["type"], "cannotCalculateChanges", "{r}");
    // Within the kept history, changes are exact.
    let r = changes(&s2, &acct, "Email", &states[1], None).await;
    assert_eq!(r[1]["created"].as_array().map(Vec::len), Some(3), "{r}");
    assert_eq!(r[1]["newState"], json!(states[4]));
}
