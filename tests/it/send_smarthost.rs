//! Sending through a smarthost: a mail client submits on the submission port (STARTTLS +
//! AUTH), mailnook queues the message, signs it with DKIM and relays it with STARTTLS + AUTH to
//! a stand-in SMTP server on loopback, which records what it got. Local recipients of the same
//! message are delivered at once. Then: a 451 is retried, a 550 bounces, and a message that
//! never gets through bounces when its time runs out.

use crate::common;
use crate::send_support;

use common::{Server, Transcript, eventually};
use send_support::{FakeSmtp, smarthost_config, submit, verify_dkim};
use serde_json::{Value, json};

const ALICE: &str = "alice@example.org";
const BOB: &str = "bob@example.org";
const PW: &str = "alice's long password";

fn start(fake: &FakeSmtp, give_up: u64) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = smarthost_config(dir.path(), fake, give_up);
    let server = Server::start_with(&["--config", &cfg]);
    server.add_user(ALICE, PW);
    server.add_user(BOB, PW);
    (server, dir)
}

fn message(subject: &str, to: &str) -> Vec<u8> {
    common::message(
        ALICE,
        to,
        subject,
        &format!("{subject}@example.org"),
        "Hello there.\r\n.leading dot",
    )
}

/// Subjects of every email in `user`'s account.
async fn subjects(server: &Server, user: &str) -> Vec<String> {
    let acct = server.account_id(user, PW).await;
    let r = server
        .call(
            user,
            PW,
            json!([
                ["Email/query", {"accountId": acct}, "q"],
                ["Email/get", {"accountId": acct, "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
                  "properties": ["subject"]}, "g"]
            ]),
        )
        .await;
    r[1][1]["list"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|e| e["subject"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relays_with_auth_and_dkim_and_delivers_locally() {
    let fake = FakeSmtp::start();
    let (server, _dir) = start(&fake, 3600);
    let raw = message("Relay me", "carol@remote.example");
    let s2 = &server;
    tokio::task::block_in_place(|| {
        submit(s2, ALICE, PW, ALICE, &["carol@remote.example", BOB], &raw)
    })
    .expect("submission accepted");

    let got = eventually("the smarthost to receive the message", || {
        let m = fake.messages();
        async move { m.into_iter().next() }
    })
    .await;
    assert!(got.tls, "relayed over TLS");
    assert_eq!(got.auth, Some(("relayuser".into(), "relay secret".into())));
    assert_eq!(got.mail_from, ALICE);
    assert_eq!(got.rcpts, vec!["carol@remote.example".to_string()]);
    let data = got.data.unwrap();
    let text = String::from_utf8_lossy(&data).to_string();
    assert!(
        text.contains("\r\n.leading dot"),
        "dot-stuffing undone: {text}"
    );

    // The local recipient got it too, at once, through the ordinary ingest path.
    eventually("bob to get the message", || async {
        subjects(&server, BOB)
            .await
            .iter()
            .any(|s| s == "Relay me")
            .then_some(())
    })
    .await;

    // Both DKIM signatures verify against the records `mailnook dns` prints.
    let results = verify_dkim(&server, "example.org", &data).await;
    assert_eq!(results.len(), 2, "two signatures: {text}");
    for r in &results {
        assert_eq!(r, &mail_auth::DkimResult::Pass, "{r:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submission_requires_tls_auth_and_own_addresses() {
    let fake = FakeSmtp::start();
    let (server, _dir) = start(&fake, 3600);
    let s = server.submission;
    let (ehlo, auth_before_tls) = tokio::task::block_in_place(|| {
        let mut t = Transcript::connect(s);
        t.send(b"EHLO client.example\r\n");
        let ehlo = t.reply();
        let auth = t.cmd("AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAHg=");
        let mail = t.cmd("MAIL FROM:<alice@example.org>");
        (ehlo, (auth, mail))
    });
    assert!(
        ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"),
        "{ehlo}"
    );
    assert_eq!(auth_before_tls, (530, 530));

    let raw = message("Not mine", "carol@remote.example");
    let s2 = &server;
    // Wrong password.
    let e = tokio::task::block_in_place(|| {
        submit(s2, ALICE, "wrong", ALICE, &["carol@remote.example"], &raw)
    });
    assert!(e.is_err());
    // Someone else's address as sender.
    let e =
        tokio::task::block_in_place(|| submit(s2, ALICE, PW, BOB, &["carol@remote.example"], &raw))
            .unwrap_err();
    assert!(e.contains("550") || e.contains("own"), "{e}");
    // Own envelope sender but someone else's From: header.
    let forged = common::message(BOB, "carol@remote.example", "Forged", "f@example.org", "x");
    let e = tokio::task::block_in_place(|| {
        submit(s2, ALICE, PW, ALICE, &["carol@remote.example"], &forged)
    })
    .unwrap_err();
    assert!(e.contains("550") || e.contains("From"), "{e}");
    assert!(fake.messages().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_after_451() {
    let fake = FakeSmtp::start();
    fake.script(&["451 4.3.0 greylisted, try again later"]);
    let (server, _dir) = start(&fake, 3600);
    let raw = message("Try again", "dave@remote.example");
    let s2 = &server;
    tokio::task::block_in_place(|| submit(s2, ALICE, PW, ALICE, &["dave@remote.example"], &raw))
        .unwrap();
    let got = eventually("the retry to get through", || {
        let m = fake.messages();
        async move { m.into_iter().next() }
    })
    .await;
    assert_eq!(got.rcpts, vec!["dave@remote.example".to_string()]);
    // The first transaction was refused and ended without data.
    let all = fake.seen();
    assert!(all.len() >= 2, "{all:?}");
    assert!(all[0].data.is_none());
    // No bounce for a temporary failure that later succeeded.
    assert!(
        !subjects(&server, ALICE)
            .await
            .iter()
            .any(|s| s.contains("Undelivered"))
    );
}

async fn wait_for_bounce(server: &Server) -> Value {
    let acct = server.account_id(ALICE, PW).await;
    eventually("a bounce in alice's inbox", || async {
        let r = server
            .call(
                ALICE,
                PW,
                json!([
                    ["Email/query", {"accountId": acct}, "q"],
                    ["Email/get", {"accountId": acct, "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
                      "properties": ["subject", "blobId", "from"]}, "g"]
                ]),
            )
            .await;
        r[1][1]["list"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .find(|e| e["subject"] == "Undelivered Mail Returned to Sender")
    })
    .await
}

async fn download(server: &Server, blob: &str) -> String {
    let acct = server.account_id(ALICE, PW).await;
    server
        .http()
        .get(format!(
            "{}/jmap/download/{acct}/{blob}/m.eml",
            server.base_url()
        ))
        .basic_auth(ALICE, Some(PW))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounces_after_550() {
    let fake = FakeSmtp::start();
    fake.script(&["550 5.1.1 <erin@remote.example>: no such user"]);
    let (server, _dir) = start(&fake, 3600);
    let raw = message("Nobody home", "erin@remote.example");
    let s2 = &server;
    tokio::task::block_in_place(|| submit(s2, ALICE, PW, ALICE, &["erin@remote.example"], &raw))
        .unwrap();
    let bounce = wait_for_bounce(&server).await;
    let text = download(&server, bounce["blobId"].as_str().unwrap()).await;
    assert!(
        text.contains("multipart/report; report-type=delivery-status"),
        "{text}"
    );
    assert!(
        text.contains("Final-Recipient: rfc822; erin@remote.example"),
        "{text}"
    );
    assert!(text.contains("Status: 5.1.1"), "{text}");
    assert!(
        text.contains("Subject: Nobody home"),
        "original header included: {text}"
    );
    assert!(fake.messages().is_empty(), "nothing was relayed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bounces_when_retries_run_out() {
    let fake = FakeSmtp::start();
    fake.script(&["451 4.4.1 later"; 50]);
    let (server, _dir) = start(&fake, 2);
    let raw = message("Never arrives", "frank@remote.example");
    let s2 = &server;
    tokio::task::block_in_place(|| submit(s2, ALICE, PW, ALICE, &["frank@remote.example"], &raw))
        .unwrap();
    let bounce = wait_for_bounce(&server).await;
    let text = download(&server, bounce["blobId"].as_str().unwrap()).await;
    assert!(
        text.contains("Final-Recipient: rfc822; frank@remote.example"),
        "{text}"
    );
    assert!(text.contains("Status: 4.4.1"), "{text}");
    assert!(fake.seen().len() >= 2, "it was retried before giving up");
}
