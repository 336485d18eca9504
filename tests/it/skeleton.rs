//! The walking skeleton end to end: SMTP in (lettre, raw transcripts), JMAP out (jmap-client,
//! raw HTTP), through the real binary.

use crate::common;
use common::*;
use jmap_client::core::response::MailboxGetResponse;
use jmap_client::email;
use serde_json::{Value, json};

const USER: &str = "alice@example.org";
const PASS: &str = "correct horse battery";

fn server_with_alice() -> Server {
    let s = Server::start();
    s.add_user(USER, PASS);
    s
}

#[tokio::test]
async fn smtp_to_jmap_round_trip_with_jmap_client() {
    let s = server_with_alice();
    let raw = message(
        "Bob <bob@example.net>",
        USER,
        "Hello Alice",
        "m1@example.net",
        "Body line one.",
    );
    s.send("bob@example.net", &[USER], &raw).expect("SMTP send");

    let client = s.client(USER, PASS).await;
    let mut req = client.build();
    req.get_mailbox();
    let mailboxes = req
        .send_single::<MailboxGetResponse>()
        .await
        .expect("Mailbox/get")
        .take_list();
    let roles: Vec<String> = mailboxes
        .iter()
        .map(|m| format!("{:?}", m.role()))
        .collect();
    assert_eq!(mailboxes.len(), 6, "{roles:?}");
    let inbox = mailboxes
        .iter()
        .find(|m| m.name() == Some("Inbox"))
        .expect("Inbox");
    assert_eq!(inbox.total_emails(), 1);
    assert_eq!(inbox.unread_emails(), 1);
    assert_eq!(inbox.total_threads(), 1);

    let ids = client
        .email_query(
            Some(email::query::Filter::in_mailbox(inbox.id().expect("id"))),
            None::<Vec<_>>,
        )
        .await
        .expect("Email/query")
        .take_ids();
    assert_eq!(ids.len(), 1);
    let e = client
        .email_get(&ids[0], None::<Vec<email::Property>>)
        .await
        .expect("Email/get")
        .expect("email");
    assert_eq!(e.subject(), Some("Hello Alice"));
    assert_eq!(
        e.from().and_then(|f| f.first()).map(|a| a.email()),
        Some("bob@example.net")
    );
    assert_eq!(
        e.message_id().map(|m| m.to_vec()),
        Some(vec!["m1@example.net".to_string()])
    );
    assert_eq!(e.preview(), Some("Body line one."));

    // The stored blob is the message with our Received header prepended, byte for byte.
    let blob = client
        .download(e.blob_id().expect("blobId"))
        .await
        .expect("download");
    assert!(
        blob.starts_with(b"Received: from "),
        "{}",
        String::from_utf8_lossy(&blob)
    );
    // (lettre always ends the data with CRLF.CRLF, so one extra line end may follow.)
    let trimmed = blob
        .strip_suffix(b"\r\n")
        .filter(|b| b.ends_with(b"\r\n"))
        .unwrap_or(&blob);
    assert!(
        trimmed.ends_with(&raw),
        "stored message differs from what was sent"
    );
    let thread = client
        .thread_get(e.thread_id().expect("threadId"))
        .await
        .expect("Thread/get")
        .expect("thread");
    assert_eq!(thread.email_ids(), &[ids[0].clone()]);
}

#[tokio::test]
async fn message_and_certificate_survive_restart() {
    let s = server_with_alice();
    s.send(
        "bob@example.net",
        &[USER],
        &message("bob@example.net", USER, "Keep me", "keep@x", "persist"),
    )
    .expect("send");
    let fp = s.fingerprint.clone();
    assert!(!fp.is_empty());
    let s = s.restart();
    assert_eq!(
        s.fingerprint, fp,
        "the certificate must be reused after a restart"
    );
    let acct = s.account_id(USER, PASS).await;
    let r = s
        .call(USER, PASS, json!([["Email/query", {"accountId": acct}, "q"], ["Email/get", {"accountId": acct, "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"}, "properties": ["subject"]}, "g"]]))
        .await;
    assert_eq!(r[1][1]["list"][0]["subject"], "Keep me");
    // The key file must be private.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(s.data_dir.join("tls-key.pem"))
        .expect("key")
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "key file mode {mode:o}");
}

