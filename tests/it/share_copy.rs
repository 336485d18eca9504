//! Email/copy and Blob/copy between accounts the user can reach (RFC 8620 §5.4, §6.3; issue
//! #16): moving a message from one's own Inbox into a shared mailbox (onSuccessDestroyOriginal),
//! copying out of a shared mailbox, and the rights and isolation on both sides.

use crate::common::{CORE, MAIL, Server};
use crate::share_mailboxes::{
    ANNA, BEN, CARO, PW, call, call1, cli, deliver, mailboxes, set_error,
};
use serde_json::{Value, json};

async fn copy(s: &Server, user: &str, args: Value) -> Vec<Value> {
    call(s, user, json!([["Email/copy", args, "c"]])).await
}

#[tokio::test]
async fn move_into_a_shared_mailbox_and_copy_out_of_it() {
    let s = Server::start();
    for u in [ANNA, BEN, CARO] {
        s.add_user(u, PW);
    }
    let anna = s.account_id(ANNA, PW).await;
    let ben = s.account_id(BEN, PW).await;
    let a_boxes = mailboxes(&s, ANNA, &anna).await;
    let b_boxes = mailboxes(&s, BEN, &ben).await;
    let archive = a_boxes["archive"].clone();
    let receipt = deliver(&s, ANNA, &anna, "Receipt", "pounds").await;
    let private = deliver(&s, ANNA, &anna, "Private", "secret").await;
    call1(&s, ANNA, "Email/set", json!({"accountId": anna, "update": {receipt.clone(): {"mailboxIds": {archive.clone(): true}}}})).await;
    let bill = deliver(&s, BEN, &ben, "Bill", "gas bill").await;

    // Read-only: Ben may copy out, not in, and not take the original away.
    cli(
        &s,
        &[
            "share",
            "add",
            ANNA,
            "archive",
            BEN,
            "--rights",
            "read-only",
        ],
    );
    let r = copy(
        &s,
        BEN,
        json!({"fromAccountId": ben, "accountId": anna,
        "create": {"c": {"id": bill, "mailboxIds": {archive.clone(): true}}}}),
    )
    .await;
    assert_eq!(
        *set_error(&r[0][1], "notCreated", "c"),
        "forbidden",
        "{r:?}"
    );
    let r = copy(
        &s,
        BEN,
        json!({"fromAccountId": anna, "accountId": ben, "onSuccessDestroyOriginal": true,
        "create": {"c": {"id": receipt, "mailboxIds": {b_boxes["inbox"].clone(): true}},
                   "p": {"id": private, "mailboxIds": {b_boxes["inbox"].clone(): true}}}}),
    )
    .await;
    assert!(r[0][1]["created"]["c"]["id"].is_string(), "{r:?}");
    assert_eq!(
        *set_error(&r[0][1], "notCreated", "p"),
        "notFound",
        "the Inbox is not shared"
    );
    assert_eq!(r[1][0], "Email/set");
    assert_eq!(
        *set_error(&r[1][1], "notDestroyed", &receipt),
        "forbidden",
        "{r:?}"
    );
    assert_eq!(
        call1(
            &s,
            ANNA,
            "Email/query",
            json!({"accountId": anna, "filter": {"inMailbox": archive}})
        )
        .await["ids"],
        json!([receipt])
    );

    // Read-write: Ben moves his bill into Anna's Archive.
    cli(
        &s,
        &[
            "share",
            "add",
            ANNA,
            "archive",
            BEN,
            "--rights",
            "read-write",
        ],
    );
    let r = copy(&s, BEN, json!({"fromAccountId": ben, "accountId": anna, "onSuccessDestroyOriginal": true,
        "create": {"c": {"id": bill, "mailboxIds": {archive.clone(): true}, "keywords": {"$seen": true}}}})).await;
    let moved = r[0][1]["created"]["c"]["id"]
        .as_str()
        .expect("copied")
        .to_string();
    assert_eq!(r[1][1]["destroyed"], json!([bill]), "{r:?}");
    let g = call1(&s, ANNA, "Email/get", json!({"accountId": anna, "ids": [moved], "properties": ["subject", "mailboxIds", "keywords"]})).await;
    assert_eq!(g["list"][0]["subject"], "Bill");
    assert_eq!(g["list"][0]["keywords"], json!({"$seen": true}));
    let g = call1(
        &s,
        BEN,
        "Email/get",
        json!({"accountId": ben, "ids": [bill]}),
    )
    .await;
    assert_eq!(g["notFound"], json!([bill]), "moved, not copied");

    // Blob/copy: the shared message's blob, not the private one's.
    let own = call1(
        &s,
        ANNA,
        "Email/get",
        json!({"accountId": anna, "ids": [receipt, private], "properties": ["blobId"]}),
    )
    .await;
    let (rb, pb) = (
        own["list"][0]["blobId"].clone(),
        own["list"][1]["blobId"].clone(),
    );
    let r = s.call_using(BEN, PW, &[CORE, MAIL], json!([["Blob/copy", {"fromAccountId": anna, "accountId": ben, "blobIds": [rb, pb]}, "b"]])).await;
    assert_eq!(r[0][1]["copied"][rb.as_str().unwrap()], rb, "{r:?}");
    assert_eq!(
        r[0][1]["notCopied"][pb.as_str().unwrap()]["type"],
        "notFound"
    );

    // Caro reaches neither account.
    let r = copy(
        &s,
        CARO,
        json!({"fromAccountId": anna, "accountId": s.account_id(CARO, PW).await,
        "create": {"c": {"id": receipt, "mailboxIds": {}}}}),
    )
    .await;
    assert_eq!(r[0][1]["type"], "fromAccountNotFound", "{r:?}");
}

