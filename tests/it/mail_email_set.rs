//! Email/set, Email/import, Email/parse and Email/copy (RFC 8621 §4.6-4.9) through the real
//! endpoint: drafts built from JMAP properties, keyword and mailbox changes by patch, destroys,
//! imports of uploaded blobs, parsing attached messages; counts and threads checked after each.

use crate::common;
use crate::mail_support;
use common::*;
use mail_support::*;
use serde_json::{Value, json};

const USER: &str = "drafts@example.org";
const PASS: &str = "write it down first";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/emails/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

async fn email_set(s: &Server, acct: &str, args: Value) -> Value {
    let mut a = args;
    a["accountId"] = json!(acct);
    call1(s, USER, PASS, "Email/set", a).await
}

#[tokio::test]
async fn drafts_flags_moves_and_destroys_keep_counts_and_threads_exact() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    let inbox = role_id(&s, USER, PASS, &acct, "inbox").await;
    let drafts = role_id(&s, USER, PASS, &acct, "drafts").await;
    let trash = role_id(&s, USER, PASS, &acct, "trash").await;

    // An incoming message, then a reply drafted to it with an attachment uploaded as a blob.
    let orig = deliver_id(
        &s,
        USER,
        PASS,
        &acct,
        &message(
            "Bob <bob@example.net>",
            USER,
            "Dinner plans",
            "dinner@example.net",
            "Friday?",
        ),
    )
    .await;
    let later = deliver_id(&s, USER, PASS, &acct, &{
        let mut m = String::from_utf8(message(
            "Bob <bob@example.net>",
            USER,
            "Re: Dinner plans",
            "dinner2@example.net",
            "Or Saturday",
        ))
        .unwrap();
        m = m.replace("Date:", "In-Reply-To: <dinner@example.net>\r\nDate:");
        m.into_bytes()
    })
    .await;
    let pdf = upload(&s, USER, PASS, &acct, b"%PDF-1.4 tiny".to_vec()).await;
    assert_eq!(counts(&s, USER, PASS, &acct, &inbox).await, [2, 2, 1, 1]);
    let r = email_set(&s, &acct, json!({"create": {"d1": {
        "mailboxIds": {drafts.clone(): true},
        "keywords": {"$draft": true, "$seen": true},
        "from": [{"name": "Drafts Person", "email": USER}],
        "to": [{"name": "Bob", "email": "bob@example.net"}],
        "subject": "Re: Dinner plans",
        "inReplyTo": ["dinner@example.net"],
        "references": ["dinner@example.net"],
        "header:X-Priority:asText": "3",
        "sentAt": "2026-11-23T12:00:00+01:00",
        "textBody": [{"partId": "t", "type": "text/plain"}],
        "htmlBody": [{"partId": "h", "type": "text/html"}],
        "bodyValues": {"t": {"value": "Friday works. Grüße!"}, "h": {"value": "<p>Friday works. Grüße!</p>"}},
        "attachments": [{"blobId": pdf, "type": "application/pdf", "name": "menü.pdf"}],
    }}})).await;
    let c = &r["created"]["d1"];
    let d1 = c["id"].as_str().expect("created").to_string();
    for k in ["blobId", "threadId", "size"] {
        assert!(!c[k].is_null(), "created has {k}: {r}");
    }
    // The draft joined the conversation and sits right after the message it replies to,
    // although it was created after the second reply.
    let th = c["threadId"].as_str().unwrap().to_string();
    let t = call1(
        &s,
        USER,
        PASS,
        "Thread/get",
        json!({"accountId": acct, "ids": [th]}),
    )
    .await;
    assert_eq!(t["list"][0]["emailIds"], json!([orig, d1, later]), "{t}");
    // Drafts are never unread (RFC 8621 §2).
    assert_eq!(counts(&s, USER, PASS, &acct, &drafts).await, [1, 0, 1, 0]);

    // It is a real message: fetch it back.
    let r = call1(
        &s,
        USER,
        PASS,
        "Email/get",
        json!({"accountId": acct, "ids": [d1],
        "properties": ["subject", "from", "to", "inReplyTo", "sentAt", "keywords", "mailboxIds",
                       "textBody", "htmlBody", "attachments", "bodyValues", "hasAttachment",
                       "header:X-Priority:asText", "messageId", "preview"],
        "fetchAllBodyValues": true}),
    )
    .await;
    let e = &r["list"][0];
    assert_eq!(e["subject"], json!("Re: Dinner plans"));
    assert_eq!(e["from"], json!([{"name": "Drafts Person", "email": USER}]));
    assert_eq!(e["inReplyTo"], json!(["dinner@example.net"]));
    assert_eq!(e["sentAt"], json!("2026-11-23T12:00:00+01:00"));
    assert_eq!(e["keywords"], json!({"$draft": true, "$seen": true}));
    assert_eq!(e["header:X-Priority:asText"], json!("3"));
    assert!(e["messageId"][0].as_str().unwrap().contains('@'));
    assert_eq!(e["preview"], json!("Friday works. Grüße!"));
    assert_eq!(e["hasAttachment"], json!(true));
    assert_eq!(e["attachments"][0]["name"], json!("menü.pdf"));
    assert_eq!(e["attachments"][0]["size"], json!(13));
    let tb = e["textBody"][0]["partId"].as_str().unwrap();
    assert_eq!(e["bodyValues"][tb]["value"], json!("Friday works. Grüße!"));
    assert_eq!(e["htmlBody"][0]["type"], json!("text/html"));

    // Invalid creates are refused one by one; nothing is stored for them.
    let r = email_set(&s, &acct, json!({"create": {
        "nobox": {"subject": "x"},
        "badkw": {"mailboxIds": {drafts.clone(): true}, "keywords": {"a b": true}},
        "headers": {"mailboxIds": {drafts.clone(): true}, "headers": []},
        "blob": {"mailboxIds": {drafts.clone(): true}, "attachments": [{"blobId": "b0000000000000000000000000000000000000000000000000000000000000000"}]},
        "twice": {"mailboxIds": {drafts.clone(): true}, "subject": "a", "header:Subject": " b"},
    }})).await;
    assert_eq!(
        r["notCreated"]["nobox"]["properties"],
        json!(["mailboxIds"]),
        "{r}"
    );
    assert_eq!(r["notCreated"]["badkw"]["properties"], json!(["keywords"]));
    assert_eq!(r["notCreated"]["headers"]["properties"], json!(["headers"]));
    assert_eq!(r["notCreated"]["blob"]["type"], json!("blobNotFound"));
    assert_eq!(
        r["notCreated"]["blob"]["notFound"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(r["notCreated"]["twice"]["type"], json!("invalidProperties"));
    assert_eq!(counts(&s, USER, PASS, &acct, &drafts).await, [1, 0, 1, 0]);

    // Flags by patch path; moves by patch and by whole value; counts after each.
    let r = email_set(
        &s,
        &acct,
        json!({"update": {orig.clone(): {"keywords/$seen": true, "keywords/$flagged": true}}}),
    )
    .await;
    assert!(r["updated"].get(&orig).is_some(), "{r}");
    assert_eq!(counts(&s, USER, PASS, &acct, &inbox).await, [2, 1, 1, 1]);
    email_set(
        &s,
        &acct,
        json!({"update": {later.clone(): {"keywords": {"$seen": true}}}}),
    )
    .await;
    assert_eq!(counts(&s, USER, PASS, &acct, &inbox).await, [2, 0, 1, 0]);
    email_set(
        &s,
        &acct,
        json!({"update": {orig.clone(): {"keywords/$seen": null}}}),
    )
    .await;
    assert_eq!(counts(&s, USER, PASS, &acct, &inbox).await, [2, 1, 1, 1]);
    email_set(&s, &acct, json!({"update": {orig.clone(): {format!("mailboxIds/{inbox}"): null, format!("mailboxIds/{trash}"): true}}})).await;
    assert_eq!(counts(&s, USER, PASS, &acct, &inbox).await, [1, 0, 1, 0]);
    assert_eq!(counts(&s, USER, PASS, &acct, &trash).await, [1, 1, 1, 1]);
    let r = email_set(
        &s,
        &acct,
        json!({"update": {
            orig.clone(): {"mailboxIds": {}},
            later.clone(): {"subject": "changed"},
            "mzzzz": {"keywords": {}},
            d1.clone(): {"keywords/$Bad Keyword": true},
        }}),
    )
    .await;
    assert_eq!(
        r["notUpdated"][&orig]["properties"],
        json!(["mailboxIds"]),
        "{r}"
    );
    assert_eq!(r["notUpdated"][&later]["type"], json!("invalidProperties"));
    assert_eq!(r["notUpdated"]["mzzzz"]["type"], json!("notFound"));
    assert_eq!(r["notUpdated"][&d1]["properties"], json!(["keywords"]));
    // Keywords come back lower-case.
    email_set(
        &s,
        &acct,
        json!({"update": {later.clone(): {"keywords/$Forwarded": true}}}),
    )
    .await;
    let r = call1(
        &s,
        USER,
        PASS,
        "Email/get",
        json!({"accountId": acct, "ids": [later], "properties": ["keywords"]}),
    )
    .await;
    assert_eq!(
        r["list"][0]["keywords"],
        json!({"$forwarded": true, "$seen": true})
    );

    // Sending the draft: drop $draft; its place in the thread becomes its receivedAt place.
    email_set(
        &s,
        &acct,
        json!({"update": {d1.clone(): {"keywords/$draft": null}}}),
    )
    .await;
    let t = call1(
        &s,
        USER,
        PASS,
        "Thread/get",
        json!({"accountId": acct, "ids": [th]}),
    )
    .await;
    assert_eq!(t["list"][0]["emailIds"], json!([orig, later, d1]));

    // Destroy: gone from every mailbox, counts and thread follow; Email/changes reports it.
    let before = call1(
        &s,
        USER,
        PASS,
        "Email/get",
        json!({"accountId": acct, "ids": []}),
    )
    .await["state"]
        .clone();
    let r = email_set(&s, &acct, json!({"destroy": [orig.clone(), "mnope"]})).await;
    assert_eq!(r["destroyed"], json!([orig]));
    assert_eq!(r["notDestroyed"]["mnope"]["type"], json!("notFound"));
    assert_eq!(counts(&s, USER, PASS, &acct, &trash).await, [0, 0, 0, 0]);
    let t = call1(
        &s,
        USER,
        PASS,
        "Thread/get",
        json!({"accountId": acct, "ids": [th]}),
    )
    .await;
    assert_eq!(t["list"][0]["emailIds"], json!([later, d1]));
    let ch = call1(
        &s,
        USER,
        PASS,
        "Email/changes",
        json!({"accountId": acct, "sinceState": before}),
    )
    .await;
    assert_eq!(ch["destroyed"], json!([orig]));
}

#[tokio::test]
async fn import_parse_and_copy() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    let inbox = role_id(&s, USER, PASS, &acct, "inbox").await;
    let archive = role_id(&s, USER, PASS, &acct, "archive").await;

    // Import an uploaded message: receivedAt from its Received field, keywords as given.
    let raw = fixture("01-plain-ascii.eml");
    let blob = upload(&s, USER, PASS, &acct, raw.clone()).await;
    let r = call1(&s, USER, PASS, "Email/import", json!({"accountId": acct, "emails": {
        "i1": {"blobId": blob, "mailboxIds": {archive.clone(): true}, "keywords": {"$seen": true}},
        "i2": {"blobId": blob, "mailboxIds": {inbox.clone(): true}, "receivedAt": "2020-01-02T03:04:05Z"},
        "nob": {"blobId": "bnope", "mailboxIds": {inbox.clone(): true}},
        "nobox": {"blobId": blob, "mailboxIds": {}},
        "extra": {"blobId": blob, "mailboxIds": {inbox.clone(): true}, "subject": "x"},
    }})).await;
    let i1 = r["created"]["i1"]["id"].as_str().expect("i1").to_string();
    let i2 = r["created"]["i2"]["id"].as_str().expect("i2").to_string();
    assert_eq!(
        r["created"]["i1"]["blobId"],
        json!(blob),
        "the stored message is the blob"
    );
    assert_eq!(r["created"]["i1"]["size"], json!(raw.len()));
    assert_eq!(r["notCreated"]["nob"]["properties"], json!(["blobId"]));
    assert_eq!(
        r["notCreated"]["nobox"]["properties"],
        json!(["mailboxIds"])
    );
    assert_eq!(r["notCreated"]["extra"]["type"], json!("invalidProperties"));
    assert_ne!(r["oldState"], r["newState"]);
    let g = call1(
        &s,
        USER,
        PASS,
        "Email/get",
        json!({"accountId": acct, "ids": [i1, i2],
        "properties": ["receivedAt", "keywords", "subject", "threadId"]}),
    )
    .await;
    assert_eq!(g["list"][0]["receivedAt"], json!("2023-11-14T08:15:02Z"));
    assert_eq!(g["list"][1]["receivedAt"], json!("2020-01-02T03:04:05Z"));
    assert_eq!(g["list"][0]["subject"], json!("Lunch on Thursday?"));
    // The same message twice is one conversation.
    assert_eq!(g["list"][0]["threadId"], g["list"][1]["threadId"]);
    assert_eq!(counts(&s, USER, PASS, &acct, &archive).await, [1, 0, 1, 0]);
    assert_eq!(counts(&s, USER, PASS, &acct, &inbox).await, [1, 1, 1, 1]);
    let e = call_err(
        &s,
        USER,
        PASS,
        "Email/import",
        json!({"accountId": acct, "ifInState": "1",
        "emails": {"x": {"blobId": blob, "mailboxIds": {inbox.clone(): true}}}}),
    )
    .await;
    assert_eq!(e["type"], json!("stateMismatch"));

    // Parse an attached message by its part blob id, without storing it.
    let fwd = deliver_id(
        &s,
        USER,
        PASS,
        &acct,
        &fixture("09-attached-rfc822-multipart.eml"),
    )
    .await;
    let g = call1(
        &s,
        USER,
        PASS,
        "Email/get",
        json!({"accountId": acct, "ids": [fwd], "properties": ["attachments"]}),
    )
    .await;
    let part = g["list"][0]["attachments"][0]["blobId"]
        .as_str()
        .unwrap()
        .to_string();
    let before = call1(
        &s,
        USER,
        PASS,
        "Email/get",
        json!({"accountId": acct, "ids": []}),
    )
    .await["state"]
        .clone();
    let p = call1(&s, USER, PASS, "Email/parse", json!({"accountId": acct,
        "blobIds": [part, "bnope", blob], "fetchTextBodyValues": true,
        "properties": ["subject", "from", "textBody", "attachments", "bodyValues", "id", "threadId", "blobId"]})).await;
    let m = &p["parsed"][&part];
    assert_eq!(m["subject"], json!("Project kickoff – agenda"));
    assert_eq!(m["from"][0]["name"], json!("Björn"));
    assert_eq!(m["id"], Value::Null);
    assert_eq!(m["blobId"], json!(part));
    assert_eq!(m["attachments"][0]["name"], json!("agenda.csv"));
    let csv_blob = m["attachments"][0]["blobId"].as_str().unwrap().to_string();
    assert!(csv_blob.starts_with(&part));
    let tb = m["textBody"][0]["partId"].as_str().unwrap();
    assert_eq!(
        m["bodyValues"][tb]["value"],
        json!("Agenda attached. See you Monday.\n")
    );
    assert_eq!(p["notFound"], json!(["bnope"]));
    assert!(p["parsed"].get(&blob).is_some());
    let after = call1(
        &s,
        USER,
        PASS,
        "Email/get",
        json!({"accountId": acct, "ids": []}),
    )
    .await["state"]
        .clone();
    assert_eq!(before, after, "Email/parse stores nothing");
    // Default properties (§4.9), and a forbidden form.
    let p = call1(
        &s,
        USER,
        PASS,
        "Email/parse",
        json!({"accountId": acct, "blobIds": [part]}),
    )
    .await;
    let keys: Vec<&String> = p["parsed"][&part].as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 17, "{keys:?}");
    let e = call_err(
        &s,
        USER,
        PASS,
        "Email/parse",
        json!({"accountId": acct, "blobIds": [part],
        "properties": ["header:Subject:asDate"]}),
    )
    .await;
    assert_eq!(e["type"], json!("invalidArguments"));
    // Importing the attached message makes it a real email.
    let r = call1(
        &s,
        USER,
        PASS,
        "Email/import",
        json!({"accountId": acct, "emails": {
        "att": {"blobId": part, "mailboxIds": {inbox.clone(): true}}}}),
    )
    .await;
    assert!(r["created"]["att"]["id"].is_string(), "{r}");

    // Email/copy needs two accounts (RFC 8620 §5.4); a user has one.
    let e = call_err(
        &s,
        USER,
        PASS,
        "Email/copy",
        json!({"fromAccountId": acct, "accountId": acct,
        "create": {"c": {"id": i1, "mailboxIds": {inbox.clone(): true}}}}),
    )
    .await;
    assert_eq!(e["type"], json!("invalidArguments"));
    let e = call_err(
        &s,
        USER,
        PASS,
        "Email/copy",
        json!({"fromAccountId": "azz", "accountId": acct,
        "create": {}}),
    )
    .await;
    assert_eq!(e["type"], json!("fromAccountNotFound"));
}