#[tokio::test]
async fn wrong_password_is_401_with_challenge() {
    let s = server_with_alice();
    let res = s
        .http()
        .get(format!("{}/.well-known/jmap", s.base_url()))
        .basic_auth(USER, Some("nope"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status().as_u16(), 401);
    assert!(
        res.headers()
            .get("www-authenticate")
            .expect("challenge")
            .to_str()
            .unwrap_or("")
            .starts_with("Basic")
    );
    let res = s
        .http()
        .get(format!("{}/.well-known/jmap", s.base_url()))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status().as_u16(), 401);
    let (status, _) = s.post_api(USER, "nope", "{}").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn session_has_absolute_urls_and_limits() {
    let s = server_with_alice();
    let v: Value = s
        .http()
        .get(format!("{}/.well-known/jmap", s.base_url()))
        .basic_auth(USER, Some(PASS))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    for k in ["apiUrl", "downloadUrl", "uploadUrl", "eventSourceUrl"] {
        assert!(
            v[k].as_str()
                .unwrap_or("")
                .starts_with("https://127.0.0.1:"),
            "{k}: {}",
            v[k]
        );
    }
    for k in [
        "maxSizeUpload",
        "maxConcurrentUpload",
        "maxSizeRequest",
        "maxConcurrentRequests",
        "maxCallsInRequest",
        "maxObjectsInGet",
        "maxObjectsInSet",
    ] {
        assert!(v["capabilities"][CORE][k].as_u64().unwrap_or(0) > 0, "{k}");
    }
    assert_eq!(v["username"], USER);
    assert!(v["state"].is_string());
}

#[tokio::test]
async fn unknown_recipient_is_550_and_not_a_relay() {
    let s = server_with_alice();
    let mut t = Transcript::connect(s.smtp);
    assert_eq!(t.cmd("EHLO client.example"), 250);
    assert_eq!(t.cmd("MAIL FROM:<bob@example.net>"), 250);
    t.send(b"RCPT TO:<nobody@example.org>\r\n");
    let r = t.reply();
    assert!(r.starts_with("550 5.1.1"), "{r}");
    assert_eq!(t.cmd("RCPT TO:<someone@elsewhere.example>"), 550);
    assert_eq!(t.cmd("DATA"), 554, "DATA without a valid recipient");
    assert_eq!(t.cmd("QUIT"), 221);
}

#[tokio::test]
async fn oversize_message_is_552_and_nothing_is_stored() {
    let s = server_with_alice();
    let mut t = Transcript::connect(s.smtp);
    assert_eq!(t.cmd("EHLO client.example"), 250);
    // Declared size over the limit is refused at MAIL (RFC 1870).
    assert_eq!(t.cmd("MAIL FROM:<bob@example.net> SIZE=999999999"), 552);
    assert_eq!(t.cmd("MAIL FROM:<bob@example.net>"), 250);
    assert_eq!(t.cmd(&format!("RCPT TO:<{USER}>")), 250);
    assert_eq!(t.cmd("DATA"), 354);
    let line = "x".repeat(998);
    let mut body = b"Subject: big\r\n\r\n".to_vec();
    for _ in 0..(27 * 1024) {
        body.extend_from_slice(line.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b".\r\n");
    t.send(&body);
    let r = t.reply();
    assert!(r.starts_with("552 5.3.4"), "{r}");
    // The session goes on after the refusal.
    assert_eq!(t.cmd("NOOP"), 250);
    let acct = s.account_id(USER, PASS).await;
    let r = s
        .call(
            USER,
            PASS,
            json!([["Email/query", {"accountId": acct, "calculateTotal": true}, "q"]]),
        )
        .await;
    assert_eq!(r[0][1]["total"], 0);
}

#[tokio::test]
async fn pipelined_commands_get_replies_in_order() {
    let s = server_with_alice();
    let mut t = Transcript::connect(s.smtp);
    assert_eq!(t.cmd("EHLO client.example"), 250);
    let msg = String::from_utf8(message(
        "bob@example.net",
        USER,
        "Piped",
        "p@x",
        "..dot stuffed line",
    ))
    .expect("utf8");
    t.send(format!("MAIL FROM:<bob@example.net>\r\nRCPT TO:<nobody@example.org>\r\nRCPT TO:<{USER}>\r\nDATA\r\n").as_bytes());
    assert_eq!(code(&t.reply()), 250);
    assert_eq!(code(&t.reply()), 550);
    assert_eq!(code(&t.reply()), 250);
    assert_eq!(code(&t.reply()), 354);
    t.send(format!("{msg}.\r\nQUIT\r\n").as_bytes());
    assert_eq!(code(&t.reply()), 250);
    assert_eq!(code(&t.reply()), 221);
    let acct = s.account_id(USER, PASS).await;
    let r = s
        .call(USER, PASS, json!([["Email/query", {"accountId": acct}, "q"], ["Email/get", {"accountId": acct, "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"}, "properties": ["subject", "preview"]}, "g"]]))
        .await;
    assert_eq!(r[1][1]["list"][0]["subject"], "Piped");
    assert_eq!(
        r[1][1]["list"][0]["preview"], ".dot stuffed line",
        "dot-unstuffing"
    );
}

#[tokio::test]
async fn smtp_sequence_errors_are_503() {
    let s = server_with_alice();
    let mut t = Transcript::connect(s.smtp);
    assert_eq!(
        t.cmd("MAIL FROM:<bob@example.net>"),
        503,
        "MAIL before EHLO"
    );
    assert_eq!(t.cmd("HELO client.example"), 250);
    assert_eq!(t.cmd(&format!("RCPT TO:<{USER}>")), 503, "RCPT before MAIL");
    assert_eq!(t.cmd("DATA"), 503, "DATA before MAIL");
    assert_eq!(t.cmd("VRFY alice"), 252);
    assert_eq!(t.cmd("RSET"), 250);
    assert_eq!(t.cmd("BOGUS"), 500);
    let long = format!("NOOP {}", "x".repeat(10_000));
    assert_eq!(t.cmd(&long), 500, "over-long line");
    assert_eq!(t.cmd("NOOP"), 250, "the session survives an over-long line");
}

#[tokio::test]
async fn starttls_upgrades_and_mail_still_flows() {
    let s = server_with_alice();
    // lettre with STARTTLS required, trusting nothing in particular: accept our self-signed cert.
    use lettre::Transport;
    use lettre::transport::smtp::client::{Tls, TlsParameters};
    let tls = TlsParameters::builder("localhost".into())
        .dangerous_accept_invalid_certs(true)
        .build_rustls();
    #[allow(irrefutable_let_patterns)]
    let Ok(tls) = tls else {
        // lettre built without a TLS backend: fall back to checking the raw exchange.
        let mut t = Transcript::connect(s.smtp);
        t.send(b"EHLO x\r\n");
        assert!(t.reply().contains("STARTTLS"));
        assert_eq!(t.cmd("STARTTLS"), 220);
        return;
    };
    let transport = lettre::SmtpTransport::builder_dangerous("127.0.0.1")
        .port(s.smtp.port())
        .tls(Tls::Required(tls))
        .build();
    let envelope = lettre::address::Envelope::new(
        Some("bob@example.net".parse().expect("from")),
        vec![USER.parse().expect("to")],
    )
    .expect("env");
    transport
        .send_raw(
            &envelope,
            &message("bob@example.net", USER, "Over TLS", "tls@x", "secret"),
        )
        .expect("send over TLS");
    let acct = s.account_id(USER, PASS).await;
    let r = s
        .call(
            USER,
            PASS,
            json!([["Email/query", {"accountId": acct, "calculateTotal": true}, "q"]]),
        )
        .await;
    assert_eq!(r[0][1]["total"], 1);
}

#[tokio::test]
async fn malformed_json_and_bad_references_get_rfc_errors() {
    let s = server_with_alice();
    let (status, v) = s.post_api(USER, PASS, "{not json").await;
    assert_eq!(status, 400);
    assert_eq!(v["type"], "urn:ietf:params:jmap:error:notJSON");
    let (status, v) = s
        .post_api(USER, PASS, r#"{"using":[],"methodCalls":{}}"#)
        .await;
    assert_eq!(status, 400);
    assert_eq!(v["type"], "urn:ietf:params:jmap:error:notRequest");
    let (status, v) = s
        .post_api(
            USER,
            PASS,
            r#"{"using":["urn:example:nope"],"methodCalls":[]}"#,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(v["type"], "urn:ietf:params:jmap:error:unknownCapability");
    let (status, v) = s.post_api(USER, PASS, vec![0xff, 0xfe, b'{']).await;
    assert_eq!(status, 400);
    assert_eq!(v["type"], "urn:ietf:params:jmap:error:notJSON");

    let acct = s.account_id(USER, PASS).await;
    let r = s
        .call(USER, PASS, json!([
            ["Email/get", {"accountId": acct, "#ids": {"resultOf": "nope", "name": "Email/query", "path": "/ids"}}, "a"],
            ["Email/query", {"accountId": acct}, "q"],
            ["Email/get", {"accountId": acct, "#ids": {"resultOf": "q", "name": "Email/query", "path": "/missing"}}, "b"],
            ["Email/get", {"accountId": acct, "ids": [], "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"}}, "c"],
            ["Core/echo", {"hello": true}, "e"],
            ["Mailbox/get", {"accountId": "nobody"}, "f"],
            ["Foo/bar", {}, "g"],
        ]))
        .await;
    assert_eq!(r[0][0], "error");
    assert_eq!(r[0][1]["type"], "invalidResultReference");
    assert_eq!(r[0][2], "a");
    assert_eq!(r[2][1]["type"], "invalidResultReference");
    assert_eq!(r[3][1]["type"], "invalidArguments");
    assert_eq!(r[4], json!(["Core/echo", {"hello": true}, "e"]));
    assert_eq!(r[5][1]["type"], "accountNotFound");
    assert_eq!(r[6][1]["type"], "unknownMethod");
}

#[tokio::test]
async fn registered_capabilities_are_accepted_but_mail_needs_using() {
    let s = server_with_alice();
    let acct = s.account_id(USER, PASS).await;
    let body = json!({"using": [CORE, "urn:ietf:params:jmap:contacts", "urn:ietf:params:jmap:calendars"], "methodCalls": [["Mailbox/get", {"accountId": acct}, "0"], ["AddressBook/get", {"accountId": acct}, "1"]]});
    let (status, v) = s.post_api(USER, PASS, body.to_string()).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["methodResponses"][0][1]["type"], "unknownMethod",
        "Mailbox/get without the mail capability"
    );
    assert_eq!(v["methodResponses"][1][1]["type"], "unknownMethod");
}

#[tokio::test]
async fn download_of_foreign_or_bad_blob_is_404() {
    let s = server_with_alice();
    s.add_user("carol@example.org", "carol pass 123");
    s.send(
        "bob@example.net",
        &[USER],
        &message(
            "bob@example.net",
            USER,
            "Private",
            "priv@x",
            "for alice only",
        ),
    )
    .expect("send");
    let acct = s.account_id(USER, PASS).await;
    let r = s
        .call(USER, PASS, json!([["Email/query", {"accountId": acct}, "q"], ["Email/get", {"accountId": acct, "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"}, "properties": ["blobId"]}, "g"]]))
        .await;
    let blob = r[1][1]["list"][0]["blobId"]
        .as_str()
        .expect("blobId")
        .to_string();
    let carol = s.account_id("carol@example.org", "carol pass 123").await;
    let url = format!(
        "{}/jmap/download/{carol}/{blob}/x.eml?accept=message/rfc822",
        s.base_url()
    );
    let res = s
        .http()
        .get(url)
        .basic_auth("carol@example.org", Some("carol pass 123"))
        .send()
        .await
        .expect("get");
    assert_eq!(
        res.status().as_u16(),
        404,
        "carol must not read alice's blob"
    );
    let url = format!(
        "{}/jmap/download/{acct}/{blob}/x.eml?accept=message/rfc822",
        s.base_url()
    );
    let res = s
        .http()
        .get(url)
        .basic_auth(USER, Some(PASS))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "message/rfc822");
    let url = format!("{}/jmap/download/{acct}/bnothex/x.eml", s.base_url());
    let res = s
        .http()
        .get(url)
        .basic_auth(USER, Some(PASS))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status().as_u16(), 404);
}

