//! RFC 8620 §7.3 event source through the real server: a StateChange arrives after an SMTP
//! delivery with the states /get reports, closeafter=state ends the response, pings come at
//! the clamped interval, Last-Event-ID replays what was missed, types filters, bad parameters
//! are 400.

use crate::common;
use crate::core_common;
use common::{Server, message};
use core_common::{basic, event_source, header};
use serde_json::{Value, json};

const USER: &str = "alice@example.org";
const PASS: &str = "correct horse battery";

async fn state_of(s: &Server, acct: &str, ty: &str) -> String {
    let r = s
        .call(
            USER,
            PASS,
            json!([[format!("{ty}/get"), {"accountId": acct, "ids": []}, "0"]]),
        )
        .await;
    r[0][1]["state"].as_str().expect("state").to_string()
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

#[tokio::test]
async fn state_change_follows_smtp_delivery() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    let addr = s.https;
    let auth = basic(USER, PASS);
    let reader = std::thread::spawn(move || {
        let (status, headers, mut sse) =
            event_source(addr, &auth, "types=*&closeafter=no&ping=0", None);
        assert_eq!(status, 200);
        assert!(
            header(&headers, "content-type")
                .unwrap_or_default()
                .starts_with("text/event-stream")
        );
        // The socket's read timeout (30 s) bounds the wait.
        sse.next().expect("a state event")
    });
    // Deliver until the reader has connected and seen it (the first delivery may race the
    // connection being set up; every delivery is a change).
    let mut n = 0;
    while !reader.is_finished() && n < 20 {
        deliver(&s, &format!("m{n}"));
        n += 1;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let ev = reader.join().expect("reader");
    assert_eq!(ev.event, "state");
    assert!(ev.id.is_some());
    let v: Value = serde_json::from_str(&ev.data).expect("json");
    assert_eq!(v["@type"], json!("StateChange"));
    let changed = &v["changed"][&acct];
    for ty in ["Email", "Mailbox", "Thread", "EmailDelivery"] {
        assert!(changed[ty].is_string(), "{ty} missing in {v}");
    }
    // The states are /get's states (at most as new as now).
    let email_now: u64 = state_of(&s, &acct, "Email").await.parse().expect("num");
    let pushed: u64 = changed["Email"].as_str().expect("s").parse().expect("num");
    assert!(pushed <= email_now && pushed > 0);
}

#[tokio::test]
async fn closeafter_state_types_filter_and_last_event_id() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    let addr = s.https;
    let auth = basic(USER, PASS);

    // Last-Event-ID 0: everything since the beginning is due at once (the default mailboxes).
    let a2 = auth.clone();
    let replay = std::thread::spawn(move || {
        let (status, _, mut sse) = event_source(
            addr,
            &a2,
            "types=Mailbox&closeafter=state&ping=0",
            Some("0"),
        );
        assert_eq!(status, 200);
        let ev = sse.next().expect("replayed state");
        let after = sse.next();
        (ev, after.is_none() && sse.ended)
    });
    let (ev, closed) = replay.join().expect("replay");
    let v: Value = serde_json::from_str(&ev.data).expect("json");
    assert_eq!(
        v["changed"][&acct]
            .as_object()
            .map(|m| m.keys().cloned().collect::<Vec<_>>()),
        Some(vec!["Mailbox".to_string()]),
        "{v}"
    );
    assert_eq!(
        v["changed"][&acct]["Mailbox"],
        json!(state_of(&s, &acct, "Mailbox").await)
    );
    assert!(
        closed,
        "closeafter=state must end the response after the state event"
    );

    // types=Email only, closeafter=state: one event after a delivery, then the end.
    let a3 = auth.clone();
    let one = std::thread::spawn(move || {
        let (_, _, mut sse) = event_source(addr, &a3, "types=Email&closeafter=state&ping=0", None);
        let ev = sse.next().expect("state");
        (ev, sse.next().is_none())
    });
    let mut n = 0;
    while !one.is_finished() && n < 20 {
        deliver(&s, &format!("f{n}"));
        n += 1;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let (ev, ended) = one.join().expect("one");
    let v: Value = serde_json::from_str(&ev.data).expect("json");
    let keys: Vec<String> = v["changed"][&acct]
        .as_object()
        .expect("obj")
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, vec!["Email"]);
    assert!(ended);
}

#[tokio::test]
async fn ping_is_clamped_and_bad_parameters_are_400() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let addr = s.https;
    let auth = basic(USER, PASS);
    let a2 = auth.clone();
    let ping = std::thread::spawn(move || {
        let (_, _, mut sse) = event_source(addr, &a2, "types=*&closeafter=no&ping=1", None);
        sse.next().expect("ping")
    });
    let ev = ping.join().expect("ping");
    assert_eq!(ev.event, "ping");
    assert!(ev.id.is_none(), "a ping must not set an event id");
    let v: Value = serde_json::from_str(&ev.data).expect("json");
    assert_eq!(v, json!({"interval": 5}));

    for q in [
        "closeafter=no&ping=0",
        "types=*&closeafter=later",
        "types=*&ping=-3",
        "types=*&ping=soon",
    ] {
        let (status, headers, _) = event_source(addr, &auth, q, None);
        assert_eq!(status, 400, "{q}");
        assert_eq!(
            header(&headers, "content-type"),
            Some("application/problem+json"),
            "{q}"
        );
    }
    let (status, _, _) = event_source(addr, &basic(USER, "wrong"), "types=*", None);
    assert_eq!(status, 401);
}
