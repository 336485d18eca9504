//! Backups while the server runs (issue #18): `mailnook backup` copies the database as of one
//! read snapshot while SMTP keeps answering 250; everything acknowledged before the backup was
//! asked for is in it; `mailnook restore` puts it into a fresh data directory, where the server
//! starts, serves it over JMAP and rebuilds the search index; `mailnook check` finds damage.

use crate::common::{Server, Transcript, message};
use serde_json::json;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const USER: &str = "keeper@example.org";
const PASS: &str = "keeper password";

fn cli(data: &Path, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(crate::common::bin())
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[tokio::test]
async fn a_backup_under_smtp_load_restores_everything_acknowledged() {
    let s = Server::start();
    let a = s.new_account(USER, PASS).await;
    let acked: Arc<Mutex<Vec<u32>>> = Arc::default();
    let refused: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let (acked, refused, stop, smtp) = (acked.clone(), refused.clone(), stop.clone(), s.smtp);
        std::thread::spawn(move || {
            let mut t = Transcript::connect(smtp);
            assert_eq!(t.cmd("EHLO load.example"), 250);
            let mut n = 0u32;
            while !stop.load(Ordering::SeqCst) && n < 5000 {
                let raw = message(
                    "load@example.net",
                    USER,
                    &format!("Load {n}"),
                    &format!("load-{n}@example.net"),
                    &format!("body with the word loadword{n}"),
                );
                let r = t.deliver("load@example.net", &[USER], &raw);
                if r.starts_with("250") {
                    acked.lock().unwrap().push(n);
                } else {
                    refused.lock().unwrap().push(r);
                }
                n += 1;
            }
        })
    };
    while acked.lock().unwrap().len() < 40 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Everything acknowledged up to here must be in the backup.
    let before: Vec<u32> = acked.lock().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("backup-1");
    let (ok, text) = cli(&s.data_dir, &["backup", dest.to_str().unwrap()]);
    assert!(ok, "backup: {text}");
    let during = acked.lock().unwrap().len();
    // Delivery went on during and after the backup.
    while acked.lock().unwrap().len() < during + 10 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    stop.store(true, Ordering::SeqCst);
    sender.join().unwrap();
    assert_eq!(refused.lock().unwrap().clone(), Vec::<String>::new());
    assert!(dest.join("mailnook.redb").is_file() && dest.join("tls-key.pem").is_file());
    assert!(dest.join("manifest.json").is_file());
    let (ok, text) = cli(&s.data_dir, &["check", dest.to_str().unwrap()]);
    assert!(ok && text.contains("no problems found"), "check: {text}");
    // The running server's own database passes the check too (through the control socket).
    let (ok, text) = cli(&s.data_dir, &["check"]);
    assert!(ok, "check of the running database: {text}");
    let total = a.email_ids().await.len();

    // Restore into a fresh data directory and serve it.
    let fresh = dir.path().join("fresh");
    let (ok, text) = cli(&fresh, &["restore", dest.to_str().unwrap()]);
    assert!(ok, "restore: {text}");
    let r = Server::start_in(&fresh, &[]);
    assert_eq!(
        r.fingerprint, s.fingerprint,
        "the certificate comes back too"
    );
    let b = r.account(USER, PASS).await;
    let ids = b.email_ids().await;
    assert!(
        ids.len() >= before.len() && ids.len() <= total,
        "{} of {total}",
        ids.len()
    );
    let got = b
        .call1(
            "Email/get",
            json!({"ids": ids, "properties": ["messageId"]}),
        )
        .await;
    let present: std::collections::BTreeSet<String> = got["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["messageId"][0].as_str().unwrap().to_string())
        .collect();
    for n in &before {
        assert!(
            present.contains(&format!("load-{n}@example.net")),
            "message {n} lost"
        );
    }
    // The index is rebuilt from the restored store: a word of the first message is found.
    let first = before[0];
    crate::common::eventually("search after restore", || async {
        let r = b
            .call1(
                "Email/query",
                json!({"filter": {"text": format!("loadword{first}")}}),
            )
            .await;
        (r["ids"].as_array().map(|v| v.len()) == Some(1)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn restore_refuses_a_running_server_and_check_finds_damage() {
    let s = Server::start();
    let a = s.new_account(USER, PASS).await;
    for n in 0..3 {
        let raw = message("x@example.net", USER, "Hi", &format!("m{n}@x"), "hello");
        assert!(a.deliver(&raw).starts_with("250"));
    }
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("b");
    let (ok, text) = cli(&s.data_dir, &["backup", dest.to_str().unwrap()]);
    assert!(ok, "{text}");
    let (ok, text) = cli(&s.data_dir, &["backup", dest.to_str().unwrap()]);
    assert!(
        !ok && text.contains("exists"),
        "a backup is never overwritten: {text}"
    );
    let (ok, text) = cli(&s.data_dir, &["restore", dest.to_str().unwrap()]);
    assert!(!ok && text.contains("running"), "{text}");
    assert_eq!(
        a.email_ids().await.len(),
        3,
        "the running server is untouched"
    );

    // Damage the backup: drop one row of a mailbox's date index.
    {
        use redb::ReadableTable;
        let db = redb::Database::create(dest.join("mailnook.redb")).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let def: redb::TableDefinition<(u32, u32, i64, u32), ()> =
                redb::TableDefinition::new("mailbox_emails");
            let mut t = tx.open_table(def).unwrap();
            let first = t.first().unwrap().map(|(k, _)| k.value()).unwrap();
            t.remove(first).unwrap();
        }
        tx.commit().unwrap();
    }
    let (ok, text) = cli(&s.data_dir, &["check", dest.to_str().unwrap()]);
    assert!(!ok, "check must fail: {text}");
    assert!(
        text.contains("missing from mailbox") && text.contains("problems found"),
        "{text}"
    );
    let fresh = dir.path().join("fresh");
    let (ok, text) = cli(&fresh, &["restore", dest.to_str().unwrap()]);
    assert!(!ok && text.contains("does not pass the check"), "{text}");
}

#[tokio::test]
async fn scheduled_backups_keep_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let backups = dir.path().join("scheduled");
    let config = dir.path().join("mailnook.toml");
    std::fs::write(
        &config,
        format!(
            "[backup]\ndir = \"{}\"\ninterval_secs = 1\nkeep = 2\n",
            backups.display()
        ),
    )
    .unwrap();
    let mut s = Server::start_with(&["--config", config.to_str().unwrap()]);
    let a = s.new_account(USER, PASS).await;
    assert!(
        a.deliver(&message("x@example.net", USER, "Kept", "kept@x", "hello"))
            .starts_with("250")
    );
    // Watch the directory until four different backups have been seen: never more than
    // `keep` complete ones, plus, for a moment, the new one before the oldest is removed.
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..600 {
        let names: Vec<String> = std::fs::read_dir(&backups)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.ends_with(".partial"))
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            names.len() <= 3,
            "retention keeps 2 (+1 in passing): {names:?}"
        );
        seen.extend(names);
        if seen.len() >= 4 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(seen.len() >= 4, "scheduled backups were made: {seen:?}");
    drop(a);
    // Stopped: what is left is what retention keeps.
    assert!(s.terminate());
    let left: Vec<_> = std::fs::read_dir(&backups)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert_eq!(left.len(), 2, "retention keeps 2");
    let newest = left.iter().map(|e| e.path()).max().unwrap();
    let (ok, text) = cli(&s.data_dir, &["check", newest.to_str().unwrap()]);
    assert!(ok && text.contains("1 emails"), "{text}");
}
