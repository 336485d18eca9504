//! Issue 26: any signed-in user could make the server open connections inside its own
//! network. PushSubscription/set accepted `"url": "https://127.0.0.1:PORT/push"` (or
//! `https://169.254.169.254/...`) and the server connected there at once for the verification
//! POST, so timing and errors mapped what was listening (RFC 8620 §7.2 security notes).
//!
//! These tests hold a TCP listener on loopback, ask the real server to push to it in every
//! notation an attacker could try (loopback, private, link-local, unique-local, IPv4-mapped,
//! decimal/octal/hex IPv4, a public-looking name that resolves to loopback through the
//! server's configured DNS server), check each create is refused with invalidProperties naming
//! the URL, and check that NO connection arrives. A control test shows the same listener does
//! see the connection once the admin lists the address in `[fetch] allow_private`.

use crate::common;
use crate::smtp_support;

use common::Server;
use serde_json::{Value, json};
use smtp_support::Dns;
use std::net::{IpAddr, TcpListener};
use std::time::{Duration, Instant};

const USER: &str = "alice@example.org";
const PASS: &str = "correct horse battery";

/// A TCP listener on 127.0.0.1 (and [::1] on the same port when the host has IPv6 loopback)
/// that records whether anything connected.
struct Trap {
    port: u16,
    listeners: Vec<TcpListener>,
}

impl Trap {
    fn start() -> Trap {
        let v4 = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = v4.local_addr().expect("addr").port();
        let mut listeners = vec![v4];
        if let Ok(v6) = TcpListener::bind(("::1", port)) {
            listeners.push(v6);
        }
        for l in &listeners {
            l.set_nonblocking(true).expect("nonblocking");
        }
        Trap { port, listeners }
    }

