//! SMTP (RFC 5321) on two ports: port 25 (mail for local recipients) and submission (RFC 6409,
//! the server's users sending). This is the only module that speaks SMTP.
//!
//! - `mod.rs`: the accept loop of both ports (admission, then one session per connection).
//! - `session.rs`: one state machine for both, with a [`session::Mode`]; the command loop,
//!   the error budget, the activity record.
//! - `cmd/`: one file per command, `cmd/mod.rs` is the command table.
//! - `mx.rs`: port 25 after DATA: the receive step (`ingest/receive.rs`) and its reply.
//! - `submission.rs`: the submission port's listener and its after-DATA (sender checks, queue).
//! - `reply.rs`: named reply codes; `greeting.rs`: who waits before the greeting.
//! - The transport (line reading, DATA, reply buffering, STARTTLS) is `src/wire/`, shared
//!   with the outbound client.

pub mod greeting;
/// Connection admission, shared with the HTTPS listener (`src/admission.rs`).
pub use crate::admission as limits;

mod cmd;
pub mod mx;
pub mod reply;
pub mod session;
pub mod store_reply;
pub mod submission;

use crate::config::Config;
use crate::store::Store;
use crate::tls::Tls;
use std::sync::Arc;

/// The stream a session runs over (`src/wire/`, shared with the outbound client).
pub use crate::wire::Io;

#[derive(Clone)]
pub struct SmtpContext {
    pub store: Store,
    pub config: Arc<Config>,
    pub tls: Tls,
    /// Recent transactions and counters for the admin page.
    pub activity: Arc<crate::activity::Activity>,
    /// Sender authentication; None when `sender_auth` is off.
    pub auth: Option<crate::ingest::auth::Authenticator>,
    /// Connection admission (totals, per IP, rate).
    pub limits: Arc<limits::Limits>,
    /// The outbound queue, for vacation replies after delivery (`outbound/vacation.rs`).
    pub outbound: Option<crate::outbound::Outbound>,
    /// The login door shared with HTTP (`src/login.rs`), for AUTH on the submission port.
    pub login: Arc<crate::login::Login>,
    /// Who is delayed before the greeting (early-talker check, `greeting.rs`).
    pub greeting: Arc<greeting::GreetingGate>,
}

impl SmtpContext {
    pub fn new(
        store: Store,
        config: Arc<Config>,
        tls: Tls,
        activity: Arc<crate::activity::Activity>,
        auth: Option<crate::ingest::auth::Authenticator>,
    ) -> SmtpContext {
        let greeting = Arc::new(greeting::GreetingGate::new(
            std::time::Duration::from_millis(config.smtp_greeting_delay_ms),
            &config.smtp_greeting_trusted,
            std::time::Duration::from_secs(config.smtp_greeting_pass_secs),
        ));
        // Trusted networks (loopback by default) are held only to the total, as Postfix's
        // $mynetworks: a local application sending a message per connection is not refused
        // after 120 a minute.
        let limits = limits::Limits::exempting(
            config.smtp_max_connections,
            config.smtp_max_connections_per_ip,
            config.smtp_connections_per_minute_per_ip,
            greeting.trusted().to_vec(),
        );
        SmtpContext {
            greeting,
            store,
            config,
            tls,
            activity,
            auth,
            limits,
            outbound: None,
            login: Arc::default(),
        }
    }
}

/// Accepts port 25 connections.
pub async fn serve(listener: smol::net::TcpListener, ctx: SmtpContext) {
    let limits = ctx.limits.clone();
    accept(listener, ctx, limits, session::Mode::Mx).await
}

/// The accept loop of both ports: admission first (`src/admission.rs`: totals, per IP, rate),
/// then one session per connection; a refused connection gets one 421 line and no session.
async fn accept(
    listener: smol::net::TcpListener,
    ctx: SmtpContext,
    limits: Arc<limits::Limits>,
    mode: session::Mode,
) {
    let tag = match mode {
        session::Mode::Mx => "smtp",
        session::Mode::Submission(_) => "submission",
    };
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                match limits.admit(peer.ip()) {
                    Ok(permit) => {
                        // A client that stops reading must not hold its session (and its
                        // admission permit) until TCP gives up: every reply write gets the
                        // command timeout too (RFC 5321 §4.5.3.2 gives the server that bound).
                        let conn = crate::wire::Conn::new(Box::new(stream)).with_write_timeout(
                            std::time::Duration::from_secs(ctx.config.smtp_timeout_secs),
                        );
                        let s = session::Session::new(ctx.clone(), mode.clone(), peer, conn);
                        smol::spawn(async move {
                            s.run().await;
                            drop(permit);
                        })
                        .detach();
                    }
                    Err(refusal) => {
                        log::info!("{tag} {peer}: refused connection: {}", refusal.reason());
                        if let session::Mode::Mx = mode {
                            ctx.activity.record(crate::activity::Transaction {
                                time: crate::date::now(),
                                client_ip: peer.ip(),
                                helo: None,
                                sender: None,
                                recipients: Vec::new(),
                                code: 421,
                                text: refusal.reply()[4..].trim_end().to_string(),
                                auth: None,
                            });
                        }
                        smol::spawn(refuse(stream, refusal)).detach();
                    }
                }
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                log::warn!("{tag} accept failed: {e}");
                smol::Timer::after(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// Writes the refusal line and closes, without waiting long for a slow client.
pub(crate) async fn refuse(mut stream: smol::net::TcpStream, refusal: limits::Refusal) {
    use futures_lite::{AsyncWriteExt, FutureExt};
    let write = async {
        let _ = stream.write_all(refusal.reply().as_bytes()).await;
        let _ = stream.close().await;
    };
    let timeout = async {
        smol::Timer::after(std::time::Duration::from_secs(5)).await;
    };
    write.or(timeout).await;
}
