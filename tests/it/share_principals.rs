//! JMAP Sharing (RFC 9670) through the real server: Mailbox `shareWith` set by the owner with
//! Mailbox/set (and refused to a grantee), ShareNotification on share and unshare (get, query,
//! changes, destroy; create refused), Principal/query by name and email, Principal/get with the
//! reachable accounts.

use crate::common::{CORE, MAIL, Server};
use crate::share_mailboxes::{
    ANNA, BEN, CARO, PW, call, call1, cli, mailboxes, session, set_error,
};
use serde_json::{Value, json};

const PRINCIPALS: &str = "urn:ietf:params:jmap:principals";

async fn p(s: &Server, user: &str, name: &str, args: Value) -> Value {
    let r = s
        .call_using(
            user,
            PW,
            &[CORE, MAIL, PRINCIPALS],
            json!([[name, args, "c"]]),
        )
        .await;
    assert_eq!(r[0][0], json!(name), "{name} failed: {}", r[0]);
    r[0][1].clone()
}

async fn three() -> (Server, String, String, String) {
    let s = Server::start();
    for u in [ANNA, BEN, CARO] {
        s.add_user(u, PW);
    }
    let a = s.account_id(ANNA, PW).await;
    let b = s.account_id(BEN, PW).await;
    let c = s.account_id(CARO, PW).await;
    (s, a, b, c)
}

