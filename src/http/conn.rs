//! The HTTPS connection layer: TCP on smol, TLS by futures-rustls, HTTP/1.1 by hyper, each
//! request handed to tide through `bridge.rs`.
//!
//! Every wait has an end:
//! - the TLS handshake: 20 s;
//! - a request head: `http_header_timeout_secs` from its first byte; the idle gap before it:
//!   `http_idle_timeout_secs` (`conn_timer.rs`); a head larger than [`MAX_HEAD`] (or a line
//!   that never ends) is refused with 431 once [`MAX_BUF`] bytes are buffered;
//! - a request body: `http_body_timeout_secs` per wait (`bridge.rs`); size limits are the
//!   handlers' (`read_body`), enforced while reading;
//! - a write to a client that stopped reading: `http_idle_timeout_secs`.
//!
//! hyper answers pipelined requests in order (RFC 9112 §9.3.2), answers HTTP/1.0, and sends
//! 400/431 for what it cannot parse. Whatever way a connection ends, the TLS close_notify alert
//! is sent before the TCP close (RFC 8446 §6.1), so a client can tell a complete answer from
//! a cut one.

use super::State;
use super::bridge::{self, ConnCtx};
use super::conn_timer::{ConnActivity, ConnTimer};
use futures_lite::{AsyncRead, AsyncWrite, AsyncWriteExt, FutureExt};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

/// Largest request head (request line and header fields) accepted, bytes.
pub const MAX_HEAD: usize = 16 * 1024;
/// hyper's read buffer ceiling: an unfinished head is refused (431) when it reaches this, so a
/// header line without an end costs at most this much memory.
pub const MAX_BUF: usize = 64 * 1024;
/// Time a client has to complete the TLS handshake.
const HANDSHAKE: Duration = Duration::from_secs(20);
/// Time allowed for the closing alert to go out.
const CLOSE: Duration = Duration::from_secs(5);

type TlsStream = futures_rustls::server::TlsStream<smol::net::TcpStream>;

#[derive(Clone, Copy)]
struct Timeouts {
    header: Duration,
    body: Duration,
    idle: Duration,
}

/// Accepts TLS connections forever; each connection runs on its own task.
pub async fn serve(listener: smol::net::TcpListener, state: State) {
    let app = super::routes(state.clone());
    let c = &state.config;
    let timeouts = Timeouts {
        header: Duration::from_secs(c.http_header_timeout_secs),
        body: Duration::from_secs(c.http_body_timeout_secs),
        idle: Duration::from_secs(c.http_idle_timeout_secs),
    };
    let local = listener.local_addr().ok();
    // No rate limit here (0): a browser opens several connections at once, and a JMAP client
    // reconnects freely; the counts bound what idle sockets can hold.
    let admission =
        crate::admission::Limits::new(c.http_max_connections, c.http_max_connections_per_ip, 0);
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                log::warn!("https accept failed: {e}");
                smol::Timer::after(Duration::from_millis(100)).await;
                continue;
            }
        };
        let permit = match admission.admit(peer.ip()) {
            Ok(p) => p,
            Err(refusal) => {
                // Closed before the handshake: no TLS state, no task. Logged at debug: a flood
                // of refusals must not flood the log.
                log::debug!("https {peer}: refused connection ({})", refusal.reason());
                drop(tcp);
                continue;
            }
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = futures_rustls::TlsAcceptor::from(state.tls.config());
        let app = app.clone();
        smol::spawn(async move {
            connection(tcp, peer, local, acceptor, app, timeouts).await;
            drop(permit);
        })
        .detach();
    }
}

