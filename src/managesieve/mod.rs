//! ManageSieve (RFC 5804) on its own port (`managesieve_listen`, 4190 in production), so
//! existing filter editors (Thunderbird's sieve add-on, Roundcube's managesieve plugin,
//! sieve-connect) can manage an account's scripts. STARTTLS first; SASL PLAIN (RFC 4616) is
//! offered and accepted only over TLS, and every password goes through the one login door
//! (`src/login.rs`) with its per-client and per-account limits. Scripts are the same store
//! objects JMAP's SieveScript shows (`store/redb/sieve.rs`).
//!
//! `session.rs` is the command loop, `parse.rs` reads one command (quoted strings and
//! literals, bounded).

mod parse;
mod session;

use crate::login::Login;
use crate::store::Store;
use crate::tls::Tls;
use std::sync::Arc;
use std::time::Duration;

/// Connections at once, and per client address.
const MAX_CONNECTIONS: usize = 64;
const MAX_CONNECTIONS_PER_IP: usize = 8;
const CONNECTIONS_PER_MINUTE_PER_IP: u32 = 60;

#[derive(Clone)]
pub struct Ctx {
    pub store: Store,
    pub tls: Tls,
    pub login: Arc<Login>,
    pub hostname: String,
}

/// Accepts connections until the task is dropped.
pub async fn serve(listener: smol::net::TcpListener, ctx: Ctx) {
    let limits = crate::admission::Limits::new(
        MAX_CONNECTIONS,
        MAX_CONNECTIONS_PER_IP,
        CONNECTIONS_PER_MINUTE_PER_IP,
    );
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let permit = match limits.admit(peer.ip()) {
                    Ok(p) => p,
                    Err(refusal) => {
                        log::info!(
                            "managesieve {peer}: refused connection: {}",
                            refusal.reason()
                        );
                        smol::spawn(async move {
                            use futures_lite::AsyncWriteExt;
                            let mut s = stream;
                            let _ = s.write_all(b"BYE \"Too many connections\"\r\n").await;
                        })
                        .detach();
                        continue;
                    }
                };
                let ctx = ctx.clone();
                smol::spawn(async move {
                    session::Session::new(ctx, peer, Box::new(stream))
                        .run()
                        .await;
                    drop(permit);
                })
                .detach();
            }
            Err(e) => {
                log::warn!("managesieve accept failed: {e}");
                smol::Timer::after(Duration::from_millis(100)).await;
            }
        }
    }
}
