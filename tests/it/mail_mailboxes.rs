//! Mailbox/set, Mailbox/query and Mailbox/queryChanges (RFC 8621 §2) through the real endpoint,
//! with mail that arrived over SMTP and counts checked after every change.

use crate::common;
use crate::mail_support;
use common::*;
use mail_support::*;
use serde_json::{Value, json};

const USER: &str = "boxes@example.org";
const PASS: &str = "folders all the way down";

async fn set(s: &Server, acct: &str, args: Value) -> Value {
    let mut a = args;
    a["accountId"] = json!(acct);
    call1(s, USER, PASS, "Mailbox/set", a).await
}

#[tokio::test]
async fn create_rename_move_destroy_with_rules_and_counts() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    let inbox = role_id(&s, USER, PASS, &acct, "inbox").await;

    // Create a parent and a child that refers to it by creation id, in one call.
    let r = set(
        &s,
        &acct,
        json!({"create": {
            "kid": {"name": "Invoices", "parentId": "#work"},
            "work": {"name": "Work", "sortOrder": 5},
        }}),
    )
    .await;
    let work = r["created"]["work"]["id"].as_str().unwrap().to_string();
    let kid = r["created"]["kid"]["id"].as_str().unwrap().to_string();
    assert_eq!(r["created"]["work"]["totalEmails"], json!(0));
    assert_eq!(r["created"]["work"]["isSubscribed"], json!(true));
    assert_eq!(r["created"]["kid"]["myRights"]["mayRename"], json!(true));
    let old_state = r["oldState"].as_str().unwrap().to_string();

    // Rule violations, each an invalidProperties naming the property.
    let r = set(
        &s,
        &acct,
        json!({"create": {
            "empty": {"name": ""},
            "role": {"name": "X", "role": "inbox"},
            "badrole": {"name": "Y", "role": "nonsense"},
            "server": {"name": "Z", "totalEmails": 3},
            "noparent": {"name": "Q", "parentId": "fzzzzz"},
            "long": {"name": "n".repeat(256)},
        }}),
    )
    .await;
    for (k, prop) in [
        ("empty", "name"),
        ("role", "role"),
        ("badrole", "role"),
        ("server", "totalEmails"),
        ("noparent", "parentId"),
        ("long", "name"),
    ] {
        assert_eq!(
            r["notCreated"][k]["type"],
            json!("invalidProperties"),
            "{k}: {r}"
        );
        assert_eq!(r["notCreated"][k]["properties"], json!([prop]), "{k}");
    }
    assert_eq!(r["created"], Value::Null);
    // A sibling's name is alreadyExists (tests/jmap_defaults.rs covers it in full).
    let r = set(&s, &acct, json!({"create": {"dup": {"name": "Work"}}})).await;
    assert_eq!(
        r["notCreated"]["dup"]["type"],
        json!("alreadyExists"),
        "{r}"
    );
    assert_eq!(r["notCreated"]["dup"]["existingId"], json!(work), "{r}");

    // Rename and move; a cycle is refused.
    let r = set(
        &s,
        &acct,
        json!({"update": {
            kid.clone(): {"name": "Receipts", "parentId": null},
        }}),
    )
    .await;
    assert!(r["updated"].get(&kid).is_some(), "{r}");
    let r = set(
        &s,
        &acct,
        json!({"update": {kid.clone(): {"parentId": work.clone()}}}),
    )
    .await;
    assert!(r["updated"].get(&kid).is_some());
    let r = set(
        &s,
        &acct,
        json!({"update": {work.clone(): {"parentId": kid.clone()}}}),
    )
    .await;
    assert_eq!(
        r["notUpdated"][&work]["type"],
        json!("invalidProperties"),
        "{r}"
    );
    let r = set(
        &s,
        &acct,
        json!({"update": {work.clone(): {"parentId": work.clone()}}}),
    )
    .await;
    assert_eq!(r["notUpdated"][&work]["type"], json!("invalidProperties"));
    let r = set(
        &s,
        &acct,
        json!({"update": {inbox.clone(): {"role": null}}}),
    )
    .await;
    assert_eq!(r["notUpdated"][&inbox]["properties"], json!(["role"]));
    let r = set(
        &s,
        &acct,
        json!({"update": {work.clone(): {"unreadEmails": 7}}}),
    )
    .await;
    assert_eq!(r["notUpdated"][&work]["type"], json!("invalidProperties"));

    // Mail arrives; move two emails of one thread into Receipts, one also stays in Inbox.
    let a = deliver_id(
        &s,
        USER,
        PASS,
        &acct,
        &message("a@x.net", USER, "Receipt 1", "r1@x", "one"),
    )
    .await;
    let b = deliver_id(
        &s,
        USER,
        PASS,
        &acct,
        &message("a@x.net", USER, "Re: Receipt 1", "r2@x", "two"),
    )
    .await;
    // (b has no In-Reply-To: its own thread)
    assert_eq!(counts(&s, USER, PASS, &acct, &inbox).await, [2, 2, 2, 2]);
    let r = call1(
        &s,
        USER,
        PASS,
        "Email/set",
        json!({"accountId": acct, "update": {
            a.clone(): {"mailboxIds": {kid.clone(): true}},
            b.clone(): {format!("mailboxIds/{kid}"): true, "keywords/$seen": true},
        }}),
    )
    .await;
    assert_eq!(r["updated"].as_object().unwrap().len(), 2, "{r}");
    assert_eq!(counts(&s, USER, PASS, &acct, &inbox).await, [1, 0, 1, 0]);
    assert_eq!(counts(&s, USER, PASS, &acct, &kid).await, [2, 1, 2, 1]);

    // Destroy rules: children first, mail needs onDestroyRemoveEmails, the inbox stays.
    let r = set(
        &s,
        &acct,
        json!({"destroy": [work.clone(), kid.clone(), inbox.clone()]}),
    )
    .await;
    assert_eq!(
        r["notDestroyed"][&work]["type"],
        json!("mailboxHasChild"),
        "{r}"
    );
    assert_eq!(r["notDestroyed"][&kid]["type"], json!("mailboxHasEmail"));
    assert_eq!(r["notDestroyed"][&inbox]["type"], json!("forbidden"));
    let r = set(
        &s,
        &acct,
        json!({"destroy": [kid.clone()], "onDestroyRemoveEmails": true}),
    )
    .await;
    assert_eq!(r["destroyed"], json!([kid]), "{r}");
    // a was only in Receipts: destroyed. b stays in the Inbox.
    let r = call1(
        &s,
        USER,
        PASS,
        "Email/get",
        json!({"accountId": acct, "ids": [a, b],
        "properties": ["mailboxIds"]}),
    )
    .await;
    assert_eq!(r["notFound"], json!([a]));
    assert_eq!(r["list"][0]["mailboxIds"], json!({inbox.clone(): true}));
    assert_eq!(counts(&s, USER, PASS, &acct, &inbox).await, [1, 0, 1, 0]);
    let r = set(&s, &acct, json!({"destroy": [work.clone()]})).await;
    assert_eq!(r["destroyed"], json!([work]));

    // ifInState with an old state is refused as a whole.
    let e = call_err(
        &s,
        USER,
        PASS,
        "Mailbox/set",
        json!({"accountId": acct,
        "ifInState": old_state, "create": {"x": {"name": "x"}}}),
    )
    .await;
    assert_eq!(e["type"], json!("stateMismatch"));

    // Mailbox/changes sees the creates and destroys.
    let r = call1(
        &s,
        USER,
        PASS,
        "Mailbox/changes",
        json!({"accountId": acct, "sinceState": "0"}),
    )
    .await;
    assert_eq!(r["created"].as_array().unwrap().len(), 6, "{r}");
}

