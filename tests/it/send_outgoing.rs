//! Mail that leaves the server, as a relay sees it (issue 25), and who may be named as its
//! sender (issue 13, finding 5).
//!
//! The story: mail sent through mailnook was captured at a relay and checked with independent
//! tools. The submission port passed `Bcc:` through to every recipient and sent messages
//! without `Date:` or `Message-ID:` (RFC 6409 §8 asks the submission server to remove the one
//! and add the others); non-ASCII display names came out as an encoded word inside quotes,
//! which RFC 2047 §5(3) forbids; 8-bit bodies went to a relay that had not offered 8BITMIME
//! (RFC 6152 §3); `mailnook dns` advised `v=spf1 mx -all` although a smarthost carried the
//! mail; and an account could name another account in `Sender:` and have that signed.
//! Each test here sends through the real server to the stand-in relay of tests/send_support
//! (or asks the real CLI and admin API) and fails on the old behaviour.

use crate::admin_support;
use crate::common;
use crate::send_support;

use common::{CORE, MAIL, SUBMISSION, Server, eventually};
use send_support::{FakeSmtp, Seen, dkimpy_verify, smarthost_config, submit, verify_dkim};
use serde_json::{Value, json};

const ALICE: &str = "alice@example.org";
const BOB: &str = "bob@example.org";
const ERIN: &str = "erin@example.org";
const PW: &str = "alice's long password";

fn start(fake: &FakeSmtp) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = smarthost_config(dir.path(), fake, 3600);
    let server = Server::start_with(&["--config", &cfg]);
    for u in [ALICE, BOB, ERIN] {
        server.add_user(u, PW);
    }
    (server, dir)
}

/// The header block of a message (up to the empty line), as text.
fn header_of(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    text.split("\r\n\r\n").next().unwrap_or("").to_string()
}

/// The unfolded header fields named `name` (case-insensitive), values only.
fn fields(data: &[u8], name: &str) -> Vec<String> {
    let header = header_of(data).replace("\r\n ", " ").replace("\r\n\t", " ");
    header
        .split("\r\n")
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
        .collect()
}

/// The relayed message whose Subject is `subject`.
async fn relayed(fake: &FakeSmtp, subject: &str) -> Seen {
    eventually(&format!("the relay to receive '{subject}'"), || {
        let m = fake
            .messages()
            .into_iter()
            .find(|m| fields(m.data.as_deref().unwrap_or(b""), "Subject") == [subject]);
        async move { m }
    })
    .await
}

/// `user`'s email with `subject` (waiting for it), with `props`.
async fn local_copy(server: &Server, user: &str, subject: &str, props: Value) -> Value {
    let acct = server.account_id(user, PW).await;
    eventually(&format!("{user} to get '{subject}'"), || {
        let (acct, props) = (acct.clone(), props.clone());
        async move {
            let r = server
                .call(
                    user,
                    PW,
                    json!([
                        ["Email/query", {"accountId": acct, "filter": {"subject": subject}}, "q"],
                        ["Email/get", {"accountId": acct, "properties": props,
                          "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"}}, "g"]
                    ]),
                )
                .await;
            r[1][1]["list"].as_array()?.first().cloned()
        }
    })
    .await
}

