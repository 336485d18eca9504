//! Outbound MTA-STS (RFC 8461) through the real server: the queue looks up
//! `_mta-sts.remote.example` in the loopback DNS server, fetches the policy from an HTTPS
//! policy host started here (a small rustls server whose certificate the server trusts through
//! `[mta_sts] ca_file`; `[fetch] allow_private` lets the SSRF gate reach 127.0.0.1), and
//! delivers to the stand-in MX (tests/it/send_support) only as the policy allows.
//!
//! - enforce: a matching MX gets the message over verified TLS; an MX the policy does not
//!   name gets nothing (4.7.5, the message waits);
//! - the cached policy still applies when the policy host is down and the TXT id changed,
//!   also after a restart (the cache is in the store);
//! - testing: delivery as before, with the mismatch and the certificate failure reported.

use crate::common::{Server, eventually};
use crate::send_support::{self, FakeSmtp};
use crate::smtp_support::Dns;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

const ALICE: &str = "alice@example.org";
const PW: &str = "alice's long password";

/// An HTTPS server for `mta-sts.remote.example` answering every request with the current
/// policy (`None`: the host is down and drops every connection; text starting with
/// `HTTP/1.1 ` is sent as the whole response).
struct PolicyHost {
    addr: SocketAddr,
    cert_pem: String,
    policy: Arc<Mutex<Option<String>>>,
    hits: Arc<AtomicUsize>,
}

impl PolicyHost {
    fn start(name: &str) -> PolicyHost {
        let ck = rcgen::generate_simple_self_signed(vec![name.to_string()]).expect("cert");
        let cert_pem = ck.cert.pem();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(
                    vec![ck.cert.der().clone()],
                    rustls::pki_types::PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into()),
                )
                .expect("tls config"),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let policy: Arc<Mutex<Option<String>>> = Arc::default();
        let hits: Arc<AtomicUsize> = Arc::default();
        let (p2, h2) = (policy.clone(), hits.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let Some(body) = p2.lock().unwrap().clone() else {
                    continue; // down: the connection is dropped at once
                };
                h2.fetch_add(1, Ordering::SeqCst);
                let tls = tls.clone();
                std::thread::spawn(move || {
                    let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(10)));
                    let server = rustls::ServerConnection::new(tls).unwrap();
                    let mut s = rustls::StreamOwned::new(server, conn);
                    let mut req = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => req.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&req);
                    let ok = head.starts_with("GET /.well-known/mta-sts.txt HTTP/1.1\r\n");
                    let (status, body) = if ok {
                        ("200 OK", body)
                    } else {
                        ("404 Not Found", String::new())
                    };
                    if body.starts_with("HTTP/1.1 ") {
                        // A whole response of the test's making (a redirect).
                        let _ = s.write_all(body.as_bytes());
                        let _ = s.flush();
                        return;
                    }
                    let _ = write!(
                        s,
                        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
                         Connection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = s.flush();
                    s.conn.send_close_notify();
                    let _ = s.flush();
                });
            }
        });
        PolicyHost {
            addr,
            cert_pem,
            policy,
            hits,
        }
    }

    fn serve(&self, policy: Option<&str>) {
        *self.policy.lock().unwrap() = policy.map(str::to_string);
    }
}

fn policy(mode: &str, mx: &str) -> String {
    format!("version: STSv1\r\nmode: {mode}\r\nmx: {mx}\r\nmax_age: 86400\r\n")
}

/// DNS for remote.example: MX localhost (the stand-in), the policy host at 127.0.0.1 and an
/// `_mta-sts` record with `id`.
fn zone(id: &str) -> Dns {
    let dns = Dns::start();
    dns.no_caching();
    dns.mx("remote.example", 10, "localhost");
    dns.ip("mta-sts.remote.example", "127.0.0.1".parse().unwrap());
    dns.txt("_mta-sts.remote.example", &format!("v=STSv1; id={id}"));
    dns
}

fn set_id(dns: &Dns, id: &str) {
    dns.clear("_mta-sts.remote.example");
    dns.txt("_mta-sts.remote.example", &format!("v=STSv1; id={id}"));
}

