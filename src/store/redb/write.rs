//! Write operations. Each runs inside one write transaction owned by the group-commit thread
//! (`commit.rs`); every table is opened once per batch and shared by the jobs in it.
//! The mail operations (accounts, addresses, blobs, emails, mailboxes, threads, counts, the
//! changelog) live in `store/mail/`, written against the backend interface; the methods here
//! hand them this transaction's tables (`self.mail()`, `backend.rs`) and add what lives in
//! the other, redb-only stores (identities, push, tokens, uploads, aliases, Sieve, junk).

use super::tables::*;
use crate::store::error::Result;
use crate::store::model::*;
use redb::{Table, WriteTransaction};
use std::collections::{BTreeMap, BTreeSet};

pub struct Writer<'t> {
    /// The transaction itself, for tables that live outside this struct (opened on demand by
    /// write modules added later; a table must not be opened twice in one transaction).
    #[allow(dead_code)]
    pub(super) tx: &'t WriteTransaction,
    pub(super) meta: Table<'t, &'static str, u64>,
    pub(super) accounts: Table<'t, u32, &'static [u8]>,
    pub(super) addresses: Table<'t, &'static str, u32>,
    pub(super) counters: Table<'t, (u32, u8), u64>,
    pub(super) mailboxes: Table<'t, (u32, u32), &'static [u8]>,
    pub(super) emails: Table<'t, (u32, u32), &'static [u8]>,
    pub(super) email_meta: Table<'t, (u32, u32), &'static [u8]>,
    pub(super) mailbox_emails: Table<'t, (u32, u32, i64, u32), ()>,
    pub(super) received: Table<'t, (u32, i64, u32), ()>,
    pub(super) mailbox_threads: Table<'t, (u32, u32, u32), (u32, u32)>,
    pub(super) threads: Table<'t, (u32, u32), &'static [u8]>,
    pub(super) thread_tails: Table<'t, (u32, u32), (u32, u32, i64, u32)>,
    pub(super) thread_refs: Table<'t, (u32, u128), u32>,
    pub(super) blobs: Table<'t, &'static str, &'static [u8]>,
    pub(super) blob_refs: Table<'t, (&'static str, u32), u32>,
    pub(super) changes: Table<'t, (u32, u8, u64), (u32, u8)>,
    /// (account, type) pairs changed in this batch: published after the commit.
    pub(super) touched: BTreeSet<(AccountId, DataType)>,
}

// The mail rules live in `store/mail/` (backend-neutral); re-exported for their old callers.
pub use crate::store::mail::blob::hex_sha256;

impl<'t> Writer<'t> {
    pub(super) fn open(tx: &'t WriteTransaction) -> Result<Self> {
        Ok(Writer {
            tx,
            meta: tx.open_table(META)?,
            accounts: tx.open_table(ACCOUNTS)?,
            addresses: tx.open_table(ADDRESSES)?,
            counters: tx.open_table(COUNTERS)?,
            mailboxes: tx.open_table(MAILBOXES)?,
            emails: tx.open_table(EMAILS)?,
            email_meta: tx.open_table(EMAIL_META)?,
            mailbox_emails: tx.open_table(MAILBOX_EMAILS)?,
            received: tx.open_table(RECEIVED)?,
            mailbox_threads: tx.open_table(MAILBOX_THREADS)?,
            threads: tx.open_table(THREADS)?,
            thread_tails: tx.open_table(THREAD_TAILS)?,
            thread_refs: tx.open_table(THREAD_REFS)?,
            blobs: tx.open_table(BLOBS)?,
            blob_refs: tx.open_table(BLOB_REFS)?,
            changes: tx.open_table(CHANGES)?,
            touched: BTreeSet::new(),
        })
    }

    /// Records a change: a fresh modseq, a changelog row, and a push notification after commit.
    pub fn log(&mut self, acct: AccountId, ty: DataType, id: u32, kind: ChangeKind) -> Result<u64> {
        self.mail().log(acct, ty, id, kind)
    }

    pub fn next_id(&mut self, acct: AccountId, s: u8) -> Result<u32> {
        self.mail().next_id(acct, s)
    }

    // ---- accounts ------------------------------------------------------------------------