/// Alice's account id, Drafts mailbox id and default identity id.
async fn alice_jmap(server: &Server) -> (String, String, String) {
    let acct = server.account_id(ALICE, PW).await;
    let r = server
        .call_using(
            ALICE,
            PW,
            &[CORE, MAIL, SUBMISSION],
            json!([
                ["Mailbox/get", {"accountId": acct, "properties": ["role"]}, "m"],
                ["Identity/get", {"accountId": acct}, "i"]
            ]),
        )
        .await;
    assert!(r[0][1]["list"].is_array(), "{r:?}");
    let drafts = r[0][1]["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "drafts")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let identity = r[1][1]["list"][0]["id"].as_str().unwrap().to_string();
    (acct, drafts, identity)
}

/// Writes the draft `email` (Email/set create properties) and submits it; the
/// EmailSubmission/set response.
async fn jmap_send(server: &Server, mut email: Value) -> Value {
    let (acct, drafts, identity) = alice_jmap(server).await;
    email["mailboxIds"] = json!({ drafts: true });
    email["keywords"] = json!({"$draft": true});
    let r = server
        .call_using(
            ALICE,
            PW,
            &[CORE, MAIL, SUBMISSION],
            json!([
                ["Email/set", {"accountId": acct, "create": {"d": email}}, "0"],
                ["EmailSubmission/set", {"accountId": acct, "create": {"s": {
                    "emailId": "#d", "identityId": identity}}}, "1"]
            ]),
        )
        .await;
    assert!(r[0][1]["created"]["d"].is_object(), "draft: {:?}", r[0]);
    r[1][1].clone()
}

fn submit_blocking(server: &Server, to: &[&str], raw: &[u8]) -> Result<(), String> {
    tokio::task::block_in_place(|| submit(server, ALICE, PW, ALICE, to, raw))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submission_port_strips_bcc_for_every_recipient() {
    let fake = FakeSmtp::start();
    let (server, _dir) = start(&fake);
    let raw = format!(
        "From: {ALICE}\r\nTo: carol@remote.example\r\nCc: {BOB}\r\n\
         Bcc: dave@remote.example,\r\n {ERIN}\r\nSubject: Blind\r\n\
         Message-ID: <blind@example.org>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n\
         Bcc: this line is body text and stays.\r\n"
    );
    let to = ["carol@remote.example", BOB, "dave@remote.example", ERIN];
    submit_blocking(&server, &to, raw.as_bytes()).expect("accepted");

    let got = relayed(&fake, "Blind").await;
    assert_eq!(got.rcpts, ["carol@remote.example", "dave@remote.example"]);
    let data = got.data.unwrap();
    assert!(fields(&data, "Bcc").is_empty(), "{}", header_of(&data));
    assert_eq!(fields(&data, "To"), ["carol@remote.example"]);
    assert!(String::from_utf8_lossy(&data).contains("\r\n\r\nBcc: this line is body text"));
    // The signature still verifies over what was sent.
    let dkim = verify_dkim(&server, "example.org", &data).await;
    assert!(
        !dkim.is_empty() && dkim.iter().all(|r| *r == mail_auth::DkimResult::Pass),
        "{dkim:?}"
    );
    // Local recipients (one visible, one blind) get copies without it too.
    for user in [BOB, ERIN] {
        let e = local_copy(&server, user, "Blind", json!(["bcc", "header:Bcc"])).await;
        assert!(e["bcc"].is_null(), "{user}: {e}");
        assert!(e["header:Bcc"].is_null(), "{user}: {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submission_port_adds_date_and_message_id_under_the_signature() {
    let fake = FakeSmtp::start();
    let (server, _dir) = start(&fake);
    let raw = format!(
        "From: {ALICE}\r\nTo: carol@remote.example, {BOB}\r\nSubject: Bare\r\n\r\nNo date, no id.\r\n"
    );
    submit_blocking(&server, &["carol@remote.example", BOB], raw.as_bytes()).expect("accepted");

    let data = relayed(&fake, "Bare").await.data.unwrap();
    let header = header_of(&data);
    let dates = fields(&data, "Date");
    let ids = fields(&data, "Message-ID");
    assert_eq!(dates.len(), 1, "{header}");
    assert_eq!(ids.len(), 1, "{header}");
    assert!(
        ids[0].starts_with('<') && ids[0].ends_with("@mail.example.org>"),
        "{header}"
    );
    let parsed = mail_parser::MessageParser::new().parse(&data).unwrap();
    assert!(parsed.date().is_some(), "Date parses: {header}");
    // Both signatures verify, and each one covers the added fields.
    let dkim = verify_dkim(&server, "example.org", &data).await;
    assert_eq!(dkim.len(), 2, "{header}");
    assert!(
        dkim.iter().all(|r| *r == mail_auth::DkimResult::Pass),
        "{dkim:?}"
    );
    independent_check(&server, &data);
    for sig in fields(&data, "DKIM-Signature") {
        let h = sig
            .replace([' ', '\t'], "")
            .split(';')
            .find_map(|t| t.strip_prefix("h=").map(str::to_ascii_lowercase))
            .unwrap_or_default();
        let signed: Vec<&str> = h.split(':').collect();
        assert!(
            signed.contains(&"date") && signed.contains(&"message-id"),
            "{h}"
        );
    }
    // The local copy is the same message.
    let e = local_copy(&server, BOB, "Bare", json!(["messageId", "sentAt"])).await;
    assert_eq!(
        e["messageId"][0].as_str().map(|s| format!("<{s}>")),
        Some(ids[0].clone())
    );
    assert!(e["sentAt"].is_string(), "{e}");
}

/// dkimpy as a second, independent verifier (tests/setup/deps.sh installs it).
fn independent_check(server: &Server, data: &[u8]) {
    let n = dkimpy_verify(server, "example.org", data).expect("dkimpy printed a count");
    eprintln!("dkimpy verified {n} signature(s)");
    assert!(
        n >= 2,
        "dkimpy verified {n} signatures, want RSA and ed25519"
    );
}

/// What the strict header parser in Python's standard library thinks of a From: field, if
/// python3 is on the machine: (defects, display name). A second, independent opinion.
fn python_from(data: &[u8]) -> Option<(String, String)> {
    use std::io::Write;
    let script = "import sys, email\nfrom email import policy\n\
        m = email.message_from_bytes(sys.stdin.buffer.read(), policy=policy.strict)\n\
        h = m['From']\n\
        print(len(h.defects)); print(h.addresses[0].display_name)\n";
    let mut child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    child.stdin.take()?.write_all(data).ok()?;
    let out = child.wait_with_output().ok()?;
    // Present but failing (e.g. the strict policy raised) is a failure, not a skip.
    assert!(
        out.status.success(),
        "python3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8 output");
    let mut lines = text.lines();
    Some((
        lines.next().unwrap_or_default().to_string(),
        lines.next().unwrap_or_default().to_string(),
    ))
}

/// RFC 5322 quoted strings in a header value (the text between unescaped quotes).
fn quoted_strings(value: &str) -> Vec<String> {
    let (mut out, mut cur, mut inside, mut escaped) = (Vec::new(), String::new(), false, false);
    for c in value.chars() {
        match (inside, escaped, c) {
            (true, false, '\\') => escaped = true,
            (true, false, '"') => {
                out.push(std::mem::take(&mut cur));
                inside = false;
            }
            (true, _, c) => {
                cur.push(c);
                escaped = false;
            }
            (false, _, '"') => inside = true,
            _ => {}
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_ascii_display_name_is_an_encoded_word_outside_quotes() {
    let fake = FakeSmtp::start();
    let (server, _dir) = start(&fake);
    let name = "Jörg Müller-Lüdenscheidt, Ph.D.";
    let r = jmap_send(
        &server,
        json!({
            "from": [{"name": name, "email": ALICE}],
            "to": [{"name": "Zoë", "email": "carol@remote.example"}],
            "subject": "Umlauts",
            "bodyStructure": {"type": "text/plain", "partId": "1"},
            "bodyValues": {"1": {"value": "Hallo.\r\n"}}
        }),
    )
    .await;
    assert!(r["created"]["s"].is_object(), "{r}");
    let data = relayed(&fake, "Umlauts").await.data.unwrap();
    for field in ["From", "To"] {
        let v = fields(&data, field).join(", ");
        assert!(v.contains("=?"), "{field}: {v}");
        let bad: Vec<String> = quoted_strings(&v)
            .into_iter()
            .filter(|q| q.contains("=?"))
            .collect();
        assert!(bad.is_empty(), "encoded word inside quotes in {field}: {v}");
    }
    let parsed = mail_parser::MessageParser::new().parse(&data).unwrap();
    let from = parsed.from().and_then(|a| a.first()).unwrap();
    assert_eq!(from.name(), Some(name));
    assert_eq!(from.address(), Some(ALICE));
    let (defects, display) =
        python_from(&data).expect("python3 is needed (tests/setup/deps.sh installs it)");
    assert_eq!(defects, "0", "python strict parser: {defects} defects");
    assert_eq!(display, name);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_bit_mail_is_converted_for_a_relay_without_8bitmime() {
    let fake = FakeSmtp::start();
    let (server, _dir) = start(&fake);
    let text = "Grüße aus Köln — naïve café\r\n= not an escape\r\n";
    let blob: Vec<u8> = (0x80u8..=0xff).chain(0x20..0x7f).collect();
    let message = |subject: &str| -> Vec<u8> {
        let mut m = format!(
            "From: {ALICE}\r\nTo: carol@remote.example\r\nSubject: {subject}\r\n\
             Message-ID: <{subject}@example.org>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
             MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"XyZ\"\r\n\r\n\
             --XyZ\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
             {text}--XyZ\r\nContent-Type: application/octet-stream\r\n\
             Content-Disposition: attachment; filename=\"b.bin\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        )
        .into_bytes();
        m.extend_from_slice(&blob);
        m.extend_from_slice(b"\r\n--XyZ--\r\n");
        m
    };
    let check = |data: &[u8]| {
        let parsed = mail_parser::MessageParser::new().parse(data).unwrap();
        // The last line break before the delimiter belongs to it (RFC 2046 §5.1.1).
        assert_eq!(parsed.body_text(0).as_deref(), text.strip_suffix("\r\n"));
        assert_eq!(parsed.attachment(0).map(|a| a.contents()), Some(&blob[..]));
    };

    // The stand-in does not offer 8BITMIME: it gets 7-bit MIME.
    submit_blocking(&server, &["carol@remote.example"], &message("Seven")).expect("accepted");
    let got = relayed(&fake, "Seven").await;
    let data = got.data.unwrap();
    assert!(
        data.is_ascii(),
        "8-bit octets reached a relay without 8BITMIME"
    );
    assert!(
        data.split(|b| *b == b'\n').all(|l| l.len() <= 1000),
        "line too long"
    );
    assert!(
        !got.mail_params.contains("BODY=8BITMIME"),
        "{}",
        got.mail_params
    );
    check(&data);
    let dkim = verify_dkim(&server, "example.org", &data).await;
    assert_eq!(dkim.len(), 2);
    assert!(
        dkim.iter().all(|r| *r == mail_auth::DkimResult::Pass),
        "{dkim:?}"
    );
    independent_check(&server, &data);

    // The same relay offering 8BITMIME gets the octets as they were, declared.
    fake.eightbitmime
        .store(true, std::sync::atomic::Ordering::SeqCst);
    submit_blocking(&server, &["carol@remote.example"], &message("Eight")).expect("accepted");
    let got = relayed(&fake, "Eight").await;
    assert!(
        got.mail_params.contains("BODY=8BITMIME"),
        "{}",
        got.mail_params
    );
    let data = got.data.unwrap();
    assert!(!data.is_ascii());
    check(&data);
    let dkim = verify_dkim(&server, "example.org", &data).await;
    assert!(
        dkim.iter().all(|r| *r == mail_auth::DkimResult::Pass),
        "{dkim:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sender_must_be_an_address_of_the_account_on_both_paths() {
    let fake = FakeSmtp::start();
    let (server, _dir) = start(&fake);
    let message = |sender: &str, subject: &str| {
        format!(
            "From: {ALICE}\r\nSender: {sender}\r\nTo: carol@remote.example\r\nSubject: {subject}\r\n\
             Message-ID: <{subject}@example.org>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nx\r\n"
        )
        .into_bytes()
    };
    // Submission port: another account in Sender: is refused with 550 5.7.1.
    let e = submit_blocking(
        &server,
        &["carol@remote.example"],
        &message(&format!("Bob <{BOB}>"), "AsBob"),
    )
    .unwrap_err();
    assert!(e.contains("550") && e.contains("Sender"), "{e}");
    // A second Sender: field cannot hide one either.
    let two = format!("{ALICE}\r\nSender: {BOB}");
    let e = submit_blocking(
        &server,
        &["carol@remote.example"],
        &message(&two, "TwoSenders"),
    )
    .unwrap_err();
    assert!(e.contains("550") && e.contains("Sender"), "{e}");
    // Her own plus-address is fine.
    submit_blocking(
        &server,
        &["carol@remote.example"],
        &message("alice+lists@example.org", "AsHerself"),
    )
    .expect("own Sender accepted");

    // JMAP: the same rule, as forbiddenFrom naming the Sender field.
    let r = jmap_send(
        &server,
        json!({
            "from": [{"email": ALICE}], "sender": [{"email": BOB}],
            "to": [{"email": "carol@remote.example"}], "subject": "JmapAsBob",
            "bodyStructure": {"type": "text/plain", "partId": "1"},
            "bodyValues": {"1": {"value": "x\r\n"}}
        }),
    )
    .await;
    let err = &r["notCreated"]["s"];
    assert_eq!(err["type"], "forbiddenFrom", "{r}");
    assert!(
        err["description"].as_str().unwrap_or("").contains("Sender"),
        "{err}"
    );
    assert_eq!(err["properties"], json!(["sender"]), "{err}");

    relayed(&fake, "AsHerself").await;
    let subjects: Vec<Vec<String>> = fake
        .messages()
        .iter()
        .map(|m| fields(m.data.as_deref().unwrap_or(b""), "Subject"))
        .collect();
    assert_eq!(subjects, [vec!["AsHerself".to_string()]]);
}

/// A config whose smarthost is `relay` (nothing is sent in this test).
fn relay_config(dir: &std::path::Path, name: &str, relay: &str) -> String {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!("hostname = \"mail.example.org\"\n[outbound]\nsmarthost = \"{relay}\"\n"),
    )
    .unwrap();
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spf_advice_names_the_relay_in_the_cli_and_on_the_admin_page() {
    let dir = tempfile::tempdir().unwrap();
    let provider = relay_config(dir.path(), "provider.toml", "smtp.sendgrid.net:587");
    let own = relay_config(dir.path(), "own.toml", "relay.example.net:25");
    let server = Server::start_with(&["--config", &provider]);
    server.add_user(ALICE, PW);

    let spf = |config: &str| {
        let out = server.cli(&["dns", "example.org", "--config", config], None);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        text.lines()
            .find(|l| l.contains("v=spf1"))
            .unwrap_or_else(|| panic!("no SPF record: {text}"))
            .to_string()
    };
    let line = spf(&provider);
    assert!(
        line.contains("\"v=spf1 include:sendgrid.net -all\""),
        "{line}"
    );
    let line = spf(&own);
    assert!(
        line.contains("\"v=spf1 a:relay.example.net -all\""),
        "{line}"
    );

    let admin = admin_support::admin_login(&server).await;
    let (status, v) = admin.get(&server, "/admin/api/setup").await;
    assert_eq!(status, 200, "{v}");
    let spf_value = v["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain"] == "example.org")
        .and_then(|d| {
            d["records"]
                .as_array()?
                .iter()
                .find(|r| r["type"] == "TXT" && r["name"] == "example.org.")
                .cloned()
        })
        .unwrap_or_else(|| panic!("no SPF record for example.org: {v}"));
    assert_eq!(
        spf_value["value"], "\"v=spf1 include:sendgrid.net -all\"",
        "{spf_value}"
    );
    assert!(
        spf_value["note"]
            .as_str()
            .unwrap_or("")
            .contains("smtp.sendgrid.net"),
        "{spf_value}"
    );
}
