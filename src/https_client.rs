//! One HTTP/1.1 request over TLS, on the stack the server already has: a smol TCP socket the
//! caller opened (directly, or through the SSRF gate `net_guard`), rustls (ring) and hyper's
//! client connection. One connection per request, `Connection: close`: the ACME client and the
//! MTA-STS policy fetcher are its users, and both make a few requests a day, not worth a pool.
//! Callers bound the whole exchange in time; the body is bounded here.

use bytes::Bytes;
use http_body_util::BodyExt;
use std::sync::Arc;

/// A TLS connector trusting `roots` (certificates checked for the name asked).
pub fn connector(roots: rustls::RootCertStore) -> Result<futures_rustls::TlsConnector, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(futures_rustls::TlsConnector::from(Arc::new(config)))
}

/// Sends `req` (origin-form target, Host set by the caller) over TLS with `name` on `tcp` and
/// returns the response head and at most `max_body` bytes of body; `label` names the peer in
/// errors.
pub async fn send<B>(
    tls: &futures_rustls::TlsConnector,
    tcp: smol::net::TcpStream,
    name: &str,
    label: &str,
    mut req: http::Request<B>,
    max_body: usize,
) -> Result<(http::response::Parts, Bytes), String>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let server = rustls::pki_types::ServerName::try_from(name.to_string())
        .map_err(|e| format!("{label}: {e}"))?;
    let stream = tls
        .connect(server, tcp)
        .await
        .map_err(|e| format!("TLS with {label}: {e}"))?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(smol_hyper::rt::FuturesIo::new(stream))
            .await
            .map_err(|e| format!("{label}: {e}"))?;
    // Drives the connection until the response is read; dropped (cancelled) at return.
    let _driver = smol::spawn(async move {
        let _ = conn.await;
    });
    req.headers_mut().insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    let rsp = sender
        .send_request(req)
        .await
        .map_err(|e| format!("{label}: {e}"))?;
    let (parts, body) = rsp.into_parts();
    let bytes = http_body_util::Limited::new(body, max_body)
        .collect()
        .await
        .map_err(|e| format!("{label}: {e}"))?
        .to_bytes();
    Ok((parts, bytes))
}
