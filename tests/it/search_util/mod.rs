//! Helpers shared by the search tests (tests/search_*.rs).
#![allow(dead_code)]

use crate::common::*;
use serde_json::{Value, json};

pub const USER: &str = "alice@example.org";
pub const PASS: &str = "correct horse battery";

pub fn server() -> Server {
    let s = Server::start();
    s.add_user(USER, PASS);
    s
}

/// A message with extra header lines and a plain body.
pub fn mail(headers: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Bob <bob@example.net>\r\nTo: {USER}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n{headers}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .replace("\r\n\r\nContent-Type", "\r\nContent-Type")
    .into_bytes()
}

pub fn send(s: &Server, raw: &[u8]) {
    s.send("bob@example.net", &[USER], raw).expect("SMTP send");
}

/// One Email/query; returns the whole response arguments.
pub async fn query(s: &Server, acct: &str, args: Value) -> Value {
    let mut a = args;
    a["accountId"] = json!(acct);
    let r = s.call(USER, PASS, json!([["Email/query", a, "q"]])).await;
    assert_eq!(r[0][0], "Email/query", "{}", r[0]);
    r[0][1].clone()
}

/// The ids an Email/query with this filter returns.
pub async fn ids(s: &Server, acct: &str, filter: Value) -> Vec<String> {
    let r = query(s, acct, json!({ "filter": filter })).await;
    r["ids"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|v| v.as_str().expect("id").to_string())
        .collect()
}

/// Waits (bounded) until the filter returns exactly `n` emails, and returns their ids.
pub async fn wait_for(s: &Server, acct: &str, filter: Value, n: usize) -> Vec<String> {
    let what = format!("{n} result(s) for {filter}");
    eventually(&what, || {
        let filter = filter.clone();
        async move {
            let found = ids(s, acct, filter).await;
            (found.len() == n).then_some(found)
        }
    })
    .await
}

/// The subjects of emails, by id.
pub async fn subjects(s: &Server, acct: &str, ids: &[String]) -> Vec<String> {
    let r = s
        .call(
            USER,
            PASS,
            json!([["Email/get", {"accountId": acct, "ids": ids, "properties": ["subject"]}, "g"]]),
        )
        .await;
    let list = r[0][1]["list"].as_array().cloned().unwrap_or_default();
    ids.iter()
        .map(|id| {
            list.iter()
                .find(|e| e["id"] == json!(id))
                .and_then(|e| e["subject"].as_str())
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// Waits (bounded) until the index has caught up with everything stored in the account: a text
/// query's queryState equals the plain Email state only then (query_run::query_state).
pub async fn settle(s: &Server, acct: &str) {
    eventually("the index to catch up", || async {
        let text = query(s, acct, json!({"filter": {"text": "settle"}})).await;
        let plain = query(s, acct, json!({})).await;
        (text["queryState"] == plain["queryState"]).then_some(())
    })
    .await
}
