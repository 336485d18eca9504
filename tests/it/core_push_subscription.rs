//! RFC 8620 §7.2 PushSubscription through the real server, delivering to a real HTTPS push
//! endpoint run by the test (its certificate trusted through `push_ca_file`): verification
//! push on create, nothing else until verified, StateChange pushes for the chosen types after
//! an SMTP delivery, https-only URLs, immutable url, clamped expiry, url/keys never returned,
//! RFC 8291 encryption with keys, 410 from the push service destroys the subscription.

use crate::common;
use common::{Server, message};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

const USER: &str = "alice@example.org";
const PASS: &str = "correct horse battery";

/// One POST the push endpoint received.
#[derive(Debug)]
struct Pushed {
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Pushed {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("json body")
    }
}

/// A push service: HTTPS on 127.0.0.1 with a certificate for "localhost".
struct PushService {
    port: u16,
    rx: mpsc::Receiver<Pushed>,
    answer: Arc<AtomicU16>,
    _dir: tempfile::TempDir,
    ca: std::path::PathBuf,
}

impl PushService {
    fn start() -> PushService {
        let dir = tempfile::tempdir().expect("dir");
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .expect("params")
            .self_signed(&key)
            .expect("cert");
        let ca = dir.path().join("push-ca.pem");
        std::fs::write(&ca, cert.pem()).expect("ca file");
        let (certs, k) =
            mailnook::tls::parse_pem(cert.pem().as_bytes(), key.serialize_pem().as_bytes())
                .expect("pem");
        let config = mailnook::tls::server_config(certs, k).expect("server config");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let (tx, rx) = mpsc::channel();
        let answer = Arc::new(AtomicU16::new(201));
        let a2 = answer.clone();
        std::thread::spawn(move || {
            for tcp in listener.incoming() {
                let Ok(tcp) = tcp else { continue };
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                let conn = rustls::ServerConnection::new(config.clone()).expect("conn");
                let mut s = rustls::StreamOwned::new(conn, tcp);
                let mut r = BufReader::new(&mut s);
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    continue;
                }
                let path = line.split(' ').nth(1).unwrap_or_default().to_string();
                let mut headers = Vec::new();
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.trim_end().split_once(':') {
                        headers.push((k.trim().to_lowercase(), v.trim().to_string()));
                    }
                }
                let n: usize = headers
                    .iter()
                    .find(|(k, _)| k == "content-length")
                    .and_then(|(_, v)| v.parse().ok())
                    .unwrap_or(0);
                let mut body = vec![0; n];
                if r.read_exact(&mut body).is_err() {
                    continue;
                }
                let status = a2.load(Ordering::SeqCst);
                let _ = write!(
                    s,
                    "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = s.flush();
                let _ = tx.send(Pushed {
                    path,
                    headers,
                    body,
                });
            }
        });
        PushService {
            port,
            rx,
            answer,
            _dir: dir,
            ca,
        }
    }

    fn url(&self, tag: &str) -> String {
        format!("https://localhost:{}/push?device={tag}", self.port)
    }

    /// The next push, waiting at most 30 s.
    fn next(&self) -> Pushed {
        self.rx
            .recv_timeout(Duration::from_secs(30))
            .expect("a push within 30 s")
    }
}

/// The push stand-in listens on loopback, which the server refuses to contact unless the
/// admin lists it as an exception (net_guard, issue 26).
const ALLOW_LOOPBACK: &str = "[fetch]\nallow_private = [\"127.0.0.0/8\", \"::1/128\"]\n";

fn server_trusting(push: &PushService) -> (Server, tempfile::TempDir) {
    server_trusting_with(push, "")
}

/// Like [`server_trusting`], with more keys for the `[fetch]` table.
fn server_trusting_with(push: &PushService, fetch: &str) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("dir");
    let cfg = dir.path().join("mailnook.toml");
    std::fs::write(
        &cfg,
        format!(
            "push_ca_file = {:?}\n{ALLOW_LOOPBACK}{fetch}\n",
            push.ca.to_str().expect("path")
        ),
    )
    .expect("config");
    let s = Server::start_with(&["--config", cfg.to_str().expect("path")]);
    s.add_user(USER, PASS);
    (s, dir)
}

