//! Identity (RFC 8621 §6) and VacationResponse (§8) through the real endpoint: the default
//! identity, creating identities only for owned addresses (aliases and catch-alls made with the
//! CLI), updates, deletes, /changes; the vacation singleton stored and validated.

use crate::common;
use common::*;
use serde_json::{Value, json};

const USER: &str = "ida@example.org";
const PASS: &str = "who am I today";
const SUB: &str = "urn:ietf:params:jmap:submission";
const VAC: &str = "urn:ietf:params:jmap:vacationresponse";

async fn call(s: &Server, cap: &str, name: &str, args: Value) -> Value {
    let body = json!({"using": [CORE, MAIL, cap], "methodCalls": [[name, args, "c"]]});
    let (status, v) = s.post_api(USER, PASS, body.to_string()).await;
    assert_eq!(status, 200, "{v}");
    v["methodResponses"][0].clone()
}

#[tokio::test]
async fn identities_default_owned_addresses_and_changes() {
    let s = Server::start();
    s.add_user(USER, PASS);
    s.add_user("other@example.org", "someone else entirely");
    let out = s.cli(&["alias", "add", "sales@example.org", USER], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = s.cli(&["domain", "add", "ida.test"], None);
    assert!(out.status.success());
    let out = s.cli(&["alias", "add", "@ida.test", USER], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let acct = s.account_id(USER, PASS).await;

    // The default identity: the account's address, not deletable.
    let r = call(&s, SUB, "Identity/get", json!({"accountId": acct})).await;
    assert_eq!(r[0], json!("Identity/get"), "{r}");
    let list = r[1]["list"].as_array().unwrap().clone();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["email"], json!(USER));
    assert_eq!(list[0]["mayDelete"], json!(false));
    assert_eq!(list[0]["name"], json!(""));
    let default = list[0]["id"].as_str().unwrap().to_string();
    let state = r[1]["state"].as_str().unwrap().to_string();

    // Without the submission capability in `using`, Identity methods are unknown.
    let r = s
        .call(
            USER,
            PASS,
            json!([["Identity/get", {"accountId": acct}, "c"]]),
        )
        .await;
    assert_eq!(r[0][1]["type"], json!("unknownMethod"));

    let r = call(&s, SUB, "Identity/set", json!({"accountId": acct, "create": {
        "alias": {"name": "Ida Sales", "email": "Sales@example.org", "textSignature": "-- \nIda"},
        "plus": {"email": "ida+lists@example.org"},
        "catch": {"email": "anything@ida.test", "bcc": [{"name": null, "email": "archive@ida.test"}]},
        "star": {"email": "*@ida.test"},
        "foreign": {"email": "other@example.org"},
        "stranger": {"email": "x@elsewhere.test"},
        "starforeign": {"email": "*@example.org"},
        "noemail": {"name": "x"},
        "bad": {"email": USER, "replyTo": [{"name": "x"}]},
    }})).await;
    let c = &r[1]["created"];
    for k in ["alias", "plus", "catch", "star"] {
        assert!(c[k]["id"].is_string(), "{k}: {r}");
        assert_eq!(c[k]["mayDelete"], json!(true));
    }
    assert_eq!(
        c["plus"]["name"],
        json!(""),
        "defaults come back as server-set"
    );
    for k in ["foreign", "stranger", "starforeign"] {
        assert_eq!(r[1]["notCreated"][k]["type"], json!("forbiddenFrom"), "{k}");
    }
    assert_eq!(
        r[1]["notCreated"]["noemail"]["properties"],
        json!(["email"])
    );
    assert_eq!(r[1]["notCreated"]["bad"]["properties"], json!(["replyTo"]));
    let alias = c["alias"]["id"].as_str().unwrap().to_string();

    // Update: names and signatures change; the email does not.
    let r = call(
        &s,
        SUB,
        "Identity/set",
        json!({"accountId": acct, "update": {
            alias.clone(): {"name": "Ida from Sales", "htmlSignature": "<b>Ida</b>"},
            default.clone(): {"email": "ida2@example.org"},
        }}),
    )
    .await;
    assert!(r[1]["updated"].get(&alias).is_some(), "{r}");
    assert_eq!(r[1]["notUpdated"][&default]["properties"], json!(["email"]));
    let r = call(
        &s,
        SUB,
        "Identity/get",
        json!({"accountId": acct, "ids": [alias, "izz"]}),
    )
    .await;
    assert_eq!(r[1]["list"][0]["name"], json!("Ida from Sales"));
    assert_eq!(r[1]["list"][0]["email"], json!("sales@example.org"));
    assert_eq!(r[1]["list"][0]["htmlSignature"], json!("<b>Ida</b>"));
    assert_eq!(r[1]["notFound"], json!(["izz"]));

    // Destroy: the default is protected.
    let r = call(
        &s,
        SUB,
        "Identity/set",
        json!({"accountId": acct, "destroy": [default.clone(), alias.clone()]}),
    )
    .await;
    assert_eq!(r[1]["notDestroyed"][&default]["type"], json!("forbidden"));
    assert_eq!(r[1]["destroyed"], json!([alias]));

    // Identity/changes since the first state: 3 more created (one destroyed again is not reported).
    let r = call(
        &s,
        SUB,
        "Identity/changes",
        json!({"accountId": acct, "sinceState": state}),
    )
    .await;
    assert_eq!(r[1]["created"].as_array().unwrap().len(), 3, "{r}");
    assert_eq!(r[1]["destroyed"], json!([]));
}

#[tokio::test]
async fn vacation_response_singleton() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    // The session advertises the capability for the account.
    let res = s
        .http()
        .get(format!("{}/.well-known/jmap", s.base_url()))
        .basic_auth(USER, Some(PASS))
        .send()
        .await
        .unwrap();
    let session: Value = res.json().await.unwrap();
    assert!(session["capabilities"].get(VAC).is_some());
    assert_eq!(session["primaryAccounts"][VAC], json!(acct));

    let r = call(&s, VAC, "VacationResponse/get", json!({"accountId": acct})).await;
    assert_eq!(
        r[1]["list"],
        json!([{"id": "singleton", "isEnabled": false, "fromDate": null,
        "toDate": null, "subject": null, "textBody": null, "htmlBody": null}])
    );
    let state = r[1]["state"].clone();
    let r = call(&s, VAC, "VacationResponse/set", json!({"accountId": acct, "update": {"singleton": {
        "isEnabled": true, "fromDate": "2026-12-20T00:00:00Z", "toDate": "2027-01-05T00:00:00+01:00",
        "subject": "Away", "textBody": "Back in January."}}})).await;
    assert!(r[1]["updated"].get("singleton").is_some(), "{r}");
    assert_ne!(r[1]["newState"], state);
    let r = call(
        &s,
        VAC,
        "VacationResponse/get",
        json!({"accountId": acct, "ids": ["singleton", "other"],
        "properties": ["isEnabled", "toDate", "subject"]}),
    )
    .await;
    assert_eq!(
        r[1]["list"],
        json!([{"id": "singleton", "isEnabled": true,
        "toDate": "2027-01-04T23:00:00Z", "subject": "Away"}])
    );
    assert_eq!(r[1]["notFound"], json!(["other"]));
    // Validation; nothing changes on a rejected update.
    let r = call(
        &s,
        VAC,
        "VacationResponse/set",
        json!({"accountId": acct,
        "update": {"singleton": {"toDate": "2026-01-01T00:00:00Z"}, "other": {"isEnabled": false}},
        "create": {"x": {"isEnabled": true}}}),
    )
    .await;
    assert_eq!(
        r[1]["notUpdated"]["singleton"]["properties"],
        json!(["toDate"]),
        "{r}"
    );
    assert_eq!(r[1]["notUpdated"]["other"]["type"], json!("notFound"));
    assert_eq!(r[1]["notCreated"]["x"]["type"], json!("singleton"));
    let r = call(
        &s,
        VAC,
        "VacationResponse/set",
        json!({"accountId": acct, "destroy": ["singleton"]}),
    )
    .await;
    assert_eq!(
        r[1]["notDestroyed"]["singleton"]["type"],
        json!("singleton")
    );
    for bad in [
        json!({"isEnabled": "yes"}),
        json!({"fromDate": "tomorrow"}),
        json!({"subject": 3}),
        json!({"nope": 1}),
    ] {
        let r = call(
            &s,
            VAC,
            "VacationResponse/set",
            json!({"accountId": acct, "update": {"singleton": bad}}),
        )
        .await;
        assert_eq!(
            r[1]["notUpdated"]["singleton"]["type"],
            json!("invalidProperties"),
            "{bad}"
        );
    }
    let r = call(&s, VAC, "VacationResponse/get", json!({"accountId": acct})).await;
    assert_eq!(r[1]["list"][0]["subject"], json!("Away"));
    // It survives a restart: it is stored.
    let s = s.restart();
    let r = call(&s, VAC, "VacationResponse/get", json!({"accountId": acct})).await;
    assert_eq!(r[1]["list"][0]["textBody"], json!("Back in January."));
}
