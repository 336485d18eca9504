//! Issue 13: one message must not bring the server down or make it build without bound.
//!
//! Finding 1: a 290 KB message of 4,000 nested multipart/mixed levels, sent unauthenticated to
//! port 25, aborted the process with a stack overflow before the 250 (the part tree was built
//! and rendered by recursion that followed the input); the same through Email/import. Here
//! 1,000, 10,000 and 100,000 levels (and 10,000 nested message/rfc822) go in by SMTP and by
//! Email/import: the server answers 250 / created, stores the bytes exactly (the blob download
//! equals the input) and Email/get and Email/parse answer, with the tree cut at the documented
//! depth (src/mime/limits.rs).
//!
//! Finding 2: a 1 MB message of 100,000 empty parts made Email/get with fetchAllBodyValues
//! answer 32 MB of JSON; 64 Email/get calls naming one id 1,000 times took 1.1 GB. Now the
//! tree keeps at most 1,000 parts, an id is served once (RFC 8620 §5.1), and a read-only answer
//! over the response cap (16 MB held) is the method error requestTooLarge (src/jmap/response.rs) while the
//! other calls of the request are still answered. (RSS figures: tests/mime_figures.rs.)

use crate::common;
use crate::mail_support;
use common::*;
use mail_support::*;
use serde_json::{Value, json};

const USER: &str = "deep@example.org";
const PASS: &str = "nested all the way down";

async fn download(s: &Server, acct: &str, blob: &str) -> Vec<u8> {
    let res = s
        .http()
        .get(format!(
            "{}/jmap/download/{acct}/{blob}/m.eml",
            s.base_url()
        ))
        .basic_auth(USER, Some(PASS))
        .send()
        .await
        .expect("download");
    assert_eq!(res.status().as_u16(), 200);
    res.bytes().await.expect("bytes").to_vec()
}

/// The depth of a bodyStructure (iteratively: the test must not recurse either).
fn depth(v: &Value) -> usize {
    let mut max = 0;
    let mut stack = vec![(v, 1usize)];
    while let Some((p, d)) = stack.pop() {
        max = max.max(d);
        for c in p["subParts"].as_array().into_iter().flatten() {
            stack.push((c, d + 1));
        }
    }
    max
}

fn count_parts(v: &Value) -> usize {
    let mut n = 0;
    let mut stack = vec![v];
    while let Some(p) = stack.pop() {
        n += 1;
        stack.extend(p["subParts"].as_array().into_iter().flatten());
    }
    n
}

/// Email/get with every body property; checks the answer and the stored bytes (SMTP puts its
/// Received: field above the message, so an SMTP delivery ends with the input).
async fn check_stored(s: &Server, acct: &str, id: &str, raw: &[u8], smtp: bool) -> Value {
    let r = call1(
        s,
        USER,
        PASS,
        "Email/get",
        json!({"accountId": acct, "ids": [id],
            "properties": ["blobId", "size", "preview", "bodyStructure", "bodyValues",
                           "textBody", "htmlBody", "attachments", "headers"],
            "bodyProperties": ["partId", "blobId", "type", "size", "subParts"],
            "fetchAllBodyValues": true}),
    )
    .await;
    let e = &r["list"][0];
    let blob = e["blobId"].as_str().unwrap().to_string();
    let stored = download(s, acct, &blob).await;
    assert_eq!(e["size"], json!(stored.len()));
    if smtp {
        assert!(
            stored.starts_with(b"Received: ") && stored.ends_with(raw),
            "stored bytes differ"
        );
    } else {
        assert!(stored == raw, "stored bytes differ");
    }
    let parsed = call1(
        s,
        USER,
        PASS,
        "Email/parse",
        json!({"accountId": acct, "blobIds": [blob], "fetchAllBodyValues": true,
               "properties": ["bodyStructure", "bodyValues", "preview"]}),
    )
    .await;
    assert!(parsed["parsed"][&blob]["bodyStructure"].is_object());
    e.clone()
}

async fn import(s: &Server, acct: &str, raw: &[u8]) -> String {
    let blob = upload(s, USER, PASS, acct, raw.to_vec()).await;
    let inbox = role_id(s, USER, PASS, acct, "inbox").await;
    let r = call1(
        s,
        USER,
        PASS,
        "Email/import",
        json!({"accountId": acct, "emails": {"m": {"blobId": blob, "mailboxIds": {inbox: true}}}}),
    )
    .await;
    r["created"]["m"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("not imported: {r}"))
        .to_string()
}

