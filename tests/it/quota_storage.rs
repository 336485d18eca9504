//! Quotas (RFC 9425) through the real server: an account is filled to its limit over SMTP and
//! JMAP, is refused with `452 4.2.2` (at RCPT when already full, at DATA when this message
//! would pass the limit, and then for every recipient: nothing is stored, never 250) and with
//! `overQuota` (Email/import, Email/set, upload); space is freed by a destroy and mail is
//! delivered again. After every step Quota/get's `used` equals the sum of Email/get `size`
//! and the number of emails. A crossing of the warning limit files ONE warning message, and
//! the next crossing after usage dropped below it files one more.

use crate::common::{self, Account, CORE, MAIL, Server, Transcript, eventually};
use serde_json::{Value, json};

const QUOTA: &str = "urn:ietf:params:jmap:quota";
const ALICE: &str = "alice@example.org";
const BOB: &str = "bob@example.org";
const PW: &str = "a long enough password";
const WARNING: &str = "Your mailbox is almost full";

fn msg(to: &str, tag: &str, body_len: usize) -> Vec<u8> {
    common::message(
        "sender@example.net",
        to,
        tag,
        &format!("{tag}@example.net"),
        &"x".repeat(body_len),
    )
}

fn quota_cli(s: &Server, args: &[&str]) -> String {
    let mut all = vec!["quota"];
    all.extend_from_slice(args);
    let out = s.cli(&all, None);
    assert!(
        out.status.success(),
        "mailnook {all:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Quota/get beside Email/get in one request: checks that `used` is exact and returns
/// (Quota/get response, octets, messages). Each method call reads its own snapshot, so a
/// commit in between (the warning task filing its message) would compare two states: Quota/get
/// runs again after Email/get, and the request is repeated until both saw the same state.
async fn figures(a: &Account<'_>) -> (Value, u64, u64) {
    let mut r = Vec::new();
    for _ in 0..20 {
        r = a
            .call_using(
                &[CORE, MAIL, QUOTA],
                json!([
                    ["Quota/get", {"accountId": a.id, "ids": null}, "q"],
                    ["Email/query", {"accountId": a.id}, "e"],
                    ["Email/get", {"accountId": a.id, "properties": ["size"],
                      "#ids": {"resultOf": "e", "name": "Email/query", "path": "/ids"}}, "g"],
                    ["Quota/get", {"accountId": a.id, "ids": []}, "q2"]
                ]),
            )
            .await;
        if r[0][1]["state"] == r[3][1]["state"] {
            break;
        }
    }
    assert_eq!(r[0][0], "Quota/get", "{r:?}");
    let list = r[0][1]["list"].as_array().unwrap().clone();
    let by_id = |id: &str| list.iter().find(|q| q["id"] == id).cloned().unwrap();
    let (storage, count) = (by_id("qa"), by_id("qb"));
    assert_eq!(storage["resourceType"], "octets");
    assert_eq!(count["resourceType"], "count");
    assert_eq!(storage["scope"], "account");
    assert_eq!(storage["types"], json!(["Email"]));
    let sizes: Vec<u64> = r[2][1]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["size"].as_u64().unwrap())
        .collect();
    let (octets, n) = (
        storage["used"].as_u64().unwrap(),
        count["used"].as_u64().unwrap(),
    );
    assert_eq!(octets, sizes.iter().sum::<u64>(), "used octets: {r:?}");
    assert_eq!(n, sizes.len() as u64, "used count: {r:?}");
    (r[0][1].clone(), octets, n)
}

fn limit_of(q: &Value, id: &str, field: &str) -> Value {
    q["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == id)
        .unwrap()[field]
        .clone()
}

async fn inbox(a: &Account<'_>) -> String {
    let r = a
        .call1("Mailbox/get", json!({"properties": ["role"]}))
        .await;
    r["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "inbox")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn upload(a: &Account<'_>, bytes: Vec<u8>) -> (u16, Value) {
    let res = a
        .server
        .http()
        .post(format!("{}/jmap/upload/{}", a.server.base_url(), a.id))
        .basic_auth(&a.address, Some(&a.password))
        .header("Content-Type", "message/rfc822")
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// MAIL and RCPT on port 25: the reply to RCPT TO.
fn rcpt_reply(s: &Server, to: &str) -> String {
    let mut t = Transcript::connect(s.smtp);
    assert_eq!(t.cmd("EHLO test.example"), 250);
    assert_eq!(t.cmd("MAIL FROM:<sender@example.net>"), 250);
    t.send(format!("RCPT TO:<{to}>\r\n").as_bytes());
    let r = t.reply();
    t.cmd("QUIT");
    r
}

#[tokio::test]
async fn fill_to_the_message_limit_over_smtp_and_jmap_then_free_space() {
    let s = Server::start();
    let alice = s.new_account(ALICE, PW).await;
    quota_cli(
        &s,
        &["set", ALICE, "--messages", "3", "--messages-warn", "none"],
    );
    let (q, octets, n) = figures(&alice).await;
    assert_eq!((octets, n), (0, 0));
    assert_eq!(limit_of(&q, "qb", "hardLimit"), 3);
    assert_eq!(limit_of(&q, "qb", "warnLimit"), Value::Null);
    // No storage limit: the largest UnsignedInt.
    assert_eq!(limit_of(&q, "qa", "hardLimit"), (1u64 << 53) - 1);

    // Two over SMTP, one by Email/import: exactly at the limit (reached, not passed).
    for i in 0..2 {
        let r = alice.deliver(&msg(ALICE, &format!("smtp{i}"), 100));
        assert!(r.starts_with("250"), "{r}");
        assert_eq!(figures(&alice).await.2, i + 1);
    }
    let inbox = inbox(&alice).await;
    let (status, up) = upload(&alice, msg(ALICE, "imported", 100)).await;
    assert_eq!(status, 201, "{up}");
    let blob = up["blobId"].clone();
    let r = alice
        .call1(
            "Email/import",
            json!({"emails": {"i1": {"blobId": blob, "mailboxIds": {inbox.clone(): true}}}}),
        )
        .await;
    assert!(r["created"]["i1"]["id"].is_string(), "{r}");
    let (_, full_octets, n) = figures(&alice).await;
    assert_eq!(n, 3);

    // Full: SMTP refuses at RCPT, temporarily, with the mailbox-full status code.
    let r = rcpt_reply(&s, ALICE);
    assert!(r.starts_with("452 4.2.2"), "{r}");
    // JMAP: overQuota for import and for a new draft; the upload is refused too.
    let r = alice
        .call1(
            "Email/import",
            json!({"emails": {"i2": {"blobId": blob, "mailboxIds": {inbox.clone(): true}}}}),
        )
        .await;
    assert_eq!(r["notCreated"]["i2"]["type"], "overQuota", "{r}");
    let r = alice
        .call1(
            "Email/set",
            json!({"create": {"d1": {"mailboxIds": {inbox.clone(): true}, "subject": "draft",
                "keywords": {"$draft": true},
                "bodyStructure": {"type": "text/plain", "partId": "1"},
                "bodyValues": {"1": {"value": "hello"}}}}}),
        )
        .await;
    assert_eq!(r["notCreated"]["d1"]["type"], "overQuota", "{r}");
    let (status, body) = upload(&alice, msg(ALICE, "another", 10)).await;
    assert_eq!(status, 507, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap_or("")
            .starts_with("overQuota"),
        "{body}"
    );
    let (q, octets, n) = figures(&alice).await;
    assert_eq!((octets, n), (full_octets, 3), "nothing was stored");
    let state = q["state"].as_str().unwrap().to_string();

    // Free space: destroy one; the figures follow, Quota/changes says only `used` moved.
    let ids = alice.email_ids().await;
    let r = alice.call1("Email/set", json!({"destroy": [ids[0]]})).await;
    assert_eq!(r["destroyed"], json!([ids[0]]), "{r}");
    let (_, _, n) = figures(&alice).await;
    assert_eq!(n, 2);
    let r = alice
        .call_using(
            &[CORE, MAIL, QUOTA],
            json!([["Quota/changes", {"accountId": alice.id, "sinceState": state}, "c"]]),
        )
        .await;
    let mut updated: Vec<String> = serde_json::from_value(r[0][1]["updated"].clone()).unwrap();
    updated.sort();
    assert_eq!(updated, ["qa", "qb"], "{r:?}");
    assert_eq!(r[0][1]["updatedProperties"], json!(["used"]));
    assert_eq!(r[0][1]["created"], json!([]));

    // And mail is delivered again.
    assert!(rcpt_reply(&s, ALICE).starts_with("250"));
    let r = alice.deliver(&msg(ALICE, "again", 100));
    assert!(r.starts_with("250"), "{r}");
    assert_eq!(figures(&alice).await.2, 3);

    // A limit change is not a `used`-only change.
    let before = figures(&alice).await.0["state"]
        .as_str()
        .unwrap()
        .to_string();
    quota_cli(&s, &["set", ALICE, "--messages", "10"]);
    let r = alice
        .call_using(
            &[CORE, MAIL, QUOTA],
            json!([["Quota/changes", {"accountId": alice.id, "sinceState": before}, "c"]]),
        )
        .await;
    assert_eq!(r[0][1]["updatedProperties"], Value::Null, "{r:?}");
    let shown = quota_cli(&s, &["show", ALICE]);
    assert!(shown.contains("messages 3 of 10"), "{shown}");
}

#[tokio::test]
async fn a_message_that_would_pass_the_storage_limit_is_refused_at_data_for_everyone() {
    let s = Server::start();
    let alice = s.new_account(ALICE, PW).await;
    let bob = s.new_account(BOB, PW).await;
    quota_cli(
        &s,
        &["set", ALICE, "--storage", "3000", "--storage-warn", "none"],
    );
    let r = alice.deliver(&msg(ALICE, "small", 200));
    assert!(r.starts_with("250"), "{r}");
    let (_, used, _) = figures(&alice).await;
    assert!(used < 3000);

    // A declared SIZE (RFC 1870) that cannot fit is refused at RCPT, for Alice only.
    let mut t = Transcript::connect(s.smtp);
    assert_eq!(t.cmd("EHLO test.example"), 250);
    assert_eq!(t.cmd("MAIL FROM:<sender@example.net> SIZE=5000"), 250);
    t.send(format!("RCPT TO:<{ALICE}>\r\n").as_bytes());
    let r = t.reply();
    assert!(r.starts_with("452 4.2.2"), "{r}");
    assert_eq!(t.cmd(&format!("RCPT TO:<{BOB}>")), 250);
    assert_eq!(t.cmd("RSET"), 250);
    assert_eq!(t.cmd("MAIL FROM:<sender@example.net> SIZE=500"), 250);
    assert_eq!(t.cmd(&format!("RCPT TO:<{ALICE}>")), 250);
    t.cmd("QUIT");

    // Room is left, so RCPT is accepted for both; the message itself does not fit Alice's
    // quota: the whole transaction is refused and nobody gets a copy (no 250 for mail that
    // was not stored; the sender retries, Bob gets it then).
    let big = msg(ALICE, "big", 4000);
    let mut t = Transcript::connect(s.smtp);
    assert_eq!(t.cmd("EHLO test.example"), 250);
    let r = t.deliver("sender@example.net", &[ALICE, BOB], &big);
    assert!(r.starts_with("452 4.2.2"), "{r}");
    t.cmd("QUIT");
    assert_eq!(figures(&alice).await.1, used);
    assert_eq!(figures(&bob).await.2, 0, "Bob got no copy either");

    // Bob alone takes it; Alice still takes what fits.
    let r = bob.deliver(&big);
    assert!(r.starts_with("250"), "{r}");
    assert_eq!(figures(&bob).await.2, 1);
    let r = alice.deliver(&msg(ALICE, "small2", 200));
    assert!(r.starts_with("250"), "{r}");
    let (_, after, n) = figures(&alice).await;
    assert!(after > used && after <= 3000);
    assert_eq!(n, 2);
}

async fn warnings(a: &Account<'_>) -> Vec<String> {
    let r = a
        .call_using(
            &[CORE, MAIL],
            json!([
                // No text filter: the search index may lag, the store does not.
                ["Email/query", {"accountId": a.id}, "q"],
                ["Email/get", {"accountId": a.id, "properties": ["subject"],
                  "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"}}, "g"]
            ]),
        )
        .await;
    r[1][1]["list"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subject"] == WARNING)
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn crossing_the_warning_limit_files_one_warning_and_rearms_below_it() {
    let s = Server::start();
    let alice = s.new_account(ALICE, PW).await;
    quota_cli(
        &s,
        &["set", ALICE, "--storage", "1M", "--storage-warn", "2000"],
    );
    let q = figures(&alice).await.0;
    assert_eq!(limit_of(&q, "qa", "warnLimit"), 2000);
    // Up to and past the warning limit.
    let mut i = 0;
    while figures(&alice).await.1 < 2000 {
        assert!(
            alice
                .deliver(&msg(ALICE, &format!("m{i}"), 600))
                .starts_with("250")
        );
        i += 1;
    }
    let first = eventually("the quota warning", || async {
        let w = warnings(&alice).await;
        (!w.is_empty()).then_some(w)
    })
    .await;
    assert_eq!(first.len(), 1);
    // More mail above the limit: no further warning. Each delivery wakes the warning task,
    // so waiting for the last one to be counted bounds the wait.
    for j in 0..3 {
        assert!(
            alice
                .deliver(&msg(ALICE, &format!("more{j}"), 600))
                .starts_with("250")
        );
    }
    figures(&alice).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(warnings(&alice).await, first, "one warning per crossing");

    // Below the limit again (everything destroyed), then a new crossing: one new warning.
    let ids = alice.email_ids().await;
    let r = alice.call1("Email/set", json!({"destroy": ids})).await;
    assert_eq!(r["notDestroyed"], Value::Null, "{r}");
    assert_eq!(figures(&alice).await.1, 0);
    let mut i = 0;
    while figures(&alice).await.1 < 2000 {
        assert!(
            alice
                .deliver(&msg(ALICE, &format!("n{i}"), 600))
                .starts_with("250")
        );
        i += 1;
    }
    let second = eventually("the second warning", || async {
        let w = warnings(&alice).await;
        (!w.is_empty()).then_some(w)
    })
    .await;
    assert_eq!(second.len(), 1);
    assert_ne!(second, first);
    figures(&alice).await;
}

#[tokio::test]
async fn quota_query_query_changes_session_and_push() {
    let s = Server::start();
    let alice = s.new_account(ALICE, PW).await;
    quota_cli(&s, &["set", ALICE, "--storage", "10M", "--messages", "100"]);
    // The Session names the capability, for the account too.
    let session: Value = s
        .http()
        .get(format!("{}/.well-known/jmap", s.base_url()))
        .basic_auth(ALICE, Some(PW))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(session["capabilities"][QUOTA].is_object(), "{session}");
    assert!(session["accounts"][&alice.id]["accountCapabilities"][QUOTA].is_object());
    assert_eq!(session["primaryAccounts"][QUOTA], json!(alice.id));

    let q = |calls: Value| alice.call_using(&[CORE, MAIL, QUOTA], calls);
    let r = q(json!([
        ["Quota/query", {"accountId": alice.id, "filter": {"resourceType": "octets"}}, "a"],
        ["Quota/query", {"accountId": alice.id, "filter": {"name": "MESSAGES"}}, "b"],
        ["Quota/query", {"accountId": alice.id, "filter": {"type": "Email", "scope": "account"},
          "sort": [{"property": "name", "isAscending": false}], "calculateTotal": true}, "c"],
        ["Quota/query", {"accountId": alice.id, "filter": {"type": "Calendar"}}, "d"],
        ["Quota/query", {"accountId": alice.id, "sort": [{"property": "hardLimit"}]}, "e"]
    ]))
    .await;
    assert_eq!(r[0][1]["ids"], json!(["qa"]), "{r:?}");
    assert_eq!(r[1][1]["ids"], json!(["qb"]));
    // "alice@example.org storage" sorts after "... messages".
    assert_eq!(r[2][1]["ids"], json!(["qa", "qb"]));
    assert_eq!(r[2][1]["total"], 2);
    assert_eq!(r[3][1]["ids"], json!([]));
    assert_eq!(r[4][1]["type"], "unsupportedSort");
    let query_state = r[0][1]["queryState"].as_str().unwrap().to_string();

    // Without the mail capability the client knows none of the quotas' types (RFC 9425 §4).
    let r = alice
        .call_using(
            &[CORE, QUOTA],
            json!([["Quota/get", {"accountId": alice.id, "ids": ["qa"]}, "g"]]),
        )
        .await;
    assert_eq!(r[0][1]["list"], json!([]), "{r:?}");
    assert_eq!(r[0][1]["notFound"], json!(["qa"]));

    // A push event source for Quota: a delivery changes its state.
    let addr = s.https;
    let auth = crate::core_common::basic(ALICE, PW);
    let reader = std::thread::spawn(move || {
        let (status, _, mut sse) =
            crate::core_common::event_source(addr, &auth, "types=Quota&closeafter=no&ping=0", None);
        assert_eq!(status, 200);
        sse.next().expect("a state event")
    });
    let mut n = 0;
    while !reader.is_finished() && n < 20 {
        assert!(
            alice
                .deliver(&msg(ALICE, &format!("p{n}"), 10))
                .starts_with("250")
        );
        n += 1;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let ev = reader.join().unwrap();
    let v: Value = serde_json::from_str(&ev.data).unwrap();
    let pushed = v["changed"][&alice.id]["Quota"]
        .as_str()
        .expect("Quota state pushed");
    let (now, _, _) = figures(&alice).await;
    assert!(pushed.parse::<u64>().unwrap() <= now["state"].as_str().unwrap().parse().unwrap());

    // queryChanges: both moved (used), both still in the results.
    let r = q(json!([["Quota/queryChanges", {"accountId": alice.id,
        "filter": {"type": "Email"}, "sinceQueryState": query_state}, "c"]]))
    .await;
    let mut removed: Vec<String> = serde_json::from_value(r[0][1]["removed"].clone()).unwrap();
    removed.sort();
    assert_eq!(removed, ["qa", "qb"], "{r:?}");
    assert_eq!(r[0][1]["added"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn quota_figures_are_derived_for_a_database_from_before_them() {
    // The v1 fixture was written before quota figures existed: they are summed at open.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::copy(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/db/v1.redb"),
        data.join("mailnook.redb"),
    )
    .unwrap();
    let s = Server::start_in(&data, &[]);
    let a = s.account("fixture@example.org", "fixture password").await;
    let (_, octets, n) = figures(&a).await;
    assert_eq!(n, 5);
    assert!(octets > 0);
    assert!(
        a.deliver(&msg("fixture@example.org", "new", 10))
            .starts_with("250")
    );
    assert_eq!(figures(&a).await.2, 6);
    // `mailnook check` compares the kept figures with the emails.
    let out = s.cli(&["check"], None);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn the_admin_page_sets_and_shows_limits() {
    let s = Server::start();
    let alice = s.new_account(ALICE, PW).await;
    let admin = crate::admin_support::admin_login(&s).await;
    let (status, v) = admin
        .post(
            &s,
            "/admin/api/quota/set",
            json!({"address": ALICE, "messages": "5", "storage": "2M", "storage_warn": ""}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert!(
        v["done"].as_str().unwrap().contains("messages 0 of 5"),
        "{v}"
    );
    let (status, v) = admin
        .post(
            &s,
            "/admin/api/quota/set",
            json!({"address": ALICE, "messages": "lots"}),
        )
        .await;
    assert_eq!(status, 400, "{v}");
    let q = figures(&alice).await.0;
    assert_eq!(limit_of(&q, "qb", "hardLimit"), 5);
    assert_eq!(limit_of(&q, "qa", "hardLimit"), 2 << 20);
    // 90 % of the hard limit when no warning limit is set.
    assert_eq!(limit_of(&q, "qa", "warnLimit"), (2 << 20) * 9 / 10);
    assert!(alice.deliver(&msg(ALICE, "one", 10)).starts_with("250"));
    let (status, page) = admin.get(&s, "/admin").await;
    assert_eq!(status, 200);
    let page = page.as_str().unwrap();
    assert!(page.contains("Quotas and sending"), "{page}");
    assert!(page.contains("1 of 5"), "{page}");
    let (_, rows) = admin.get(&s, "/admin/rows/lists").await;
    assert!(rows["quota-rows"].as_str().unwrap().contains(ALICE));
}