#[tokio::test]
async fn share_with_by_mailbox_set_and_share_notifications() {
    let (s, anna, ben, caro) = three().await;
    let boxes = mailboxes(&s, ANNA, &anna).await;
    let archive = boxes["archive"].clone();
    let sess = session(&s, BEN).await;
    assert!(sess["capabilities"].get(PRINCIPALS).is_some(), "{sess}");
    assert_eq!(
        sess["accounts"][&ben]["accountCapabilities"][PRINCIPALS]["currentUserPrincipalId"],
        ben
    );
    let state0 =
        p(&s, BEN, "ShareNotification/get", json!({"accountId": ben})).await["state"].clone();

    // Anna shares Archive with Ben (read + seen) through Mailbox/set.
    let r = call1(
        &s,
        ANNA,
        "Mailbox/set",
        json!({"accountId": anna, "update": {archive.clone(): {
        "shareWith": {ben.clone(): {"mayReadItems": true, "maySetSeen": true}}}}}),
    )
    .await;
    assert!(r["updated"].get(&archive).is_some(), "{r}");
    let r = call1(
        &s,
        ANNA,
        "Mailbox/get",
        json!({"accountId": anna, "ids": [archive], "properties": ["shareWith"]}),
    )
    .await;
    let sw = &r["list"][0]["shareWith"][&ben];
    assert_eq!(
        (
            sw["mayReadItems"].clone(),
            sw["maySetSeen"].clone(),
            sw["mayDelete"].clone()
        ),
        (json!(true), json!(true), json!(false)),
        "{r}"
    );
    let r = call1(&s, BEN, "Mailbox/get", json!({"accountId": anna})).await;
    assert_eq!(r["list"][0]["id"], archive);
    assert_eq!(r["list"][0]["myRights"]["maySetSeen"], true);
    assert_eq!(
        r["list"][0]["shareWith"],
        Value::Null,
        "a grantee does not see the other grants"
    );

    // Ben got a notification; Caro none.
    let n = p(&s, BEN, "ShareNotification/get", json!({"accountId": ben})).await;
    assert_eq!(n["list"].as_array().unwrap().len(), 1, "{n}");
    let note = &n["list"][0];
    assert_eq!(note["objectType"], "Mailbox");
    assert_eq!(note["objectAccountId"], anna);
    assert_eq!(note["objectId"], archive);
    assert_eq!(note["name"], "Archive");
    assert_eq!(note["oldRights"], Value::Null);
    assert_eq!(note["newRights"]["maySetSeen"], true);
    assert_eq!(note["changedBy"]["principalId"], anna);
    assert_eq!(
        p(
            &s,
            CARO,
            "ShareNotification/query",
            json!({"accountId": caro})
        )
        .await["ids"],
        json!([])
    );
    let ch = p(
        &s,
        BEN,
        "ShareNotification/changes",
        json!({"accountId": ben, "sinceState": state0}),
    )
    .await;
    assert_eq!(ch["created"], json!([note["id"]]), "{ch}");

    // Ben may not change the sharing; creating or updating a notification is forbidden.
    let r = call1(
        &s,
        BEN,
        "Mailbox/set",
        json!({"accountId": anna, "update": {archive.clone(): {
        format!("shareWith/{caro}"): {"mayReadItems": true}}}}),
    )
    .await;
    assert_eq!(*set_error(&r, "notUpdated", &archive), "forbidden", "{r}");
    let r = p(&s, BEN, "ShareNotification/set", json!({"accountId": ben,
        "create": {"x": {"name": "fake"}}, "update": {note["id"].as_str().unwrap(): {"name": "y"}}})).await;
    assert_eq!(*set_error(&r, "notCreated", "x"), "forbidden");
    assert_eq!(
        r["notUpdated"][note["id"].as_str().unwrap()]["type"],
        "forbidden"
    );

    // Unsharing (shareWith null) leaves a second notification, with no new rights.
    call1(
        &s,
        ANNA,
        "Mailbox/set",
        json!({"accountId": anna, "update": {archive.clone(): {"shareWith": null}}}),
    )
    .await;
    let q = p(
        &s,
        BEN,
        "ShareNotification/query",
        json!({"accountId": ben,
        "filter": {"objectAccountId": anna, "objectType": "Mailbox"},
        "sort": [{"property": "created", "isAscending": false}]}),
    )
    .await;
    assert_eq!(q["ids"].as_array().unwrap().len(), 2, "{q}");
    let last = p(
        &s,
        BEN,
        "ShareNotification/get",
        json!({"accountId": ben, "ids": [q["ids"][0]]}),
    )
    .await;
    assert_eq!(last["list"][0]["newRights"], Value::Null, "{last}");
    assert_eq!(last["list"][0]["oldRights"]["mayReadItems"], true);
    assert!(session(&s, BEN).await["accounts"].get(&anna).is_none());
    // Ben dismisses them.
    let r = p(
        &s,
        BEN,
        "ShareNotification/set",
        json!({"accountId": ben, "destroy": q["ids"]}),
    )
    .await;
    assert_eq!(r["destroyed"].as_array().unwrap().len(), 2, "{r}");
    assert_eq!(
        p(
            &s,
            BEN,
            "ShareNotification/query",
            json!({"accountId": ben})
        )
        .await["ids"],
        json!([])
    );

    // The command line leaves notifications too (changed by the administrator).
    cli(&s, &["share", "add", ANNA, "Archive", CARO]);
    let n = p(
        &s,
        CARO,
        "ShareNotification/get",
        json!({"accountId": caro}),
    )
    .await;
    assert_eq!(n["list"][0]["changedBy"]["principalId"], Value::Null, "{n}");
    // A new mailbox may be shared as it is made.
    let r = call1(&s, ANNA, "Mailbox/set", json!({"accountId": anna, "create": {"r": {
        "name": "Receipts", "shareWith": {ben.clone(): {"mayReadItems": true, "mayAddItems": true}}}}})).await;
    let receipts = r["created"]["r"]["id"]
        .as_str()
        .expect("created")
        .to_string();
    let r = call1(&s, BEN, "Mailbox/get", json!({"accountId": anna})).await;
    assert_eq!(r["list"][0]["id"], receipts, "{r}");
    assert_eq!(r["list"][0]["myRights"]["mayAddItems"], true);
    // Sharing with oneself or a principal that does not exist is refused.
    let r = call1(
        &s,
        ANNA,
        "Mailbox/set",
        json!({"accountId": anna, "update": {receipts.clone(): {
        "shareWith": {anna.clone(): {"mayReadItems": true}}}}}),
    )
    .await;
    assert_eq!(
        *set_error(&r, "notUpdated", &receipts),
        "invalidProperties",
        "{r}"
    );
    let _ = call(&s, ANNA, json!([])).await;
}

