//! A stand-in for the next hop in tests: a small SMTP server on loopback that speaks STARTTLS
//! and AUTH, answers RCPT with scripted replies, and records every transaction it sees.
#![allow(dead_code)]

use base64::Engine;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// One transaction as the stand-in saw it.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub tls: bool,
    /// (user, password) from AUTH PLAIN or LOGIN.
    pub auth: Option<(String, String)>,
    pub mail_from: String,
    /// The MAIL FROM parameters as sent (e.g. "SIZE=123 BODY=8BITMIME").
    pub mail_params: String,
    pub rcpts: Vec<String>,
    /// The message as received (dot-unstuffed), None if DATA never came.
    pub data: Option<Vec<u8>>,
}

pub struct FakeSmtp {
    pub addr: SocketAddr,
    /// PEM of the stand-in's self-signed certificate (to trust it as a smarthost).
    pub cert_pem: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// Replies for the next RCPT commands, in order; "250 2.1.5 OK" when empty.
    pub rcpt_replies: Arc<Mutex<VecDeque<String>>>,
    /// Whether EHLO offers 8BITMIME (RFC 6152); off unless a test turns it on.
    pub eightbitmime: Arc<AtomicBool>,
}

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

impl FakeSmtp {
    pub fn start() -> FakeSmtp {
        let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()])
            .expect("cert");
        let cert_pem = ck.cert.pem();
        let cert_der = ck.cert.der().clone();
        let key_der = ck.signing_key.serialize_der();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = Arc::new(
            rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(
                    vec![cert_der],
                    rustls::pki_types::PrivateKeyDer::Pkcs8(key_der.into()),
                )
                .expect("tls config"),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let rcpt_replies: Arc<Mutex<VecDeque<String>>> = Arc::default();
        let eightbitmime: Arc<AtomicBool> = Arc::default();
        let (s2, r2, e2) = (seen.clone(), rcpt_replies.clone(), eightbitmime.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (s3, r3, t3) = (s2.clone(), r2.clone(), tls.clone());
                let e3 = e2.load(Ordering::SeqCst);
                std::thread::spawn(move || {
                    let _ = session(conn, t3, s3, r3, e3);
                });
            }
        });
        FakeSmtp {
            addr,
            cert_pem,
            seen,
            rcpt_replies,
            eightbitmime,
        }
    }

    pub fn script(&self, replies: &[&str]) {
        let mut q = self.rcpt_replies.lock().unwrap();
        q.extend(replies.iter().map(|s| s.to_string()));
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Transactions that carried a message.
    pub fn messages(&self) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.data.is_some())
            .collect()
    }
}

