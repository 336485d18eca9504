//! Sending mail: the durable outbound queue and everything around it.
//!
//! Every message that leaves through this server, from JMAP EmailSubmission or the SMTP
//! submission port, is first committed to the queue (`OUTBOUND` in redb) with its envelope and
//! a status per recipient; only then is the client told "accepted". The queue runner
//! ([`Outbound::run`]) then delivers each recipient:
//! - local recipients through `ingest::deliver`, the one way mail enters (DESIGN.md);
//! - remote recipients over SMTP (`client.rs`), DKIM-signed (`dkim.rs`), through the configured
//!   smarthost or directly to the domain's MX (`route.rs`), honouring the domain's MTA-STS
//!   policy (`mta_sts.rs`, RFC 8461).
//!
//! A 2xx reply marks a recipient delivered, a 5xx failed; anything else (4xx, no connection)
//! is retried with exponential backoff (`retry_first_secs` doubling up to `retry_max_secs`)
//! until `give_up_secs` (5 days by default, RFC 5321 §4.5.4.1) have passed. Each recipient
//! that fails gets the sender a bounce (`dsn.rs`, RFC 3464), delivered locally.
//! The EmailSubmission a message came from follows its progress (deliveryStatus, undoStatus).

pub mod client;
pub mod dkim;
pub mod downgrade;
pub mod dsn;
pub mod headers;
pub mod mta_sts;
pub mod mta_sts_fetch;
pub mod queue;
pub mod route;
pub mod spf;
pub mod srs;
pub mod tls;
pub mod tls_report;
pub mod tls_report_send;
pub mod vacation;

use crate::config::Config;
use crate::store::model::AccountId;
use crate::store::model_send::{QueuedMessage, QueuedRecipient, RcptState};
use crate::store::{Store, StoreError};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// How a smarthost connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmarthostTls {
    /// STARTTLS required, certificate checked (port 587).
    Starttls,
    /// TLS from the first byte, certificate checked (port 465, RFC 8314).
    Implicit,
    /// No TLS (a relay on the same machine). Credentials are then never sent.
    None,
}

/// The `[outbound]` table of the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutboundConfig {
    /// Relay all remote mail through this host ("host:port"); unset = deliver to each domain's
    /// MX directly.
    pub smarthost: Option<String>,
    pub smarthost_user: Option<String>,
    pub smarthost_password: Option<String>,
    pub smarthost_tls: SmarthostTls,
    /// Extra certificates (PEM) to trust for the smarthost, e.g. a private relay's own.
    pub smarthost_ca_file: Option<PathBuf>,
    /// The port MX hosts (and address literals such as `user@[192.0.2.1]`) are reached on.
    pub mx_port: u16,
    /// First retry after this many seconds; each further wait doubles.
    pub retry_first_secs: u64,
    /// The longest wait between two attempts.
    pub retry_max_secs: u64,
    /// Give up (and bounce) after this many seconds in the queue.
    pub give_up_secs: u64,
    /// Timeout for connecting and for each SMTP command.
    pub timeout_secs: u64,
    /// DKIM-sign remote mail with the From: domain's keys.
    pub dkim_sign: bool,
    /// Deliveries in progress at once.
    pub max_parallel: usize,
    /// The longest delay a JMAP client may ask for (FUTURERELEASE, RFC 4865; RFC 8621 §1.3.3
    /// maxDelayedSend). 0 turns delayed sending off.
    pub max_delayed_send_secs: u64,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        OutboundConfig {
            smarthost: None,
            smarthost_user: None,
            smarthost_password: None,
            smarthost_tls: SmarthostTls::Starttls,
            smarthost_ca_file: None,
            mx_port: 25,
            retry_first_secs: 60,
            retry_max_secs: 4 * 3600,
            give_up_secs: 5 * 86_400,
            timeout_secs: 60,
            dkim_sign: true,
            max_parallel: 8,
            max_delayed_send_secs: 30 * 86_400,
        }
    }
}

