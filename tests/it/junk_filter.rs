//! The junk filter (issue #17) through the real binary: it learns from what a user does over
//! JMAP (moves into and out of Junk, `$junk`/`$notjunk`, RFC 8621 §4.1.1 and §2) and its
//! verdict decides where later SMTP deliveries land, with a score header on each.

use crate::common::{CORE, MAIL, SUBMISSION, Server, code};
use serde_json::{Value, json};

const USER: &str = "junk@example.org";
const PW: &str = "junk test password";

fn spam(n: usize) -> Vec<u8> {
    format!(
        "From: Best Deals <deals@pills{n}.example>\r\nTo: {USER}\r\nSubject: Cheap pills discount offer {n}\r\nMessage-ID: <spam{n}@pills.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBuy cheap viagra pills now with the best discount offer of the year.\r\nClick http://pills{n}.example/buy to order, limited offer, act now!\r\n"
    )
    .into_bytes()
}

fn ham(n: usize) -> Vec<u8> {
    format!(
        "From: Anna Berg <anna@school.example>\r\nTo: {USER}\r\nSubject: Notes from the garden project meeting {n}\r\nMessage-ID: <ham{n}@school.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHi all, here are the notes from today's meeting about the school garden project.\r\nThe parents' schedule for watering is attached; see you on Thursday. Regards, Anna\r\n"
    )
    .into_bytes()
}

/// `mailnook junk status` as numbers.
fn status(server: &Server) -> (u64, u64, u64) {
    let s = server.cli_ok(&["junk", "status", USER]);
    let field = |name: &str| -> u64 {
        s.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(u64::MAX)
    };
    (
        field("trained spam"),
        field("trained ham"),
        field("pending"),
    )
}

/// Waits until the trainer has trained exactly `spam`/`ham` messages with nothing queued.
async fn trained(server: &Server, spam: u64, ham: u64) {
    crate::common::eventually(&format!("trained {spam} spam, {ham} ham"), || async {
        (status(server) == (spam, ham, 0)).then_some(())
    })
    .await;
}

struct Ids {
    acct: String,
    inbox: String,
    junk: String,
}

async fn ids(server: &Server) -> Ids {
    let acct = server.account_id(USER, PW).await;
    let r = server
        .call(USER, PW, json!([["Mailbox/get", {"accountId": acct}, "m"]]))
        .await;
    let list = r[0][1]["list"].as_array().cloned().unwrap_or_default();
    let role = |role: &str| {
        list.iter()
            .find(|m| m["role"] == role)
            .and_then(|m| m["id"].as_str())
            .unwrap_or_else(|| panic!("no {role} mailbox: {r:?}"))
            .to_string()
    };
    Ids {
        inbox: role("inbox"),
        junk: role("junk"),
        acct,
    }
}

/// Every email id of the account.
async fn all_ids(server: &Server, ids: &Ids) -> Vec<String> {
    let r = server
        .call(
            USER,
            PW,
            json!([["Email/query", {"accountId": ids.acct}, "q"]]),
        )
        .await;
    serde_json::from_value(r[0][1]["ids"].clone()).unwrap_or_else(|_| panic!("{r:?}"))
}

/// Delivers over SMTP and returns the new email's id.
async fn deliver(server: &Server, ids: &Ids, raw: &[u8]) -> String {
    let before = all_ids(server, ids).await;
    let reply = server.deliver("sender@example.net", &[USER], raw);
    assert_eq!(code(&reply), 250, "{reply}");
    let after = all_ids(server, ids).await;
    let new: Vec<&String> = after.iter().filter(|i| !before.contains(i)).collect();
    assert_eq!(new.len(), 1, "{before:?} -> {after:?}");
    new[0].clone()
}

