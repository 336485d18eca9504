//! Email/query's counted totals (issue #20): with only `inMailbox`, `calculateTotal` comes from
//! the mailbox's counts (totalEmails, or totalThreads with collapseThreads) and only the asked
//! page is walked. The story: the webmail's conversation list asked for a total and the server
//! walked the whole mailbox for it, linear in the mailbox. Each answer here is compared with the
//! same query made to walk (an extra condition that every email meets), so a count that drifts
//! from the mailbox's contents, or a page cut at the wrong place, fails.

use crate::common::*;
use serde_json::{Value, json};

const USER: &str = "totals@example.org";
const PASS: &str = "count without walking";

fn msg(id: &str, subject: &str, parent: Option<&str>) -> Vec<u8> {
    let mut h = format!(
        "From: Someone <someone@example.net>\r\nTo: {USER}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
    );
    if let Some(p) = parent {
        h.push_str(&format!("In-Reply-To: <{p}>\r\nReferences: <{p}>\r\n"));
    }
    h.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n");
    h.into_bytes()
}

async fn query(a: &Account<'_>, filter: Value, collapse: bool, position: i64, limit: u64) -> Value {
    a.call1(
        "Email/query",
        json!({"filter": filter, "collapseThreads": collapse, "calculateTotal": true,
               "position": position, "limit": limit,
               "sort": [{"property": "receivedAt", "isAscending": false}]}),
    )
    .await
}

/// The counted answer and the walked one agree on ids, position and total; returns the total.
async fn same(a: &Account<'_>, mailbox: &str, collapse: bool, position: i64, limit: u64) -> u64 {
    let counted = query(a, json!({"inMailbox": mailbox}), collapse, position, limit).await;
    let walked = json!({"operator": "AND", "conditions": [{"inMailbox": mailbox}, {"minSize": 0}]});
    let walked = query(a, walked, collapse, position, limit).await;
    for k in ["ids", "position", "total"] {
        assert_eq!(
            counted[k], walked[k],
            "{k} (collapse {collapse}, position {position}, limit {limit}): {counted} vs {walked}"
        );
    }
    counted["total"].as_u64().expect("total")
}

async fn check_all(a: &Account<'_>, mailbox: &str, emails: u64, threads: u64) {
    for (position, limit) in [(0, 3), (2, 3), (0, 50), (4, 2), (8, 5), (30, 5), (-2, 5)] {
        assert_eq!(same(a, mailbox, false, position, limit).await, emails);
        assert_eq!(same(a, mailbox, true, position, limit).await, threads);
    }
}

#[tokio::test]
async fn mailbox_totals_come_from_counts_and_match_a_walk() {
    let s = Server::start();
    let a = s.new_account(USER, PASS).await;
    // Two threads (4 and 3 messages) and five single messages, all delivered to the inbox.
    let mut ids = Vec::new();
    for (id, subject, parent) in [
        ("a1@x", "Plans", None),
        ("s1@x", "Single one", None),
        ("a2@x", "Re: Plans", Some("a1@x")),
        ("b1@x", "Budget", None),
        ("s2@x", "Single two", None),
        ("a3@x", "Re: Plans", Some("a2@x")),
        ("b2@x", "Re: Budget", Some("b1@x")),
        ("s3@x", "Single three", None),
        ("a4@x", "Re: Plans", Some("a3@x")),
        ("s4@x", "Single four", None),
        ("b3@x", "Re: Budget", Some("b2@x")),
        ("s5@x", "Single five", None),
    ] {
        assert!(a.deliver(&msg(id, subject, parent)).starts_with("250"));
        ids.push(id);
    }
    let boxes = a
        .call1("Mailbox/get", json!({"properties": ["role"]}))
        .await;
    let inbox = boxes["list"]
        .as_array()
        .and_then(|l| l.iter().find(|m| m["role"] == "inbox"))
        .and_then(|m| m["id"].as_str())
        .expect("inbox")
        .to_string();
    check_all(&a, &inbox, 12, 7).await;

    // Move one message of the first thread, a whole single and destroy another single: the
    // counts move with each change and stay equal to what a walk finds.
    let created = a
        .call1(
            "Mailbox/set",
            json!({"create": {"k": {"name": "Kept aside"}}}),
        )
        .await;
    let archive = created["created"]["k"]["id"]
        .as_str()
        .expect("archive")
        .to_string();
    let all = a
        .call1(
            "Email/query",
            json!({"sort": [{"property": "receivedAt", "isAscending": true}]}),
        )
        .await;
    let all: Vec<String> = serde_json::from_value(all["ids"].clone()).expect("ids");
    assert_eq!(all.len(), ids.len());
    // Delivery order is receivedAt order: all[0] is a1, all[1] s1, all[4] s2.
    let moved = [&all[0], &all[1]];
    let mut update = serde_json::Map::new();
    for id in moved {
        update.insert(id.clone(), json!({"mailboxIds": {archive.clone(): true}}));
    }
    let r = a
        .call1(
            "Email/set",
            json!({"update": update, "destroy": [all[4].clone()]}),
        )
        .await;
    assert_eq!(r["notUpdated"], Value::Null, "{r}");
    assert_eq!(r["notDestroyed"], Value::Null, "{r}");
    check_all(&a, &inbox, 9, 5).await;
    check_all(&a, &archive, 2, 2).await;

    // The mailbox's own counts say the same.
    let boxes = a
        .call1(
            "Mailbox/get",
            json!({"ids": [inbox.clone()], "properties": ["totalEmails", "totalThreads"]}),
        )
        .await;
    assert_eq!(boxes["list"][0]["totalEmails"], json!(9));
    assert_eq!(boxes["list"][0]["totalThreads"], json!(5));
}

#[tokio::test]
async fn newest_page_without_a_filter_is_the_start_of_the_full_list() {
    // With no filter and the newest first, the account's date index is walked backwards and the
    // walk stops at the page (issue #20); the page must be the start of the complete answer.
    let s = Server::start();
    let a = s.new_account(USER, PASS).await;
    for i in 0..7 {
        let id = format!("n{i}@x");
        assert!(
            a.deliver(&msg(&id, &format!("Note {i}"), None))
                .starts_with("250")
        );
    }
    let sort = json!([{"property": "receivedAt", "isAscending": false}]);
    let full = a
        .call1("Email/query", json!({"sort": sort, "calculateTotal": true}))
        .await;
    assert_eq!(full["total"], json!(7));
    let full: Vec<Value> = full["ids"].as_array().expect("ids").clone();
    for (position, limit) in [(0usize, 3usize), (2, 2), (5, 10)] {
        let page = a
            .call1(
                "Email/query",
                json!({"sort": sort, "position": position, "limit": limit}),
            )
            .await;
        let want: Vec<Value> = full.iter().skip(position).take(limit).cloned().collect();
        assert_eq!(
            page["ids"],
            json!(want),
            "position {position} limit {limit}"
        );
    }
}
