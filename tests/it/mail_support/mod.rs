//! Helpers shared by the mail_* test modules: exact SMTP delivery and JMAP shorthands.
#![allow(dead_code)]

use crate::common::*;
use serde_json::{Value, json};

/// Delivers `raw` byte for byte to `to`; the final reply code.
pub fn deliver(s: &Server, to: &str, raw: &[u8]) -> u16 {
    code(&s.deliver("sender@example.net", &[to], raw))
}

/// The ids in the account, in no particular order.
pub async fn all_ids(s: &Server, user: &str, pass: &str, acct: &str) -> Vec<String> {
    let r = s
        .call(
            user,
            pass,
            json!([["Email/query", {"accountId": acct}, "q"]]),
        )
        .await;
    serde_json::from_value(r[0][1]["ids"].clone()).expect("ids")
}

/// Delivers and returns the new email's id.
pub async fn deliver_id(s: &Server, user: &str, pass: &str, acct: &str, raw: &[u8]) -> String {
    let before = all_ids(s, user, pass, acct).await;
    assert_eq!(deliver(s, user, raw), 250);
    let after = all_ids(s, user, pass, acct).await;
    let new: Vec<&String> = after.iter().filter(|i| !before.contains(i)).collect();
    assert_eq!(new.len(), 1, "exactly one new email");
    new[0].clone()
}

/// One method call; returns its arguments (panics on an error response).
pub async fn call1(s: &Server, user: &str, pass: &str, name: &str, args: Value) -> Value {
    let r = s.call(user, pass, json!([[name, args, "c"]])).await;
    assert_eq!(r[0][0], json!(name), "{name} failed: {}", r[0]);
    r[0][1].clone()
}

/// One method call that must fail; returns the error object.
pub async fn call_err(s: &Server, user: &str, pass: &str, name: &str, args: Value) -> Value {
    let r = s.call(user, pass, json!([[name, args, "c"]])).await;
    assert_eq!(r[0][0], json!("error"), "{name} should fail: {}", r[0]);
    r[0][1].clone()
}

/// Uploads bytes (RFC 8620 §6.1) and returns the blob id.
pub async fn upload(s: &Server, user: &str, pass: &str, acct: &str, bytes: Vec<u8>) -> String {
    let res = s
        .http()
        .post(format!("{}/jmap/upload/{acct}", s.base_url()))
        .basic_auth(user, Some(pass))
        .header("Content-Type", "message/rfc822")
        .body(bytes)
        .send()
        .await
        .expect("upload");
    assert_eq!(res.status().as_u16(), 201, "upload status");
    let v: Value = res.json().await.expect("upload json");
    v["blobId"].as_str().expect("blobId").to_string()
}

/// Mailbox ids by role, and the counts of every mailbox as (id -> [total, unread, threads,
/// unreadThreads]).
pub async fn mailboxes(s: &Server, user: &str, pass: &str, acct: &str) -> Vec<Value> {
    let r = call1(s, user, pass, "Mailbox/get", json!({"accountId": acct})).await;
    r["list"].as_array().cloned().unwrap_or_default()
}

pub async fn role_id(s: &Server, user: &str, pass: &str, acct: &str, role: &str) -> String {
    mailboxes(s, user, pass, acct)
        .await
        .into_iter()
        .find(|m| m["role"] == json!(role))
        .and_then(|m| m["id"].as_str().map(String::from))
        .expect("mailbox with role")
}

pub async fn counts(s: &Server, user: &str, pass: &str, acct: &str, id: &str) -> [u64; 4] {
    let m = mailboxes(s, user, pass, acct)
        .await
        .into_iter()
        .find(|m| m["id"] == json!(id))
        .expect("mailbox");
    [
        m["totalEmails"].as_u64().unwrap(),
        m["unreadEmails"].as_u64().unwrap(),
        m["totalThreads"].as_u64().unwrap(),
        m["unreadThreads"].as_u64().unwrap(),
    ]
}

// Hostile shapes for the MIME-limit tests (mime_limits.rs, mime_figures.rs).

/// `levels` nested multipart/mixed parts (a distinct boundary per level), a text at the bottom.
pub fn nested_multipart(levels: usize) -> Vec<u8> {
    let mut m = b"From: a@example.net\r\nTo: deep@example.org\r\nSubject: deep\r\n".to_vec();
    for l in 0..levels {
        m.extend_from_slice(
            format!("Content-Type: multipart/mixed; boundary=\"b{l}\"\r\n\r\n--b{l}\r\n")
                .as_bytes(),
        );
    }
    m.extend_from_slice(b"Content-Type: text/plain\r\n\r\nthe bottom\r\n");
    for l in (0..levels).rev() {
        m.extend_from_slice(format!("--b{l}--\r\n").as_bytes());
    }
    m
}

/// `levels` nested message/rfc822 parts.
pub fn nested_messages(levels: usize) -> Vec<u8> {
    let mut m = b"From: a@example.net\r\nSubject: deep messages\r\n".to_vec();
    for l in 0..levels {
        m.extend_from_slice(
            format!("Content-Type: message/rfc822\r\n\r\nSubject: {l}\r\n").as_bytes(),
        );
    }
    m.extend_from_slice(b"\r\nthe bottom\r\n");
    m
}

/// `n` empty parts in one multipart.
pub fn empty_parts(n: usize) -> Vec<u8> {
    let mut m =
        b"From: a@example.net\r\nSubject: wide\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n"
            .to_vec();
    for _ in 0..n {
        m.extend_from_slice(b"--x\r\n\r\n");
    }
    m.extend_from_slice(b"--x--\r\n");
    m
}