impl OutboundConfig {
    pub fn validate(&self) -> Result<(), String> {
        if let Some(h) = &self.smarthost
            && route::split_host_port(h, 0).is_none()
        {
            return Err(format!(
                "outbound.smarthost '{h}' must be host:port (e.g. smtp.example.net:587)"
            ));
        }
        if self.smarthost_user.is_some() != self.smarthost_password.is_some() {
            return Err("outbound.smarthost_user and smarthost_password go together".into());
        }
        if self.smarthost_user.is_some() && self.smarthost_tls == SmarthostTls::None {
            return Err("outbound.smarthost_tls = \"none\" cannot be used with credentials".into());
        }
        if self.retry_first_secs == 0 || self.retry_max_secs == 0 || self.timeout_secs == 0 {
            return Err("outbound retry and timeout values must be at least 1 second".into());
        }
        if self.max_parallel == 0 {
            return Err("outbound.max_parallel must be at least 1".into());
        }
        Ok(())
    }

    /// The wait before attempt `attempts + 1`: exponential backoff, capped.
    pub fn backoff(&self, attempts: u32) -> i64 {
        let shift = attempts.saturating_sub(1).min(30);
        let secs = self
            .retry_first_secs
            .saturating_mul(1u64 << shift)
            .min(self.retry_max_secs);
        i64::try_from(secs).unwrap_or(i64::MAX)
    }
}

/// A message to queue.
pub struct NewMessage {
    pub account: Option<AccountId>,
    pub submission: Option<u32>,
    pub mail_from: String,
    pub rcpts: Vec<String>,
    /// Earliest delivery (FUTURERELEASE, RFC 4865); 0 = now.
    pub release_at: i64,
    pub size: u64,
}

impl NewMessage {
    /// Mail the server sends from the null sender (RFC 5321 §4.5.5, RFC 3834 §3.3): bounces,
    /// auto-replies, reports, and bounces passed on to an SRS address's sender. `account` is
    /// the account it is sent for, if any; [`Outbound::enqueue`] fills in the size.
    pub fn null_sender(account: Option<AccountId>, rcpts: Vec<String>) -> NewMessage {
        NewMessage {
            account,
            submission: None,
            mail_from: String::new(),
            rcpts,
            release_at: 0,
            size: 0,
        }
    }

    /// The queue record (its blob is filled in by `Writer::enqueue`).
    pub fn into_queued(self, blob: String, now: i64) -> QueuedMessage {
        let mut seen = HashSet::new();
        QueuedMessage {
            id: 0,
            account: self.account,
            submission: self.submission,
            mail_from: self.mail_from,
            blob,
            size: self.size,
            created: now,
            next_attempt: self.release_at.max(now),
            attempts: 0,
            relayed: false,
            recipients: self
                .rcpts
                .into_iter()
                .filter(|r| seen.insert(r.to_lowercase()))
                .map(|address| QueuedRecipient {
                    address,
                    state: RcptState::Pending,
                    reply: String::new(),
                    local: false,
                })
                .collect(),
        }
    }
}

pub(crate) struct Inner {
    pub store: Store,
    pub config: Arc<Config>,
    wake_tx: async_channel::Sender<()>,
    wake_rx: async_channel::Receiver<()>,
    in_flight: Mutex<HashSet<u64>>,
    pub verified_tls: Arc<rustls::ClientConfig>,
    pub opportunistic_tls: Arc<rustls::ClientConfig>,
    /// The MX resolver, made on first use (`route.rs`).
    pub mx: Mutex<Option<crate::ingest::auth::MxResolver>>,
    /// Remote MTA-STS policies (`mta_sts.rs`); None when `[mta_sts] outbound = false` or all
    /// mail goes through a smarthost.
    pub sts: Option<mta_sts::Sts>,
}

/// The handle to the outbound queue; cheap to clone.
#[derive(Clone)]
pub struct Outbound {
    pub(crate) inner: Arc<Inner>,
}

