//! The collapsed inbox a mail client shows first (issue #8, #20): Email/query of the newest
//! 50 in the inbox with collapseThreads, and Email/get of their list properties, in one
//! request. Used for the main store and for the store holding one huge thread.

use crate::http_client::Https;
use crate::stats::{ms, percentile};
use crate::{USING, method_error, timed};
use serde_json::{Value, json};
use std::time::Duration;

fn inbox_id(http: &mut Https, acct: &str) -> Result<String, String> {
    let v = http.jmap(&json!({"using": USING, "methodCalls": [["Mailbox/get", {"accountId": acct, "properties": ["role"]}, "m"]]}))?;
    v["methodResponses"][0][1]["list"]
        .as_array()
        .and_then(|l| l.iter().find(|m| m["role"] == "inbox"))
        .and_then(|m| m["id"].as_str())
        .map(str::to_string)
        .ok_or_else(|| "no inbox".into())
}

/// `runs` timed requests (sorted latencies) and the last answer.
pub fn newest_50(
    http: &mut Https,
    acct: &str,
    runs: usize,
) -> Result<(Vec<Duration>, Value), String> {
    let inbox = inbox_id(http, acct)?;
    let list_req = json!({"using": USING, "methodCalls": [
        ["Email/query", {"accountId": acct, "filter": {"inMailbox": inbox}, "sort": [{"property": "receivedAt", "isAscending": false}], "collapseThreads": true, "limit": 50}, "q"],
        ["Email/get", {"accountId": acct, "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
            "properties": ["threadId", "mailboxIds", "keywords", "from", "subject", "receivedAt", "size", "preview", "hasAttachment"]}, "g"]]});
    timed(runs, || http.jmap(&list_req))
}

/// The row value: p50 and p99, or the method error of the last answer.
pub fn value(lat: &[Duration], last: &Value) -> String {
    match method_error(last) {
        None => format!(
            "p50 {} p99 {}",
            ms(percentile(lat, 0.5)),
            ms(percentile(lat, 0.99))
        ),
        Some(e) => format!("error {e}"),
    }
}
