//! The SMTP listener (RFC 5321): accepts connections and runs one [`session::Session`] each.
//! This is the only module that speaks SMTP.

pub mod data;
pub mod reply;
pub mod session;

use crate::config::Config;
use crate::store::Store;
use crate::store::model::AccountId;
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
}

pub async fn serve(listener: smol::net::TcpListener, ctx: SmtpContext) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let ctx = ctx.clone();
                smol::spawn(async move {
                    session::Session::new(ctx, peer, Box::new(stream))
                        .run()
                        .await;
                })
                .detach();
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                log::warn!("smtp accept failed: {e}");
                smol::Timer::after(std::time::Duration::from_millis(100)).await;
            }
        }
    }
}

/// Finds the local account for a recipient address: exact match, then without a `+tag`
/// (plus-addressing). Local parts compare case-insensitively.
pub async fn resolve(store: &Store, address: &str) -> crate::store::Result<Option<AccountId>> {
    let address = address.to_lowercase();
    store
        .read(move |r| {
            if let Some(a) = r.address(&address)? {
                return Ok(Some(a));
            }
            if let Some((local, domain)) = address.rsplit_once('@')
                && let Some((base, _tag)) = local.split_once('+')
            {
                return r.address(&format!("{base}@{domain}"));
            }
            Ok(None)
        })
        .await
}
