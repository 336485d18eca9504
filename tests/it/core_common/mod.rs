//! Helpers for the core_* tests: a raw HTTPS client (std sockets + rustls, trusting the test
//! server's self-signed certificate) for what reqwest cannot do: hold a request half-sent,
//! read an endless EventSource stream, send hostile bytes.
#![allow(dead_code)]

use base64::Engine;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConnection, DigitallySignedStruct, SignatureScheme, StreamOwned};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug)]
struct TrustAnything(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for TrustAnything {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

pub type Tls = StreamOwned<ClientConnection, TcpStream>;

/// A client config that trusts the test server's self-signed certificate.
pub fn client_config() -> Arc<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(TrustAnything(provider)))
        .with_no_client_auth();
    Arc::new(config)
}

/// A TLS connection to the server, certificate not checked (it is self-signed).
pub fn connect(addr: SocketAddr) -> Tls {
    let name = ServerName::try_from("localhost").expect("name");
    let conn = ClientConnection::new(client_config(), name).expect("client");
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    StreamOwned::new(conn, tcp)
}

pub fn basic(user: &str, pass: &str) -> String {
    let b = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
    format!("Basic {b}")
}

/// Sends a request head (and optionally part of a body) on `s`.
pub fn send_head(s: &mut Tls, method: &str, path: &str, auth: &str, extra: &[(&str, String)]) {
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\n");
    for (k, v) in extra {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).expect("write head");
    s.flush().expect("flush");
}

/// Reads a response's status line and headers (lower-cased names).
pub fn read_head(r: &mut impl BufRead) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    r.read_line(&mut line).expect("status line");
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).expect("header") == 0 {
            break;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_lowercase(), v.trim().to_string()));
        }
    }
    (status, headers)
}

pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Reads a body with Content-Length.
pub fn read_body(r: &mut impl Read, headers: &[(String, String)]) -> Vec<u8> {
    let n: usize = header(headers, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut buf = vec![0; n];
    r.read_exact(&mut buf).expect("body");
    buf
}

/// A one-shot request with a complete body; returns (status, headers, body).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    auth: &str,
    extra: &[(&str, String)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut s = connect(addr);
    let mut h: Vec<(&str, String)> = extra.to_vec();
    h.push(("Content-Length", body.len().to_string()));
    send_head(&mut s, method, path, auth, &h);
    s.write_all(body).expect("body");
    s.flush().expect("flush");
    let mut r = BufReader::new(s);
    let (status, headers) = read_head(&mut r);
    let body = read_body(&mut r, &headers);
    (status, headers, body)
}

/// Reads a chunked, endless response body event by event (server-sent events framing).
pub struct SseReader<R: BufRead> {
    r: R,
    pending: String,
    pub ended: bool,
}

/// One server-sent event.
#[derive(Debug, Default, Clone)]
pub struct Event {
    pub event: String,
    pub id: Option<String>,
    pub data: String,
}

impl<R: BufRead> SseReader<R> {
    pub fn new(r: R) -> Self {
        SseReader {
            r,
            pending: String::new(),
            ended: false,
        }
    }

    /// The next event, or None when the response ended.
    pub fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(i) = self.pending.find("\n\n") {
                let block: String = self.pending.drain(..i + 2).collect();
                let mut ev = Event::default();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event: ") {
                        ev.event = v.to_string();
                    } else if let Some(v) = line.strip_prefix("id: ") {
                        ev.id = Some(v.to_string());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        ev.data.push_str(v);
                    }
                }
                return Some(ev);
            }
            if self.ended {
                return None;
            }
            // One chunk: hex size line, data, CRLF.
            let mut size = String::new();
            if self.r.read_line(&mut size).ok()? == 0 {
                self.ended = true;
                continue;
            }
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).ok()?;
            if n == 0 {
                self.ended = true;
                continue;
            }
            let mut buf = vec![0; n + 2];
            self.r.read_exact(&mut buf).ok()?;
            buf.truncate(n);
            self.pending
                .push_str(&String::from_utf8(buf).expect("utf-8 events"));
        }
    }
}

/// Opens an event-source connection; returns the status, headers and the event reader.
pub fn event_source(
    addr: SocketAddr,
    auth: &str,
    query: &str,
    last_event_id: Option<&str>,
) -> (u16, Vec<(String, String)>, SseReader<BufReader<Tls>>) {
    let mut s = connect(addr);
    let mut extra = vec![("Accept", "text/event-stream".to_string())];
    if let Some(id) = last_event_id {
        extra.push(("Last-Event-ID", id.to_string()));
    }
    send_head(
        &mut s,
        "GET",
        &format!("/jmap/eventsource?{query}"),
        auth,
        &extra,
    );
    let mut r = BufReader::new(s);
    let (status, headers) = read_head(&mut r);
    (status, headers, SseReader::new(r))
}
