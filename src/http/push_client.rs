//! The HTTPS client that delivers pushes (RFC 8620 §7.2, RFC 8030 §5): one POST per message
//! over rustls (ring), certificates checked against the Mozilla roots (webpki-roots) plus an
//! optional configured CA file.
//!
//! The URL is a user's choice, so every connection goes through `net_guard` (the server's one
//! SSRF gate): the host is resolved and checked on each push, and the connection goes to the
//! checked address only (no second lookup, so DNS rebinding cannot swap in an internal
//! address). No redirects are followed (a 3xx is a failed delivery), only the status line and
//! headers are read back (at most [`MAX_HEAD`] bytes, the body is never read), and the whole
//! exchange has a time limit (`[fetch] timeout_secs`; connect `[fetch] connect_timeout_secs`).

use crate::net_guard::{NetGuard, Refusal};
use futures_lite::{AsyncReadExt, AsyncWriteExt, FutureExt};
use rustls::pki_types::ServerName;
use std::path::Path;
use std::sync::Arc;

/// Most bytes of the answer read (status line and headers; the body is not read).
pub const MAX_HEAD: usize = 16 * 1024;

pub struct PushClient {
    tls: futures_rustls::TlsConnector,
    guard: Arc<NetGuard>,
    /// The server's VAPID identity (RFC 8292), sent with encrypted (Web Push) deliveries.
    pub vapid: Option<Arc<super::vapid::Vapid>>,
}

/// Why a push was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The URL points at an address the server must not contact (`net_guard`): the
    /// subscription can never be delivered to. No connection was made.
    Refused(String),
    /// Anything else (DNS, network, TLS, timeout): worth retrying later.
    Failed(String),
}

impl From<String> for Failure {
    fn from(s: String) -> Failure {
        Failure::Failed(s)
    }
}

impl From<&str> for Failure {
    fn from(s: &str) -> Failure {
        Failure::Failed(s.to_string())
    }
}

/// What the push service answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// Seconds from a `Retry-After: <seconds>` header.
    pub retry_after: Option<u64>,
}

impl PushClient {
    pub fn new(extra_ca: Option<&Path>, guard: Arc<NetGuard>) -> Result<PushClient, String> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = extra_ca {
            let pem =
                std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            for cert in rustls_pemfile::certs(&mut &pem[..]) {
                let cert = cert.map_err(|e| format!("{}: {e}", path.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(PushClient {
            vapid: None,
            tls: futures_rustls::TlsConnector::from(Arc::new(config)),
            guard,
        })
    }

    /// POSTs `body` to an https URL with the given extra headers.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Answer, Failure> {
        let exchange = self.exchange(url, headers, body);
        let limit = self.guard.timeout;
        let timeout = async {
            smol::Timer::after(limit).await;
            Err(Failure::Failed(format!(
                "no answer within {} s",
                limit.as_secs()
            )))
        };
        exchange.or(timeout).await
    }

    async fn exchange(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Answer, Failure> {
        let u = url::Url::parse(url).map_err(|e| e.to_string())?;
        if u.scheme() != "https" {
            return Err("only https push URLs are delivered to".into());
        }
        let target = self.guard.check_url(&u).await.map_err(|r| match r {
            Refusal::Forbidden(s) => Failure::Refused(s),
            Refusal::Unresolved(s) => Failure::Failed(s),
        })?;
        let tcp = self.guard.connect(&target).await?;
        let host = target.host.clone();
        let name =
            ServerName::try_from(host.clone()).map_err(|e| format!("server name {host}: {e}"))?;
        let mut tls = self
            .tls
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS: {e}"))?;
        // The Host header as the URL wrote it (IPv6 literals keep their brackets).
        let host = u.host_str().unwrap_or_default().to_string();
        let mut path = u.path().to_string();
        if let Some(q) = u.query() {
            path.push('?');
            path.push_str(q);
        }
        let host_header = match u.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nHost: {host_header}\r\nContent-Length: {}\r\nConnection: close\r\nUser-Agent: mailnook/{}\r\n",
            body.len(),
            env!("CARGO_PKG_VERSION")
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        tls.write_all(head.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        tls.write_all(body).await.map_err(|e| e.to_string())?;
        tls.flush().await.map_err(|e| e.to_string())?;
        // Read the response head only (bounded).
        let mut buf = Vec::with_capacity(1024);
        let mut chunk = [0u8; 1024];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < MAX_HEAD {
            let n = tls.read(&mut chunk).await.map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let text = String::from_utf8_lossy(&buf);
        let mut lines = text.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|c| c.parse().ok())
            .ok_or("no HTTP status in the answer")?;
        let retry_after = lines
            .take_while(|l| !l.is_empty())
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("retry-after"))
            .and_then(|(_, v)| v.trim().parse().ok());
        Ok(Answer {
            status,
            retry_after,
        })
    }
}