    /// The first connection within `wait`, if any.
    fn accept_within(&self, wait: Duration) -> Option<std::net::SocketAddr> {
        let end = Instant::now() + wait;
        while Instant::now() < end {
            for l in &self.listeners {
                if let Ok((_, from)) = l.accept() {
                    return Some(from);
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

/// A server whose DNS server is `dns`, with `fetch` as its `[fetch]` table.
fn server(dns: &Dns, fetch: &str) -> (Server, tempfile::TempDir) {
    server_with(dns, fetch, &[])
}

/// Like [`server`], with more `serve` flags.
fn server_with(dns: &Dns, fetch: &str, flags: &[&str]) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("dir");
    let cfg = dir.path().join("mailnook.toml");
    std::fs::write(
        &cfg,
        format!("dns_resolver = \"{}\"\n[fetch]\n{fetch}\n", dns.addr),
    )
    .expect("config");
    let mut args = vec!["--config", cfg.to_str().expect("path")];
    args.extend_from_slice(flags);
    let s = Server::start_with(&args);
    s.add_user(USER, PASS);
    (s, dir)
}

async fn create(s: &Server, urls: &[(String, String)]) -> Value {
    let creates: serde_json::Map<String, Value> = urls
        .iter()
        .map(|(cid, url)| (cid.clone(), json!({"deviceClientId": cid, "url": url})))
        .collect();
    let r = s
        .call(
            USER,
            PASS,
            json!([["PushSubscription/set", {"create": creates}, "0"]]),
        )
        .await;
    r[0][1].clone()
}

fn loopback_dns() -> Dns {
    let dns = Dns::start();
    let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
    // Public-looking names that resolve inside the network.
    dns.ip("evil.example.com", ip("127.0.0.1"));
    dns.ip("metadata.example.com", ip("169.254.169.254"));
    dns.ip("lan.example.com", ip("192.168.1.20"));
    dns.ip("v6.example.com", ip("fd00::1"));
    // One public and one private answer: the name is not trusted.
    dns.ip("mixed.example.com", ip("93.184.215.14"));
    dns.ip("mixed.example.com", ip("10.0.0.7"));
    dns
}

#[tokio::test]
async fn push_urls_inside_the_network_are_refused_and_never_contacted() {
    let trap = Trap::start();
    let dns = loopback_dns();
    let (s, _cfg) = server(&dns, "");
    let p = trap.port;
    let hosts = [
        "127.0.0.1",
        "localhost",
        "[::1]",
        "0.0.0.0",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",
        "169.254.169.254",
        "[fd00::1]",
        "[fe80::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[64:ff9b::7f00:1]",
        "[2002:7f00:1::1]",
        "2130706433",
        "0177.0.0.1",
        "0x7f.0.0.1",
        "127.1",
        "evil.example.com",
        "EVIL.example.com.",
        "metadata.example.com",
        "lan.example.com",
        "v6.example.com",
        "mixed.example.com",
        "nowhere.example.com",
    ];
    let urls: Vec<(String, String)> = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| (format!("c{i}"), format!("https://{h}:{p}/push")))
        .collect();
    let r = create(&s, &urls).await;
    assert_eq!(r["created"], Value::Null, "{r}");
    for (cid, url) in &urls {
        let e = &r["notCreated"][cid];
        assert_eq!(e["type"], "invalidProperties", "{url}: {r}");
        assert_eq!(e["properties"], json!(["url"]), "{url}: {r}");
        let d = e["description"].as_str().unwrap_or_default();
        assert!(
            d.contains(url.as_str()),
            "{url}: the error names the URL: {d}"
        );
    }
    // Nothing was stored, and nothing connected to the listener.
    let got = s
        .call(USER, PASS, json!([["PushSubscription/get", {}, "0"]]))
        .await;
    assert_eq!(got[0][1]["list"], json!([]), "{got:?}");
    assert_eq!(
        trap.accept_within(Duration::from_secs(5)),
        None,
        "the server connected to the test's loopback listener"
    );
}

#[tokio::test]
async fn the_admin_exception_lets_a_listed_address_through_and_nothing_else() {
    let trap = Trap::start();
    let dns = loopback_dns();
    // The exception given on the command line this time (the other tests use the config file).
    let (s, _cfg) = server_with(&dns, "", &["--fetch-allow-private", "127.0.0.1/32"]);
    let p = trap.port;
    let urls = vec![
        (
            "lan".to_string(),
            format!("https://lan.example.com:{p}/push"),
        ),
        ("v6".to_string(), format!("https://[::1]:{p}/push")),
        (
            "ok".to_string(),
            format!("https://evil.example.com:{p}/push"),
        ),
    ];
    let r = create(&s, &urls).await;
    assert_eq!(r["notCreated"]["lan"]["type"], "invalidProperties", "{r}");
    assert_eq!(r["notCreated"]["v6"]["type"], "invalidProperties", "{r}");
    assert!(r["created"]["ok"]["id"].is_string(), "{r}");
    // The verification POST goes to the listed address (through the configured DNS server):
    // this is the connection the refusal test makes sure never happens.
    let from = trap.accept_within(Duration::from_secs(30));
    assert!(
        from.is_some_and(|a| a.ip().is_loopback()),
        "the verification push connected: {from:?}"
    );
}

/// Issue 26 asks for a bound on how many push URLs one account may hold: at most 50
/// subscriptions, the next is overQuota.
#[tokio::test]
async fn subscriptions_per_account_are_capped() {
    let trap = Trap::start();
    let dns = loopback_dns();
    let (s, _cfg) = server(&dns, "allow_private = [\"127.0.0.1/32\"]");
    let url = format!("https://evil.example.com:{}/push", trap.port);
    let urls: Vec<(String, String)> = (0..50).map(|i| (format!("c{i}"), url.clone())).collect();
    let r = create(&s, &urls).await;
    assert_eq!(r["created"].as_object().map(|m| m.len()), Some(50), "{r}");
    let r = create(&s, &[("one-more".to_string(), url)]).await;
    assert_eq!(r["notCreated"]["one-more"]["type"], "overQuota", "{r}");
}