/// Starts the server; `trusted` are the PEM certificates of `[mta_sts] ca_file`.
fn start(
    dir: &std::path::Path,
    dns: &Dns,
    fake: &FakeSmtp,
    host: &PolicyHost,
    trusted: &[&str],
    extra: &str,
) -> Vec<String> {
    let ca = dir.join("mta-sts-ca.pem");
    std::fs::write(&ca, trusted.concat()).unwrap();
    let cfg = dir.join("mailnook.toml");
    std::fs::write(
        &cfg,
        format!(
            "hostname = \"mail.example.org\"\n\
             dns_resolver = \"{}\"\n\
             [outbound]\n\
             mx_port = {}\n\
             retry_first_secs = 1\n\
             retry_max_secs = 1\n\
             timeout_secs = 10\n\
             [fetch]\n\
             allow_private = [\"127.0.0.1/32\"]\n\
             connect_timeout_secs = 2\n\
             timeout_secs = 5\n\
             [mta_sts]\n\
             policy_port = {}\n\
             ca_file = \"{}\"\n\
             {extra}",
            dns.addr,
            fake.addr.port(),
            host.addr.port(),
            ca.display()
        ),
    )
    .unwrap();
    vec!["--config".into(), cfg.display().to_string()]
}

fn send(server: &Server, subject: &str) {
    let raw = format!(
        "From: {ALICE}\r\nTo: carol@remote.example\r\nSubject: {subject}\r\n\
         Message-ID: <{subject}@example.org>\r\n\r\nUnder a policy.\r\n"
    );
    send_support::submit(
        server,
        ALICE,
        PW,
        ALICE,
        &["carol@remote.example"],
        raw.as_bytes(),
    )
    .expect("submission accepted");
}

fn delivered(fake: &FakeSmtp, subject: &str) -> Option<send_support::Seen> {
    fake.messages().into_iter().find(|m| {
        String::from_utf8_lossy(m.data.as_deref().unwrap_or_default())
            .contains(&format!("Subject: {subject}\r\n"))
    })
}

