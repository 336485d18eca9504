//! Direct delivery without a smarthost: the queue looks up the recipient domain's MX in DNS (a
//! small DNS server on loopback, tests/smtp_support), connects to the exchange on `mx_port` (the
//! stand-in SMTP server, tests/send_support), upgrades with STARTTLS opportunistically and
//! hands the DKIM-signed message over without AUTH. A domain with a null MX (RFC 7505) bounces
//! at once with 556.

use crate::common;
use crate::send_support;
use crate::smtp_support;

use common::{CORE, MAIL, SUBMISSION, Server, eventually};
use send_support::FakeSmtp;
use serde_json::{Value, json};
use smtp_support::Dns;

const ALICE: &str = "alice@example.org";
const PW: &str = "alice's long password";

async fn api(server: &Server, calls: Value) -> Vec<Value> {
    server
        .call_using(ALICE, PW, &[CORE, MAIL, SUBMISSION], calls)
        .await
}

/// Sends a new message to `to` from Alice's account; the EmailSubmission id.
async fn send(server: &Server, acct: &str, subject: &str, to: &str) -> String {
    let r = api(
        server,
        json!([
            ["Mailbox/query", {"accountId": acct, "filter": {"role": "drafts"}}, "m"],
            ["Identity/get", {"accountId": acct}, "i"]
        ]),
    )
    .await;
    let drafts = r[0][1]["ids"][0].as_str().unwrap().to_string();
    let identity = r[1][1]["list"][0]["id"].as_str().unwrap().to_string();
    let r = api(
        server,
        json!([
            ["Email/set", {"accountId": acct, "create": {"d": {
                "mailboxIds": {drafts: true},
                "from": [{"email": ALICE}], "to": [{"email": to}], "subject": subject,
                "bodyStructure": {"type": "text/plain", "partId": "1"},
                "bodyValues": {"1": {"value": "Straight to your MX.\r\n"}}}}}, "0"],
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

async fn status(server: &Server, acct: &str, id: &str, rcpt: &str) -> Value {
    api(
        server,
        json!([["EmailSubmission/get", {"accountId": acct, "ids": [id]}, "g"]]),
    )
    .await[0][1]["list"][0]["deliveryStatus"][rcpt]
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivers_to_the_mx_and_bounces_a_null_mx() {
    let fake = FakeSmtp::start();
    let dns = Dns::start();
    // The exchange's address comes from the system resolver: localhost is 127.0.0.1 everywhere.
    dns.mx("remote.example", 10, "localhost");
    dns.mx("nomail.example", 0, ".");
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("mailnook.toml");
    std::fs::write(
        &cfg,
        format!(
            "hostname = \"mail.example.org\"\n\
             dns_resolver = \"{}\"\n\
             [outbound]\n\
             mx_port = {}\n\
             retry_first_secs = 1\n\
             retry_max_secs = 1\n\
             timeout_secs = 10\n",
            dns.addr,
            fake.addr.port()
        ),
    )
    .unwrap();
    let server = Server::start_with(&["--config", &cfg.display().to_string()]);
    server.add_user(ALICE, PW);
    let acct = server.account_id(ALICE, PW).await;

    let id = send(&server, &acct, "Via MX", "carol@remote.example").await;
    let got = eventually("the MX to receive the message", || {
        let m = fake.messages();
        async move { m.into_iter().next() }
    })
    .await;
    assert!(got.tls, "STARTTLS is used when the MX offers it");
    assert_eq!(got.auth, None, "no credentials go to an MX");
    assert_eq!(got.mail_from, ALICE);
    assert_eq!(got.rcpts, vec!["carol@remote.example".to_string()]);
    let text = String::from_utf8_lossy(got.data.as_deref().unwrap()).to_string();
    assert!(text.contains("DKIM-Signature:"), "{text}");
    let st = eventually("the relay to be recorded", || async {
        let st = status(&server, &acct, &id, "carol@remote.example").await;
        (st["delivered"] == "unknown").then_some(st)
    })
    .await;
    assert!(st["smtpReply"].as_str().unwrap().starts_with("250"), "{st}");

    let id = send(&server, &acct, "Nowhere", "nobody@nomail.example").await;
    let st = eventually("the null MX to fail the recipient", || async {
        let st = status(&server, &acct, &id, "nobody@nomail.example").await;
        (st["delivered"] == "no").then_some(st)
    })
    .await;
    assert!(st["smtpReply"].as_str().unwrap().starts_with("556"), "{st}");
    assert_eq!(fake.messages().len(), 1, "nothing else was sent anywhere");
}
