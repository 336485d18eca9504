//! `mailnook import imap` against a real Dovecot (Debian's dovecot-imapd) started on loopback
//! in a temp dir (src/bin/mailnook-bench/dovecot.rs; a missing binary fails the test). The old
//! server holds a few hundred messages in folders whose roles come from RFC 6154 attributes
//! ("Sent Messages", "Brouillons", a modified-UTF-7 "Courrier indésirable") or names ("Archive"),
//! a nested folder, flags and keywords, INTERNALDATEs, and a message in two folders. Import
//! over imaps (running server, --ca-file), compare folders, keywords, dates and bytes over
//! JMAP; add mail on the IMAP side and import again over imap:// + STARTTLS with the server
//! stopped: only the new mail arrives; a recreated folder (new UIDVALIDITY) duplicates nothing.

use crate::common::{Account, Server};
use crate::dovecot_support::{Dovecot, PASSWORD, Plain};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

const PASS: &str = "mover password";
const ACCOUNT: &str = "mover@example.org";

/// One seeded message: where it is, its flags as keywords, its INTERNALDATE.
struct Seeded {
    raw: Vec<u8>,
    /// Mailbox paths as mailnook names them after the import.
    mailboxes: BTreeSet<String>,
    keywords: BTreeSet<String>,
    received_at: String,
}

/// (IMAP folder name, mailnook mailbox path, count).
const FOLDERS: [(&str, &str, usize); 6] = [
    ("INBOX", "Inbox", 140),
    ("Sent Messages", "Sent", 50),
    ("Brouillons", "Drafts", 10),
    ("Courrier ind&AOk-sirable", "Junk", 20),
    ("Work/Projects", "Work/Projects", 60),
    ("Archive", "Archive", 20),
];

fn message(n: usize, folder: &str) -> Vec<u8> {
    let reply = if n % 7 == 3 {
        format!("In-Reply-To: <seed-{}@old.example>\r\n", n - 1)
    } else {
        String::new()
    };
    format!(
        "From: Sender {n} <s{n}@old.example>\r\nTo: old@example.net\r\nSubject: Seed message {n} in {folder}\r\nDate: Mon, 1 Jan 2024 10:{:02}:00 +0000\r\nMessage-ID: <seed-{n}@old.example>\r\n{reply}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBody of message {n}.\r\n{}\r\n",
        n % 60,
        "line of text for some size\r\n".repeat(n % 40)
    )
    .into_bytes()
}