#[tokio::test]
async fn principals_are_found_by_name_and_email() {
    let (s, anna, ben, caro) = three().await;
    let all = p(
        &s,
        BEN,
        "Principal/query",
        json!({"accountId": ben, "sort": [{"property": "name"}]}),
    )
    .await;
    let ids: Vec<&str> = all["ids"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter(|i| [anna.as_str(), ben.as_str(), caro.as_str()].contains(i))
        .collect();
    assert_eq!(
        ids,
        vec![anna.as_str(), ben.as_str(), caro.as_str()],
        "by name: {all}"
    );
    let r = p(
        &s,
        BEN,
        "Principal/query",
        json!({"accountId": ben, "filter": {"email": "caro@"}}),
    )
    .await;
    assert_eq!(r["ids"], json!([caro]));
    let r = p(
        &s,
        BEN,
        "Principal/query",
        json!({"accountId": ben, "filter": {"name": "ANNA"}}),
    )
    .await;
    assert_eq!(r["ids"], json!([anna]));
    let r = p(&s, BEN, "Principal/query", json!({"accountId": ben, "filter": {"text": "@example.org", "type": "individual"}, "calculateTotal": true})).await;
    assert_eq!(r["total"], 3, "the three users of example.org: {r}");
    // Reachable accounts: Ben's own; Anna's once she shares with him.
    let g = p(
        &s,
        BEN,
        "Principal/get",
        json!({"accountId": ben, "ids": [anna, ben, "anope"]}),
    )
    .await;
    assert_eq!(g["list"][0]["email"], ANNA);
    assert_eq!(g["list"][0]["accounts"], Value::Null);
    assert_eq!(g["list"][1]["accounts"][&ben]["isPersonal"], true);
    assert_eq!(g["notFound"], json!(["anope"]));
    let state = g["state"].clone();
    let qs = p(
        &s,
        BEN,
        "Principal/query",
        json!({"accountId": ben, "filter": {"accountIds": [anna]}}),
    )
    .await;
    assert_eq!(qs["ids"], json!([]));
    cli(&s, &["share", "add", ANNA, "inbox", BEN]);
    let g = p(
        &s,
        BEN,
        "Principal/get",
        json!({"accountId": ben, "ids": [anna]}),
    )
    .await;
    assert_eq!(g["list"][0]["accounts"][&anna]["isPersonal"], false, "{g}");
    assert_eq!(g["list"][0]["accounts"][&anna]["isReadOnly"], true);
    let qs2 = p(
        &s,
        BEN,
        "Principal/query",
        json!({"accountId": ben, "filter": {"accountIds": [anna]}}),
    )
    .await;
    assert_eq!(qs2["ids"], json!([anna]));
    // Unchanged principals: no changes; the family account becomes a group, and the state moves.
    let ch = p(
        &s,
        BEN,
        "Principal/changes",
        json!({"accountId": ben, "sinceState": state}),
    )
    .await;
    assert_eq!(ch["updated"], json!([]));
    cli(&s, &["share", "account", "add", CARO, ANNA]);
    let r = s
        .call_using(
            BEN,
            PW,
            &[CORE, MAIL, PRINCIPALS],
            json!([["Principal/changes", {"accountId": ben, "sinceState": state}, "c"]]),
        )
        .await;
    assert_eq!(r[0][1]["type"], "cannotCalculateChanges", "{r:?}");
    let r = p(
        &s,
        BEN,
        "Principal/query",
        json!({"accountId": ben, "filter": {"type": "group"}}),
    )
    .await;
    assert_eq!(r["ids"], json!([caro]));
}
