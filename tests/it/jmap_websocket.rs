//! JMAP over WebSocket (RFC 8887, issue #15) through the real binary, with the tungstenite
//! client: the session capability, batched requests with result references, pushes after an
//! SMTP delivery, reconnection with `pushState`, RequestErrors for bad frames, refused
//! upgrades, and Basic, Bearer and app-password sign-in.

use crate::common::{Server, message};
use crate::core_common::{Tls, basic, connect};
use serde_json::{Value, json};
use std::collections::HashMap;
use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

const USER: &str = "alice@example.org";
const PASS: &str = "correct horse battery";

type Ws = WebSocket<Tls>;

/// Opens the socket with `auth` (an Authorization value) and the subprotocols given; the
/// error is the HTTP status of a refused upgrade.
fn open_with(s: &Server, auth: Option<&str>, protocol: Option<&str>) -> Result<Ws, u16> {
    open_headers(s, auth, protocol, &[])
}

fn open_headers(
    s: &Server,
    auth: Option<&str>,
    protocol: Option<&str>,
    extra: &[(&'static str, &str)],
) -> Result<Ws, u16> {
    let mut req = "wss://localhost/jmap/ws"
        .into_client_request()
        .expect("request");
    if let Some(a) = auth {
        req.headers_mut()
            .insert("Authorization", a.parse().expect("header"));
    }
    if let Some(p) = protocol {
        req.headers_mut()
            .insert("Sec-WebSocket-Protocol", p.parse().expect("header"));
    }
    for (k, v) in extra {
        req.headers_mut().insert(*k, v.parse().expect("header"));
    }
    match tungstenite::client(req, connect(s.https)) {
        Ok((ws, res)) => {
            assert_eq!(
                res.headers()
                    .get("sec-websocket-protocol")
                    .and_then(|v| v.to_str().ok()),
                Some("jmap")
            );
            Ok(ws)
        }
        Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(r))) => {
            Err(r.status().as_u16())
        }
        Err(e) => panic!("handshake: {e}"),
    }
}

fn open(s: &Server, auth: &str) -> Ws {
    open_with(s, Some(auth), Some("jmap")).expect("upgrade")
}

fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).expect("send");
}