impl Outbound {
    /// `guard` is the server's one SSRF gate (`net_guard.rs`), which the MTA-STS policy fetch
    /// goes through.
    pub fn new(
        store: Store,
        config: Arc<Config>,
        guard: Arc<crate::net_guard::NetGuard>,
    ) -> Result<Outbound, String> {
        let verified_tls = tls::verified(config.outbound.smarthost_ca_file.as_deref())?;
        let opportunistic_tls = tls::opportunistic()?;
        let sts = if config.mta_sts.outbound && config.outbound.smarthost.is_none() {
            Some(mta_sts::Sts::new(&config, guard)?)
        } else {
            None
        };
        let (wake_tx, wake_rx) = async_channel::bounded(1);
        Ok(Outbound {
            inner: Arc::new(Inner {
                store,
                config,
                wake_tx,
                wake_rx,
                in_flight: Mutex::new(HashSet::new()),
                verified_tls,
                opportunistic_tls,
                mx: Mutex::new(None),
                sts,
            }),
        })
    }

    /// Tells the runner to look at the queue now (after something was queued).
    pub fn wake(&self) {
        let _ = self.inner.wake_tx.try_send(());
    }

    /// Queues `raw` for `msg`'s recipients; returns once the message is durable.
    ///
    /// Every way out passes here, so this is where the message gets what RFC 6409 §8 asks of a
    /// submission server (`headers.rs`): Bcc: removed, a missing Date: or Message-ID: added.
    /// The queued bytes are what every recipient gets, local or remote, and what DKIM signs.
    pub async fn enqueue(&self, msg: NewMessage, raw: Vec<u8>) -> Result<u64, StoreError> {
        self.enqueue_as(msg, raw, false).await
    }

    /// [`Outbound::enqueue`] for mail passed on rather than written here (a forwarded bounce):
    /// it is never DKIM-signed (`QueuedMessage::relayed`).
    pub async fn enqueue_relayed(&self, msg: NewMessage, raw: Vec<u8>) -> Result<u64, StoreError> {
        self.enqueue_as(msg, raw, true).await
    }

    async fn enqueue_as(
        &self,
        mut msg: NewMessage,
        raw: Vec<u8>,
        relayed: bool,
    ) -> Result<u64, StoreError> {
        let now = crate::date::now();
        let raw = headers::complete_for_sending(&raw, &self.inner.config.hostname, now);
        msg.size = raw.len() as u64;
        // A user's own mail (not an auto-reply from the null sender, RFC 3834 §3.3) makes its
        // recipients correspondents, whose mail the junk filter never files (src/junk/).
        let sent_by = msg.account.filter(|_| !msg.mail_from.is_empty());
        let rcpts: Vec<String> = msg.rcpts.iter().map(|r| r.to_ascii_lowercase()).collect();
        let mut queued = msg.into_queued(String::new(), now);
        queued.relayed = relayed;
        let raw = Arc::new(raw);
        let limits = self.inner.config.send_limits.clone();
        let id = self
            .inner
            .store
            .write(move |w| {
                if let Some(acct) = sent_by {
                    // Refused before anything is queued (quota/send.rs).
                    let n = u32::try_from(rcpts.len()).unwrap_or(u32::MAX);
                    w.send_charge(acct, n, now, &limits)?;
                    w.note_sent_to(acct, &rcpts, now)?;
                }
                w.enqueue(queued.clone(), Some(&raw))
            })
            .await?;
        self.wake();
        Ok(id)
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The queue runner, and beside it the TLS report sender (`tls_report_send.rs`): runs
    /// until the process ends.
    pub async fn run(self) {
        use futures_lite::FutureExt;
        queue::run(self.clone())
            .or(tls_report_send::run(self))
            .await
    }

    /// Marks queue entry `id` as being worked on; false if something already is. The runner
    /// claims an entry for each attempt; EmailSubmission/set claims one while it cancels it.
    pub fn claim(&self, id: u64) -> bool {
        self.inner
            .in_flight
            .lock()
            .map(|mut s| s.insert(id))
            .unwrap_or(false)
    }

    pub fn release(&self, id: u64) {
        if let Ok(mut s) = self.inner.in_flight.lock() {
            s.remove(&id);
        }
    }
}
