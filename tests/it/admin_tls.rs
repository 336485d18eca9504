//! Installing a certificate from the admin page: it takes effect for new HTTPS connections and
//! SMTP STARTTLS at once, survives a restart, and bad input changes nothing.

use crate::admin_support;
use crate::common;
use admin_support::*;
use common::*;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use serde_json::json;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

#[derive(Debug)]
struct AcceptAnyCert(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// Completes a TLS handshake on `sock` and returns the SHA-256 fingerprint of the server's
/// certificate, as the server prints it.
fn handshake_fingerprint(mut sock: TcpStream) -> String {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
        .with_no_client_auth();
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap())
            .unwrap();
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).expect("handshake");
    }
    let cert = &conn.peer_certificates().expect("server certificate")[0];
    mailnook::tls::fingerprint(cert)
}

pub(crate) fn https_fingerprint(addr: SocketAddr) -> String {
    handshake_fingerprint(TcpStream::connect(addr).unwrap())
}

/// EHLO, STARTTLS, then the handshake on the same connection (RFC 3207).
pub(crate) fn starttls_fingerprint(addr: SocketAddr) -> String {
    let mut sock = TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    let reply = |sock: &mut TcpStream| {
        // Byte by byte, so nothing after the reply is swallowed before the handshake.
        let mut all = String::new();
        let mut line = Vec::new();
        loop {
            let mut b = [0u8; 1];
            sock.read_exact(&mut b).unwrap();
            line.push(b[0]);
            if b[0] == b'\n' {
                let l = String::from_utf8_lossy(&line).to_string();
                all.push_str(&l);
                line.clear();
                if l.len() < 4 || l.as_bytes()[3] == b' ' {
                    return all;
                }
            }
        }
    };
    assert!(reply(&mut sock).starts_with("220"));
    sock.write_all(b"EHLO test.example\r\n").unwrap();
    let ehlo = reply(&mut sock);
    assert!(ehlo.contains("STARTTLS"), "{ehlo}");
    sock.write_all(b"STARTTLS\r\n").unwrap();
    assert!(reply(&mut sock).starts_with("220"));
    handshake_fingerprint(sock)
}

struct Pair {
    cert_pem: String,
    key_pem: String,
    fingerprint: String,
}

