//! JMAP sending to another server: EmailSubmission/set relays through a smarthost stand-in
//! (tests/send_support) with DKIM and without Bcc; deliveryStatus says "unknown" for a relay's
//! 250 (RFC 8621 §7: relaying is not delivery) and "no" with the remote's reply after a 550,
//! whose bounce is in the sender's Inbox and in dsnBlobIds.

use crate::common;
use crate::send_support;

use common::{CORE, MAIL, SUBMISSION, Server, eventually};
use send_support::{FakeSmtp, smarthost_config};
use serde_json::{Value, json};

const ALICE: &str = "alice@example.org";
const PW: &str = "alice's long password";

async fn api(server: &Server, calls: Value) -> Vec<Value> {
    server
        .call_using(ALICE, PW, &[CORE, MAIL, SUBMISSION], calls)
        .await
}

/// Writes a draft to `to` (Bcc a second remote address) and submits it; the submission id.
async fn send(
    server: &Server,
    acct: &str,
    identity: &str,
    drafts: &str,
    subject: &str,
    to: &str,
) -> String {
    let r = api(
        server,
        json!([
            ["Email/set", {"accountId": acct, "create": {"d": {
                "mailboxIds": {drafts: true}, "keywords": {"$draft": true},
                "from": [{"email": ALICE}], "to": [{"email": to}],
                "bcc": [{"email": "hidden@remote.example"}], "subject": subject,
                "bodyStructure": {"type": "text/plain", "partId": "1"},
                "bodyValues": {"1": {"value": "Hello from JMAP.\r\n"}}}}}, "0"],
            ["EmailSubmission/set", {"accountId": acct, "create": {"s": {
                "emailId": "#d", "identityId": identity}}}, "1"]
        ]),
    )
    .await;
    r[1][1]["created"]["s"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("not created: {:?}", r[1]))
        .to_string()
}

async fn submission(server: &Server, acct: &str, id: &str) -> Value {
    api(
        server,
        json!([["EmailSubmission/get", {"accountId": acct, "ids": [id]}, "g"]]),
    )
    .await[0][1]["list"][0]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relayed_with_dkim_without_bcc_and_bounces_reported() {
    let fake = FakeSmtp::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = smarthost_config(dir.path(), &fake, 3600);
    let server = Server::start_with(&["--config", &cfg]);
    server.add_user(ALICE, PW);
    let acct = server.account_id(ALICE, PW).await;
    let r = api(
        &server,
        json!([
            ["Mailbox/get", {"accountId": acct, "properties": ["role"]}, "m"],
            ["Identity/get", {"accountId": acct}, "i"]
        ]),
    )
    .await;
    let role = |name: &str| -> String {
        r[0][1]["list"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["role"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (drafts, inbox) = (role("drafts"), role("inbox"));
    let identity = r[1][1]["list"][0]["id"].as_str().unwrap().to_string();

    let id = send(
        &server,
        &acct,
        &identity,
        &drafts,
        "To the world",
        "carol@remote.example",
    )
    .await;
    let got = eventually("the smarthost to receive it", || {
        let m = fake.messages();
        async move { m.into_iter().next() }
    })
    .await;
    assert!(got.tls);
    assert_eq!(got.mail_from, ALICE);
    let mut rcpts = got.rcpts.clone();
    rcpts.sort();
    assert_eq!(rcpts, vec!["carol@remote.example", "hidden@remote.example"]);
    let text = String::from_utf8_lossy(got.data.as_deref().unwrap()).to_string();
    assert!(text.contains("DKIM-Signature:"), "{text}");
    assert!(text.contains("Subject: To the world"), "{text}");
    assert!(
        !text.to_ascii_lowercase().contains("\nbcc:"),
        "Bcc leaked: {text}"
    );
    let s = eventually("deliveryStatus after the relay", || async {
        let s = submission(&server, &acct, &id).await;
        (s["undoStatus"] == "final").then_some(s)
    })
    .await;
    let st = &s["deliveryStatus"]["carol@remote.example"];
    assert_eq!(st["delivered"], "unknown", "{s}");
    assert!(st["smtpReply"].as_str().unwrap().starts_with("250"), "{s}");

    // A permanent refusal: "no", the remote's words, and a bounce in dsnBlobIds and the Inbox.
    fake.script(&["550 5.1.1 no such mailbox here", "250 2.1.5 OK"]);
    let id = send(
        &server,
        &acct,
        &identity,
        &drafts,
        "Doomed",
        "gone@remote.example",
    )
    .await;
    let s = eventually("the refusal to be recorded", || async {
        let s = submission(&server, &acct, &id).await;
        (s["deliveryStatus"]["gone@remote.example"]["delivered"] == "no").then_some(s)
    })
    .await;
    let st = &s["deliveryStatus"]["gone@remote.example"];
    assert!(
        st["smtpReply"].as_str().unwrap().starts_with("550 5.1.1"),
        "{s}"
    );
    let dsn = s["dsnBlobIds"][0]
        .as_str()
        .expect("a DSN blob id")
        .to_string();
    let res = server
        .http()
        .get(format!(
            "{}/jmap/download/{acct}/{dsn}/bounce.eml",
            server.base_url()
        ))
        .basic_auth(ALICE, Some(PW))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let report = res.text().await.unwrap();
    assert!(report.contains("multipart/report"), "{report}");
    assert!(report.contains("gone@remote.example"), "{report}");
    let r = api(
        &server,
        json!([
            ["Email/query", {"accountId": acct, "filter": {"inMailbox": inbox}}, "q"],
            ["Email/get", {"accountId": acct, "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
              "properties": ["blobId"]}, "g"]
        ]),
    )
    .await;
    assert_eq!(
        r[1][1]["list"][0]["blobId"],
        dsn.as_str(),
        "the bounce is in the Inbox"
    );
}