fn read_line(r: &mut dyn BufRead) -> std::io::Result<String> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn session(
    conn: TcpStream,
    tls: Arc<rustls::ServerConfig>,
    seen: Arc<Mutex<Vec<Seen>>>,
    replies: Arc<Mutex<VecDeque<String>>>,
    eightbitmime: bool,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    let mut stream: BufReader<Box<dyn Stream>> = BufReader::new(Box::new(conn.try_clone()?));
    let mut raw_conn = Some(conn);
    let mut cur = Seen::default();
    let b64 = |s: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default()
    };
    macro_rules! say {
        ($($t:tt)*) => {{
            let s = format!($($t)*);
            stream.get_mut().write_all(s.as_bytes())?;
            stream.get_mut().flush()?;
        }};
    }
    say!("220 fake.example ESMTP\r\n");
    loop {
        let line = read_line(&mut stream)?;
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            let eight = if eightbitmime { "250-8BITMIME\r\n" } else { "" };
            if cur.tls {
                say!("250-fake.example\r\n{eight}250-AUTH PLAIN LOGIN\r\n250 SIZE 10000000\r\n");
            } else {
                say!("250-fake.example\r\n{eight}250-STARTTLS\r\n250 SIZE 10000000\r\n");
            }
        } else if upper == "STARTTLS" {
            say!("220 go ahead\r\n");
            let conn = raw_conn.take().expect("tcp");
            let server = rustls::ServerConnection::new(tls.clone()).expect("server conn");
            stream = BufReader::new(Box::new(rustls::StreamOwned::new(server, conn)));
            cur.tls = true;
        } else if let Some(rest) = upper.strip_prefix("AUTH PLAIN ") {
            let _ = rest;
            let token = &line["AUTH PLAIN ".len()..];
            let text = b64(token);
            let parts: Vec<&str> = text.split('\0').collect();
            if parts.len() == 3 {
                cur.auth = Some((parts[1].to_string(), parts[2].to_string()));
            }
            say!("235 2.7.0 ok\r\n");
        } else if upper == "AUTH LOGIN" {
            say!("334 VXNlcm5hbWU6\r\n");
            let u = b64(&read_line(&mut stream)?);
            say!("334 UGFzc3dvcmQ6\r\n");
            let p = b64(&read_line(&mut stream)?);
            cur.auth = Some((u, p));
            say!("235 2.7.0 ok\r\n");
        } else if upper.starts_with("MAIL FROM:") {
            let from = line[10..]
                .split('>')
                .next()
                .unwrap_or("")
                .trim_start_matches('<');
            cur.mail_from = from.to_string();
            cur.mail_params = line[10..]
                .split_once('>')
                .map(|(_, p)| p.trim().to_string())
                .unwrap_or_default();
            cur.rcpts.clear();
            cur.data = None;
            say!("250 2.1.0 ok\r\n");
        } else if upper.starts_with("RCPT TO:") {
            let to = line[8..]
                .split('>')
                .next()
                .unwrap_or("")
                .trim_start_matches('<');
            let reply = replies
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or_else(|| "250 2.1.5 OK".to_string());
            if reply.starts_with('2') {
                cur.rcpts.push(to.to_string());
            }
            say!("{reply}\r\n");
        } else if upper == "DATA" {
            say!("354 go\r\n");
            let mut data = Vec::new();
            loop {
                let mut l = Vec::new();
                stream.read_until(b'\n', &mut l)?;
                if l.is_empty() || l == b".\r\n" {
                    break;
                }
                if l.starts_with(b"..") {
                    l.remove(0);
                }
                data.extend_from_slice(&l);
            }
            cur.data = Some(data);
            seen.lock().unwrap().push(cur.clone());
            say!("250 2.0.0 queued as fake\r\n");
        } else if upper == "QUIT" {
            if cur.data.is_none() && !cur.mail_from.is_empty() {
                seen.lock().unwrap().push(cur.clone());
            }
            say!("221 bye\r\n");
            return Ok(());
        } else if upper == "RSET" || upper == "NOOP" {
            say!("250 ok\r\n");
        } else {
            say!("500 what\r\n");
        }
    }
}

/// Writes a config file that relays through `fake` with credentials, fast retries.
pub fn smarthost_config(dir: &std::path::Path, fake: &FakeSmtp, give_up_secs: u64) -> String {
    let ca = dir.join("fake-ca.pem");
    std::fs::write(&ca, &fake.cert_pem).unwrap();
    let path = dir.join("mailnook.toml");
    std::fs::write(
        &path,
        format!(
            "hostname = \"mail.example.org\"\n\
             [outbound]\n\
             smarthost = \"{}\"\n\
             smarthost_user = \"relayuser\"\n\
             smarthost_password = \"relay secret\"\n\
             smarthost_tls = \"starttls\"\n\
             smarthost_ca_file = \"{}\"\n\
             retry_first_secs = 1\n\
             retry_max_secs = 1\n\
             give_up_secs = {give_up_secs}\n\
             timeout_secs = 10\n",
            fake.addr,
            ca.display()
        ),
    )
    .unwrap();
    path.display().to_string()
}

/// Submits over the submission port with a real client (lettre: STARTTLS, AUTH PLAIN).
pub fn submit(
    server: &crate::common::Server,
    user: &str,
    pass: &str,
    from: &str,
    to: &[&str],
    raw: &[u8],
) -> Result<(), String> {
    use lettre::Transport;
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Tls, TlsParameters};
    let envelope = lettre::address::Envelope::new(
        Some(from.parse().map_err(|e| format!("{e}"))?),
        to.iter().map(|t| t.parse().unwrap()).collect(),
    )
    .map_err(|e| e.to_string())?;
    let tls = TlsParameters::builder("localhost".into())
        .dangerous_accept_invalid_certs(true)
        .build()
        .map_err(|e| e.to_string())?;
    let transport = lettre::SmtpTransport::builder_dangerous("127.0.0.1")
        .port(server.submission.port())
        .tls(Tls::Required(tls))
        .credentials(Credentials::new(user.into(), pass.into()))
        .timeout(Some(std::time::Duration::from_secs(30)))
        .build();
    transport
        .send_raw(&envelope, raw)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A TXT cache for mail-auth holding the records `mailnook dns` printed (no real DNS in tests).
#[derive(Default)]
pub struct TxtCache(Mutex<std::collections::HashMap<Box<str>, mail_auth::Txt>>);