#[tokio::test]
async fn user_cli_works_with_and_without_the_server() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let cli = |args: &[&str], stdin: Option<&str>| {
        use std::io::Write;
        let mut c = std::process::Command::new(bin())
            .args(args)
            .arg("--data-dir")
            .arg(&data)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("cli");
        if let Some(s) = stdin {
            c.stdin
                .take()
                .expect("stdin")
                .write_all(s.as_bytes())
                .expect("write");
        }
        drop(c.stdin.take());
        c.wait_with_output().expect("out")
    };
    // Server not running: the CLI opens the database itself.
    let out = cli(
        &["user", "add", "dave@example.org", "--password-stdin"],
        Some("dave password"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = cli(&["user", "add", "erin@example.org"], None);
    assert!(String::from_utf8_lossy(&out.stdout).contains("password for erin@example.org: "));
    let dup = cli(
        &["user", "add", "DAVE@example.org", "--password-stdin"],
        Some("x"),
    );
    assert!(!dup.status.success(), "duplicate address must fail");
    // Server running: the CLI talks to it over the control socket.
    let s = Server::start_in(&data, &[]);
    let out = cli(
        &["user", "add", "frank@example.org", "--password-stdin"],
        Some("frank password"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = String::from_utf8_lossy(&cli(&["user", "list"], None).stdout).to_string();
    for u in ["dave@example.org", "erin@example.org", "frank@example.org"] {
        assert!(list.contains(u), "{list}");
    }
    s.send(
        "x@example.net",
        &["frank@example.org"],
        &message("x@example.net", "frank@example.org", "Hi", "f@x", "hi"),
    )
    .expect("send");
    let out = cli(
        &["user", "passwd", "frank@example.org", "--password-stdin"],
        Some("new frank"),
    );
    assert!(out.status.success());
    let (status, _) = s
        .post_api(
            "frank@example.org",
            "new frank",
            r#"{"using":[],"methodCalls":[]}"#,
        )
        .await;
    assert_eq!(status, 200);
    let out = cli(&["user", "del", "erin@example.org"], None);
    assert!(out.status.success());
    let list = String::from_utf8_lossy(&cli(&["user", "list"], None).stdout).to_string();
    assert!(!list.contains("erin@"), "{list}");
    let out = cli(&["user", "del", "nobody@example.org"], None);
    assert!(!out.status.success(), "deleting an unknown user must fail");
    drop(s);
}

#[tokio::test]
async fn sigterm_closes_cleanly_and_keeps_everything() {
    let mut s = server_with_alice();
    s.send(
        "bob@example.net",
        &[USER],
        &message("bob@example.net", USER, "Before stop", "stop@x", "kept"),
    )
    .expect("send");
    assert!(s.terminate(), "the server must exit 0 on SIGTERM");
    assert!(s.log().contains("stopped cleanly"), "{}", s.log());
    assert!(
        !s.data_dir.join("control.sock").exists(),
        "the control socket is removed"
    );
    let s = s.restart();
    let acct = s.account_id(USER, PASS).await;
    let r = s
        .call(
            USER,
            PASS,
            json!([["Email/query", {"accountId": acct, "calculateTotal": true}, "q"]]),
        )
        .await;
    assert_eq!(r[0][1]["total"], 1);
}

#[tokio::test]
async fn password_change_from_the_cli_takes_effect_at_once() {
    let s = server_with_alice();
    let (status, _) = s
        .post_api(USER, PASS, r#"{"using":[],"methodCalls":[]}"#)
        .await;
    assert_eq!(status, 200);
    let out = s.cli(
        &["user", "passwd", USER, "--password-stdin"],
        Some("a brand new one"),
    );
    assert!(out.status.success());
    let (status, _) = s
        .post_api(USER, PASS, r#"{"using":[],"methodCalls":[]}"#)
        .await;
    assert_eq!(
        status, 401,
        "the old password must stop working at once, cache or not"
    );
    let (status, _) = s
        .post_api(USER, "a brand new one", r#"{"using":[],"methodCalls":[]}"#)
        .await;
    assert_eq!(status, 200);
}