/// Waits until the log, from byte `from` on (a restart appends to the same file), has
/// `needle` at least `n` times; returns that part of the log.
async fn logged(server: &Server, from: usize, needle: &str, n: usize) -> String {
    eventually(&format!("the log to say {needle:?} {n} time(s)"), || {
        let log = server.log().get(from..).unwrap_or_default().to_string();
        async move { (log.matches(needle).count() >= n).then_some(log) }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enforce_refuses_a_mismatched_mx_and_the_cache_outlives_the_policy_host() {
    let fake = FakeSmtp::start();
    let host = PolicyHost::start("mta-sts.remote.example");
    let dns = zone("one");
    let dir = tempfile::tempdir().unwrap();
    let args = start(
        dir.path(),
        &dns,
        &fake,
        &host,
        &[&fake.cert_pem, &host.cert_pem],
        "",
    );
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let data = dir.path().join("data");
    let mut server = Server::start_in(&data, &refs);
    server.add_user(ALICE, PW);

    // 1. Enforce naming the MX: delivered, over TLS with a verified certificate.
    host.serve(Some(&policy("enforce", "localhost")));
    send(&server, "first");
    let got = eventually("the MX to get the first message", || {
        let m = delivered(&fake, "first");
        async move { m }
    })
    .await;
    assert!(got.tls, "TLS is required under an enforce policy");
    let admin = crate::admin_support::admin_login(&server).await;
    let (_, v) = admin.get(&server, "/admin/api/status").await;
    let line = &v["tls_results"][0];
    assert_eq!(line["domain"], "remote.example", "{v}");
    assert_eq!(
        (line["mode"].as_str(), line["successes"].as_u64()),
        (Some("enforce"), Some(1)),
        "{v}"
    );
    assert_eq!(
        host.hits.load(Ordering::SeqCst),
        1,
        "the policy was fetched once"
    );

    // 2. A new policy (new id) that names another MX: the message is held, not delivered.
    host.serve(Some(&policy("enforce", "mx.remote.example")));
    set_id(&dns, "two");
    send(&server, "second");
    const HELD: &str = "to remote.example: 451 4.7.5 MTA-STS: no MX host of remote.example matches";
    let log = logged(&server, 0, &format!("q2 {HELD}"), 1).await;
    assert!(
        log.contains("policy two fetched (mode enforce, mx mx.remote.example)"),
        "{log}"
    );
    // It keeps waiting (retried every second, refused each time), never reaching the MX.
    logged(&server, 0, &format!("q2 {HELD}"), 2).await;
    assert!(
        delivered(&fake, "second").is_none(),
        "an enforce policy held it back"
    );

    // 3. The policy host goes down and the record changes: the cached policy (which the
    // restart keeps, it is in the store) still holds the messages back. Without it, they
    // would go out as if there were no policy.
    host.serve(None);
    set_id(&dns, "three");
    server.kill();
    let restarted_at = server.log().len();
    let server = Server::start_in(&data, &refs);
    send(&server, "third");
    let log = logged(&server, restarted_at, &format!("q3 {HELD}"), 1).await;
    assert!(
        log.contains("policy fetch failed") && log.contains("using the cached policy"),
        "{log}"
    );
    logged(&server, restarted_at, &format!("q2 {HELD}"), 1).await;
    assert!(
        delivered(&fake, "third").is_none(),
        "the cached enforce policy applied"
    );
    assert!(delivered(&fake, "second").is_none());
    assert_eq!(fake.messages().len(), 1, "only the first message went out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn testing_mode_delivers_as_before_and_reports() {
    let fake = FakeSmtp::start();
    let host = PolicyHost::start("mta-sts.remote.example");
    let dns = zone("t1");
    let dir = tempfile::tempdir().unwrap();
    // The stand-in MX's certificate is not trusted: a verified TLS session is impossible.
    let args = start(dir.path(), &dns, &fake, &host, &[&host.cert_pem], "");
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start_in(&dir.path().join("data"), &refs);
    server.add_user(ALICE, PW);
    host.serve(Some(&policy("testing", "mx.remote.example")));

    send(&server, "testing");
    let got = eventually("the MX to get the message", || {
        let m = delivered(&fake, "testing");
        async move { m }
    })
    .await;
    assert!(got.tls, "opportunistic TLS as before");
    let log = logged(
        &server,
        0,
        "delivering anyway, an enforce policy would refuse it",
        1,
    )
    .await;
    assert!(
        log.contains("mta-sts: remote.example (testing): MX localhost does not match the policy"),
        "{log}"
    );
    let log = logged(&server, 0, "delivered anyway (testing mode)", 1).await;
    assert!(log.contains("certificate-not-trusted"), "{log}");
    // The counts a TLS report is built from (RFC 8460 §4.3), on the admin API.
    let admin = crate::admin_support::admin_login(&server).await;
    let (status, v) = admin.get(&server, "/admin/api/status").await;
    assert_eq!(status, 200, "{v}");
    let line = v["tls_results"]
        .as_array()
        .and_then(|l| l.iter().find(|l| l["domain"] == "remote.example"))
        .unwrap_or_else(|| panic!("no TLS results for remote.example: {v}"))
        .clone();
    assert_eq!(line["policy"], "sts", "{line}");
    assert_eq!(line["mode"], "testing", "{line}");
    assert_eq!(line["failures"]["certificate-not-trusted"], 1, "{line}");
    assert_eq!(line["successes"], 0, "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_domain_without_a_record_is_delivered_as_before() {
    let fake = FakeSmtp::start();
    let host = PolicyHost::start("mta-sts.remote.example");
    let dns = zone("unused");
    dns.clear("_mta-sts.remote.example");
    let dir = tempfile::tempdir().unwrap();
    let args = start(dir.path(), &dns, &fake, &host, &[&host.cert_pem], "");
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start_in(&dir.path().join("data"), &refs);
    server.add_user(ALICE, PW);
    host.serve(Some(&policy("enforce", "mx.remote.example")));
    send(&server, "plain");
    eventually("the MX to get the message", || {
        let m = delivered(&fake, "plain");
        async move { m }
    })
    .await;
    assert_eq!(host.hits.load(Ordering::SeqCst), 0, "no record, no fetch");
}

/// RFC 8460: after the reporting period (2 s here instead of a day) the server mails the
/// aggregate report to the `rua` of `_smtp._tls.remote.example`, from the null sender,
/// DKIM-signed, with the JSON the RFC describes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_reports_go_to_the_domains_rua() {
    use base64::Engine;
    let fake = FakeSmtp::start();
    let host = PolicyHost::start("mta-sts.remote.example");
    let dns = zone("r1");
    dns.txt(
        "_smtp._tls.remote.example",
        "v=TLSRPTv1; rua=mailto:tls-reports@remote.example",
    );
    let dir = tempfile::tempdir().unwrap();
    let args = start(
        dir.path(),
        &dns,
        &fake,
        &host,
        &[&host.cert_pem],
        "tlsrpt_period_secs = 2\n",
    );
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start_in(&dir.path().join("data"), &refs);
    server.add_user(ALICE, PW);
    host.serve(Some(&policy("testing", "localhost")));
    send(&server, "reported");

    // The first report that counts the failed session of the message above.
    let (seen, report) = eventually("a TLS report with the certificate failure", || {
        let found = fake.messages().into_iter().find_map(|m| {
            let text = String::from_utf8_lossy(m.data.as_deref().unwrap_or_default()).to_string();
            if !text.contains("TLS-Report-Domain: remote.example\r\n") {
                return None;
            }
            let json = text
                .split("Content-Disposition: attachment")
                .nth(1)?
                .split("\r\n\r\n")
                .nth(1)?
                .split("--")
                .next()?
                .replace("\r\n", "");
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(json)
                .ok()?;
            let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
            let failures = v["policies"][0]["summary"]["total-failure-session-count"].as_u64()?;
            (failures >= 1).then_some((m, v))
        });
        async move { found }
    })
    .await;
    assert_eq!(seen.mail_from, "", "reports go from the null sender");
    assert_eq!(seen.rcpts, vec!["tls-reports@remote.example".to_string()]);
    let text = String::from_utf8_lossy(seen.data.as_deref().unwrap()).to_string();
    assert!(text.contains("DKIM-Signature:"), "{text}");
    assert!(
        text.contains("TLS-Report-Submitter: mail.example.org\r\n"),
        "{text}"
    );
    assert!(text.contains("report-type=\"tlsrpt\""), "{text}");
    let p = &report["policies"][0];
    assert_eq!(p["policy"]["policy-type"], "sts", "{report}");
    assert_eq!(p["policy"]["policy-domain"], "remote.example", "{report}");
    assert_eq!(p["policy"]["mx-host"][0], "localhost", "{report}");
    assert_eq!(
        p["failure-details"][0]["result-type"], "certificate-not-trusted",
        "{report}"
    );
    assert_eq!(report["organization-name"], "mail.example.org");
    assert!(
        report["report-id"]
            .as_str()
            .is_some_and(|id| id.ends_with("@mail.example.org"))
    );
}

/// RFC 8461 §3.3: a redirect is not followed and an oversized policy is not read; either way
/// the domain has no usable policy and mail goes as before (here: to an MX an enforce policy
/// would have refused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_or_an_oversized_policy_is_no_policy() {
    let fake = FakeSmtp::start();
    let host = PolicyHost::start("mta-sts.remote.example");
    let dns = zone("redirect");
    let dir = tempfile::tempdir().unwrap();
    let args = start(dir.path(), &dns, &fake, &host, &[&host.cert_pem], "");
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start_in(&dir.path().join("data"), &refs);
    server.add_user(ALICE, PW);

    host.serve(Some(
        "HTTP/1.1 301 Moved Permanently\r\nLocation: https://mta-sts.other.example/.well-known/mta-sts.txt\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n",
    ));
    send(&server, "redirected");
    eventually("the MX to get the message", || {
        let m = delivered(&fake, "redirected");
        async move { m }
    })
    .await;
    let log = logged(&server, 0, "policy fetch failed", 1).await;
    assert!(log.contains("answered HTTP 301"), "{log}");

    // 70 KB of policy (over the 64 KiB bound): refused without being read to the end.
    let mut big = policy("enforce", "mx.remote.example");
    big.push_str(&"x-padding: 0123456789abcdef0123456789abcdef0123456789abcdef\r\n".repeat(1200));
    host.serve(Some(&big));
    set_id(&dns, "big");
    send(&server, "oversized");
    eventually("the MX to get the message", || {
        let m = delivered(&fake, "oversized");
        async move { m }
    })
    .await;
    let log = logged(&server, 0, "policy fetch failed", 2).await;
    assert!(
        log.matches("no cached policy; delivering without one")
            .count()
            >= 2,
        "{log}"
    );
}

/// The policy host is named by the remote domain, so its fetch goes through the SSRF gate
/// (`net_guard`): a name that resolves to a private address is refused without a connection,
/// and the domain is treated as having no policy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_host_on_a_private_address_is_never_contacted() {
    let fake = FakeSmtp::start();
    let host = PolicyHost::start("mta-sts.remote.example");
    let dns = zone("private");
    dns.clear("mta-sts.remote.example");
    dns.ip("mta-sts.remote.example", "10.0.0.1".parse().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let args = start(dir.path(), &dns, &fake, &host, &[&host.cert_pem], "");
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let server = Server::start_in(&dir.path().join("data"), &refs);
    server.add_user(ALICE, PW);
    host.serve(Some(&policy("enforce", "mx.remote.example")));
    send(&server, "guarded");
    eventually("the MX to get the message", || {
        let m = delivered(&fake, "guarded");
        async move { m }
    })
    .await;
    let log = logged(&server, 0, "policy fetch failed", 1).await;
    assert!(
        log.contains("mta-sts.remote.example is 10.0.0.1, a private (RFC 1918) address"),
        "{log}"
    );
}
