//! STARTTLS (RFC 3207) with the server's certificate (`tls.rs`, taken afresh each time so an
//! installed certificate applies at once). After the handshake the session starts over: no
//! HELO, no transaction, nothing the client sent before the handshake (`wire::tls::accept`).

use crate::smtp::reply;
use crate::smtp::session::{Next, Session};
use std::time::Duration;

/// How long a client may take for the handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn run(s: &mut Session) -> Next {
    if s.conn.is_tls() {
        return s
            .error(&reply::BAD_SEQUENCE.with("TLS already active"))
            .await;
    }
    s.reply(&reply::READY_TLS.line());
    if s.conn.flush().await.is_err() {
        return Next::Close;
    }
    match crate::wire::tls::accept(&mut s.conn, s.ctx.tls.mail_config(), HANDSHAKE_TIMEOUT).await {
        Ok(()) => {
            s.helo = None;
            s.reset();
            Next::Continue
        }
        Err(e) => {
            log::info!("{} {}: {e}", s.tag(), s.peer);
            Next::Close
        }
    }
}
