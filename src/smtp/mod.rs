//! The SMTP listener (RFC 5321): accepts connections and runs one [`session::Session`] each.
//! This is the only module that speaks SMTP.

pub mod data;
pub mod greeting;
/// Connection admission, shared with the HTTPS listener (`src/admission.rs`).
pub use crate::admission as limits;

pub mod reply;
pub mod session;
pub mod store_reply;
pub mod submission;

use crate::config::Config;
use crate::store::Recipient;
use crate::store::Store;
use crate::tls::Tls;
use futures_lite::{AsyncRead, AsyncWrite};
use std::sync::Arc;

pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

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
        let limits = limits::Limits::new(
            config.smtp_max_connections,
            config.smtp_max_connections_per_ip,
            config.smtp_connections_per_minute_per_ip,
        );
        let greeting = Arc::new(greeting::GreetingGate::new(
            std::time::Duration::from_millis(config.smtp_greeting_delay_ms),
            &config.smtp_greeting_trusted,
            std::time::Duration::from_secs(config.smtp_greeting_pass_secs),
        ));
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

pub async fn serve(listener: smol::net::TcpListener, ctx: SmtpContext) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let ctx = ctx.clone();
                match ctx.limits.admit(peer.ip()) {
                    Ok(permit) => {
                        smol::spawn(async move {
                            session::Session::new(ctx, peer, Box::new(stream))
                                .run()
                                .await;
                            drop(permit);
                        })
                        .detach();
                    }
                    Err(refusal) => {
                        log::info!("smtp {peer}: refused connection: {}", refusal.reason());
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
                        smol::spawn(refuse(stream, refusal)).detach();
                    }
                }
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                log::warn!("smtp accept failed: {e}");
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

/// Where mail for a recipient goes: account addresses, aliases, plus-addressing (`user+tag`)
/// and catch-alls, case-insensitively (`store/redb/read_addresses.rs`).
pub async fn resolve(store: &Store, address: &str) -> crate::store::Result<Recipient> {
    let address = address.to_string();
    store.read(move |r| r.resolve_recipient(&address)).await
}
