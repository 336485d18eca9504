//! Issue 13, finding 8: a client that imports or receives a message and at once runs a text
//! Email/query may not find it: the indexer commits in batches (~100 ms behind). A text query
//! now waits, briefly and with a bound, until the index holds every Email change committed
//! before the request (`SearchIndex::caught_up`). Each case runs 20 times, so the lag of the
//! old code shows up as a failure nearly every time.

use crate::mail_support;
use crate::search_util;
use search_util::{PASS, USER, mail, server};
use serde_json::{Value, json};

const ROUNDS: usize = 20;

fn hits(r: &Value) -> usize {
    r["ids"].as_array().map_or(0, Vec::len)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_query_right_after_import_finds_the_message() {
    let s = server();
    let acct = s.account_id(USER, PASS).await;
    let inbox = mail_support::role_id(&s, USER, PASS, &acct, "inbox").await;
    for i in 0..ROUNDS {
        // Import and search in one request: the query starts after the import committed.
        let word = format!("zebraone{i}");
        let raw = mail(&format!("Subject: import {i}"), &format!("a {word} b"));
        let blob = mail_support::upload(&s, USER, PASS, &acct, raw).await;
        let r = s
            .call(
                USER,
                PASS,
                json!([
                    ["Email/import", {"accountId": acct, "emails": {
                        "m": {"blobId": blob, "mailboxIds": {inbox.clone(): true}}}}, "i"],
                    ["Email/query", {"accountId": acct, "filter": {"text": word}}, "q"]
                ]),
            )
            .await;
        assert!(r[0][1]["created"]["m"]["id"].is_string(), "{}", r[0]);
        assert_eq!(hits(&r[1][1]), 1, "round {i}, same request: {}", r[1]);

        // Import, then search in the next request at once.
        let word = format!("zebratwo{i}");
        let raw = mail(&format!("Subject: import b{i}"), &format!("c {word} d"));
        let blob = mail_support::upload(&s, USER, PASS, &acct, raw).await;
        mail_support::call1(
            &s,
            USER,
            PASS,
            "Email/import",
            json!({"accountId": acct, "emails": {
                "m": {"blobId": blob, "mailboxIds": {inbox.clone(): true}}}}),
        )
        .await;
        let r = search_util::query(&s, &acct, json!({"filter": {"body": word}})).await;
        assert_eq!(hits(&r), 1, "round {i}, next request: {r}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_query_right_after_smtp_250_finds_the_message() {
    let s = server();
    let acct = s.account_id(USER, PASS).await;
    let mut waited = std::time::Duration::ZERO;
    for i in 0..ROUNDS {
        let word = format!("okapi{i}");
        let raw = mail(&format!("Subject: smtp {i} {word}"), "body");
        let code = tokio::task::block_in_place(|| mail_support::deliver(&s, USER, &raw));
        assert_eq!(code, 250);
        let started = std::time::Instant::now();
        let r = search_util::query(&s, &acct, json!({"filter": {"subject": word}})).await;
        waited += started.elapsed();
        assert_eq!(hits(&r), 1, "round {i}: {r}");
    }
    println!(
        "text Email/query right after SMTP 250: {:.0} ms on average (includes the wait for the index)",
        waited.as_secs_f64() * 1000.0 / ROUNDS as f64
    );
}