#[tokio::test]
async fn import_into_a_shared_mailbox_needs_may_add_items() {
    let s = Server::start();
    for u in [ANNA, BEN] {
        s.add_user(u, PW);
    }
    let anna = s.account_id(ANNA, PW).await;
    let archive = mailboxes(&s, ANNA, &anna).await["archive"].clone();
    let upload = |user: &'static str| {
        let url = format!("{}/jmap/upload/{anna}", s.base_url());
        let c = s.http();
        async move {
            c.post(url)
                .basic_auth(user, Some(PW))
                .header("Content-Type", "message/rfc822")
                .body(crate::common::message(
                    BEN,
                    ANNA,
                    "Scanned",
                    "scan@example.org",
                    "receipt",
                ))
                .send()
                .await
                .unwrap()
        }
    };
    cli(
        &s,
        &[
            "share",
            "add",
            ANNA,
            "archive",
            BEN,
            "--rights",
            "read-only",
        ],
    );
    assert_eq!(
        upload(BEN).await.status().as_u16(),
        404,
        "read-only: no uploads"
    );
    cli(
        &s,
        &["share", "add", ANNA, "archive", BEN, "--rights", "read,add"],
    );
    let res = upload(BEN).await;
    assert_eq!(res.status().as_u16(), 201);
    let blob: Value = res.json().await.unwrap();
    let imp = |keywords: Value| json!({"accountId": anna, "emails": {"i": {"blobId": blob["blobId"], "mailboxIds": {archive.clone(): true}, "keywords": keywords}}});
    let r = call1(&s, BEN, "Email/import", imp(json!({"$flagged": true}))).await;
    assert_eq!(
        r["notCreated"]["i"]["type"], "forbidden",
        "maySetKeywords: {r}"
    );
    let r = call1(&s, BEN, "Email/import", imp(json!({}))).await;
    let id = r["created"]["i"]["id"]
        .as_str()
        .expect("imported")
        .to_string();
    let q = call1(
        &s,
        ANNA,
        "Email/query",
        json!({"accountId": anna, "filter": {"inMailbox": archive}}),
    )
    .await;
    assert_eq!(q["ids"], json!([id]));
}