#[tokio::test]
async fn query_filters_sorts_trees_and_query_changes() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    let r = set(
        &s,
        &acct,
        json!({"create": {
            "b": {"name": "Beta", "sortOrder": 2},
            "a": {"name": "alpha", "sortOrder": 2},
            "b1": {"name": "zeta", "parentId": "#b", "isSubscribed": false},
            "b2": {"name": "Eta", "parentId": "#b"},
            "a1": {"name": "Omega", "parentId": "#a"},
        }}),
    )
    .await;
    let id = |k: &str| r["created"][k]["id"].as_str().unwrap().to_string();
    let (a, b, a1, b1, b2) = (id("a"), id("b"), id("a1"), id("b1"), id("b2"));
    let q = |args: Value| {
        let s = &s;
        let acct = acct.clone();
        async move {
            let mut args = args;
            args["accountId"] = json!(acct);
            call1(s, USER, PASS, "Mailbox/query", args).await
        }
    };
    // Sort by name (case-insensitive), no roles.
    let r = q(
        json!({"filter": {"hasAnyRole": false}, "sort": [{"property": "name"}],
                     "calculateTotal": true}),
    )
    .await;
    assert_eq!(r["ids"], json!([a, b, b2, a1, b1]));
    assert_eq!(r["total"], json!(5));
    assert_eq!(r["canCalculateChanges"], json!(true));
    // As a tree: parents before children, siblings by name.
    let r = q(
        json!({"filter": {"hasAnyRole": false}, "sort": [{"property": "name"}],
                     "sortAsTree": true}),
    )
    .await;
    assert_eq!(r["ids"], json!([a, a1, b, b2, b1]));
    // Filters: parentId, name contains, isSubscribed, operators.
    let r =
        q(json!({"filter": {"parentId": b}, "sort": [{"property": "name", "isAscending": false}]}))
            .await;
    assert_eq!(r["ids"], json!([b1, b2]));
    let r = q(json!({"filter": {"operator": "AND", "conditions": [{"name": "ETA"}, {"isSubscribed": true}]}})).await;
    assert_eq!(r["ids"], json!([b, b2]));
    let r = q(json!({"filter": {"role": "trash"}})).await;
    assert_eq!(r["ids"].as_array().unwrap().len(), 1);
    let r = q(
        json!({"filter": {"operator": "NOT", "conditions": [{"hasAnyRole": true}]},
                     "sort": [{"property": "sortOrder"}, {"property": "name"}]}),
    )
    .await;
    assert_eq!(r["ids"], json!([b2, a1, b1, a, b]));
    // filterAsTree: a child whose parent does not match is dropped.
    let r = q(json!({"filter": {"name": "eta"}, "filterAsTree": true, "sortAsTree": true})).await;
    assert_eq!(
        r["ids"],
        json!([b, b1, b2]),
        "Beta, zeta and Eta all contain 'eta'"
    );
    let r = q(json!({"filter": {"name": "ega"}, "filterAsTree": true})).await;
    assert_eq!(
        r["ids"],
        json!([]),
        "Omega matches but its parent alpha does not"
    );
    let r = q(json!({"filter": {"name": "ega"}})).await;
    assert_eq!(r["ids"], json!([a1]));
    // Paging: position, negative position, anchor, limit.
    let all = q(json!({"filter": {"hasAnyRole": false}, "sort": [{"property": "name"}]})).await;
    let r = q(json!({"filter": {"hasAnyRole": false}, "sort": [{"property": "name"}], "position": 1, "limit": 2})).await;
    assert_eq!(r["ids"], json!([all["ids"][1], all["ids"][2]]));
    assert_eq!(r["position"], json!(1));
    let r =
        q(json!({"filter": {"hasAnyRole": false}, "sort": [{"property": "name"}], "position": -2}))
            .await;
    assert_eq!(r["ids"], json!([all["ids"][3], all["ids"][4]]));
    let r = q(json!({"filter": {"hasAnyRole": false}, "sort": [{"property": "name"}], "anchor": b, "anchorOffset": -1, "limit": 1})).await;
    assert_eq!(r["ids"], json!([a]));
    // Errors.
    let mut bad = Vec::new();
    for args in [
        json!({"filter": {"bogus": 1}}),
        json!({"sort": [{"property": "totalEmails"}]}),
        json!({"anchor": "fzzzz"}),
        json!({"limit": -1}),
    ] {
        let mut args = args;
        args["accountId"] = json!(acct);
        bad.push(call_err(&s, USER, PASS, "Mailbox/query", args).await["type"].clone());
    }
    assert_eq!(
        bad,
        vec![
            json!("unsupportedFilter"),
            json!("unsupportedSort"),
            json!("anchorNotFound"),
            json!("invalidArguments")
        ]
    );

    // queryChanges: a rename moves a mailbox; a delivery (counts only) changes nothing.
    let sort = json!([{"property": "name"}]);
    let before = q(json!({"filter": {"hasAnyRole": false}, "sort": sort})).await;
    let state = before["queryState"].as_str().unwrap().to_string();
    assert_eq!(
        deliver(&s, USER, &message("x@y", USER, "hi", "qc@x", "b")),
        250
    );
    set(
        &s,
        &acct,
        json!({"update": {b1.clone(): {"name": "Aardvark"}}}),
    )
    .await;
    let r = call1(&s, USER, PASS, "Mailbox/queryChanges", json!({"accountId": acct,
        "filter": {"hasAnyRole": false}, "sort": sort, "sinceQueryState": state, "calculateTotal": true})).await;
    assert_eq!(r["removed"], json!([b1]), "{r}");
    assert_eq!(r["added"], json!([{"id": b1, "index": 0}]));
    assert_eq!(r["total"], json!(5));
    assert_eq!(r["oldQueryState"], json!(state));
    // Applying the change to the old list gives the new list.
    let mut ids: Vec<Value> = before["ids"].as_array().unwrap().clone();
    ids.retain(|i| *i != json!(b1));
    ids.insert(0, json!(b1));
    let after = q(json!({"filter": {"hasAnyRole": false}, "sort": sort})).await;
    assert_eq!(json!(ids), after["ids"]);
    let e = call_err(
        &s,
        USER,
        PASS,
        "Mailbox/queryChanges",
        json!({"accountId": acct,
        "sinceQueryState": "999999"}),
    )
    .await;
    assert_eq!(e["type"], json!("cannotCalculateChanges"));
    let e = call_err(
        &s,
        USER,
        PASS,
        "Mailbox/queryChanges",
        json!({"accountId": acct,
        "sinceQueryState": "0", "maxChanges": 1}),
    )
    .await;
    assert_eq!(e["type"], json!("tooManyChanges"));
}