fn make_pair(cn: &str, expired: bool) -> Pair {
    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    if expired {
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    }
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    Pair {
        fingerprint: mailnook::tls::fingerprint(cert.der()),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

#[tokio::test]
async fn an_uploaded_certificate_takes_effect_at_once_and_survives_a_restart() {
    let s = Server::start();
    assert_eq!(https_fingerprint(s.https), s.fingerprint);
    assert_eq!(starttls_fingerprint(s.smtp), s.fingerprint);

    let pair = make_pair("installed.example", false);
    assert_ne!(pair.fingerprint, s.fingerprint);
    let a = admin_login(&s).await;
    let (status, v) = a
        .post(
            &s,
            "/admin/api/cert/install",
            json!({"cert_pem": pair.cert_pem, "key_pem": pair.key_pem}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["certificate"]["fingerprint_sha256"],
        pair.fingerprint.as_str()
    );
    assert_eq!(v["certificate"]["source"], "installed");
    assert!(
        v["certificate"]["subject"]
            .as_str()
            .unwrap()
            .contains("installed.example")
    );

    // New connections, HTTPS and SMTP STARTTLS alike, get the new certificate: no restart.
    assert_eq!(https_fingerprint(s.https), pair.fingerprint);
    assert_eq!(starttls_fingerprint(s.smtp), pair.fingerprint);
    let (status, setup) = a.get(&s, "/admin/api/setup").await;
    assert_eq!(status, 200);
    assert_eq!(
        setup["certificate"]["fingerprint_sha256"],
        pair.fingerprint.as_str()
    );

    // The key was stored for the owner only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(s.data_dir.join("tls-installed-key.pem"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // And it is still the certificate after a restart.
    let s = s.restart();
    assert_eq!(s.fingerprint, pair.fingerprint);
    assert_eq!(https_fingerprint(s.https), pair.fingerprint);
}

#[tokio::test]
async fn certificate_files_by_path_and_bad_input_changes_nothing() {
    let s = Server::start();
    let a = admin_login(&s).await;
    let dir = tempfile::tempdir().unwrap();
    let good = make_pair("by-path.example", false);
    let other = make_pair("other.example", false);
    let old = make_pair("old.example", true);
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let cert_path = write("fullchain.pem", &good.cert_pem);
    let key_path = write("privkey.pem", &good.key_pem);

    let bad = [
        (
            json!({"cert_pem": good.cert_pem, "key_pem": other.key_pem}),
            "do not match",
        ),
        (
            json!({"cert_pem": "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n", "key_pem": good.key_pem}),
            "",
        ),
        (
            json!({"cert_pem": "hello", "key_pem": "world"}),
            "no certificate",
        ),
        (
            json!({"cert_pem": old.cert_pem, "key_pem": old.key_pem}),
            "expired",
        ),
        (json!({"cert_pem": good.cert_pem}), "either"),
        (
            json!({"cert_pem": good.cert_pem, "key_pem": good.key_pem, "cert_path": cert_path, "key_path": key_path}),
            "either",
        ),
        (
            json!({"cert_path": "fullchain.pem", "key_path": "privkey.pem"}),
            "absolute",
        ),
        (
            json!({"cert_path": "/nonexistent/fullchain.pem", "key_path": key_path}),
            "cannot read",
        ),
        (json!({"cert_pem": 5}), "invalid type"),
        (json!({}), "either"),
    ];
    for (body, why) in bad {
        let (status, v) = a.post(&s, "/admin/api/cert/install", body.clone()).await;
        assert_eq!(status, 400, "{body}: {v}");
        assert!(v["detail"].as_str().unwrap().contains(why), "{why}: {v}");
        assert_eq!(https_fingerprint(s.https), s.fingerprint, "after {body}");
    }
    assert!(!s.data_dir.join("tls-installed.json").exists());

    let (status, v) = a
        .post(
            &s,
            "/admin/api/cert/install",
            json!({"cert_path": cert_path, "key_path": key_path}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["certificate"]["cert_path"], cert_path.as_str());
    assert_eq!(https_fingerprint(s.https), good.fingerprint);
    assert_eq!(starttls_fingerprint(s.smtp), good.fingerprint);
    // A non-admin cannot install one.
    s.add_user("ivan@example.org", "a long enough secret");
    let res = client()
        .post(format!("{}/admin/api/cert/install", s.base_url()))
        .basic_auth("ivan@example.org", Some("a long enough secret"))
        .header("Content-Type", "application/json")
        .body(json!({"cert_path": cert_path, "key_path": key_path}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
}

#[tokio::test]
async fn the_cli_installs_a_certificate_with_or_without_the_server_running() {
    let mut s = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    // Running: through the control socket, effective at once.
    let live = make_pair("cli-live.example", false);
    let (c, k) = (
        write("live.pem", &live.cert_pem),
        write("live.key", &live.key_pem),
    );
    let out = s.cli(&["cert", "install", "--cert", &c, "--key", &k], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(https_fingerprint(s.https), live.fingerprint);
    let out = s.cli(&["cert", "show"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&live.fingerprint) && text.contains("installed"),
        "{text}"
    );
    // Bad input is refused and changes nothing.
    let out = s.cli(
        &["cert", "install", "--cert", &c, "--key", "/nonexistent.key"],
        None,
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
    assert_eq!(https_fingerprint(s.https), live.fingerprint);
    // The admin page shows what the CLI installed.
    let a = admin_login(&s).await;
    let (_, setup) = a.get(&s, "/admin/api/setup").await;
    assert_eq!(
        setup["certificate"]["fingerprint_sha256"],
        live.fingerprint.as_str()
    );

    // Stopped: recorded in the data directory, used by the next start.
    s.kill();
    let offline = make_pair("cli-offline.example", false);
    let (c, k) = (
        write("off.pem", &offline.cert_pem),
        write("off.key", &offline.key_pem),
    );
    let out = s.cli(&["cert", "install", "--cert", &c, "--key", &k], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s2 = Server::start_in(&s.data_dir, &[]);
    assert_eq!(s2.fingerprint, offline.fingerprint);
    assert_eq!(https_fingerprint(s2.https), offline.fingerprint);
}