async fn connection(
    tcp: smol::net::TcpStream,
    peer: SocketAddr,
    local: Option<SocketAddr>,
    acceptor: futures_rustls::TlsAcceptor,
    app: tide::Server<State>,
    t: Timeouts,
) {
    let handshake = async { acceptor.accept(tcp).await.ok() };
    let timeout = async {
        smol::Timer::after(HANDSHAKE).await;
        None
    };
    let Some(stream) = handshake.or(timeout).await else {
        log::debug!("https {peer}: TLS handshake failed or timed out");
        return;
    };
    // A TLS-ALPN-01 validator (RFC 8737 §4) only looks at the certificate; no HTTP follows.
    if stream.get_ref().1.alpn_protocol() == Some(crate::acme::challenges::ACME_TLS_ALPN) {
        log::info!("https {peer}: ACME TLS-ALPN-01 validation answered");
        let mut stream = stream;
        let _ = stream.close().await;
        return;
    }
    let stream = Arc::new(Mutex::new(stream));
    let activity = Arc::new(ConnActivity::default());
    let io = ConnIo {
        stream: stream.clone(),
        activity: activity.clone(),
        write_timeout: t.idle,
        write_timer: None,
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(ConnTimer {
            activity: activity.clone(),
            header: t.header,
            idle: t.idle,
        })
        .header_read_timeout(t.header)
        .max_header_size(MAX_HEAD)
        .max_buf_size(MAX_BUF)
        .keep_alive(true)
        // A client that half-closes has sent its last request; RFC 9112 §9.6.
        .half_close(false);
    let ctx = Arc::new(ConnCtx {
        peer,
        local,
        activity,
        body_timeout: t.body,
    });
    let service =
        hyper::service::service_fn(move |req| bridge::respond(app.clone(), ctx.clone(), req));
    let served = builder
        .serve_connection(smol_hyper::rt::FuturesIo::new(io), service)
        .with_upgrades()
        .await;
    if let Err(e) = served {
        log::debug!("https {peer}: {e}");
    }
    // hyper has dropped its handle unless the connection was upgraded (then the upgraded
    // stream owns it). hyper shuts down cleanly only on a normal end; after a parse error or
    // a timeout the alert is sent here.
    if let Ok(m) = Arc::try_unwrap(stream)
        && let Ok(mut s) = m.into_inner()
    {
        let close = async {
            let _ = s.close().await;
        };
        let give_up = async {
            smol::Timer::after(CLOSE).await;
        };
        close.or(give_up).await;
    }
}

/// The TLS stream as hyper sees it: reads are counted (for `ConnTimer`), writes that make no
/// progress for the idle timeout fail, and the stream stays reachable from `connection` so it
/// can be closed properly after hyper gives up on it.
pub struct ConnIo {
    stream: Arc<Mutex<TlsStream>>,
    activity: Arc<ConnActivity>,
    write_timeout: Duration,
    write_timer: Option<smol::Timer>,
}

/// The connection behind a protocol upgrade (the WebSocket, `websocket.rs`): our TLS stream
/// as hyper served it, and the bytes hyper had already read past the request head (a client
/// may send its first frames without waiting for the 101).
pub fn upgraded_io(u: hyper::upgrade::Upgraded) -> Option<(ConnIo, Vec<u8>)> {
    let parts = u.downcast::<smol_hyper::rt::FuturesIo<ConnIo>>().ok()?;
    Some((parts.io.into_inner(), parts.read_buf.to_vec()))
}

impl ConnIo {
    /// Runs one poll on the stream. The lock is never contended: one task drives a connection.
    fn with<T>(
        &mut self,
        f: impl FnOnce(Pin<&mut TlsStream>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match self.stream.lock() {
            Ok(mut s) => f(Pin::new(&mut *s)),
            Err(_) => Poll::Ready(Err(io::Error::other("connection state poisoned"))),
        }
    }

    /// A write-side wait: fails once the client has taken nothing for the write timeout.
    fn write_wait<T>(
        &mut self,
        cx: &mut Context<'_>,
        r: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if r.is_ready() {
            self.write_timer = None;
            return r;
        }
        let timeout = self.write_timeout;
        let timer = self
            .write_timer
            .get_or_insert_with(|| smol::Timer::after(timeout));
        if Pin::new(timer).poll(cx).is_ready() {
            self.write_timer = None;
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading",
            )));
        }
        Poll::Pending
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = this.with(|s| s.poll_read(cx, buf));
        if let Poll::Ready(Ok(n)) = r {
            this.activity
                .bytes_read
                .fetch_add(n as u64, Ordering::Relaxed);
        }
        r
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let r = this.with(|s| s.poll_write(cx, buf));
        this.write_wait(cx, r)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = this.with(|s| s.poll_flush(cx));
        this.write_wait(cx, r)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = this.with(|s| s.poll_close(cx));
        this.write_wait(cx, r)
    }
}
