//! STARTTLS for a [`Conn`] (RFC 3207), either side. The handshake has a deadline; on failure
//! the stream is gone and the connection can only be dropped.

use super::{Conn, Io};
use rustls::pki_types::ServerName;
use std::sync::Arc;
use std::time::Duration;

/// Why an upgrade failed.
#[derive(Debug)]
pub enum TlsError {
    /// The handshake did not finish in time.
    Timeout,
    /// The handshake failed (bad certificate, protocol error, closed).
    Handshake(std::io::Error),
    /// The host is no valid TLS server name.
    BadName,
}

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TlsError::Timeout => write!(f, "TLS handshake timed out"),
            TlsError::Handshake(e) => write!(f, "TLS handshake failed: {e}"),
            TlsError::BadName => write!(f, "bad TLS server name"),
        }
    }
}

/// Server side: the client asked for TLS and was told to go ahead. Anything it sent before
/// the handshake is discarded (RFC 3207 §6: such bytes could be injected by an attacker).
pub async fn accept(
    conn: &mut Conn,
    config: Arc<rustls::ServerConfig>,
    timeout: Duration,
) -> Result<(), TlsError> {
    let acceptor = futures_rustls::TlsAcceptor::from(config);
    upgrade(conn, timeout, |io| async move {
        acceptor
            .accept(io)
            .await
            .map(|s| Box::new(s) as Box<dyn Io>)
    })
    .await
}

/// Client side: the server said 220 to STARTTLS (or the port is implicit TLS). The name is
/// checked against the certificate as `config` says; what was buffered is discarded (RFC 3207
/// §4.2: nothing learnt before TLS is kept).
pub async fn connect(
    conn: &mut Conn,
    config: Arc<rustls::ClientConfig>,
    host: &str,
    timeout: Duration,
) -> Result<(), TlsError> {
    let name = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ServerName::IpAddress(ip.into()),
        Err(_) => ServerName::try_from(host.to_string()).map_err(|_| TlsError::BadName)?,
    };
    let connector = futures_rustls::TlsConnector::from(config);
    upgrade(conn, timeout, |io| async move {
        connector
            .connect(name, io)
            .await
            .map(|s| Box::new(s) as Box<dyn Io>)
    })
    .await
}

async fn upgrade<F, Fut>(conn: &mut Conn, timeout: Duration, handshake: F) -> Result<(), TlsError>
where
    F: FnOnce(Box<dyn Io>) -> Fut,
    Fut: std::future::Future<Output = std::io::Result<Box<dyn Io>>>,
{
    use futures_lite::FutureExt;
    conn.input.clear();
    let io = conn
        .io
        .take()
        .ok_or_else(|| TlsError::Handshake(std::io::ErrorKind::NotConnected.into()))?;
    let done = async { handshake(io).await.map_err(TlsError::Handshake) };
    let timer = async {
        smol::Timer::after(timeout).await;
        Err(TlsError::Timeout)
    };
    conn.io = Some(done.or(timer).await?);
    conn.tls = true;
    Ok(())
}
