//! Ingest: the one way mail enters the store (DESIGN.md). SMTP DATA, JMAP Email/import and
//! drafts all call [`deliver`], so parsing, threading and counting happen in one place.
//! Parsing runs on a blocking thread; the store write joins the next group commit and returns
//! only once it is durable.

pub mod auth;
mod auth_cache;
pub mod junk_gate;
pub mod parse;
pub mod receive;
pub mod shape;
pub mod sieve;
pub mod sieve_create;
pub mod sieve_effects;
pub mod thread;

use crate::store::model::{AccountId, NewEmail};
use crate::store::{Store, StoreError};
use std::collections::BTreeMap;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum IngestError {
    /// There was no recipient to deliver to.
    #[error("no recipients")]
    NoRecipients,
    /// The store could not take the message (disk full, database error).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where one copy of the message goes.
#[derive(Debug, Clone)]
pub struct Target {
    pub account: AccountId,
    /// Mailbox ids; empty means the account's mailbox with `role` (default: inbox).
    pub mailbox_ids: Vec<u32>,
    pub role: Option<String>,
    pub keywords: BTreeMap<String, bool>,
}

impl Target {
    pub fn inbox(account: AccountId) -> Target {
        Target {
            account,
            mailbox_ids: Vec::new(),
            role: None,
            keywords: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Delivered {
    pub account: AccountId,
    pub email_id: u32,
    pub thread_id: u32,
    pub blob: String,
    pub size: usize,
}

/// Parses and stores one message for every target in one durable transaction.
pub async fn deliver(
    store: &Store,
    raw: Vec<u8>,
    targets: Vec<Target>,
    received_at: i64,
) -> Result<Vec<Delivered>, IngestError> {
    deliver_parsed(store, raw, None, targets, received_at).await
}

/// [`deliver`] with the summary of `raw` when a step before already parsed it (the junk
/// filter, `junk_gate.rs`): the message is then not parsed a second time.
pub async fn deliver_parsed(
    store: &Store,
    raw: Vec<u8>,
    meta: Option<crate::store::model::EmailMeta>,
    targets: Vec<Target>,
    received_at: i64,
) -> Result<Vec<Delivered>, IngestError> {
    if targets.is_empty() {
        return Err(IngestError::NoRecipients);
    }
    let prepared = crate::pool::unblock(move || prepare_with(raw, meta)).await;
    let blob = prepared.blob.clone();
    let size = prepared.raw.len();
    let done = store
        .write(move |w| {
            let mut out = Vec::with_capacity(targets.len());
            for t in &targets {
                let mut mailbox_ids = t.mailbox_ids.clone();
                if mailbox_ids.is_empty() {
                    let role = t.role.as_deref().unwrap_or("inbox");
                    let id = match w.mailbox_id_by_role(t.account, role)? {
                        Some(id) => id,
                        None => w
                            .mailbox_id_by_role(t.account, "inbox")?
                            .ok_or(StoreError::NotFound)?,
                    };
                    mailbox_ids.push(id);
                }
                let (email_id, thread_id) = insert(
                    w,
                    &prepared,
                    t.account,
                    mailbox_ids,
                    t.keywords.clone(),
                    received_at,
                )?;
                out.push((t.account, email_id, thread_id));
            }
            Ok(out)
        })
        .await?;
    Ok(done
        .into_iter()
        .map(|(account, email_id, thread_id)| Delivered {
            account,
            email_id,
            thread_id,
            blob: blob.clone(),
            size,
        })
        .collect())
}

/// A message parsed once, outside the store transaction, ready for [`insert`]. JMAP
/// Email/import and Email/set create (drafts) prepare their messages and insert them from
/// inside their /set transaction, so they thread and count exactly like SMTP deliveries.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub raw: std::sync::Arc<Vec<u8>>,
    pub meta: crate::store::model::EmailMeta,
    pub keys: Vec<u128>,
    /// Hex SHA-256 of `raw`.
    pub blob: String,
}

/// Parses raw bytes (blocking: run it off the executor).
pub fn prepare(raw: Vec<u8>) -> Prepared {
    prepare_with(raw, None)
}

/// [`prepare`], reusing a summary of `raw` made from an earlier parse.
fn prepare_with(raw: Vec<u8>, meta: Option<crate::store::model::EmailMeta>) -> Prepared {
    let meta = meta.unwrap_or_else(|| parse::meta(&raw));
    let keys = thread::keys(&meta);
    let blob = crate::store::hex_sha256(&raw);
    Prepared {
        raw: std::sync::Arc::new(raw),
        meta,
        keys,
        blob,
    }
}

/// Stores a prepared message in one account, inside the caller's write transaction.
pub fn insert(
    w: &mut crate::store::Writer<'_>,
    p: &Prepared,
    account: AccountId,
    mailbox_ids: Vec<u32>,
    keywords: BTreeMap<String, bool>,
    received_at: i64,
) -> Result<(u32, u32), StoreError> {
    let new = NewEmail {
        account,
        mailbox_ids,
        keywords,
        received_at,
        meta: p.meta.clone(),
    };
    w.insert_email(&new, &p.raw, &p.keys)
}

pub use receive::resolve;