    pub fn create_account(
        &mut self,
        name: &str,
        password_hash: &str,
        admin: bool,
        now: i64,
    ) -> Result<Account> {
        let account = self
            .mail()
            .create_account(name, password_hash, admin, now)?;
        // An account's domain is a local domain (write_addresses.rs).
        if let Some((_, domain)) = account.name.rsplit_once('@') {
            self.ensure_domain(domain, now)?;
        }
        self.mail().create_default_mailboxes(account.id)?;
        let identity = crate::store::mail::account::default_identity(&account.name);
        self.put_identity(account.id, identity, true)?;
        Ok(account)
    }

    pub fn set_password(&mut self, acct: AccountId, password_hash: &str) -> Result<()> {
        self.mail().set_password(acct, password_hash)?;
        // RFC 8620 §7.2: push subscriptions die with the credentials that made them.
        self.remove_all_push_subscriptions(acct)?;
        // So do Bearer and refresh tokens (issue #15; app passwords stay: `app_passwords.rs`).
        self.remove_all_tokens(acct)?;
        Ok(())
    }

    /// Deletes an account and everything it owns. Blobs shared with other accounts stay.
    pub fn delete_account(&mut self, acct: AccountId) -> Result<()> {
        self.mail().account(acct)?;
        self.remove_all_push_subscriptions(acct)?;
        self.remove_all_app_passwords(acct)?;
        self.remove_all_tokens(acct)?;
        self.remove_all_uploads(acct)?;
        self.forget_alias_target(acct)?;
        self.forget_identities(acct)?;
        self.forget_sieve_scripts(acct)?;
        self.forget_shares(acct)?;
        self.junk_forget_account(acct)?;
        self.quota_forget_account(acct)?;
        self.send_forget_account(acct)?;
        self.mail().delete_account(acct)
    }

    // ---- blobs ---------------------------------------------------------------------------

    /// Stores bytes once (content-addressed) and counts a reference from `acct`.
    pub fn put_blob(&mut self, acct: AccountId, bytes: &[u8]) -> Result<String> {
        self.mail().put_blob(acct, bytes)
    }

    /// Drops one reference; the bytes go when no account references them any more.
    pub fn release_blob(&mut self, acct: AccountId, hash: &str) -> Result<()> {
        self.mail().release_blob(acct, hash)
    }

    // ---- emails --------------------------------------------------------------------------

    pub fn mailbox_id_by_role(&self, acct: AccountId, role: &str) -> Result<Option<u32>> {
        crate::store::mail::read::mailbox_id_by_role(&self.mailboxes, acct, role)
    }

    /// Stores a new message: blob, thread assignment, indexes, counts, changelog
    /// (`mail/email.rs`).
    pub fn insert_email(
        &mut self,
        new: &NewEmail,
        raw: &[u8],
        thread_keys: &[u128],
    ) -> Result<(u32, u32)> {
        // The quota refuses before anything is written (store/redb/quota.rs), after the
        // checks that would refuse anyway.
        self.mail().check_insert(new)?;
        self.quota_charge(new.account, raw.len() as u64)?;
        self.mail().insert_email(new, raw, thread_keys)
    }

    /// Changes an email's mailboxes and/or keywords, keeping indexes and counts exact.
    pub fn update_email(
        &mut self,
        acct: AccountId,
        id: u32,
        mailbox_ids: Option<Vec<u32>>,
        keywords: Option<BTreeMap<String, bool>>,
    ) -> Result<()> {
        self.mail().update_email(acct, id, mailbox_ids, keywords)
    }

    /// Removes an email for good, with its thread membership and blob reference.
    pub fn destroy_email(&mut self, acct: AccountId, id: u32) -> Result<()> {
        let size = self.mail().destroy_email(acct, id)?;
        self.quota_release(acct, size)
    }

    // ---- mailboxes -----------------------------------------------------------------------

    /// Creates or replaces a mailbox record after the caller validated it (jmap/mailbox.rs).
    /// Counts are kept from the stored record: they are server-set.
    pub fn put_mailbox(&mut self, acct: AccountId, mb: Mailbox, created: bool) -> Result<u32> {
        self.mail().put_mailbox(acct, mb, created)
    }

    /// Removes an empty mailbox record (callers move or destroy its emails first).
    pub fn remove_mailbox(&mut self, acct: AccountId, id: u32) -> Result<()> {
        self.mail().remove_mailbox(acct, id)?;
        self.forget_mailbox_shares(acct, id)
    }

    /// Adds an address (alias) that delivers to `acct`.
    pub fn add_address(&mut self, acct: AccountId, address: &str) -> Result<()> {
        self.mail().add_address(acct, address)
    }
}
