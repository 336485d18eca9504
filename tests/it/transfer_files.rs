//! Moving in and out with files (issue #18): `mailnook import maildir|mbox` and
//! `mailnook export`, against the fixtures in tests/fixtures/import (a Maildir++ tree with a
//! `dovecot-keywords` file, Dovecot's on-disk layout with no Dovecot server, and a modified-UTF-7
//! folder name; an mboxrd file with a malformed From_ line and a bare CR; a Gmail Takeout mbox with labels). Imports run through the running server
//! (control socket) and on a stopped one; re-running adds nothing; export -> import gives the
//! same messages, mailboxes and keywords.

use crate::common::{Account, Server};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const PASS: &str = "mover password";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import")
}

fn cli(s: &Server, args: &[&str]) -> String {
    let out = s.cli(args, None);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{args:?}: {text}");
    text
}

/// A copy of the Maildir fixture with each file's mtime set from its name (git keeps no
/// mtimes): the received dates then are known.
fn maildir_copy(dir: &Path) -> PathBuf {
    let to = dir.join("Maildir");
    let mut stack = vec![(fixtures().join("maildir"), to.clone())];
    while let Some((from, to)) = stack.pop() {
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(&from).unwrap() {
            let e = e.unwrap();
            let target = to.join(e.file_name());
            if e.path().is_dir() {
                stack.push((e.path(), target));
            } else {
                std::fs::copy(e.path(), &target).unwrap();
                let name = e.file_name().to_string_lossy().into_owned();
                if let Ok(secs) = name[..name.len().min(10)].parse::<u64>() {
                    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
                    std::fs::File::options()
                        .write(true)
                        .open(&target)
                        .unwrap()
                        .set_modified(t)
                        .unwrap();
                }
            }
        }
    }
    to
}

/// blobId -> (mailbox paths, keywords, receivedAt): what a round trip must keep.
async fn contents(a: &Account<'_>) -> BTreeMap<String, (BTreeSet<String>, Value, Value)> {
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
    let ids = a.email_ids().await;
    let got = a
        .call1(
            "Email/get",
            json!({"ids": ids, "properties": ["blobId", "mailboxIds", "keywords", "receivedAt"]}),
        )
        .await;
    got["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let mbs: BTreeSet<String> = e["mailboxIds"]
                .as_object()
                .unwrap()
                .keys()
                .map(|k| path(k))
                .collect();
            (
                e["blobId"].as_str().unwrap().to_string(),
                (mbs, e["keywords"].clone(), e["receivedAt"].clone()),
            )
        })
        .collect()
}

