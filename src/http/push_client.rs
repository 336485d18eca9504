//! The HTTPS client that delivers pushes (RFC 8620 §7.2, RFC 8030 §5): one POST per message
//! over rustls (ring), certificates checked against the Mozilla roots (webpki-roots) plus an
//! optional configured CA file. No redirects are followed and only the status line and a few
//! headers are read back, with a time limit on the whole exchange.

use futures_lite::{AsyncReadExt, AsyncWriteExt, FutureExt};
use rustls::pki_types::ServerName;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The whole exchange (connect, TLS, request, response head) must finish within this.
pub const TIMEOUT: Duration = Duration::from_secs(20);

pub struct PushClient {
    tls: futures_rustls::TlsConnector,
}

/// What the push service answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// Seconds from a `Retry-After: <seconds>` header.
    pub retry_after: Option<u64>,
}

impl PushClient {
    pub fn new(extra_ca: Option<&Path>) -> Result<PushClient, String> {
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
            tls: futures_rustls::TlsConnector::from(Arc::new(config)),
        })
    }

    /// POSTs `body` to an https URL with the given extra headers.
    pub async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Answer, String> {
        let exchange = self.exchange(url, headers, body);
        let timeout = async {
            smol::Timer::after(TIMEOUT).await;
            Err(format!("no answer within {} s", TIMEOUT.as_secs()))
        };
        exchange.or(timeout).await
    }

    async fn exchange(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Answer, String> {
        let u = url::Url::parse(url).map_err(|e| e.to_string())?;
        if u.scheme() != "https" {
            return Err("only https push URLs are delivered to".into());
        }
        let host = u.host_str().ok_or("no host")?.to_string();
        let port = u.port_or_known_default().unwrap_or(443);
        let tcp = smol::net::TcpStream::connect((host.trim_matches(['[', ']']), port))
            .await
            .map_err(|e| format!("connect {host}:{port}: {e}"))?;
        let name = ServerName::try_from(host.trim_matches(['[', ']']).to_string())
            .map_err(|e| format!("server name {host}: {e}"))?;
        let mut tls = self
            .tls
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS: {e}"))?;
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
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
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