async fn set(s: &Server, args: Value) -> Value {
    let r = s
        .call(USER, PASS, json!([["PushSubscription/set", args, "0"]]))
        .await;
    r[0].clone()
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
async fn verification_flow_then_state_changes() {
    let push = PushService::start();
    let (s, _cfg) = server_trusting(&push);
    let acct = s.account_id(USER, PASS).await;

    let r = set(
        &s,
        json!({"create": {"p1": {
            "deviceClientId": "dev-1", "url": push.url("one"), "types": ["Email"],
            "expires": "2999-01-01T00:00:00Z",
        }}}),
    )
    .await;
    assert_eq!(r[0], "PushSubscription/set", "{r}");
    assert!(
        r[1].get("accountId").is_none() && r[1].get("oldState").is_none(),
        "{r}"
    );
    let id = r[1]["created"]["p1"]["id"]
        .as_str()
        .expect("id")
        .to_string();
    // Expiry clamped to at most 7 days ahead and returned.
    let expires = r[1]["created"]["p1"]["expires"]
        .as_str()
        .expect("expires")
        .to_string();
    assert!(expires.as_str() < "2999", "{expires}");
    assert_eq!(r[1]["created"]["p1"]["keys"], Value::Null);

    let v = push.next();
    assert_eq!(v.path, "/push?device=one");
    assert_eq!(v.header("content-type"), Some("application/json"));
    assert!(v.header("ttl").is_some(), "RFC 8030 TTL header");
    let body = v.json();
    assert_eq!(body["@type"], "PushVerification");
    assert_eq!(body["pushSubscriptionId"], json!(id));
    let code = body["verificationCode"].as_str().expect("code").to_string();
    assert!(code.len() >= 32, "enough entropy: {code}");

    // A change before verification: nothing may be pushed for it.
    deliver(&s, "early");

    // get: no url, no keys, no code yet; asking for url is forbidden.
    let r = s
        .call(
            USER,
            PASS,
            json!([
                ["PushSubscription/get", {"ids": null}, "0"],
                ["PushSubscription/get", {"ids": [id], "properties": ["url"]}, "1"],
                ["PushSubscription/get", {"ids": ["Pnope"]}, "2"],
            ]),
        )
        .await;
    let obj = &r[0][1]["list"][0];
    assert_eq!(obj["id"], json!(id));
    assert_eq!(obj["deviceClientId"], json!("dev-1"));
    assert_eq!(obj["verificationCode"], Value::Null);
    assert!(
        obj.get("url").is_none() && obj.get("keys").is_none(),
        "{obj}"
    );
    assert_eq!(r[1][1]["type"], "forbidden");
    assert_eq!(r[2][1]["notFound"], json!(["Pnope"]));

    // Wrong code: invalidProperties. Immutable url: invalidProperties. Right code: verified.
    let r = set(
        &s,
        json!({"update": {id.clone(): {"verificationCode": "0000"}}}),
    )
    .await;
    assert_eq!(r[1]["notUpdated"][&id]["type"], "invalidProperties", "{r}");
    assert_eq!(
        r[1]["notUpdated"][&id]["properties"],
        json!(["verificationCode"])
    );
    let r = set(
        &s,
        json!({"update": {id.clone(): {"url": push.url("other")}}}),
    )
    .await;
    assert_eq!(r[1]["notUpdated"][&id]["type"], "invalidProperties", "{r}");
    let r = set(
        &s,
        json!({"update": {id.clone(): {"verificationCode": code}}}),
    )
    .await;
    assert_eq!(r[1]["updated"], json!({ id.clone(): null }), "{r}");
    let r = s
        .call(
            USER,
            PASS,
            json!([["PushSubscription/get", {"ids": [id]}, "0"]]),
        )
        .await;
    assert_eq!(r[0][1]["list"][0]["verificationCode"], json!(code));

    // Now a delivery is pushed, with only the subscribed type, at a state at least as new as
    // the delivery (an early push for "early" would carry an older state).
    deliver(&s, "late");
    let r = s
        .call(
            USER,
            PASS,
            json!([["Email/get", {"accountId": acct, "ids": []}, "0"]]),
        )
        .await;
    let state_now: u64 = r[0][1]["state"]
        .as_str()
        .expect("state")
        .parse()
        .expect("n");
    let mut got = push.next().json();
    while got["changed"][&acct]["Email"]
        .as_str()
        .and_then(|s| s.parse::<u64>().ok())
        < Some(state_now)
    {
        got = push.next().json();
    }
    assert_eq!(got["@type"], "StateChange");
    let keys: Vec<&String> = got["changed"][&acct]
        .as_object()
        .expect("obj")
        .keys()
        .collect();
    assert_eq!(keys, vec!["Email"]);

    // Extending expiry far ahead is clamped, and the clamped value returned.
    let r = set(
        &s,
        json!({"update": {id.clone(): {"expires": "2999-01-01T00:00:00Z"}}}),
    )
    .await;
    assert!(r[1]["updated"][&id]["expires"].is_string(), "{r}");

    let r = set(&s, json!({"destroy": [id.clone()]})).await;
    assert_eq!(r[1]["destroyed"], json!([id.clone()]));
    let r = s
        .call(
            USER,
            PASS,
            json!([["PushSubscription/get", {"ids": [id]}, "0"]]),
        )
        .await;
    assert_eq!(r[0][1]["notFound"], json!([id]));
}

#[tokio::test]
async fn bad_subscriptions_are_refused() {
    let push = PushService::start();
    let (s, _cfg) = server_trusting(&push);
    let r = set(&s, json!({"create": {
        "http": {"deviceClientId": "d", "url": "http://localhost/push"},
        "nourl": {"deviceClientId": "d"},
        "code": {"deviceClientId": "d", "url": push.url("x"), "verificationCode": "abc"},
        "keys": {"deviceClientId": "d", "url": push.url("x"), "keys": {"p256dh": "AAAA", "auth": "BBBB"}},
        "past": {"deviceClientId": "d", "url": push.url("x"), "expires": "2001-01-01T00:00:00Z"},
        "id": {"id": "P1", "deviceClientId": "d", "url": push.url("x")},
    }}))
    .await;
    for (cid, prop) in [
        ("http", "url"),
        ("nourl", "url"),
        ("code", "verificationCode"),
        ("keys", "keys"),
        ("past", "expires"),
        ("id", "id"),
    ] {
        assert_eq!(
            r[1]["notCreated"][cid]["type"], "invalidProperties",
            "{cid}: {r}"
        );
        assert_eq!(
            r[1]["notCreated"][cid]["properties"],
            json!([prop]),
            "{cid}: {r}"
        );
    }
    // PushSubscription/set takes no accountId or ifInState (§7.2).
    let r = set(&s, json!({"accountId": "a1", "create": {}})).await;
    assert_eq!(r[1]["type"], "invalidArguments");
    let r = set(&s, json!({"ifInState": "1"})).await;
    assert_eq!(r[1]["type"], "invalidArguments");
}

#[tokio::test]
async fn encrypted_pushes_and_gone_subscriptions() {
    use base64::Engine;
    use ring::agreement;
    let push = PushService::start();
    let (s, _cfg) = server_trusting(&push);
    let rng = ring::rand::SystemRandom::new();
    let ua = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng).expect("key");
    let ua_public = ua.compute_public_key().expect("pub").as_ref().to_vec();
    let auth = [9u8; 16];
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let r = set(
        &s,
        json!({"create": {"k": {
            "deviceClientId": "dev-k", "url": push.url("k"),
            "keys": {"p256dh": b64(&ua_public), "auth": b64(&auth)},
        }}}),
    )
    .await;
    let id = r[1]["created"]["k"]["id"].as_str().expect("id").to_string();
    let v = push.next();
    assert_eq!(v.header("content-encoding"), Some("aes128gcm"));
    let plain = mailnook::http::webpush::decrypt(&v.body, ua, &ua_public, &auth).expect("decrypt");
    let body: Value = serde_json::from_slice(&plain).expect("json");
    assert_eq!(body["@type"], "PushVerification");
    assert_eq!(body["pushSubscriptionId"], json!(id));

    // A push service answering 410 Gone: the subscription is destroyed (RFC 8030 §7.3).
    push.answer.store(410, Ordering::SeqCst);
    let r = set(
        &s,
        json!({"create": {"g": {"deviceClientId": "dev-g", "url": push.url("g")}}}),
    )
    .await;
    let gone = r[1]["created"]["g"]["id"].as_str().expect("id").to_string();
    let _ = push.next();
    common::eventually("the gone subscription to be destroyed", || async {
        let r = s
            .call(
                USER,
                PASS,
                json!([["PushSubscription/get", {"ids": [gone]}, "0"]]),
            )
            .await;
        (r[0][1]["notFound"] == json!([gone])).then_some(())
    })
    .await;
}

/// Issue 26: each account may cause only `[fetch] pushes_per_minute` POSTs; a user cannot
/// make the server hammer a URL by creating subscriptions. Before the limit both
/// verifications went out at once.
#[tokio::test]
async fn pushes_per_account_are_rate_limited() {
    let push = PushService::start();
    let (s, _cfg) = server_trusting_with(&push, "pushes_per_minute = 1");
    let r = set(
        &s,
        json!({"create": {
            "a": {"deviceClientId": "dev-a", "url": push.url("a")},
            "b": {"deviceClientId": "dev-b", "url": push.url("b")},
        }}),
    )
    .await;
    assert!(r[1]["created"]["a"]["id"].is_string(), "{r:?}");
    assert!(r[1]["created"]["b"]["id"].is_string(), "{r:?}");
    let first = push.next();
    assert_eq!(first.json()["@type"], "PushVerification");
    assert!(
        push.rx.recv_timeout(Duration::from_secs(5)).is_err(),
        "the second verification waits for the account's next minute"
    );
}