async fn blob_bytes(a: &Account<'_>, blob: &str) -> Vec<u8> {
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

#[tokio::test]
async fn imports_through_the_running_server_without_duplicates() {
    let s = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let a = s.new_account("mover@example.org", PASS).await;
    let maildir = maildir_copy(dir.path());
    let text = cli(
        &s,
        &[
            "import",
            "maildir",
            maildir.to_str().unwrap(),
            "--account",
            "mover@example.org",
        ],
    );
    assert!(text.contains("6 new"), "{text}");
    let c = contents(&a).await;
    assert_eq!(c.len(), 6);
    let by_paths: BTreeMap<String, &(BTreeSet<String>, Value, Value)> = c
        .values()
        .map(|v| (v.0.iter().cloned().collect::<Vec<_>>().join("+"), v))
        .fold(BTreeMap::new(), |mut m, (k, v)| {
            m.entry(k).or_insert(v);
            m
        });
    assert!(by_paths.contains_key("Work/Projects"), "{c:?}");
    assert!(by_paths.contains_key("Sent"), "{c:?}");
    assert!(
        by_paths.contains_key("Café"),
        "modified UTF-7 folder name: {c:?}"
    );
    assert!(
        c.values()
            .any(|v| v.1 == json!({"$flagged": true, "$answered": true, "work": true})),
        "flags and the Dovecot keyword: {c:?}"
    );
    assert!(
        c.values().any(|v| v.2 == json!("2023-11-14T22:13:21Z")),
        "date from the file: {c:?}"
    );
    assert!(
        c.values()
            .any(|v| v.0.contains("Inbox") && v.1 == json!({})),
        "new/ is unseen"
    );

    // Again: nothing new.
    let text = cli(
        &s,
        &[
            "import",
            "maildir",
            maildir.to_str().unwrap(),
            "--account",
            "mover@example.org",
        ],
    );
    assert!(
        text.contains("0 new") && text.contains("6 already there"),
        "{text}"
    );
    assert_eq!(a.email_ids().await.len(), 6);

    // mbox: mboxrd quoting, a malformed From_ line, a bare CR, Status/X-Status.
    let mbox = fixtures().join("mbox/inbox.mbox");
    let text = cli(
        &s,
        &[
            "import",
            "mbox",
            mbox.to_str().unwrap(),
            "--account",
            "mover@example.org",
            "--mailbox",
            "Old mail",
        ],
    );
    assert!(
        text.contains("4 new") && text.contains("0 failed"),
        "{text}"
    );
    let c2 = contents(&a).await;
    let old: Vec<_> = c2
        .iter()
        .filter(|(_, v)| v.0.contains("Old mail"))
        .collect();
    assert_eq!(old.len(), 4, "{c2:?}");
    let mut bodies = Vec::new();
    for (blob, _) in &old {
        bodies.push(blob_bytes(&a, blob).await);
    }
    assert!(
        bodies
            .iter()
            .any(|b| b.ends_with(b"\n\nFrom the start of a line\n>From twice quoted\n"))
    );
    assert!(
        bodies
            .iter()
            .any(|b| b.windows(19).any(|w| w == b"line with a bare\rCR")),
        "bare CR kept"
    );
    assert!(
        bodies.iter().all(|b| !b.starts_with(b"Status:")),
        "storage headers are not message bytes"
    );
    assert!(
        old.iter()
            .any(|(_, v)| v.1 == json!({"$seen": true, "$flagged": true})
                && v.2 == json!("2023-11-14T22:13:20Z"))
    );

    // Gmail Takeout: labels are mailboxes; one Email in several mailboxes.
    let gmail = fixtures().join("mbox/gmail-takeout.mbox");
    let text = cli(
        &s,
        &[
            "import",
            "mbox",
            gmail.to_str().unwrap(),
            "--account",
            "mover@example.org",
        ],
    );
    assert!(text.contains("3 new"), "{text}");
    let c3 = contents(&a).await;
    assert!(
        c3.values().any(
            |v| v.0 == BTreeSet::from(["Inbox".to_string(), "Work".to_string()])
                && v.1 == json!({"$seen": true})
        ),
        "{c3:?}"
    );
    assert!(
        c3.values()
            .any(|v| v.0 == BTreeSet::from(["Work/2026, plans".to_string()])
                && v.1 == json!({"$flagged": true})),
        "{c3:?}"
    );
    assert!(
        c3.values()
            .any(|v| v.0 == BTreeSet::from(["Sent".to_string()]))
    );
    let text = cli(
        &s,
        &[
            "import",
            "mbox",
            gmail.to_str().unwrap(),
            "--account",
            "mover@example.org",
        ],
    );
    assert!(text.contains("0 new"), "{text}");

    // Search finds imported mail (the index follows the change log like any delivery).
    crate::common::eventually("search over imported mail", || async {
        let r = a
            .call1("Email/query", json!({"filter": {"text": "gmail"}}))
            .await;
        (r["ids"].as_array().map(|v| v.len()) == Some(3)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn export_then_import_is_identical_for_both_formats() {
    let s = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let a = s.new_account("source@example.org", PASS).await;
    let maildir = maildir_copy(dir.path());
    cli(
        &s,
        &[
            "import",
            "maildir",
            maildir.to_str().unwrap(),
            "--account",
            "source@example.org",
        ],
    );
    for f in ["inbox.mbox", "gmail-takeout.mbox"] {
        let p = fixtures().join("mbox").join(f);
        cli(
            &s,
            &[
                "import",
                "mbox",
                p.to_str().unwrap(),
                "--account",
                "source@example.org",
            ],
        );
    }
    let want = contents(&a).await;
    assert_eq!(want.len(), 13);
    for (n, format) in ["maildir", "mbox"].iter().enumerate() {
        let out = dir.path().join(format!("export-{format}"));
        cli(
            &s,
            &[
                "export",
                "--account",
                "source@example.org",
                "--format",
                format,
                out.to_str().unwrap(),
            ],
        );
        let target = format!("copy{n}@example.org");
        let b = s.new_account(&target, PASS).await;
        cli(
            &s,
            &[
                "import",
                format,
                out.to_str().unwrap(),
                "--account",
                &target,
            ],
        );
        let got = contents(&b).await;
        assert_eq!(got, want, "round trip through {format}");
    }
    // With the server stopped, the command opens the store itself.
    let mut s = s;
    assert!(s.terminate());
    let p = fixtures().join("mbox/inbox.mbox");
    let out = std::process::Command::new(crate::common::bin())
        .args([
            "import",
            "mbox",
            p.to_str().unwrap(),
            "--account",
            "copy0@example.org",
            "--mailbox",
            "Offline",
        ])
        .arg("--data-dir")
        .arg(&s.data_dir)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && text.contains("0 failed"), "{text}");
    let s = s.restart();
    let b = s.account("copy0@example.org", PASS).await;
    let got = contents(&b).await;
    assert_eq!(
        got.len(),
        13,
        "same bytes: no new email, only a new mailbox"
    );
    assert_eq!(got.values().filter(|v| v.0.contains("Offline")).count(), 4);
}
