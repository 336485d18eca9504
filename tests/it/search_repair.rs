//! The index can never silently drift from the store (issue #5 "Truth and repair"): a crash
//! between the store commit and the index commit, a deleted or corrupt index directory, and a
//! deleted account are all repaired by the server itself; `mailnook reindex` rebuilds on demand.

use crate::common;
use crate::search_util;
use common::*;
use search_util::*;
use serde_json::json;

async fn send_three(s: &Server) {
    send(s, &mail("Subject: one", "aardvark"));
    send(s, &mail("Subject: two", "aardvark badger"));
    send(s, &mail("Subject: three", "aardvark badger cheetah"));
}

#[tokio::test]
async fn a_crash_before_the_index_commit_loses_nothing() {
    // A long batch window: the index commit comes 30 s after the 250, so the kill below lands
    // between the store commit and the index commit.
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("slow-index.toml");
    std::fs::write(&config, "index_batch_ms = 30000\n").expect("config");
    let data = dir.path().join("data");
    let config_arg = config.to_string_lossy().to_string();
    let mut s = Server::start_in(&data, &["--config", &config_arg]);
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    send_three(&s).await;
    // Stored (the plain query sees all three) but not yet indexed: the text query's state is
    // behind the Email state, which is how Email/queryChanges will later report the new hits.
    let plain = query(&s, &acct, json!({})).await;
    assert_eq!(plain["ids"].as_array().map(Vec::len), Some(3));
    let text = query(&s, &acct, json!({"filter": {"text": "aardvark"}})).await;
    let state = |v: &serde_json::Value| {
        v["queryState"]
            .as_str()
            .unwrap_or("")
            .parse::<u64>()
            .unwrap_or(0)
    };
    assert!(state(&text) < state(&plain), "{text} vs {plain}");
    s.kill();

    let s = Server::start_in(&data, &[]);
    let found = wait_for(&s, &acct, json!({"text": "aardvark"}), 3).await;
    assert_eq!(found.len(), 3);
    assert_eq!(ids(&s, &acct, json!({"text": "badger"})).await.len(), 2);
    assert_eq!(ids(&s, &acct, json!({"text": "cheetah"})).await.len(), 1);
    let text = query(&s, &acct, json!({"filter": {"text": "aardvark"}})).await;
    let plain = query(&s, &acct, json!({})).await;
    assert_eq!(text["queryState"], plain["queryState"], "caught up");
    drop(dir);
}

#[tokio::test]
async fn a_deleted_index_directory_is_rebuilt() {
    let s = server();
    let acct = s.account_id(USER, PASS).await;
    send_three(&s).await;
    wait_for(&s, &acct, json!({"text": "aardvark"}), 3).await;
    let mut s = s;
    s.kill();
    std::fs::remove_dir_all(s.data_dir.join("index")).expect("remove index");
    let s = s.restart();
    wait_for(&s, &acct, json!({"text": "badger"}), 2).await;
    assert_eq!(ids(&s, &acct, json!({"text": "aardvark"})).await.len(), 3);
}

#[tokio::test]
async fn a_corrupt_index_directory_is_rebuilt_not_fatal() {
    let s = server();
    let acct = s.account_id(USER, PASS).await;
    send_three(&s).await;
    wait_for(&s, &acct, json!({"text": "aardvark"}), 3).await;
    let mut s = s;
    s.kill();
    let index = s.data_dir.join("index");
    std::fs::write(index.join("meta.json"), b"{ this is not json").expect("corrupt");
    let s = s.restart();
    wait_for(&s, &acct, json!({"text": "cheetah"}), 1).await;
    assert_eq!(ids(&s, &acct, json!({"text": "aardvark"})).await.len(), 3);
    assert!(
        s.log().contains("rebuilding it from the store"),
        "the repair is logged"
    );
}

#[tokio::test]
async fn new_mail_after_a_restart_is_indexed_too() {
    let s = server();
    let acct = s.account_id(USER, PASS).await;
    send(&s, &mail("Subject: before", "walrus"));
    wait_for(&s, &acct, json!({"text": "walrus"}), 1).await;
    let s = s.restart();
    send(&s, &mail("Subject: after", "walrus"));
    wait_for(&s, &acct, json!({"text": "walrus"}), 2).await;
}

#[tokio::test]
async fn a_deleted_account_leaves_the_index() {
    let s = server();
    let acct = s.account_id(USER, PASS).await;
    send_three(&s).await;
    wait_for(&s, &acct, json!({"text": "aardvark"}), 3).await;
    assert!(s.log().contains("3 documents in the index"));
    let out = s.cli(&["user", "del", USER], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eventually("the account's documents to leave the index", || async {
        let log = s.log();
        let last = log
            .lines()
            .rfind(|l| l.contains("documents in the index"))?;
        last.contains(" 0 documents").then_some(())
    })
    .await;
}

#[tokio::test]
async fn reindex_refuses_while_running_and_rebuilds_when_stopped() {
    let s = server();
    let acct = s.account_id(USER, PASS).await;
    send_three(&s).await;
    wait_for(&s, &acct, json!({"text": "aardvark"}), 3).await;

    let out = s.cli(&["reindex"], None);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("running") && err.contains("stop it first"),
        "{err}"
    );

    let mut s = s;
    s.kill();
    let out = s.cli(&["reindex"], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("3/3 emails (100%)"), "progress: {err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("indexed 3 emails"));

    let s = s.restart();
    // Searchable at once: the rebuilt index is complete and its marks are in the store.
    assert_eq!(ids(&s, &acct, json!({"text": "badger"})).await.len(), 2);
    let text = query(&s, &acct, json!({"filter": {"text": "aardvark"}})).await;
    let plain = query(&s, &acct, json!({})).await;
    assert_eq!(text["queryState"], plain["queryState"]);
}
