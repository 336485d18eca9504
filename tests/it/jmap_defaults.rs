//! Issue 13, findings 6 and 7 (bullets 2 and 3), through the real endpoint:
//! - `[["Mailbox/get", {}, "c1"]]` was refused with invalidArguments; a missing accountId now
//!   means the session's primary account (as Cyrus does), while a wrong or null one is still
//!   refused.
//! - Creating (or renaming into) a mailbox name a sibling already has gave invalidProperties;
//!   it is `alreadyExists` with `existingId` now.
//! - Email/import of a PNG or random bytes succeeded; it is `invalidEmail` now, and Email/parse
//!   lists such blobs in `notParsable` (the rule is in src/ingest/shape.rs).

use crate::common;
use crate::mail_support;
use common::*;
use mail_support::*;
use serde_json::{Value, json};

const USER: &str = "defaults@example.org";
const PASS: &str = "the primary account please";

#[tokio::test]
async fn missing_account_id_means_the_primary_account() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;

    let r = s
        .call(
            USER,
            PASS,
            json!([
                ["Mailbox/get", {}, "c1"],
                ["Mailbox/set", {"create": {"n": {"name": "No accountId"}}}, "c3"],
                ["Email/query", {}, "c4"],
                ["Thread/get", {"ids": []}, "c5"]
            ]),
        )
        .await;
    assert_eq!(r[0][0], json!("Mailbox/get"), "{}", r[0]);
    assert_eq!(r[0][1]["accountId"], json!(acct));
    assert!(
        r[0][1]["list"].as_array().is_some_and(|l| !l.is_empty()),
        "{}",
        r[0]
    );
    assert_eq!(r[1][0], json!("Mailbox/set"), "{}", r[1]);
    assert!(r[1][1]["created"]["n"]["id"].is_string(), "{}", r[1]);
    assert_eq!(r[2][0], json!("Email/query"), "{}", r[2]);
    assert_eq!(r[3][0], json!("Thread/get"), "{}", r[3]);
    let r6 = s
        .call_using(
            USER,
            PASS,
            &[CORE, MAIL, SUBMISSION],
            json!([["Identity/get", {}, "c6"]]),
        )
        .await;
    assert_eq!(r6[0][0], json!("Identity/get"), "{}", r6[0]);

    // Every other check stays strict.
    for (args, kind) in [
        (json!({"accountId": null}), "invalidArguments"),
        (json!({"accountId": 7}), "invalidArguments"),
        (json!({"accountId": "azzzz"}), "accountNotFound"),
        (json!({"bogus": 1}), "invalidArguments"),
    ] {
        let e = call_err(&s, USER, PASS, "Mailbox/get", args.clone()).await;
        assert_eq!(e["type"], json!(kind), "{args}: {e}");
    }
}

#[tokio::test]
async fn duplicate_sibling_name_is_already_exists() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    let set = |args: Value| {
        let mut a = args;
        a["accountId"] = json!(acct);
        call1(&s, USER, PASS, "Mailbox/set", a)
    };
    let r = set(json!({"create": {
        "a": {"name": "Projects"},
        "b": {"name": "Other"},
        "kid": {"name": "Projects", "parentId": "#b"},
    }}))
    .await;
    let projects = r["created"]["a"]["id"].as_str().unwrap().to_string();
    let other = r["created"]["b"]["id"].as_str().unwrap().to_string();
    assert!(
        r["created"]["kid"]["id"].is_string(),
        "the same name under another parent is fine: {r}"
    );

    // Create a duplicate.
    let r = set(json!({"create": {"again": {"name": "Projects"}}})).await;
    assert_eq!(
        r["notCreated"]["again"]["type"],
        json!("alreadyExists"),
        "{r}"
    );
    assert_eq!(
        r["notCreated"]["again"]["existingId"],
        json!(projects),
        "{r}"
    );

    // Rename into a duplicate.
    let r = set(json!({"update": {other.clone(): {"name": "Projects"}}})).await;
    assert_eq!(
        r["notUpdated"][&other]["type"],
        json!("alreadyExists"),
        "{r}"
    );
    assert_eq!(
        r["notUpdated"][&other]["existingId"],
        json!(projects),
        "{r}"
    );

    // Renaming a mailbox to its own name is no conflict.
    let r = set(json!({"update": {projects.clone(): {"name": "Projects"}}})).await;
    assert!(r["updated"].get(&projects).is_some(), "{r}");
}

#[tokio::test]
async fn import_and_parse_refuse_blobs_that_are_not_messages() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    let inbox = role_id(&s, USER, PASS, &acct, "inbox").await;

    let png: Vec<u8> =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    let mut x: u32 = 0x1234_5678;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 8) as u8
        })
        .collect();
    let good = message(USER, USER, "A real one", "real@example.org", "hello");
    let png_id = upload(&s, USER, PASS, &acct, png).await;
    let random_id = upload(&s, USER, PASS, &acct, random).await;
    let good_id = upload(&s, USER, PASS, &acct, good).await;

    let r = call1(
        &s,
        USER,
        PASS,
        "Email/import",
        json!({"accountId": acct, "emails": {
            "png": {"blobId": png_id, "mailboxIds": {inbox.clone(): true}},
            "random": {"blobId": random_id, "mailboxIds": {inbox.clone(): true}},
            "good": {"blobId": good_id, "mailboxIds": {inbox.clone(): true}},
        }}),
    )
    .await;
    assert_eq!(r["notCreated"]["png"]["type"], json!("invalidEmail"), "{r}");
    assert_eq!(
        r["notCreated"]["random"]["type"],
        json!("invalidEmail"),
        "{r}"
    );
    assert!(r["created"]["good"]["id"].is_string(), "{r}");
    assert_eq!(all_ids(&s, USER, PASS, &acct).await.len(), 1);

    let r = call1(
        &s,
        USER,
        PASS,
        "Email/parse",
        json!({"accountId": acct, "blobIds": [png_id, random_id, good_id]}),
    )
    .await;
    let mut not_parsable: Vec<String> =
        serde_json::from_value(r["notParsable"].clone()).unwrap_or_default();
    not_parsable.sort();
    let mut want = vec![png_id.clone(), random_id.clone()];
    want.sort();
    assert_eq!(not_parsable, want, "{r}");
    assert_eq!(r["parsed"][&good_id]["subject"], json!("A real one"), "{r}");
}
