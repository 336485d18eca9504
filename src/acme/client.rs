//! instant-acme's HTTP client trait over the stack the server already has: a smol TCP socket,
//! rustls (ring) with the Mozilla roots plus `[acme] ca_file`, and hyper's HTTP/1.1 client
//! connection. One connection per request: an ACME conversation is a few dozen requests every
//! couple of months, not worth a pool.
//!
//! The directory URL is the administrator's choice (not a user's), so this does not go through
//! `net_guard`; every request has a time limit and the response body a size limit.

use bytes::Bytes;
use futures_lite::FutureExt;
use http_body_util::BodyExt;
use instant_acme::{BodyWrapper, BytesResponse, Error, HttpClient};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// One request, connect to last byte.
const TIMEOUT: Duration = Duration::from_secs(30);
/// Largest response accepted (a certificate chain is a few kB; the directory less).
const MAX_BODY: usize = 1024 * 1024;

#[derive(Clone)]
pub struct Client {
    tls: futures_rustls::TlsConnector,
}

impl Client {
    pub fn new(extra_ca: Option<&Path>) -> Result<Client, String> {
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
        Ok(Client {
            tls: futures_rustls::TlsConnector::from(Arc::new(config)),
        })
    }

    async fn send(&self, req: http::Request<BodyWrapper<Bytes>>) -> Result<BytesResponse, String> {
        let uri = req.uri().clone();
        if uri.scheme_str() != Some("https") {
            return Err(format!("{uri}: the ACME directory must be an https URL"));
        }
        let host = uri.host().ok_or_else(|| format!("{uri}: no host"))?;
        let port = uri.port_u16().unwrap_or(443);
        // Bracketed IPv6 literals arrive with their brackets.
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let tcp = smol::net::TcpStream::connect((bare, port))
            .await
            .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
        let name = rustls::pki_types::ServerName::try_from(bare.to_string())
            .map_err(|e| format!("{host}: {e}"))?;
        let tls = self
            .tls
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS with {host}:{port}: {e}"))?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(smol_hyper::rt::FuturesIo::new(tls))
                .await
                .map_err(|e| format!("{host}:{port}: {e}"))?;
        let driver = smol::spawn(async move {
            let _ = conn.await;
        });
        // Origin-form request target plus Host (RFC 9112 §3.2.1, §3.2).
        let (mut parts, body) = req.into_parts();
        let authority = uri.authority().map(|a| a.as_str().to_string());
        let path = uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        parts.uri = path.parse().map_err(|e| format!("{uri}: {e}"))?;
        if let Some(a) = authority
            && let Ok(v) = http::HeaderValue::from_str(&a)
        {
            parts.headers.insert(http::header::HOST, v);
        }
        parts.headers.insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
        let rsp = sender
            .send_request(http::Request::from_parts(parts, body))
            .await
            .map_err(|e| format!("{uri}: {e}"))?;
        let (parts, body) = rsp.into_parts();
        let limited = http_body_util::Limited::new(body, MAX_BODY);
        let bytes = limited
            .collect()
            .await
            .map_err(|e| format!("{uri}: {e}"))?
            .to_bytes();
        drop(driver);
        Ok(BytesResponse::from(http::Response::from_parts(
            parts,
            http_body_util::Full::new(bytes),
        )))
    }
}

impl HttpClient for Client {
    fn request(
        &self,
        req: http::Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, Error>> + Send>> {
        let this = self.clone();
        Box::pin(async move {
            let work = async { this.send(req).await };
            let timeout = async {
                smol::Timer::after(TIMEOUT).await;
                Err("the ACME server did not answer in time".to_string())
            };
            work.or(timeout).await.map_err(|e| Error::Other(e.into()))
        })
    }
}
