//! Figures for the mail methods (run with `cargo test --release --test mail_figures -- --ignored
//! --nocapture`): Email/get of the 47-message fixture corpus with list properties and with every
//! body property, Email/set creating drafts, Email/import. Prints numbers; asserts no times.

use crate::common;
use crate::mail_support;
use common::*;
use mail_support::*;
use serde_json::json;
use std::time::Instant;

const USER: &str = "figures@example.org";
const PASS: &str = "numbers not feelings";

#[tokio::test]
#[ignore]
async fn mail_method_figures() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    let dir = format!("{}/tests/fixtures/emails", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    let mut ids = Vec::new();
    let mut blobs = Vec::new();
    for f in &files {
        let raw = std::fs::read(f).unwrap();
        blobs.push(upload(&s, USER, PASS, &acct, raw.clone()).await);
        ids.push(deliver_id(&s, USER, PASS, &acct, &raw).await);
    }
    let drafts = role_id(&s, USER, PASS, &acct, "drafts").await;
    let rounds = 20;
    for (label, args) in [
        (
            "list properties",
            json!({"accountId": acct, "ids": ids,
            "properties": ["subject", "from", "to", "preview", "keywords", "receivedAt", "threadId"]}),
        ),
        (
            "all body properties",
            json!({"accountId": acct, "ids": ids,
            "properties": ["headers", "bodyStructure", "bodyValues", "textBody", "htmlBody", "attachments"],
            "fetchAllBodyValues": true}),
        ),
    ] {
        let t = Instant::now();
        for _ in 0..rounds {
            call1(&s, USER, PASS, "Email/get", args.clone()).await;
        }
        let per = t.elapsed().as_secs_f64() * 1000.0 / rounds as f64;
        println!(
            "FIGURE Email/get {} x{}: {per:.1} ms per call ({:.2} ms per email)",
            label,
            ids.len(),
            per / ids.len() as f64
        );
    }
    let mut create = serde_json::Map::new();
    for i in 0..50 {
        create.insert(format!("d{i}"), json!({"mailboxIds": {drafts.clone(): true},
            "keywords": {"$draft": true}, "from": [{"email": USER}], "to": [{"email": "x@example.net"}],
            "subject": format!("Draft {i}"), "textBody": [{"partId": "t"}],
            "bodyValues": {"t": {"value": "Hello there, a short draft body."}}}));
    }
    let t = Instant::now();
    let r = call1(
        &s,
        USER,
        PASS,
        "Email/set",
        json!({"accountId": acct, "create": create}),
    )
    .await;
    assert_eq!(r["created"].as_object().unwrap().len(), 50);
    println!(
        "FIGURE Email/set create 50 drafts: {:.1} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let mut emails = serde_json::Map::new();
    for (i, b) in blobs.iter().enumerate() {
        emails.insert(
            format!("i{i}"),
            json!({"blobId": b, "mailboxIds": {drafts.clone(): true}}),
        );
    }
    let t = Instant::now();
    let r = call1(
        &s,
        USER,
        PASS,
        "Email/import",
        json!({"accountId": acct, "emails": emails}),
    )
    .await;
    assert_eq!(r["created"].as_object().unwrap().len(), blobs.len());
    println!(
        "FIGURE Email/import {} messages: {:.1} ms",
        blobs.len(),
        t.elapsed().as_secs_f64() * 1000.0
    );
}
