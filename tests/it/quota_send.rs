//! Sending limits per account (`src/quota/send.rs`) through the real server: with two
//! messages and three recipients an hour allowed, JMAP EmailSubmission/set answers
//! `forbiddenToSend` for the third message and `tooManyRecipients` past three recipients, the
//! submission port answers `450 4.7.1` and `452 4.5.3`; nothing refused is queued or counted,
//! and the admin API shows what each account sent.

use crate::common::{CORE, MAIL, SUBMISSION, Server};
use crate::send_support::submit;
use serde_json::{Value, json};

const ALICE: &str = "alice@example.org";
const BOB: &str = "bob@example.org";
const CAROL: &str = "carol@example.org";
const DAVE: &str = "dave@example.org";
const PW: &str = "a long enough password";

fn start() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mailnook.toml");
    std::fs::write(
        &path,
        "[send_limits]\nmessages_per_hour = 2\nrecipients_per_hour = 3\n",
    )
    .unwrap();
    let server = Server::start_with(&["--config", &path.display().to_string()]);
    for u in [ALICE, BOB, CAROL, DAVE] {
        server.add_user(u, PW);
    }
    (server, dir)
}

async fn api(s: &Server, user: &str, calls: Value) -> Vec<Value> {
    s.call_using(user, PW, &[CORE, MAIL, SUBMISSION], calls)
        .await
}

/// A draft to `to` created and submitted in one request; the EmailSubmission/set response.
async fn send(s: &Server, user: &str, to: &[&str], subject: &str) -> Value {
    let acct = s.account_id(user, PW).await;
    let r = api(
        s,
        user,
        json!([
            ["Mailbox/get", {"accountId": acct, "properties": ["role"]}, "m"],
            ["Identity/get", {"accountId": acct}, "i"]
        ]),
    )
    .await;
    let drafts = r[0][1]["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "drafts")
        .unwrap()["id"]
        .clone();
    let identity = r[1][1]["list"][0]["id"].clone();
    let rcpts: Vec<Value> = to.iter().map(|e| json!({"email": e})).collect();
    let r = api(
        s,
        user,
        json!([
            ["Email/set", {"accountId": acct, "create": {"d": {
                "mailboxIds": {drafts.as_str().unwrap(): true},
                "keywords": {"$draft": true},
                "from": [{"email": user}], "to": rcpts, "subject": subject,
                "bodyStructure": {"type": "text/plain", "partId": "1"},
                "bodyValues": {"1": {"value": "hello"}}}}}, "0"],
            ["EmailSubmission/set", {"accountId": acct, "create": {
                "s": {"emailId": "#d", "identityId": identity}}}, "1"]
        ]),
    )
    .await;
    assert_eq!(r[1][0], "EmailSubmission/set", "{r:?}");
    r[1][1].clone()
}

async fn sent(s: &Server, user: &str) -> Value {
    let res = s
        .http()
        .get(format!("{}/admin/api/quota/list", s.base_url()))
        .basic_auth(&s.admin, Some(&s.admin_password))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let v: Value = res.json().await.unwrap();
    v["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["address"] == user)
        .unwrap()["sent"]
        .clone()
}

#[tokio::test]
async fn jmap_submission_answers_forbidden_to_send_and_too_many_recipients() {
    let (s, _dir) = start();
    for i in 0..2 {
        let r = send(&s, ALICE, &[BOB], &format!("note {i}")).await;
        assert!(r["created"]["s"]["id"].is_string(), "{r}");
    }
    let r = send(&s, ALICE, &[BOB], "one too many").await;
    assert_eq!(r["notCreated"]["s"]["type"], "forbiddenToSend", "{r}");
    let counts = sent(&s, ALICE).await;
    assert_eq!(
        counts["messages_hour"], 2,
        "the refused one is not counted: {counts}"
    );
    assert_eq!(counts["recipients_hour"], 2);

    // Three recipients an hour: four at once are refused, three pass.
    let r = send(&s, CAROL, &[ALICE, BOB, DAVE, "x@example.net"], "to many").await;
    assert_eq!(r["notCreated"]["s"]["type"], "tooManyRecipients", "{r}");
    let r = send(&s, CAROL, &[ALICE, BOB, DAVE], "to three").await;
    assert!(r["created"]["s"]["id"].is_string(), "{r}");
    let r = send(&s, CAROL, &[ALICE], "to one more").await;
    assert_eq!(r["notCreated"]["s"]["type"], "tooManyRecipients", "{r}");
    assert_eq!(sent(&s, CAROL).await["recipients_hour"], 3);
}

#[tokio::test]
async fn the_submission_port_answers_450_and_452() {
    let (s, dir) = start();
    let raw = |from: &str, to: &str, subject: &str| {
        crate::common::message(from, to, subject, &format!("{subject}@example.org"), "hi")
    };
    for i in 0..2 {
        submit(
            &s,
            ALICE,
            PW,
            ALICE,
            &[BOB],
            &raw(ALICE, BOB, &format!("m{i}")),
        )
        .expect("within limits");
    }
    let e = submit(&s, ALICE, PW, ALICE, &[BOB], &raw(ALICE, BOB, "third")).unwrap_err();
    assert!(e.contains("450") || e.contains("4.7.1"), "{e}");
    assert_eq!(sent(&s, ALICE).await["messages_hour"], 2);

    // The fourth recipient of the hour is refused at RCPT TO.
    let e = submit(
        &s,
        CAROL,
        PW,
        CAROL,
        &[ALICE, BOB, DAVE, "x@example.net"],
        &raw(CAROL, BOB, "many"),
    )
    .unwrap_err();
    assert!(e.contains("452") || e.contains("4.5.3"), "{e}");
    submit(
        &s,
        CAROL,
        PW,
        CAROL,
        &[ALICE, BOB, DAVE],
        &raw(CAROL, BOB, "three"),
    )
    .expect("three pass");
    assert_eq!(sent(&s, CAROL).await["recipients_hour"], 3);
    // And the limits survive a restart (the counters are in the database).
    let mut s = s;
    s.kill();
    let config = dir.path().join("mailnook.toml").display().to_string();
    let again = Server::start_in(&s.data_dir, &["--config", &config]);
    let e = submit(
        &again,
        ALICE,
        PW,
        ALICE,
        &[BOB],
        &raw(ALICE, BOB, "after restart"),
    )
    .unwrap_err();
    assert!(e.contains("450") || e.contains("4.7.1"), "{e}");
}