/// The email's mailboxes and its score header.
async fn where_and_header(server: &Server, ids: &Ids, id: &str) -> (Value, String) {
    let r = server
        .call(
            USER,
            PW,
            json!([["Email/get", {"accountId": ids.acct, "ids": [id], "properties": ["mailboxIds", "header:X-Mailnook-Junk:asText"]}, "g"]]),
        )
        .await;
    let e = &r[0][1]["list"][0];
    (
        e["mailboxIds"].clone(),
        e["header:X-Mailnook-Junk:asText"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

async fn update(server: &Server, ids: &Ids, id: &str, patch: Value) {
    let r = server
        .call(
            USER,
            PW,
            json!([["Email/set", {"accountId": ids.acct, "update": {id: patch}}, "s"]]),
        )
        .await;
    assert!(
        r[0][1]["updated"][id].is_null() && r[0][1]["updated"].get(id).is_some(),
        "{r:?}"
    );
}

/// A server whose account learned 10 spam (5 moved into Junk, 5 marked `$junk`) and 10 ham
/// (5 marked `$notjunk`, 5 moved out of Junk): the default minimum before it scores.
async fn taught() -> (Server, Ids, Vec<String>, Vec<String>) {
    let server = Server::start();
    server.add_user(USER, PW);
    let ids = ids(&server).await;
    // Untrained: no score, no header, and mail stays in the Inbox.
    let first = deliver(&server, &ids, &spam(100)).await;
    let (boxes, header) = where_and_header(&server, &ids, &first).await;
    assert_eq!(boxes, json!({ids.inbox.clone(): true}));
    assert_eq!(header, "");
    let mut spam_ids = Vec::new();
    for n in 0..10 {
        let id = deliver(&server, &ids, &spam(n)).await;
        let patch = if n % 2 == 0 {
            json!({"mailboxIds": {ids.junk.clone(): true}})
        } else {
            json!({"keywords/$junk": true})
        };
        update(&server, &ids, &id, patch).await;
        spam_ids.push(id);
    }
    let mut ham_ids = Vec::new();
    for n in 0..10 {
        let id = deliver(&server, &ids, &ham(n)).await;
        if n % 2 == 0 {
            update(&server, &ids, &id, json!({"keywords/$notjunk": true})).await;
        } else {
            // Misfiled by hand, then rescued: into Junk (spam), out again (ham: a flip).
            update(
                &server,
                &ids,
                &id,
                json!({"mailboxIds": {ids.junk.clone(): true}}),
            )
            .await;
            update(
                &server,
                &ids,
                &id,
                json!({"mailboxIds": {ids.inbox.clone(): true}}),
            )
            .await;
        }
        ham_ids.push(id);
    }
    trained(&server, 10, 10).await;
    (server, ids, spam_ids, ham_ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn training_over_jmap_decides_where_later_mail_lands() {
    let (server, ids, _, _) = taught().await;
    let s = deliver(&server, &ids, &spam(200)).await;
    let (boxes, header) = where_and_header(&server, &ids, &s).await;
    assert_eq!(boxes, json!({ids.junk.clone(): true}), "{header}");
    assert!(header.contains("verdict=junk reason=bayes"), "{header}");
    assert!(header.contains("spamtest=10"), "{header}");
    let h = deliver(&server, &ids, &ham(200)).await;
    let (boxes, header) = where_and_header(&server, &ids, &h).await;
    assert_eq!(boxes, json!({ids.inbox.clone(): true}), "{header}");
    assert!(header.contains("verdict=ham reason=bayes"), "{header}");
    // A score header written by the sender is dropped: only ours is there.
    let mut forged = b"X-Mailnook-Junk: score=0.00 verdict=ham\r\n".to_vec();
    forged.extend_from_slice(&spam(201));
    let f = deliver(&server, &ids, &forged).await;
    let (boxes, header) = where_and_header(&server, &ids, &f).await;
    assert_eq!(boxes, json!({ids.junk.clone(): true}), "{header}");
    assert!(header.contains("verdict=junk"), "{header}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn training_is_idempotent_per_message_and_flips() {
    let (server, ids, spam_ids, ham_ids) = taught().await;
    // Marking trained spam again, or moving it between non-Junk mailboxes, changes nothing.
    update(
        &server,
        &ids,
        &spam_ids[1],
        json!({"keywords/$junk": true, "keywords/$seen": true}),
    )
    .await;
    update(
        &server,
        &ids,
        &spam_ids[0],
        json!({"mailboxIds": {ids.junk.clone(): true}, "keywords/$junk": true}),
    )
    .await;
    update(
        &server,
        &ids,
        &ham_ids[0],
        json!({"keywords/$notjunk": null}),
    )
    .await;
    update(
        &server,
        &ids,
        &ham_ids[0],
        json!({"keywords/$notjunk": true}),
    )
    .await;
    trained(&server, 10, 10).await;
    // Rescuing a spam from Junk retrains it as ham (it counts once, as its latest label).
    update(
        &server,
        &ids,
        &spam_ids[0],
        json!({"mailboxIds": {ids.inbox.clone(): true}}),
    )
    .await;
    trained(&server, 9, 11).await;
    update(
        &server,
        &ids,
        &spam_ids[0],
        json!({"mailboxIds": {ids.junk.clone(): true}}),
    )
    .await;
    trained(&server, 10, 10).await;
    // A rebuild from the mail gives the same counts: Junk/$junk as spam, $notjunk as ham.
    server.cli_ok(&["junk", "rebuild", USER]);
    trained(&server, 10, 10).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correspondent_never_goes_to_junk() {
    let (server, ids, _, _) = taught().await;
    // The user writes to deals@pills300.example (JMAP EmailSubmission, RFC 8621 §7).
    let r = server
        .call_using(
            USER,
            PW,
            &[CORE, MAIL, SUBMISSION],
            json!([
                ["Mailbox/get", {"accountId": ids.acct, "properties": ["role"]}, "m"],
                ["Identity/get", {"accountId": ids.acct}, "i"]
            ]),
        )
        .await;
    let drafts = r[0][1]["list"]
        .as_array()
        .and_then(|l| l.iter().find(|m| m["role"] == "drafts"))
        .and_then(|m| m["id"].as_str())
        .expect("drafts")
        .to_string();
    let identity = r[1][1]["list"][0]["id"]
        .as_str()
        .expect("identity")
        .to_string();
    let r = server
        .call_using(
            USER,
            PW,
            &[CORE, MAIL, SUBMISSION],
            json!([
                ["Email/set", {"accountId": ids.acct, "create": {"d": {
                    "mailboxIds": {drafts: true}, "keywords": {"$draft": true},
                    "from": [{"email": USER}], "to": [{"email": "Deals@pills300.example"}],
                    "subject": "About your offer",
                    "bodyValues": {"1": {"value": "Please tell me more."}},
                    "textBody": [{"partId": "1", "type": "text/plain"}]}}}, "0"],
                ["EmailSubmission/set", {"accountId": ids.acct, "create": {"s": {
                    "emailId": "#d", "identityId": identity}}}, "1"]
            ]),
        )
        .await;
    assert!(r[1][1]["created"]["s"].is_object(), "{r:?}");
    // Their reply looks exactly like the spam the filter learned, but lands in the Inbox.
    let id = deliver(&server, &ids, &spam(300)).await;
    let (boxes, header) = where_and_header(&server, &ids, &id).await;
    assert_eq!(boxes, json!({ids.inbox.clone(): true}), "{header}");
    assert!(
        header.contains("reason=correspondent spamtest=1"),
        "{header}"
    );
    // Someone else with the same text still goes to Junk.
    let id = deliver(&server, &ids, &spam(301)).await;
    assert_eq!(
        where_and_header(&server, &ids, &id).await.0,
        json!({ids.junk.clone(): true})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reject_mode_refuses_at_smtp_but_files_list_mail() {
    let (server, ids, _, _) = taught().await;
    server.cli_ok(&["junk", "mode", USER, "reject"]);
    let before = server
        .call(
            USER,
            PW,
            json!([["Email/query", {"accountId": ids.acct}, "q"]]),
        )
        .await[0][1]["total"]
        .clone();
    let reply = server.deliver("sender@example.net", &[USER], &spam(400));
    assert_eq!(code(&reply), 550, "{reply}");
    assert!(reply.contains("5.7.1"), "{reply}");
    let after = server
        .call(
            USER,
            PW,
            json!([["Email/query", {"accountId": ids.acct}, "q"]]),
        )
        .await[0][1]["total"]
        .clone();
    assert_eq!(before, after, "a refused message is not stored");
    // Ham still arrives.
    let h = deliver(&server, &ids, &ham(400)).await;
    assert_eq!(
        where_and_header(&server, &ids, &h).await.0,
        json!({ids.inbox.clone(): true})
    );
    // The same spam through a mailing list is filed in Junk, not bounced to the list.
    let mut list = b"List-Id: Offers <offers.lists.example>\r\n".to_vec();
    list.extend_from_slice(&spam(401));
    let l = deliver(&server, &ids, &list).await;
    assert_eq!(
        where_and_header(&server, &ids, &l).await.0,
        json!({ids.junk.clone(): true})
    );
    // Mode off: no header, no filing.
    server.cli_ok(&["junk", "mode", USER, "off"]);
    let o = deliver(&server, &ids, &spam(402)).await;
    let (boxes, header) = where_and_header(&server, &ids, &o).await;
    assert_eq!(boxes, json!({ids.inbox.clone(): true}));
    assert_eq!(header, "");
}

fn newsletter(n: usize) -> Vec<u8> {
    format!(
        "From: Garden Shop <news@gardenshop.example>\r\nTo: {USER}\r\nSubject: Seedling catalogue week {n}\r\nMessage-ID: <news{n}@gardenshop.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nTomatoes, cucumbers and marigold seedlings are back in the nursery catalogue.\r\n"
    )
    .into_bytes()
}

/// The account's model is read from a decoded copy kept between deliveries (`junk/cache.rs`):
/// training after a delivery must reach the next one, and the summary a delivery stores comes
/// from the filter's one parse of the message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn training_reaches_the_next_delivery_and_the_summary_is_stored() {
    let (server, ids, _, _) = taught().await;
    // Words the model has never seen: no evidence either way, so the Inbox.
    let first = deliver(&server, &ids, &newsletter(0)).await;
    let (boxes, header) = where_and_header(&server, &ids, &first).await;
    assert_eq!(boxes, json!({ids.inbox.clone(): true}), "{header}");
    assert!(header.contains("verdict=ham"), "{header}");
    let r = server
        .call(
            USER,
            PW,
            json!([["Email/get", {"accountId": ids.acct, "ids": [first], "properties": ["subject", "from", "preview", "messageId"]}, "g"]]),
        )
        .await;
    let e = &r[0][1]["list"][0];
    assert_eq!(e["subject"], "Seedling catalogue week 0", "{r:?}");
    assert_eq!(e["from"][0]["email"], "news@gardenshop.example", "{r:?}");
    assert_eq!(e["messageId"], json!(["news0@gardenshop.example"]), "{r:?}");
    assert!(
        e["preview"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Tomatoes, cucumbers"),
        "{r:?}"
    );
    // The user decides this shop is junk: six moves into Junk (all delivered before the first
    // move, so each lands in the Inbox and its move trains).
    let mut shop = Vec::new();
    for n in 1..=6 {
        shop.push(deliver(&server, &ids, &newsletter(n)).await);
    }
    for id in &shop {
        update(
            &server,
            &ids,
            id,
            json!({"mailboxIds": {ids.junk.clone(): true}}),
        )
        .await;
    }
    trained(&server, 16, 10).await;
    // The next one goes to Junk: the copy of the model used before was replaced.
    let next = deliver(&server, &ids, &newsletter(7)).await;
    let (boxes, header) = where_and_header(&server, &ids, &next).await;
    assert_eq!(boxes, json!({ids.junk.clone(): true}), "{header}");
    assert!(header.contains("verdict=junk reason=bayes"), "{header}");
}

/// The tokenizer version `junk status` shows for the account's model.
fn tokenizer_version(s: &Server) -> Option<u32> {
    let out = s.cli(&["junk", "status", USER], None);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("tokenizer version "))
        .and_then(|v| v.split(' ').next())
        .and_then(|v| v.parse::<u32>().ok())
}

/// Stops the server and makes its models look as if made before tokenizer versions were
/// recorded (no `tokenizer` field), then starts it again.
fn age_the_models(mut server: Server) -> Server {
    server.kill();
    {
        let db = redb::Database::create(server.data_dir.join("mailnook.redb")).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let def: redb::TableDefinition<u32, &[u8]> =
                redb::TableDefinition::new("junk_accounts");
            let mut t = tx.open_table(def).unwrap();
            let rows: Vec<(u32, Vec<u8>)> = redb::ReadableTable::iter(&t)
                .unwrap()
                .map(|r| {
                    let (k, v) = r.unwrap();
                    (k.value(), v.value().to_vec())
                })
                .collect();
            for (k, v) in rows {
                let mut a: Value = serde_json::from_slice(&v).unwrap();
                a.as_object_mut().unwrap().remove("tokenizer");
                t.insert(k, serde_json::to_vec(&a).unwrap().as_slice())
                    .unwrap();
            }
        }
        tx.commit().unwrap();
    }
    server.restart()
}

/// A model an older tokenizer made (here: one from before versions were recorded) is rebuilt
/// when the server starts, from the messages it was taught with and no others, and then
/// carries the current version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_from_an_older_tokenizer_is_rebuilt_on_start() {
    let (server, ids, _, _) = taught().await;
    // Read but never taught: a rebuild from scratch would take it as ham; an upgrade's
    // rebuild retrains only what was taught.
    let read = deliver(&server, &ids, &ham(300)).await;
    update(&server, &ids, &read, json!({"keywords/$seen": true})).await;
    let current = mailnook::junk::tokenizer::VERSION;
    assert_eq!(tokenizer_version(&server), Some(current));
    let server = age_the_models(server);
    crate::common::eventually("the rebuild", || async {
        server.log().contains("rebuilt for version").then_some(())
    })
    .await;
    trained(&server, 10, 10).await;
    assert_eq!(tokenizer_version(&server), Some(current));
}

/// When a message the model was taught with is gone (spam deleted from Junk, as usual), the
/// old model cannot be read again: it is kept as it is, not wiped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_model_whose_mail_is_gone_is_kept() {
    let (server, ids, spam_ids, _) = taught().await;
    let r = server
        .call(
            USER,
            PW,
            json!([["Email/set", {"accountId": ids.acct, "destroy": [spam_ids[0]]}, "d"]]),
        )
        .await;
    assert_eq!(r[0][1]["destroyed"], json!([spam_ids[0]]), "{r:?}");
    let server = age_the_models(server);
    crate::common::eventually("the note that the model is kept", || async {
        server.log().contains("only 19 of its 20").then_some(())
    })
    .await;
    trained(&server, 10, 10).await;
    assert_eq!(tokenizer_version(&server), Some(0));
}

/// The filter is its owner's: someone the Inbox is shared with may mark or move mail in it,
/// but that does not teach the owner's model (a grantee could otherwise steer the owner's
/// mail into Junk).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grantee_does_not_train_the_owners_filter() {
    const BOB: &str = "bob@example.org";
    const BOB_PW: &str = "bob's junk test password";
    let (server, ids, _spam_ids, ham_ids) = taught().await;
    server.add_user(BOB, BOB_PW);
    server.cli_ok(&["share", "add", USER, "inbox", BOB, "--rights", "read-write"]);
    let r = server
        .call(
            BOB,
            BOB_PW,
            json!([["Email/set", {"accountId": ids.acct, "update": {ham_ids[1].clone(): {"keywords/$junk": true}}}, "s"]]),
        )
        .await;
    assert!(r[0][1]["updated"].get(&ham_ids[1]).is_some(), "{r:?}");
    // The owner's own mark after it is trained; the grantee's, had it counted, would have
    // flipped a ham to spam before it (11 spam, 9 ham).
    let id = deliver(&server, &ids, &spam(50)).await;
    update(&server, &ids, &id, json!({"keywords/$junk": true})).await;
    trained(&server, 11, 10).await;
}
