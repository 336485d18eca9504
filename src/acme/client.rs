//! instant-acme's HTTP client trait over the stack the server already has: a smol TCP socket,
//! rustls (ring) with the Mozilla roots plus `[acme] ca_file`, and hyper's HTTP/1.1 client
//! connection. One connection per request: an ACME conversation is a few dozen requests every
//! couple of months, not worth a pool.
//!
//! The directory URL is the administrator's choice (not a user's), so this does not go through
//! `net_guard`; every request has a time limit and the response body a size limit.

use bytes::Bytes;
use futures_lite::FutureExt;
use instant_acme::{BodyWrapper, BytesResponse, Error, HttpClient};
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
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
        Ok(Client {
            tls: crate::https_client::connector(roots)?,
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
        let label = format!("{host}:{port}");
        let req = http::Request::from_parts(parts, body);
        let (parts, bytes) =
            crate::https_client::send(&self.tls, tcp, bare, &label, req, MAX_BODY).await?;
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
