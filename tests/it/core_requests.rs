//! RFC 8620 §3 request handling through the real HTTP endpoint: every request-level error of
//! §3.6.1 as problem JSON with its status and limit name, the method-level errors of §3.6.2,
//! each advertised limit enforced, creation ids across calls and in createdIds, and hostile
//! requests (deep nesting, huge arrays, invalid UTF-8, wrong types) answered with clear errors.

use crate::common;
use crate::core_common;
use common::{CORE, MAIL, Server};
use serde_json::{Value, json};
use std::io::Write;

const USER: &str = "alice@example.org";
const PASS: &str = "correct horse battery";

fn server(limits: &str) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mailnook.toml");
    std::fs::write(&path, format!("[limits]\n{limits}\n")).expect("config");
    let s = Server::start_with(&["--config", path.to_str().expect("path")]);
    s.add_user(USER, PASS);
    (s, dir)
}

fn assert_problem(status: u16, v: &Value, want_status: u16, kind: &str) {
    assert_eq!(status, want_status, "{v}");
    assert_eq!(
        v["type"],
        json!(format!("urn:ietf:params:jmap:error:{kind}")),
        "{v}"
    );
    assert_eq!(v["status"], json!(want_status), "{v}");
    assert!(v["detail"].is_string(), "{v}");
}