/// The next JMAP message (pings and pongs skipped); the socket's 30 s read timeout bounds it.
fn next(ws: &mut Ws) -> Value {
    loop {
        match ws.read().expect("read") {
            Message::Text(t) => return serde_json::from_str(t.as_str()).expect("json"),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// The next StateChange, skipping anything else.
fn next_state_change(ws: &mut Ws) -> Value {
    loop {
        let v = next(ws);
        if v["@type"] == "StateChange" {
            return v;
        }
    }
}

fn deliver(s: &Server, tag: &str) {
    let raw = message(
        "bob@example.net",
        USER,
        tag,
        &format!("{tag}@example.net"),
        "hi",
    );
    s.send("bob@example.net", &[USER], &raw).expect("SMTP send");
}

const USING: [&str; 2] = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"];

#[tokio::test]
async fn session_capability_and_batched_requests_with_result_references() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    let session: Value = s
        .http()
        .get(format!("{}/jmap/session", s.base_url()))
        .basic_auth(USER, Some(PASS))
        .send()
        .await
        .expect("session")
        .json()
        .await
        .expect("json");
    let cap = &session["capabilities"]["urn:ietf:params:jmap:websocket"];
    assert_eq!(cap["supportsPush"], json!(true));
    let url = cap["url"].as_str().expect("url");
    assert!(
        url.starts_with("wss://") && url.ends_with("/jmap/ws"),
        "{url}"
    );

    let mut ws = open(&s, &basic(USER, PASS));
    // Two requests sent back to back, both in flight; each answered with its requestId.
    send(
        &mut ws,
        json!({"@type": "Request", "id": "a", "using": USING, "methodCalls": [
            ["Mailbox/query", {"accountId": acct, "filter": {"role": "inbox"}}, "0"],
            ["Mailbox/get", {"accountId": acct,
                "#ids": {"resultOf": "0", "name": "Mailbox/query", "path": "/ids"}}, "1"],
        ]}),
    );
    send(
        &mut ws,
        json!({"@type": "Request", "id": "b", "using": USING, "methodCalls": [
            ["Email/query", {"accountId": acct}, "0"],
        ]}),
    );
    let mut got: HashMap<String, Value> = HashMap::new();
    for _ in 0..2 {
        let v = next(&mut ws);
        assert_eq!(v["@type"], "Response", "{v}");
        got.insert(v["requestId"].as_str().expect("requestId").into(), v);
    }
    let a = &got["a"]["methodResponses"];
    assert_eq!(a[1][0], "Mailbox/get", "{a}");
    assert_eq!(a[1][1]["list"][0]["role"], "inbox", "{a}");
    assert_eq!(got["b"]["methodResponses"][0][0], "Email/query");
    assert!(got["a"]["sessionState"].is_string());
}

#[tokio::test]
async fn push_after_delivery_and_reconnect_with_push_state() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    let mut ws = open(&s, &basic(USER, PASS));
    send(
        &mut ws,
        json!({"@type": "WebSocketPushEnable", "dataTypes": ["Email", "Mailbox"]}),
    );
    // A request answered proves the enable was read before the delivery below.
    send(
        &mut ws,
        json!({"@type": "Request", "using": USING, "methodCalls": []}),
    );
    assert_eq!(next(&mut ws)["@type"], "Response");
    deliver(&s, "first");
    let ev = next_state_change(&mut ws);
    let changed = &ev["changed"][&acct];
    assert!(changed["Email"].is_string(), "{ev}");
    assert!(changed["Thread"].is_null(), "types filtered: {ev}");
    let push_state = ev["pushState"].as_str().expect("pushState").to_string();
    drop(ws);

    // Missed while away: a reconnect with the last pushState gets it at once.
    deliver(&s, "second");
    let email_state = {
        let r = s
            .call(
                USER,
                PASS,
                json!([["Email/get", {"accountId": acct, "ids": []}, "0"]]),
            )
            .await;
        r[0][1]["state"].as_str().expect("state").to_string()
    };
    let mut ws = open(&s, &basic(USER, PASS));
    send(
        &mut ws,
        json!({"@type": "WebSocketPushEnable", "dataTypes": null, "pushState": push_state}),
    );
    let ev = next_state_change(&mut ws);
    assert_eq!(ev["changed"][&acct]["Email"], json!(email_state), "{ev}");
    assert_ne!(ev["pushState"], json!(push_state));

    // Disabled: a request is still answered, and no StateChange comes before it.
    send(&mut ws, json!({"@type": "WebSocketPushDisable"}));
    // Frames are read in order: once this is answered, the disable has taken effect.
    send(
        &mut ws,
        json!({"@type": "Request", "using": USING, "methodCalls": []}),
    );
    assert_eq!(next(&mut ws)["@type"], "Response");
    deliver(&s, "third");
    send(
        &mut ws,
        json!({"@type": "Request", "id": "x", "using": USING, "methodCalls": [
        ["Email/query", {"accountId": acct}, "0"]]}),
    );
    let v = next(&mut ws);
    assert_eq!(v["@type"], "Response", "{v}");
    assert_eq!(
        v["methodResponses"][0][1]["ids"].as_array().map(Vec::len),
        Some(3)
    );
}

#[tokio::test]
async fn bad_frames_get_request_errors() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let mut ws = open(&s, &basic(USER, PASS));
    let err = "urn:ietf:params:jmap:error:";

    ws.send(Message::text("this is not json")).expect("send");
    let v = next(&mut ws);
    assert_eq!(v["@type"], "RequestError", "{v}");
    assert_eq!(v["type"], format!("{err}notJSON"));

    ws.send(Message::binary(b"{}".to_vec())).expect("send");
    let v = next(&mut ws);
    assert_eq!(v["@type"], "RequestError", "{v}");
    assert_eq!(v["type"], format!("{err}notJSON"));

    send(&mut ws, json!({"@type": "Sandwich", "id": "s1"}));
    let v = next(&mut ws);
    assert_eq!(v["type"], format!("{err}notRequest"), "{v}");
    assert_eq!(v["requestId"], "s1");

    send(
        &mut ws,
        json!({"@type": "Request", "id": "r2", "using": ["urn:x:nope"], "methodCalls": []}),
    );
    let v = next(&mut ws);
    assert_eq!(v["@type"], "RequestError", "{v}");
    assert_eq!(v["type"], format!("{err}unknownCapability"));
    assert_eq!(v["requestId"], "r2");
    assert_eq!(v["status"], 400);

    // The connection survives all of it.
    send(
        &mut ws,
        json!({"@type": "Request", "id": "ok", "using": USING, "methodCalls": []}),
    );
    let v = next(&mut ws);
    assert_eq!(
        (v["@type"].as_str(), v["requestId"].as_str()),
        (Some("Response"), Some("ok"))
    );
}

#[tokio::test]
async fn unauthenticated_or_wrong_upgrades_are_refused() {
    let s = Server::start();
    s.add_user(USER, PASS);
    assert_eq!(open_with(&s, None, Some("jmap")).err(), Some(401));
    assert_eq!(
        open_with(&s, Some(&basic(USER, "wrong")), Some("jmap")).err(),
        Some(401)
    );
    assert_eq!(
        open_with(&s, Some("Bearer mnk_nonsense"), Some("jmap")).err(),
        Some(401)
    );
    // RFC 8887 §4.2: without the jmap subprotocol there is no JMAP socket.
    assert_eq!(
        open_with(&s, Some(&basic(USER, PASS)), None).err(),
        Some(400)
    );
    assert_eq!(
        open_with(&s, Some(&basic(USER, PASS)), Some("chat")).err(),
        Some(400)
    );
}

#[tokio::test]
async fn bearer_token_and_app_password_open_the_socket() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let out = s.cli(&["user", "token", USER], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let token = text.lines().last().unwrap_or_default().trim().to_string();
    let out = s.cli(&["user", "app-password", "add", USER, "phone"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let app = text
        .lines()
        .next()
        .and_then(|l| l.rsplit(": ").next())
        .unwrap_or_default()
        .trim()
        .to_string();
    for auth in [format!("Bearer {token}"), basic(USER, &app)] {
        let mut ws = open(&s, &auth);
        send(
            &mut ws,
            json!({"@type": "Request", "id": "1", "using": USING, "methodCalls": []}),
        );
        let v = next(&mut ws);
        assert_eq!(v["@type"], "Response", "{auth}: {v}");
    }
}
