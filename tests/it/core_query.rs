//! One /query path for every object type (issue 21 §2), through the real server.
//!
//! The story: Mailbox/query and EmailSubmission/query shared one window and filter parser,
//! Email/query had its own copies, and they had drifted. Mailbox/query echoed `limit` on every
//! answer (RFC 8620 §5.5 returns it only when the server used a different one); an operator
//! other than AND/OR/NOT was `unsupportedFilter` for Mailbox and EmailSubmission but
//! `invalidArguments` for Email; EmailSubmission/query took any collation. Now every /query
//! and /queryChanges is parsed by `jmap/query/`, so the same mistake gets the same answer.

use crate::common::*;
use serde_json::{Value, json};

const USER: &str = "query-path@example.org";
const PASS: &str = "a long password for queries";

/// Calls one method with core, mail and submission; returns (name, arguments).
async fn one(s: &Server, name: &str, args: Value) -> (String, Value) {
    let r = s
        .call_using(
            USER,
            PASS,
            &[CORE, MAIL, SUBMISSION],
            json!([[name, args, "c"]]),
        )
        .await;
    (r[0][0].as_str().unwrap_or("").to_string(), r[0][1].clone())
}

/// The error type of a call that must fail.
async fn error(s: &Server, name: &str, args: Value) -> String {
    let (n, v) = one(s, name, args.clone()).await;
    assert_eq!(n, "error", "{name} {args} should fail, answered {v}");
    v["type"].as_str().unwrap_or("").to_string()
}

/// A property each type can sort by, for the collation checks.
const TYPES: [(&str, &str); 3] = [
    ("Email", "subject"),
    ("Mailbox", "name"),
    ("EmailSubmission", "sentAt"),
];

#[tokio::test]
async fn every_type_answers_the_same_mistake_the_same_way() {
    let s = Server::start();
    s.add_user(USER, PASS);
    for (ty, prop) in TYPES {
        let query = format!("{ty}/query");
        let changes = format!("{ty}/queryChanges");
        // §5.5: "operator ... MUST be one of" AND/OR/NOT: a malformed request.
        let bad_op = json!({"operator": "XOR", "conditions": []});
        assert_eq!(
            error(&s, &query, json!({"filter": bad_op})).await,
            "invalidArguments",
            "{query}: bad operator"
        );
        assert_eq!(
            error(
                &s,
                &changes,
                json!({"filter": bad_op, "sinceQueryState": "0"})
            )
            .await,
            "invalidArguments",
            "{changes}: bad operator"
        );
        // A well-formed condition the type does not know: unsupportedFilter.
        assert_eq!(
            error(&s, &query, json!({"filter": {"noSuchCondition": true}})).await,
            "unsupportedFilter",
            "{query}: unknown condition"
        );
        // §5.5: a collation the server does not recognise is unsupportedSort, for every type.
        let klingon = json!([{"property": prop, "collation": "i;klingon"}]);
        assert_eq!(
            error(&s, &query, json!({"sort": klingon})).await,
            "unsupportedSort",
            "{query}: unknown collation"
        );
        assert_eq!(
            error(
                &s,
                &changes,
                json!({"sort": klingon, "sinceQueryState": "0"})
            )
            .await,
            "unsupportedSort",
            "{changes}: unknown collation"
        );
        // A registered one is taken.
        let ascii = json!([{"property": prop, "collation": "i;ascii-casemap"}]);
        let (n, v) = one(&s, &query, json!({"sort": ascii})).await;
        assert_eq!(n, query, "{query} with i;ascii-casemap: {v}");
        assert_eq!(
            error(
                &s,
                &query,
                json!({"sort": [{"property": "noSuchProperty"}]})
            )
            .await,
            "unsupportedSort"
        );
        assert_eq!(
            error(&s, &query, json!({"limit": -1})).await,
            "invalidArguments"
        );
        assert_eq!(
            error(&s, &query, json!({"anchor": "zzzz"})).await,
            "anchorNotFound"
        );
    }
}

#[tokio::test]
async fn limit_is_returned_only_when_the_server_changed_it() {
    let s = Server::start();
    s.add_user(USER, PASS);
    // A new account has its default mailboxes, so two is a real cut.
    let (n, r) = one(&s, "Mailbox/query", json!({"limit": 2})).await;
    assert_eq!(n, "Mailbox/query", "{r}");
    assert_eq!(r["ids"].as_array().map(Vec::len), Some(2));
    assert!(r.get("limit").is_none(), "Mailbox/query echoed limit: {r}");
    let (_, r) = one(&s, "EmailSubmission/query", json!({"limit": 3})).await;
    assert!(
        r.get("limit").is_none(),
        "EmailSubmission/query echoed limit: {r}"
    );
    let (_, r) = one(&s, "Email/query", json!({"limit": 3})).await;
    assert!(r.get("limit").is_none(), "Email/query echoed limit: {r}");
    // Email/query caps pages at 1000 and says so.
    let (_, r) = one(&s, "Email/query", json!({"limit": 5000})).await;
    assert_eq!(r["limit"], json!(1000), "{r}");
}

#[tokio::test]
async fn mailbox_conditions_are_typed() {
    let s = Server::start();
    s.add_user(USER, PASS);
    // A condition value of the wrong type is a malformed request, not an unknown condition.
    for f in [
        json!({"isSubscribed": "yes"}),
        json!({"name": 7}),
        json!({"parentId": 1}),
        json!({"role": false}),
    ] {
        assert_eq!(
            error(&s, "Mailbox/query", json!({"filter": f})).await,
            "invalidArguments",
            "{f}"
        );
    }
    // parentId null: the top-level mailboxes (all the defaults); an unknown id: none.
    let (_, all) = one(&s, "Mailbox/query", json!({})).await;
    let (_, top) = one(&s, "Mailbox/query", json!({"filter": {"parentId": null}})).await;
    assert_eq!(top["ids"], all["ids"]);
    let (_, none) = one(&s, "Mailbox/query", json!({"filter": {"parentId": "nope"}})).await;
    assert_eq!(none["ids"], json!([]));
    let (_, inbox) = one(&s, "Mailbox/query", json!({"filter": {"role": "inbox"}})).await;
    assert_eq!(inbox["ids"].as_array().map(Vec::len), Some(1));
    // parentId is an Id: a creation reference from earlier in the request names the mailbox
    // it created (RFC 8620 §5.3). As raw JSON, "#p" matched nothing.
    let r = s
        .call(
            USER,
            PASS,
            json!([
                ["Mailbox/set", {"create": {
                    "p": {"name": "Parent"},
                    "c": {"name": "Child", "parentId": "#p"}}}, "s"],
                ["Mailbox/query", {"filter": {"parentId": "#p"}}, "q"]
            ]),
        )
        .await;
    assert_eq!(r[1][0], json!("Mailbox/query"), "{}", r[1]);
    assert_eq!(r[1][1]["ids"], json!([r[0][1]["created"]["c"]["id"]]));
}