#[tokio::test]
async fn deeply_nested_messages_are_stored_and_served() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    for levels in [1_000, 10_000, 100_000] {
        let raw = nested_multipart(levels);
        // SMTP port 25, unauthenticated.
        let id = deliver_id(&s, USER, PASS, &acct, &raw).await;
        let e = check_stored(&s, &acct, &id, &raw, true).await;
        // 32 multipart levels, then one opaque leaf (mime/limits.rs): the JSON stays within
        // the 128 levels serde_json (this client) accepts.
        let d = depth(&e["bodyStructure"]);
        assert_eq!(d, 33, "{levels} levels: bodyStructure {d} deep");
        let mut p = &e["bodyStructure"];
        while let Some(first) = p["subParts"].get(0) {
            p = first;
        }
        assert_eq!(p["type"], json!("application/octet-stream"), "{p}");
        assert!(p["partId"].is_string());
        // Its blob is its raw body: the nested multiparts, as sent.
        let leaf = download(&s, &acct, p["blobId"].as_str().unwrap()).await;
        assert!(
            leaf.starts_with(b"--b32\r\n"),
            "{:?}",
            String::from_utf8_lossy(&leaf[..20])
        );
        // The deepest kept multipart is an opaque leaf, not a multipart (partId non-null).
        assert!(count_parts(&e["bodyStructure"]) <= 1000);
        // Email/import of the same bytes.
        let id = import(&s, &acct, &raw).await;
        check_stored(&s, &acct, &id, &raw, false).await;
        println!("{levels} levels ({} bytes): stored and served", raw.len());
    }
    let raw = nested_messages(10_000);
    let id = deliver_id(&s, USER, PASS, &acct, &raw).await;
    check_stored(&s, &acct, &id, &raw, true).await;
    let id = import(&s, &acct, &raw).await;
    check_stored(&s, &acct, &id, &raw, false).await;
    // Still alive and answering.
    assert_eq!(all_ids(&s, USER, PASS, &acct).await.len(), 8);
}

#[tokio::test]
async fn a_hundred_thousand_parts_make_a_bounded_answer() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    let raw = empty_parts(100_000);
    let id = deliver_id(&s, USER, PASS, &acct, &raw).await;
    let (status, body) = s
        .post_api(
            USER,
            PASS,
            json!({"using": [CORE, MAIL], "methodCalls": [["Email/get",
                {"accountId": acct, "ids": [id],
                 "properties": ["bodyStructure", "bodyValues", "textBody", "attachments"],
                 "bodyProperties": ["partId", "type", "size", "subParts"],
                 "fetchAllBodyValues": true}, "c"]]})
            .to_string(),
        )
        .await;
    assert_eq!(status, 200);
    let text = body.to_string();
    // Before: 32 MB of JSON for this one email.
    assert!(text.len() < 1_000_000, "answer is {} bytes", text.len());
    let e = &body["methodResponses"][0][1]["list"][0];
    let n = count_parts(&e["bodyStructure"]);
    assert!((900..=1000).contains(&n), "{n} parts");
    assert!(e["bodyValues"].as_object().unwrap().len() < 1000);
    check_stored(&s, &acct, &id, &raw, true).await;
}

#[tokio::test]
async fn an_id_named_a_thousand_times_is_served_once() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    let id = deliver_id(
        &s,
        USER,
        PASS,
        &acct,
        &message("a@example.net", USER, "once", "<once@x>", "hello"),
    )
    .await;
    let ids = vec![id.clone(); 1000];
    let calls: Vec<Value> = (0..64)
        .map(|n| {
            json!(["Email/get", {"accountId": acct, "ids": ids,
                "properties": ["bodyValues", "bodyStructure"], "fetchAllBodyValues": true},
                format!("c{n}")])
        })
        .collect();
    let r = s.call(USER, PASS, json!(calls)).await;
    assert_eq!(r.len(), 64);
    for call in &r {
        assert_eq!(call[0], json!("Email/get"));
        assert_eq!(call[1]["list"].as_array().unwrap().len(), 1);
    }
    // The same for an unknown id: once in notFound.
    let r = call1(
        &s,
        USER,
        PASS,
        "Email/get",
        json!({"accountId": acct, "ids": ["nope", "nope", "nope"]}),
    )
    .await;
    assert_eq!(r["notFound"], json!(["nope"]));
}

#[tokio::test]
async fn an_answer_over_the_response_cap_is_request_too_large() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    // 4 MB of text: four full fetches pass the 16 MB cap.
    let body = "0123456789abcdef ".repeat(4 * 1024 * 1024 / 17);
    let id = deliver_id(
        &s,
        USER,
        PASS,
        &acct,
        &message("a@example.net", USER, "big", "<big@x>", &body),
    )
    .await;
    let get = json!({"accountId": acct, "ids": [id], "properties": ["bodyValues"],
        "fetchAllBodyValues": true});
    let r = s
        .call(
            USER,
            PASS,
            json!([
                ["Email/get", get, "a"],
                ["Email/get", get, "b"],
                ["Email/get", get, "c"],
                ["Email/get", get, "d"],
                ["Email/parse", {"accountId": acct, "blobIds": ["bnope"]}, "e"],
                ["Email/get", {"accountId": acct, "ids": [id], "properties": ["subject"]}, "f"]
            ]),
        )
        .await;
    for c in &r[..3] {
        assert_eq!(c[0], json!("Email/get"), "{}", c[1]);
    }
    assert_eq!(r[3][0], json!("error"), "{}", r[3][1]);
    assert_eq!(r[3][1]["type"], json!("requestTooLarge"));
    // The calls after it are still answered (RFC 8620 §3.6.2).
    assert_eq!(r[4][0], json!("Email/parse"));
    assert_eq!(r[5][0], json!("Email/get"));
    assert_eq!(r[5][1]["list"][0]["subject"], json!("big"));
    // With maxBodyValueBytes the same asks fit.
    let small = json!({"accountId": acct, "ids": [id], "properties": ["bodyValues"],
        "fetchAllBodyValues": true, "maxBodyValueBytes": 1000});
    let r = s
        .call(
            USER,
            PASS,
            json!([
                ["Email/get", small, "a"],
                ["Email/get", small, "b"],
                ["Email/get", small, "c"]
            ]),
        )
        .await;
    assert!(r.iter().all(|c| c[0] == json!("Email/get")));
}
