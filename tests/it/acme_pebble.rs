//! ACME end to end against Pebble, Let's Encrypt's test CA (Debian package `pebble`, installed
//! by tests/setup/deps.sh), started here on loopback with its own TLS certificate, its
//! validation ports pointed at the server's HTTPS (TLS-ALPN-01) and plain-HTTP (HTTP-01)
//! listeners, and its DNS lookups sent to the tests' loopback DNS server.
//!
//! Checked through the real binary: the first certificate by TLS-ALPN-01 and by HTTP-01; a
//! renewal forced by Pebble's short validity, served by HTTPS, SMTP STARTTLS and submission
//! STARTTLS without a restart; a failing challenge reported in plain words on the admin API and
//! by `mailnook cert show`.

use crate::admin_support::admin_login;
use crate::admin_tls::{https_fingerprint, starttls_fingerprint};
use crate::smtp_support::{self, Dns, Srv};
use serde_json::Value;
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The names mailnook certifies by default for hostname `acme.test` (its admin's domain is
/// `acme.test`): the hostname, and `mta-sts.` and `autoconfig.` of the local domain.
const NAMES: [&str; 3] = ["acme.test", "mta-sts.acme.test", "autoconfig.acme.test"];

struct Pebble {
    child: Child,
    _dir: tempfile::TempDir,
    directory: String,
    ca_file: PathBuf,
    listen_port: u16,
    config: PathBuf,
}

impl Drop for Pebble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// Prepares Pebble (its TLS certificate and port); `run` starts it once the server's ports are
/// known. Pebble missing is a failure, not a skip.
fn pebble() -> Pebble {
    let found = Command::new("pebble")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(
        found,
        "pebble (Let's Encrypt's test CA) is not installed: run tests/setup/deps.sh \
         (apt-get install pebble)"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let mut params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "pebble test listener");
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let ca_file = dir.path().join("pebble-cert.pem");
    std::fs::write(&ca_file, cert.pem()).unwrap();
    std::fs::write(dir.path().join("pebble-key.pem"), key.serialize_pem()).unwrap();
    let listen_port = free_port();
    Pebble {
        child: Command::new("true").spawn().unwrap(),
        config: dir.path().join("pebble.json"),
        _dir: dir,
        directory: format!("https://127.0.0.1:{listen_port}/dir"),
        ca_file,
        listen_port,
    }
}

impl Pebble {
    fn run(&mut self, tls_port: u16, http_port: u16, dns: &Dns, validity_secs: u64) {
        let dir = self.config.parent().unwrap().to_path_buf();
        let config = serde_json::json!({"pebble": {
            "listenAddress": format!("127.0.0.1:{}", self.listen_port),
            "managementListenAddress": format!("127.0.0.1:{}", free_port()),
            "certificate": dir.join("pebble-cert.pem"),
            "privateKey": dir.join("pebble-key.pem"),
            "httpPort": http_port,
            "tlsPort": tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false,
            "certificateValidityPeriod": validity_secs,
        }});
        std::fs::write(&self.config, config.to_string()).unwrap();
        let log = std::fs::File::create(dir.join("pebble.log")).unwrap();
        let _ = self.child.wait();
        self.child = Command::new("pebble")
            .arg("-config")
            .arg(&self.config)
            .arg("-dnsserver")
            .arg(dns.addr.to_string())
            // No artificial sleeps, no rejected nonces, no reused authorizations: every order
            // is validated for real.
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .env("PEBBLE_AUTHZREUSE", "0")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start pebble");
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.listen_port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "pebble did not start: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.config.parent().unwrap().join("pebble.log"))
            .unwrap_or_default()
    }
}

/// The server with ACME pointed at `pebble`; names resolve to `ip` in the loopback DNS.
fn server(pebble: &Pebble, dns: &Dns, challenge: &str, ip: Ipv4Addr) -> Srv {
    for n in NAMES {
        dns.ip(n, IpAddr::V4(ip));
    }
    let http = if challenge == "http-01" {
        "http_listen = \"127.0.0.1:0\"\n"
    } else {
        ""
    };
    let config = format!(
        "hostname = \"acme.test\"\n{http}\n[acme]\ndirectory = \"{}\"\nca_file = \"{}\"\n\
         contact = [\"admin@acme.test\"]\nchallenge = \"{challenge}\"\n\
         retry_first_secs = 1\nretry_max_secs = 2\n",
        pebble.directory,
        pebble.ca_file.display()
    );
    smtp_support::start(&config, &[])
}

fn http_port(s: &Srv) -> u16 {
    s.stdout
        .iter()
        .find_map(|l| l.strip_prefix("HTTP  listening on "))
        .and_then(|r| r.split(' ').next())
        .and_then(|a| a.parse::<std::net::SocketAddr>().ok())
        .map(|a| a.port())
        .expect("HTTP listener printed")
}

/// Polls `f` every 200 ms for up to `secs`.
fn wait_for<T>(
    what: &str,
    secs: u64,
    s: &Srv,
    pebble: &Pebble,
    mut f: impl FnMut() -> Option<T>,
) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if start.elapsed() > Duration::from_secs(secs) {
            panic!(
                "timed out waiting for {what}\nserver log:\n{}\npebble log:\n{}",
                s.log(),
                pebble.log()
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn cert_show(s: &Srv) -> String {
    s.cli_ok(&["cert", "show"])
}

/// Waits until HTTPS serves a certificate other than `old` issued by Pebble; returns its
/// fingerprint.
fn wait_for_new_cert(s: &Srv, pebble: &Pebble, old: &str) -> String {
    let fp = wait_for("a certificate from Pebble", 120, s, pebble, || {
        let fp = https_fingerprint(s.https);
        (fp != old).then_some(fp)
    });
    let shown = cert_show(s);
    assert!(shown.contains(&fp), "{shown}");
    assert!(
        shown.contains("Pebble"),
        "issuer should be Pebble's: {shown}"
    );
    assert!(shown.contains("source  acme"), "{shown}");
    for n in NAMES {
        assert!(
            shown.contains(n),
            "{n} missing from the certificate: {shown}"
        );
    }
    fp
}

#[test]
fn tls_alpn_01_issues_and_a_renewal_is_served_by_https_and_starttls_without_restart() {
    let dns = Dns::start();
    let mut pebble = pebble();
    let s = server(&pebble, &dns, "tls-alpn-01", Ipv4Addr::LOCALHOST);
    // Until the first certificate arrives the self-signed one serves.
    assert_eq!(https_fingerprint(s.https), s.fingerprint);
    // Short-lived certificates (40 s) so the renewal (at two thirds) comes within the test.
    pebble.run(s.https.port(), free_port(), &dns, 40);
    let first = wait_for_new_cert(&s, &pebble, &s.fingerprint);
    assert_eq!(starttls_fingerprint(s.smtp), first);
    assert_eq!(starttls_fingerprint(s.submission), first);
    // The state file is written right after the switch: wait for it.
    let state: Value = wait_for("the ACME state", 10, &s, &pebble, || {
        let bytes = std::fs::read(s.data_dir.join("acme").join("state.json")).ok()?;
        let v: Value = serde_json::from_slice(&bytes).ok()?;
        v["last_success"].as_i64().map(|_| v)
    });
    assert!(
        state["issuer"].as_str().unwrap().contains("Pebble"),
        "{state}"
    );
    assert!(state["last_error"].is_null(), "{state}");
    // The next renewal is planned ahead (a third of the lifetime before expiry), not at once.
    assert!(
        state["next_attempt"].as_i64().unwrap() > state["last_success"].as_i64().unwrap(),
        "{state}"
    );
    // The renewal: a new certificate on every TLS listener, same process.
    let pid = s.pid();
    let second = wait_for_new_cert(&s, &pebble, &first);
    assert_eq!(s.pid(), pid);
    assert_eq!(starttls_fingerprint(s.smtp), second);
    assert_eq!(starttls_fingerprint(s.submission), second);
    assert!(s.log().contains("TLS-ALPN-01 validation answered"));
}

#[test]
fn http_01_issues_through_the_port_80_listener_which_otherwise_redirects() {
    let dns = Dns::start();
    let mut pebble = pebble();
    let s = server(&pebble, &dns, "http-01", Ipv4Addr::LOCALHOST);
    let port = http_port(&s);
    // Anything but a challenge is a redirect to HTTPS.
    let mut sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    use std::io::{Read, Write};
    sock.write_all(
        b"GET /jmap/session?x=1 HTTP/1.1\r\nHost: acme.test\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut answer = String::new();
    sock.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 301"), "{answer}");
    let location = format!(
        "location: https://acme.test:{}/jmap/session?x=1",
        s.https.port()
    );
    assert!(answer.to_lowercase().contains(&location), "{answer}");

    pebble.run(free_port(), port, &dns, 3600);
    let fp = wait_for_new_cert(&s, &pebble, &s.fingerprint);
    assert_eq!(starttls_fingerprint(s.smtp), fp);
    assert!(s.log().contains("HTTP-01 challenge answered"));
    let shown = cert_show(&s);
    assert!(shown.contains("(http-01)"), "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_challenge_is_reported_in_plain_words_on_the_admin_api() {
    let dns = Dns::start();
    let mut pebble = pebble();
    // The names point at 127.0.0.2, where nothing listens: the CA cannot connect.
    let s = server(&pebble, &dns, "tls-alpn-01", Ipv4Addr::new(127, 0, 0, 2));
    pebble.run(s.https.port(), free_port(), &dns, 3600);
    let admin = admin_login(&s).await;
    let start = Instant::now();
    let acme = loop {
        let (status, v) = admin.get(&s, "/admin/api/status").await;
        assert_eq!(status, 200, "{v}");
        let acme = v["acme"].clone();
        if acme["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("could not connect"))
        {
            break acme;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no challenge failure reported: {acme}\n{}\n{}",
            s.log(),
            pebble.log()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let error = acme["last_error"].as_str().unwrap();
    assert!(error.contains("acme.test"), "{error}");
    assert!(error.contains("port 443"), "{error}");
    assert!(acme["issuer"].is_null(), "{acme}");
    assert!(acme["failures"].as_u64().unwrap() >= 1, "{acme}");
    assert!(acme["next_attempt"].as_i64().is_some(), "{acme}");
    // The admin page says it too, next to the storage figure.
    let (status, page) = admin.get(&s, "/admin").await;
    assert_eq!(status, 200);
    let page = page.as_str().unwrap_or_default().to_string();
    assert!(page.contains("Certificate (ACME)"), "{page}");
    assert!(
        page.contains("none yet (the self-signed certificate serves); last attempt failed: the CA could not connect"),
        "{page}"
    );
    // ... when it tries again, and where to look for the DNS side of it.
    assert!(page.contains("; next try 20"), "{page}");
    assert!(page.contains("`mailnook dns check`"), "{page}");
    // The self-signed certificate keeps serving, and the CLI shows the same error.
    assert_eq!(https_fingerprint(s.https), s.fingerprint);
    let shown = cert_show(&s);
    assert!(
        shown.contains("acme error   the CA could not connect"),
        "{shown}"
    );
}