#[tokio::test]
async fn request_level_errors() {
    let (s, _d) = server("max_calls_in_request = 3\nmax_size_request = 20000");
    let post = |b: Vec<u8>| s.post_api(USER, PASS, b);

    for bad in [
        &b"{"[..],
        b"",
        b"{\"using\": [}",
        b"\xff\xfe{}",
        b"{\"using\":[\"\xc3\x28\"]}",
    ] {
        let (st, v) = post(bad.to_vec()).await;
        assert_problem(st, &v, 400, "notJSON");
    }
    for bad in [
        json!([]),
        json!("x"),
        json!({}),
        json!({"using": "x", "methodCalls": []}),
        json!({"using": [1], "methodCalls": []}),
        json!({"using": [], "methodCalls": {}}),
        json!({"using": [], "methodCalls": [["Core/echo", {}, 1]]}),
        json!({"using": [], "methodCalls": [["Core/echo", [], "c"]]}),
        json!({"using": [], "methodCalls": [["Core/echo", {}]]}),
        json!({"using": [], "methodCalls": [["Core/echo", {}, "c", "d"]]}),
        json!({"using": [], "methodCalls": ["Core/echo"]}),
        json!({"using": [], "methodCalls": [], "createdIds": []}),
        json!({"using": [], "methodCalls": [], "createdIds": {"a": 1}}),
    ] {
        let (st, v) = post(bad.to_string().into_bytes()).await;
        assert_problem(st, &v, 400, "notRequest");
    }
    let (st, v) = post(
        json!({"using": [CORE, "urn:example:nope"], "methodCalls": []})
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_problem(st, &v, 400, "unknownCapability");
    assert!(
        v["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("urn:example:nope")
    );

    let four = json!({"using": [CORE], "methodCalls": [
        ["Core/echo", {}, "1"], ["Core/echo", {}, "2"], ["Core/echo", {}, "3"], ["Core/echo", {}, "4"]]});
    let (st, v) = post(four.to_string().into_bytes()).await;
    assert_problem(st, &v, 400, "limit");
    assert_eq!(v["limit"], "maxCallsInRequest");

    let big =
        json!({"using": [CORE], "methodCalls": [["Core/echo", {"x": "a".repeat(20_000)}, "1"]]});
    let (st, v) = post(big.to_string().into_bytes()).await;
    assert_problem(st, &v, 413, "limit");
    assert_eq!(v["limit"], "maxSizeRequest");

    // A declared 50 MB body is refused from its header, without reading it.
    let (status, headers, body) = {
        let mut c = core_common::connect(s.https);
        core_common::send_head(
            &mut c,
            "POST",
            "/jmap/api",
            &core_common::basic(USER, PASS),
            &[
                ("Content-Length", (50 * 1024 * 1024).to_string()),
                ("Content-Type", "application/json".into()),
            ],
        );
        let mut r = std::io::BufReader::new(c);
        let (st, h) = core_common::read_head(&mut r);
        let b = core_common::read_body(&mut r, &h);
        (st, h, b)
    };
    assert_eq!(status, 413);
    assert_eq!(
        core_common::header(&headers, "content-type"),
        Some("application/problem+json")
    );
    let v: Value = serde_json::from_slice(&body).expect("problem json");
    assert_eq!(v["limit"], "maxSizeRequest");

    // Still serving normally afterwards.
    let r = s
        .call(USER, PASS, json!([["Core/echo", {"hello": true}, "e"]]))
        .await;
    assert_eq!(r[0], json!(["Core/echo", {"hello": true}, "e"]));
}

#[tokio::test]
async fn hostile_shapes_get_clear_errors() {
    let s = Server::start();
    s.add_user(USER, PASS);
    // Deep nesting.
    for depth in [65, 129, 10_000] {
        let body = format!(
            "{{\"using\":[\"{CORE}\"],\"methodCalls\":[[\"Core/echo\",{{\"a\":{}{}}},\"c\"]]}}",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let (st, v) = s.post_api(USER, PASS, body).await;
        assert_eq!(st, 400, "depth {depth}: {v}");
        assert!(
            v["type"]
                .as_str()
                .unwrap_or_default()
                .starts_with("urn:ietf:params:jmap:error:"),
            "{v}"
        );
    }
    // A million-element array (2 MB of JSON): refused before it is turned into values.
    let body = format!(
        "{{\"using\":[\"{CORE}\"],\"methodCalls\":[[\"Core/echo\",{{\"a\":[{}0]}},\"c\"]]}}",
        "0,".repeat(1_000_000)
    );
    let (st, v) = s.post_api(USER, PASS, body).await;
    assert_eq!(st, 413, "{v}");
    assert_eq!(v["limit"], "maxSizeRequest");
    // Wrong JSON types in arguments of every kind: invalidArguments, never a crash.
    let acct = s.account_id(USER, PASS).await;
    let calls = json!([
        ["Mailbox/get", {"accountId": acct, "ids": "x"}, "0"],
        ["Mailbox/get", {"accountId": 7}, "1"],
        ["Email/get", {"accountId": acct, "ids": [1, 2]}, "2"],
        ["Email/changes", {"accountId": acct, "sinceState": 0}, "3"],
        ["Email/query", {"accountId": acct, "limit": "ten"}, "4"],
        ["PushSubscription/set", {"create": [1]}, "5"],
        ["PushSubscription/get", {"ids": {}}, "6"],
        ["Blob/copy", {"fromAccountId": acct, "accountId": acct, "blobIds": [null]}, "7"],
        ["Thread/get", {"accountId": acct, "ids": null, "properties": "all"}, "8"],
        ["Mailbox/changes", {"accountId": acct, "sinceState": "0", "maxChanges": -1}, "9"],
    ]);
    let r = s.call(USER, PASS, calls).await;
    assert_eq!(r.len(), 10);
    for (i, resp) in r.iter().enumerate() {
        assert_eq!(resp[0], "error", "call {i}: {resp}");
        assert_eq!(resp[1]["type"], "invalidArguments", "call {i}: {resp}");
        assert_eq!(resp[2], json!(i.to_string()));
    }
    let r = s.call(USER, PASS, json!([["Core/echo", {}, "ok"]])).await;
    assert_eq!(r[0][0], "Core/echo");
}

#[tokio::test]
async fn method_level_errors_and_limits() {
    let (s, _d) = server("max_objects_in_get = 5\nmax_objects_in_set = 5");
    let acct = s.account_id(USER, PASS).await;
    let r = s
        .call(USER, PASS, json!([
            ["Foo/bar", {}, "0"],
            ["Mailbox/get", {"accountId": "anope"}, "1"],
            ["Mailbox/get", {"accountId": acct, "ids": ["1", "2", "3", "4", "5", "6"]}, "2"],
            ["PushSubscription/set", {"destroy": ["1", "2", "3", "4", "5", "6"]}, "3"],
            ["Mailbox/get", {"accountId": acct, "#ids": {"resultOf": "nope", "name": "Email/query", "path": "/ids"}}, "4"],
            ["Mailbox/get", {"accountId": acct, "bogus": 1}, "5"],
            ["Mailbox/get", {"accountId": acct, "ids": [], "#ids": {"resultOf": "2", "name": "Mailbox/get", "path": "/x"}}, "6"],
            ["Mailbox/get", {"accountId": acct, "ids": []}, "7"],
            ["Mailbox/get", {"accountId": acct, "#ids": {"resultOf": "7", "name": "Mailbox/get", "path": "/nothere"}}, "8"],
        ]))
        .await;
    let kinds: Vec<&str> = r
        .iter()
        .map(|x| x[1]["type"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(
        kinds,
        vec![
            "unknownMethod",
            "accountNotFound",
            "requestTooLarge",
            "requestTooLarge",
            "invalidResultReference",
            "invalidArguments",
            "invalidArguments",
            "-",
            "invalidResultReference",
        ],
        "{r:?}"
    );
    // A method whose capability is not in `using` is unknownMethod (§3.6.2).
    let body = json!({"using": [CORE], "methodCalls": [["Mailbox/get", {"accountId": acct}, "0"]]});
    let (st, v) = s.post_api(USER, PASS, body.to_string()).await;
    assert_eq!(st, 200);
    assert_eq!(v["methodResponses"][0][1]["type"], "unknownMethod");
    assert!(v["sessionState"].is_string());
    assert!(
        v.get("createdIds").is_none(),
        "createdIds only when the request had it (§3.4)"
    );
}

#[tokio::test]
async fn creation_ids_flow_between_calls_and_into_created_ids() {
    // The push URL is on loopback: allowed here as an admin exception (net_guard, issue 26).
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mailnook.toml");
    std::fs::write(
        &path,
        "[fetch]\nallow_private = [\"127.0.0.0/8\", \"::1/128\"]\n",
    )
    .expect("config");
    let s = Server::start_with(&["--config", path.to_str().expect("path")]);
    s.add_user(USER, PASS);
    let body = json!({
        "using": [CORE, MAIL],
        "createdIds": {"given": "Pxyz"},
        "methodCalls": [
            ["PushSubscription/set", {"create": {"c1": {"deviceClientId": "d", "url": "https://localhost:1/p"}}}, "0"],
            ["PushSubscription/get", {"ids": ["#c1", "#given"], "properties": ["id"]}, "1"],
            ["PushSubscription/set", {"update": {"#c1": {"types": ["Email"]}}, "destroy": ["#c1"]}, "2"],
        ],
    });
    let (st, v) = s.post_api(USER, PASS, body.to_string()).await;
    assert_eq!(st, 200, "{v}");
    let id = v["methodResponses"][0][1]["created"]["c1"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(v["methodResponses"][1][1]["list"], json!([{"id": id}]));
    assert_eq!(v["methodResponses"][1][1]["notFound"], json!(["Pxyz"]));
    assert_eq!(
        v["methodResponses"][2][1]["notUpdated"]["#c1"]["type"],
        "willDestroy"
    );
    assert_eq!(v["methodResponses"][2][1]["destroyed"], json!([id]));
    assert_eq!(v["createdIds"], json!({"given": "Pxyz", "c1": id}));
}

#[tokio::test]
async fn concurrent_requests_past_the_limit_get_429() {
    let (s, _d) = server("max_concurrent_requests = 1");
    // A request whose body is still arriving holds no slot (issue 24: the slot is taken only
    // once the whole body is in), so a half-sent request does not lock everybody out.
    let mut held = core_common::connect(s.https);
    let body = json!({"using": [CORE], "methodCalls": [["Core/echo", {}, "h"]]}).to_string();
    core_common::send_head(
        &mut held,
        "POST",
        "/jmap/api",
        &core_common::basic(USER, PASS),
        &[
            ("Content-Length", body.len().to_string()),
            ("Content-Type", "application/json".into()),
        ],
    );
    held.write_all(&body.as_bytes()[..5]).expect("part");
    held.flush().expect("flush");
    let (st, v) = s
        .post_api(
            USER,
            PASS,
            json!({"using": [CORE], "methodCalls": []}).to_string(),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    held.write_all(&body.as_bytes()[5..]).expect("rest");
    held.flush().expect("flush");
    let mut r = std::io::BufReader::new(held);
    let (st, h) = core_common::read_head(&mut r);
    assert_eq!(st, 200);
    let v: Value = serde_json::from_slice(&core_common::read_body(&mut r, &h)).expect("json");
    assert_eq!(v["methodResponses"][0][0], "Core/echo");

    // Requests that are being processed at the same time past the limit get 429. Each request
    // of the burst makes 30 store reads (each awaits a blocking thread, so the server works on
    // the others meanwhile); bursts overlap within a few tries.
    let acct = s.account_id(USER, PASS).await;
    let calls: Vec<Value> = (0..30)
        .map(|i| json!(["Mailbox/get", {"accountId": acct, "ids": null}, format!("m{i}")]))
        .collect();
    let big = json!({"using": [CORE, MAIL], "methodCalls": calls}).to_string();
    let url = format!("{}/jmap/api", s.base_url());
    let client = s.http();
    let v = common::eventually("a request past the limit to be refused", || {
        let (big, url, client) = (big.clone(), url.clone(), client.clone());
        async move {
            let mut burst = tokio::task::JoinSet::new();
            for _ in 0..8 {
                let req = client
                    .post(&url)
                    .basic_auth(USER, Some(PASS))
                    .header("Content-Type", "application/json")
                    .body(big.clone());
                burst.spawn(async move {
                    let res = req.send().await.ok()?;
                    let st = res.status().as_u16();
                    let v: Value = res.json().await.ok()?;
                    (st == 429).then_some(v)
                });
            }
            let mut refused = None;
            while let Some(r) = burst.join_next().await {
                if let Ok(Some(v)) = r {
                    refused = Some(v);
                }
            }
            refused
        }
    })
    .await;
    assert_eq!(v["type"], "urn:ietf:params:jmap:error:limit");
    assert_eq!(v["limit"], "maxConcurrentRequests");
}

/// RFC 8620 §3.1: the API request MUST be application/json; anything else is the notJSON
/// problem (§3.6.1, status 400). A charset parameter is fine. (Issue 13, finding 7.)
#[tokio::test]
async fn api_requests_must_be_application_json() {
    let (s, _d) = server("");
    let body = json!({"using": [CORE], "methodCalls": [["Core/echo", {"k": 1}, "c"]]}).to_string();
    let url = format!("{}/jmap/api", s.base_url());
    for ctype in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("application/jsonx"),
        None,
    ] {
        let mut req = s
            .http()
            .post(&url)
            .basic_auth(USER, Some(PASS))
            .body(body.clone());
        if let Some(c) = ctype {
            req = req.header("Content-Type", c);
        }
        let res = req.send().await.expect("post");
        let st = res.status().as_u16();
        let v: Value = res.json().await.expect("problem json");
        assert_problem(st, &v, 400, "notJSON");
    }
    for ctype in [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON",
    ] {
        let res = s
            .http()
            .post(&url)
            .basic_auth(USER, Some(PASS))
            .header("Content-Type", ctype)
            .body(body.clone())
            .send()
            .await
            .expect("post");
        assert_eq!(res.status().as_u16(), 200, "{ctype}");
        let v: Value = res.json().await.expect("json");
        assert_eq!(v["methodResponses"][0][1]["k"], 1);
    }
}