/// IMAP flags and the keywords they become.
fn flags(n: usize) -> (&'static str, &'static [&'static str]) {
    match n % 5 {
        0 => ("", &[]),
        1 => ("\\Seen", &["$seen"]),
        2 => ("\\Seen \\Flagged", &["$seen", "$flagged"]),
        3 => (
            "\\Answered \\Seen $Label1",
            &["$answered", "$seen", "$label1"],
        ),
        _ => ("\\Draft", &["$draft"]),
    }
}

fn append(c: &mut Plain, n: usize, folder: &str, path: &str) -> Seeded {
    let raw = message(n, folder);
    let (f, kw) = flags(n);
    let day = 1 + n % 28;
    let hour = n % 24;
    c.append(
        folder,
        f,
        &format!("{day:02}-Feb-2024 {hour:02}:15:00 +0000"),
        &raw,
    )
    .unwrap();
    Seeded {
        raw,
        mailboxes: [path.to_string()].into(),
        keywords: kw.iter().map(|s| s.to_string()).collect(),
        received_at: format!("2024-02-{day:02}T{hour:02}:15:00Z"),
    }
}

fn seed(d: &Dovecot) -> BTreeMap<String, Seeded> {
    let mut c = d.client().unwrap();
    for f in [
        "Sent Messages",
        "Brouillons",
        "Courrier ind&AOk-sirable",
        "Work/Projects",
        "Archive",
    ] {
        c.create(f).unwrap();
    }
    let mut out = BTreeMap::new();
    let mut n = 0;
    for (folder, path, count) in FOLDERS {
        for _ in 0..count {
            n += 1;
            out.insert(
                format!("seed-{n}@old.example"),
                append(&mut c, n, folder, path),
            );
        }
    }
    // The same message in a second folder: one email in two mailboxes.
    for k in [5, 6, 7] {
        let id = format!("seed-{k}@old.example");
        let s = out.get_mut(&id).unwrap();
        let (f, _) = flags(k);
        c.append("Work/Projects", f, "01-Mar-2024 00:00:00 +0000", &s.raw)
            .unwrap();
        s.mailboxes.insert("Work/Projects".into());
    }
    out
}

fn import(s: &Server, url: &str, ca: &std::path::Path, password: &str) -> (bool, String) {
    let out = s.cli(
        &[
            "import",
            "imap",
            "--account",
            ACCOUNT,
            "--from",
            url,
            "--password-stdin",
            "--ca-file",
            ca.to_str().unwrap(),
        ],
        Some(&format!("{password}\n")),
    );
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Message-ID -> (mailbox paths, keywords, receivedAt, blobId), and the mailbox roles by path.
async fn contents(
    a: &Account<'_>,
) -> (
    BTreeMap<String, (BTreeSet<String>, BTreeSet<String>, String, String)>,
    BTreeMap<String, Value>,
) {
    let mb = a.call1("Mailbox/get", json!({})).await;
    let list = mb["list"].as_array().unwrap().clone();
    let by_id: BTreeMap<String, Value> = list
        .iter()
        .map(|m| (m["id"].as_str().unwrap().to_string(), m.clone()))
        .collect();
    let path = |id: &str| {
        let mut p = Vec::new();
        let mut cur = by_id.get(id).cloned();
        while let Some(m) = cur {
            p.insert(0, m["name"].as_str().unwrap().to_string());
            cur = m["parentId"].as_str().and_then(|x| by_id.get(x).cloned());
        }
        p.join("/")
    };
    let roles = list
        .iter()
        .map(|m| (path(m["id"].as_str().unwrap()), m["role"].clone()))
        .collect();
    let ids = a.email_ids().await;
    let got = a
        .call1(
            "Email/get",
            json!({"ids": ids, "properties": ["messageId", "blobId", "mailboxIds", "keywords", "receivedAt"]}),
        )
        .await;
    let emails = got["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["messageId"][0].as_str().unwrap().to_string(),
                (
                    e["mailboxIds"]
                        .as_object()
                        .unwrap()
                        .keys()
                        .map(|k| path(k))
                        .collect(),
                    e["keywords"].as_object().unwrap().keys().cloned().collect(),
                    e["receivedAt"].as_str().unwrap().to_string(),
                    e["blobId"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect();
    (emails, roles)
}

async fn blob(a: &Account<'_>, blob: &str) -> Vec<u8> {
    let url = format!(
        "{}/jmap/download/{}/{blob}/m.eml?accept=message/rfc822",
        a.server.base_url(),
        a.id
    );
    let r = a
        .server
        .http()
        .get(url)
        .basic_auth(&a.address, Some(&a.password))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    r.bytes().await.unwrap().to_vec()
}

/// Every seeded message is there once, in its mailboxes, with its keywords, date and bytes.
async fn compare(a: &Account<'_>, seeded: &BTreeMap<String, Seeded>) {
    let (got, roles) = contents(a).await;
    assert_eq!(got.len(), seeded.len(), "one email per message");
    for (id, s) in seeded {
        let (mbs, kw, received, blob_id) = got.get(id).unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!(mbs, &s.mailboxes, "{id}: mailboxes");
        assert_eq!(kw, &s.keywords, "{id}: keywords");
        assert_eq!(
            received, &s.received_at,
            "{id}: receivedAt from INTERNALDATE"
        );
        assert_eq!(blob(a, blob_id).await, s.raw, "{id}: bytes");
    }
    for (path, role) in [
        ("Inbox", "inbox"),
        ("Sent", "sent"),
        ("Drafts", "drafts"),
        ("Junk", "junk"),
        ("Archive", "archive"),
    ] {
        assert_eq!(roles.get(path), Some(&json!(role)), "{path}: {roles:?}");
    }
    assert!(
        roles.contains_key("Work/Projects"),
        "nested folder: {roles:?}"
    );
}

#[tokio::test]
async fn imports_a_dovecot_account_then_only_what_is_new() {
    let dir = tempfile::tempdir().unwrap();
    let d = Dovecot::start(&dir.path().join("dovecot"))
        .unwrap_or_else(|e| panic!("a real Dovecot is required for this test: {e}"));
    let mut seeded = seed(&d);
    let mut s = Server::start();
    let a = s.new_account(ACCOUNT, PASS).await;

    // A wrong password and an untrusted certificate are refused, and import nothing.
    let (ok, text) = import(&s, &d.imaps_url(), &d.ca_file, "wrong");
    assert!(!ok, "{text}");
    let out = s.cli(
        &[
            "import",
            "imap",
            "--account",
            ACCOUNT,
            "--from",
            &d.imaps_url(),
            "--password-stdin",
        ],
        Some(PASSWORD),
    );
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success() && err.contains("TLS"), "{err}");
    assert!(a.email_ids().await.is_empty());

    // First run, through the running server, over imaps.
    let (ok, text) = import(&s, &d.imaps_url(), &d.ca_file, PASSWORD);
    assert!(ok, "{text}\n{}", d.log());
    assert!(text.contains("300 new"), "{text}");
    // The progress the server sent over the control socket (plain lines: no terminal here).
    assert!(
        text.contains("0 messages (0 new") && text.contains(", 0/303"),
        "{text}"
    );
    assert!(
        text.contains("3 already there") && text.contains("0 failed"),
        "{text}"
    );
    compare(&a, &seeded).await;

    // Mail arrives on the old server; the folder holding the copies is recreated (a new
    // UIDVALIDITY: read again, nothing doubled).
    let mut c = d.client().unwrap();
    for n in 301..=310 {
        seeded.insert(
            format!("seed-{n}@old.example"),
            append(&mut c, n, "INBOX", "Inbox"),
        );
    }
    c.create("Work/Later").unwrap();
    for n in 311..=315 {
        seeded.insert(
            format!("seed-{n}@old.example"),
            append(&mut c, n, "Work/Later", "Work/Later"),
        );
    }
    c.cmd(b"DELETE \"Archive\"").unwrap();
    c.create("Archive").unwrap();
    for n in 281..=300 {
        let s = &seeded[&format!("seed-{n}@old.example")];
        let (f, _) = flags(n);
        c.append("Archive", f, "01-Mar-2024 00:00:00 +0000", &s.raw)
            .unwrap();
    }
    drop(c);

    // Second run with the server stopped, over imap:// + STARTTLS.
    assert!(s.terminate(), "server stops cleanly");
    let (ok, text) = import(&s, &d.imap_url(), &d.ca_file, PASSWORD);
    assert!(ok, "{text}\n{}", d.log());
    assert!(
        text.contains("15 new") && text.contains("20 already there"),
        "{text}"
    );
    assert!(
        text.contains(", 0/35"),
        "progress with the total, server stopped: {text}"
    );
    let s = s.restart();
    let a = Account::open(&s, ACCOUNT, PASS).await;
    compare(&a, &seeded).await;

    // A third run finds nothing at all to fetch.
    let (ok, text) = import(&s, &d.imaps_url(), &d.ca_file, PASSWORD);
    assert!(ok, "{text}");
    assert!(text.contains("0 messages"), "{text}");

    // Dovecot's own Maildir files hold the same messages with LF line ends (IMAP sent CRLF):
    // same Message-ID, same content, so importing them adds no message.
    let maildir = d
        .dir
        .join("home")
        .join(crate::dovecot_support::USER)
        .join("Maildir");
    let sample = std::fs::read_dir(maildir.join("cur"))
        .unwrap()
        .find_map(|e| std::fs::read(e.unwrap().path()).ok())
        .unwrap();
    assert!(
        !sample.windows(2).any(|w| w == b"\r\n"),
        "Dovecot stores LF"
    );
    let out = s.cli(
        &[
            "import",
            "maildir",
            maildir.to_str().unwrap(),
            "--account",
            ACCOUNT,
        ],
        None,
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("(0 new") && text.contains("0 failed"),
        "{text}"
    );
    assert_eq!(a.email_ids().await.len(), seeded.len());
}
