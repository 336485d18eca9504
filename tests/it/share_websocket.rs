//! Push over the JMAP WebSocket (RFC 8887) for a shared account (issue #16): a grantee's socket
//! gets StateChanges of the owner's account while shared, and none once unshared, while its own
//! account's keep coming.

use crate::common::Server;
use crate::core_common::{Tls, basic, connect};
use crate::share_mailboxes::{ANNA, BEN, PW, call1, cli, deliver, mailboxes};
use serde_json::{Value, json};
use tungstenite::client::IntoClientRequest;
use tungstenite::{Message, WebSocket};

fn open(s: &Server, auth: &str) -> WebSocket<Tls> {
    let mut req = "wss://localhost/jmap/ws".into_client_request().unwrap();
    req.headers_mut()
        .insert("Authorization", auth.parse().unwrap());
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "jmap".parse().unwrap());
    tungstenite::client(req, connect(s.https))
        .expect("upgrade")
        .0
}

/// The next JMAP message (pings skipped); the socket's 30 s read timeout bounds the wait.
fn next(ws: &mut WebSocket<Tls>) -> Value {
    loop {
        match ws.read().expect("read") {
            Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}

fn next_state_change(ws: &mut WebSocket<Tls>) -> Value {
    loop {
        let v = next(ws);
        if v["@type"] == "StateChange" {
            return v;
        }
    }
}

#[tokio::test]
async fn websocket_push_follows_the_share_and_stops_at_unshare() {
    let s = Server::start();
    for u in [ANNA, BEN] {
        s.add_user(u, PW);
    }
    let anna = s.account_id(ANNA, PW).await;
    let ben = s.account_id(BEN, PW).await;
    let archive = mailboxes(&s, ANNA, &anna).await["archive"].clone();
    let receipt = deliver(&s, ANNA, &anna, "Receipt", "x").await;
    call1(&s, ANNA, "Email/set", json!({"accountId": anna, "update": {receipt.clone(): {"mailboxIds": {archive.clone(): true}}}})).await;
    cli(&s, &["share", "add", ANNA, "archive", BEN]);

    let mut ws = open(&s, &basic(BEN, PW));
    ws.send(Message::text(
        json!({"@type": "WebSocketPushEnable", "dataTypes": ["Email"]}).to_string(),
    ))
    .unwrap();
    ws.send(Message::text(
        json!({"@type": "Request", "using": ["urn:ietf:params:jmap:core"], "methodCalls": []})
            .to_string(),
    ))
    .unwrap();
    assert_eq!(next(&mut ws)["@type"], "Response");

    call1(
        &s,
        ANNA,
        "Email/set",
        json!({"accountId": anna, "update": {receipt.clone(): {"keywords/$seen": true}}}),
    )
    .await;
    let ev = next_state_change(&mut ws);
    assert!(ev["changed"][&anna]["Email"].is_string(), "{ev}");

    cli(&s, &["share", "remove", ANNA, "archive", BEN]);
    call1(
        &s,
        ANNA,
        "Email/set",
        json!({"accountId": anna, "update": {receipt.clone(): {"keywords/$flagged": true}}}),
    )
    .await;
    deliver(&s, BEN, &ben, "marker", "y").await;
    loop {
        let ev = next_state_change(&mut ws);
        assert!(
            ev["changed"].get(&anna).is_none(),
            "nothing of Anna's after unshare: {ev}"
        );
        if ev["changed"].get(&ben).is_some() {
            break;
        }
    }
}