impl mail_auth::ResolverCache<Box<str>, mail_auth::Txt> for TxtCache {
    fn get<Q>(&self, key: &Q) -> Option<mail_auth::Txt>
    where
        Box<str>: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        self.0.lock().unwrap().get(key).cloned()
    }
    fn remove<Q>(&self, key: &Q) -> Option<mail_auth::Txt>
    where
        Box<str>: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        self.0.lock().unwrap().remove(key)
    }
    fn insert(&self, key: Box<str>, value: mail_auth::Txt, _: std::time::Instant) {
        self.0.lock().unwrap().insert(key, value);
    }
}

/// The DKIM records from `mailnook dns DOMAIN` as (name, value).
pub fn dkim_records(server: &crate::common::Server, domain: &str) -> Vec<(String, String)> {
    let out = server.cli(&["dns", domain], None);
    assert!(
        out.status.success(),
        "dns: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("v=spf1"), "{text}");
    assert!(text.contains("_dmarc."), "{text}");
    text.lines()
        .filter(|l| l.contains("._domainkey."))
        .map(|l| {
            let name = l.split_whitespace().next().unwrap().to_string();
            let value: String = l.split('"').skip(1).step_by(2).collect();
            (name, value)
        })
        .collect()
}

/// Verifies the DKIM signatures of `data` with mail-auth (an independent verifier: it shares
/// no code with the signer's key handling), against the records `mailnook dns` prints.
pub async fn verify_dkim(
    server: &crate::common::Server,
    domain: &str,
    data: &[u8],
) -> Vec<mail_auth::DkimResult> {
    use mail_auth::common::parse::TxtRecordParser;
    let cache = TxtCache::default();
    for (name, value) in dkim_records(server, domain) {
        let key = mail_auth::common::verify::DomainKey::parse(value.as_bytes())
            .expect("DKIM record parses");
        mail_auth::ResolverCache::insert(
            &cache,
            name.into_boxed_str(),
            mail_auth::Txt::DomainKey(Arc::new(key)),
            std::time::Instant::now() + std::time::Duration::from_secs(3600),
        );
    }
    let auth = mail_auth::MessageAuthenticator::new_cloudflare().unwrap();
    let parsed = mail_auth::AuthenticatedMessage::parse(data).expect("parse");
    auth.verify_dkim(mail_auth::Parameters::new(&parsed).with_txt_cache(&cache))
        .await
        .iter()
        .map(|r| r.result().clone())
        .collect()
}

/// A second, independent verifier: dkimpy with PyNaCl for ed25519 (tests/setup/deps.sh installs
/// both; a missing one fails the test, it never skips). Checks every signature of `data`
/// against the records `mailnook dns` prints; returns how many passed.
pub fn dkimpy_verify(server: &crate::common::Server, domain: &str, data: &[u8]) -> Option<usize> {
    use std::io::Write;
    let have = std::process::Command::new("python3")
        .args(["-c", "import dkim, nacl"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        have,
        "dkimpy and PyNaCl are needed as the independent DKIM verifier: run ./tests/setup/deps.sh (make test does)"
    );
    let records: serde_json::Map<String, serde_json::Value> = dkim_records(server, domain)
        .into_iter()
        .map(|(name, value)| (name, serde_json::Value::String(value)))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let msg = dir.path().join("message.eml");
    std::fs::write(&msg, data).unwrap();
    let script = r#"
import sys, json, re, dkim
records = json.loads(sys.argv[2])
try:
    import nacl  # noqa: F401  (dkimpy needs it for ed25519)
    algos = (b"rsa-sha256", b"ed25519-sha256")
except ImportError:
    algos = (b"rsa-sha256",)
def dns(name, timeout=5):
    v = records.get(name.decode())
    return v.encode() if v is not None else None
msg = open(sys.argv[1], "rb").read()
d = dkim.DKIM(msg)
sigs = [v for (k, v) in d.headers if k.lower() == b"dkim-signature"]
ok = 0
for i, s in enumerate(sigs):
    a = re.search(rb"a=([a-z0-9-]+)", s).group(1)
    if a not in algos:
        continue
    if not dkim.DKIM(msg).verify(idx=i, dnsfunc=dns):
        print("signature %d (%s) does not verify" % (i, a.decode()), file=sys.stderr)
        sys.exit(1)
    ok += 1
print(ok)
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(&msg)
        .arg(serde_json::Value::Object(records).to_string())
        .output()
        .expect("python3");
    let _ = std::io::stderr().write_all(&out.stderr);
    assert!(
        out.status.success(),
        "dkimpy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}
