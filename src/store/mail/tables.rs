//! The tables the mail operations work on, as a backend declares them ([`Schema`]: one type per
//! kind of table, each implementing the interface of `store/backend.rs`), and one write
//! transaction's view of them ([`Tables`]), on which the write operations of `store/mail/` are
//! methods. `store/redb/backend.rs` names the redb types; a second backend names its own.
//!
//! The key of each table, in plain words (`redb/tables.rs` has the same list with redb names):
//! `meta` name; `accounts` account; `addresses` lower-cased address; `counters` (account,
//! slot); `mailboxes`, `emails`, `email_meta`, `threads` (account, id); `mailbox_emails`
//! (account, mailbox, receivedAt, email); `received` (account, receivedAt, email);
//! `mailbox_threads` (account, mailbox, thread); `thread_tails` (account, thread); `thread_refs`
//! (account, hash); `blobs` hash; `blob_refs` (hash, account); `changes` (account, type, modseq).

use crate::store::backend::{Field, Table, TableMut};
use crate::store::error::{Result, StoreError};
use crate::store::model::{AccountId, ChangeKind, DataType};
use crate::store::slot;
use std::collections::BTreeSet;

/// The table types a backend gives the mail operations. Records (`&'static [u8]` values) are
/// JSON of the `store/model.rs` types.
pub trait Schema {
    type Meta: TableMut<&'static str, u64>;
    type Accounts: TableMut<u32, &'static [u8]>;
    type Addresses: TableMut<&'static str, u32>;
    type Counters: TableMut<(u32, u8), u64>;
    /// `mailboxes`, `emails`, `email_meta` and `threads`: (account, id) -> record.
    type Records: TableMut<(u32, u32), &'static [u8]>;
    type MailboxEmails: TableMut<(u32, u32, i64, u32), ()>;
    type Received: TableMut<(u32, i64, u32), ()>;
    type MailboxThreads: TableMut<(u32, u32, u32), (u32, u32)>;
    type ThreadTails: TableMut<(u32, u32), (u32, u32, i64, u32)>;
    type ThreadRefs: TableMut<(u32, u128), u32>;
    type Blobs: TableMut<&'static str, &'static [u8]>;
    type BlobRefs: TableMut<(&'static str, u32), u32>;
    type Changes: TableMut<(u32, u8, u64), (u32, u8)>;
}

/// The mail tables of one write transaction (every table opened once per group commit).
pub struct Tables<'w, S: Schema> {
    pub meta: &'w mut S::Meta,
    pub accounts: &'w mut S::Accounts,
    pub addresses: &'w mut S::Addresses,
    pub counters: &'w mut S::Counters,
    pub mailboxes: &'w mut S::Records,
    pub emails: &'w mut S::Records,
    pub email_meta: &'w mut S::Records,
    pub mailbox_emails: &'w mut S::MailboxEmails,
    pub received: &'w mut S::Received,
    pub mailbox_threads: &'w mut S::MailboxThreads,
    pub threads: &'w mut S::Records,
    pub thread_tails: &'w mut S::ThreadTails,
    pub thread_refs: &'w mut S::ThreadRefs,
    pub blobs: &'w mut S::Blobs,
    pub blob_refs: &'w mut S::BlobRefs,
    pub changes: &'w mut S::Changes,
    /// (account, type) pairs changed in this batch: published after the commit.
    pub touched: &'w mut BTreeSet<(AccountId, DataType)>,
}

impl<S: Schema> Tables<'_, S> {
    /// Records a change: a fresh modseq, a changelog row, and a push notification after commit.
    pub fn log(&mut self, acct: AccountId, ty: DataType, id: u32, kind: ChangeKind) -> Result<u64> {
        self.touched.insert((acct, ty));
        super::changes::append(self.counters, self.changes, acct, ty, id, kind)
    }

    /// The next id from one of the account's counters (`slot::NEXT_*`).
    pub fn next_id(&mut self, acct: AccountId, s: u8) -> Result<u32> {
        let n = super::changes::counter(self.counters, acct, s)?;
        let id = u32::try_from(n).map_err(|_| StoreError::Invalid("id space exhausted".into()))?;
        self.counters.insert((acct, s), n + 1)?;
        Ok(id)
    }

    /// The state (highest modseq) of one type in an account, as of this transaction.
    pub fn state(&self, acct: AccountId, ty: DataType) -> Result<u64> {
        super::changes::counter(self.counters, acct, slot::TYPE_HIGH + ty as u8)
    }
}

/// Tables of JSON records, read and decoded in place (no copy of the row).
pub trait Records<K: Field>: Table<K, &'static [u8]> {
    fn record<T: serde::de::DeserializeOwned>(&self, key: K::View<'_>) -> Result<Option<T>> {
        match self.get(key, |b| serde_json::from_slice::<T>(b))? {
            Some(r) => Ok(Some(r?)),
            None => Ok(None),
        }
    }

    /// The records with keys in `lo..=hi`, in key order.
    fn records<T: serde::de::DeserializeOwned>(
        &self,
        lo: K::View<'_>,
        hi: K::View<'_>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.range(lo, hi, |_, v| {
            out.push(serde_json::from_slice(v)?);
            Ok(true)
        })?;
        Ok(out)
    }
}

impl<K: Field, T: Table<K, &'static [u8]> + ?Sized> Records<K> for T {}

/// Whether a table has a row at `key`.
pub fn exists<K: Field, V: Field>(t: &impl Table<K, V>, key: K::View<'_>) -> Result<bool> {
    Ok(t.get(key, |_| ())?.is_some())
}

/// Whether a table has any row in `lo..=hi`.
pub fn any<K: Field, V: Field>(
    t: &impl Table<K, V>,
    lo: K::View<'_>,
    hi: K::View<'_>,
) -> Result<bool> {
    let mut found = false;
    t.range(lo, hi, |_, _| {
        found = true;
        Ok(false)
    })?;
    Ok(found)
}

/// A record's JSON bytes.
pub fn json<T: serde::Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}
