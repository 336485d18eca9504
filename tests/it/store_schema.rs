//! Safe upgrades (issue #18): the database carries a format version. These tests open the
//! committed fixture of each format (made by `make fixture-db`, src/bin/mailnook-fixture.rs)
//! with the binary under test, so a later change to the tables that forgets its migration fails
//! here; and a database of a newer format is refused by this binary without a single byte
//! changed. The migration steps themselves (backup first, all or nothing) are unit-tested in
//! src/store/redb/schema.rs with made-up steps.

use crate::common::{Server, bin};
use serde_json::json;
use std::path::{Path, PathBuf};

const USER: &str = "fixture@example.org";
const PASS: &str = "fixture password";

fn fixture(version: u64) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/db/v{version}.redb"))
}

/// A data directory holding a copy of the fixture of format `version`.
fn data_dir_with(dir: &Path, version: u64) -> PathBuf {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let f = fixture(version);
    assert!(
        f.is_file(),
        "{} is missing: run `make fixture-db`",
        f.display()
    );
    std::fs::copy(&f, data.join("mailnook.redb")).unwrap();
    data
}

fn run(args: &[&str], data: &Path) -> std::process::Output {
    std::process::Command::new(bin())
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap()
}

#[tokio::test]
async fn every_committed_fixture_opens_with_this_binary() {
    // Every format from 1 to the current one must have its fixture and still open.
    for version in 1..=mailnook::store::SCHEMA_VERSION {
        let dir = tempfile::tempdir().unwrap();
        let data = data_dir_with(dir.path(), version);
        let check = run(&["check"], &data);
        assert!(
            check.status.success(),
            "check of fixture v{version}: {}{}",
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );
        let s = Server::start_in(&data, &[]);
        let a = s.account(USER, PASS).await;
        let mb = a.call1("Mailbox/get", json!({})).await;
        let list = mb["list"].as_array().unwrap();
        let by_name = |n: &str| list.iter().find(|m| m["name"] == n).cloned().unwrap();
        assert_eq!(by_name("Inbox")["totalEmails"], 4, "{mb}");
        assert_eq!(by_name("Inbox")["unreadEmails"], 3);
        assert_eq!(by_name("Inbox")["totalThreads"], 3);
        assert_eq!(by_name("2026")["parentId"], by_name("Archive")["id"]);
        assert_eq!(by_name("2026")["totalEmails"], 1);
        let ids = a.email_ids().await;
        assert_eq!(ids.len(), 5);
        let got = a
            .call1(
                "Email/get",
                json!({"ids": ids, "properties": ["subject", "keywords", "threadId", "mailboxIds", "receivedAt"]}),
            )
            .await;
        let emails = got["list"].as_array().unwrap();
        let thread: Vec<_> = emails
            .iter()
            .filter(|e| {
                e["subject"]
                    .as_str()
                    .unwrap_or("")
                    .ends_with("Fixture thread")
            })
            .collect();
        assert_eq!(thread.len(), 2);
        assert_eq!(thread[0]["threadId"], thread[1]["threadId"]);
        assert!(
            emails
                .iter()
                .any(|e| e["keywords"] == json!({"$flagged": true}))
        );
        assert!(
            emails
                .iter()
                .any(|e| e["mailboxIds"].as_object().unwrap().len() == 2)
        );
        assert!(
            emails
                .iter()
                .any(|e| e["receivedAt"] == "2023-11-14T22:13:20Z")
        );
        // The index is derived: this binary builds it from the fixture.
        crate::common::eventually("search over the fixture", || async {
            let r = a
                .call1("Email/query", json!({"filter": {"text": "zeppelin"}}))
                .await;
            (r["ids"].as_array().map(|v| v.len()) == Some(2)).then_some(())
        })
        .await;
        // And the store takes new mail.
        assert!(
            a.deliver(&crate::common::message(
                "x@example.net",
                USER,
                "After",
                "after@x",
                "new"
            ))
            .starts_with("250")
        );
        assert_eq!(a.email_ids().await.len(), 6);
    }
}

#[test]
fn a_newer_database_is_refused_without_a_write() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir_with(dir.path(), mailnook::store::SCHEMA_VERSION);
    let db_path = data.join("mailnook.redb");
    {
        // What a future mailnook would leave behind: the same file with a higher version.
        let db = redb::Database::create(&db_path).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let meta: redb::TableDefinition<&str, u64> = redb::TableDefinition::new("meta");
            let mut t = tx.open_table(meta).unwrap();
            t.insert("schema", mailnook::store::SCHEMA_VERSION + 1)
                .unwrap();
        }
        tx.commit().unwrap();
    }
    let before = std::fs::read(&db_path).unwrap();
    for args in [
        &[
            "serve",
            "--smtp-listen",
            "127.0.0.1:0",
            "--https-listen",
            "127.0.0.1:0",
            "--submission-listen",
            "127.0.0.1:0",
        ][..],
        &["user", "list"][..],
        &["reindex"][..],
    ] {
        let out = run(args, &data);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} must refuse");
        assert!(
            err.contains("written by a newer mailnook") && err.contains("Nothing was changed"),
            "{args:?}: {err}"
        );
    }
    assert!(
        std::fs::read(&db_path).unwrap() == before,
        "the newer file was written to"
    );
    let names: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.contains("backup")), "{names:?}");
}
