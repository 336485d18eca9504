//! Write operations. Each runs inside one write transaction owned by the group-commit thread
//! (`commit.rs`); every table is opened once per batch and shared by the jobs in it.
//! Counts (RFC 8621 §2 totalEmails, unreadEmails, totalThreads, unreadThreads) are maintained
//! incrementally here, in the same transaction as the change that moves them, so they are
//! exact after every kind of change.

use super::changes;
use super::tables::*;
use crate::store::error::{Result, StoreError};
use crate::store::model::*;
#[allow(unused_imports)]
use redb::ReadableTableMetadata;
use redb::{ReadableTable, Table, WriteTransaction};
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
use crate::store::mail;
pub use crate::store::mail::blob::hex_sha256;

fn json<T: serde::Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

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
        self.touched.insert((acct, ty));
        changes::append(&mut self.counters, &mut self.changes, acct, ty, id, kind)
    }

    pub fn next_id(&mut self, acct: AccountId, s: u8) -> Result<u32> {
        let n = changes::counter(&self.counters, acct, s)?;
        let id = u32::try_from(n).map_err(|_| StoreError::Invalid("id space exhausted".into()))?;
        self.counters.insert((acct, s), n + 1)?;
        Ok(id)
    }

    // ---- accounts ------------------------------------------------------------------------

    pub fn create_account(
        &mut self,
        name: &str,
        password_hash: &str,
        admin: bool,
        now: i64,
    ) -> Result<Account> {
        let name = mail::account::account_name(name)?;
        if self.addresses.get(name.as_str())?.is_some() {
            return Err(StoreError::Conflict(format!(
                "the address {name} is already in use"
            )));
        }
        let id = u32::try_from(
            self.meta
                .get("next_account")?
                .map(|v| v.value())
                .unwrap_or(1),
        )
        .map_err(|_| StoreError::Invalid("account id space exhausted".into()))?;
        self.meta.insert("next_account", u64::from(id) + 1)?;
        let account = Account {
            id,
            name: name.clone(),
            password_hash: password_hash.to_string(),
            admin,
            created_at: now,
        };
        self.accounts.insert(id, json(&account)?.as_slice())?;
        self.addresses.insert(name.as_str(), id)?;
        // An account's domain is a local domain (write_addresses.rs).
        if let Some((_, domain)) = name.rsplit_once('@') {
            self.ensure_domain(domain, now)?;
        }
        for mut mb in mail::mailbox::defaults() {
            mb.id = self.next_id(id, slot::NEXT_MAILBOX)?;
            self.mailboxes.insert((id, mb.id), json(&mb)?.as_slice())?;
            self.log(id, DataType::Mailbox, mb.id, ChangeKind::Created)?;
        }
        self.put_identity(id, mail::account::default_identity(&name), true)?;
        Ok(account)
    }

    pub fn set_password(&mut self, acct: AccountId, password_hash: &str) -> Result<()> {
        let mut account = self.account(acct)?;
        account.password_hash = password_hash.to_string();
        self.accounts.insert(acct, json(&account)?.as_slice())?;
        // RFC 8620 §7.2: push subscriptions die with the credentials that made them.
        self.remove_all_push_subscriptions(acct)?;
        // So do Bearer and refresh tokens (issue #15; app passwords stay: `app_passwords.rs`).
        self.remove_all_tokens(acct)?;
        Ok(())
    }

    fn account(&self, acct: AccountId) -> Result<Account> {
        let v = self.accounts.get(acct)?.ok_or(StoreError::NotFound)?;
        Ok(serde_json::from_slice(v.value())?)
    }

    /// Deletes an account and everything it owns. Blobs shared with other accounts stay.
    pub fn delete_account(&mut self, acct: AccountId) -> Result<()> {
        let account = self.account(acct)?;
        self.remove_all_push_subscriptions(acct)?;
        self.remove_all_app_passwords(acct)?;
        self.remove_all_tokens(acct)?;
        self.remove_all_uploads(acct)?;
        let ids: Vec<u32> = self
            .emails
            .range((acct, 0)..=(acct, u32::MAX))?
            .map(|r| r.map(|(k, _)| k.value().1))
            .collect::<std::result::Result<_, _>>()?;
        for id in ids {
            self.destroy_email(acct, id)?;
        }
        self.accounts.remove(acct)?;
        let addrs: Vec<String> = self
            .addresses
            .iter()?
            .filter_map(|r| r.ok())
            .filter(|(_, v)| v.value() == acct)
            .map(|(k, _)| k.value().to_string())
            .collect();
        for a in addrs {
            self.addresses.remove(a.as_str())?;
        }
        self.forget_alias_target(acct)?;
        self.forget_identities(acct)?;
        self.forget_sieve_scripts(acct)?;
        self.junk_forget_account(acct)?;
        self.quota_forget_account(acct)?;
        self.send_forget_account(acct)?;
        let _ = account;
        self.mailboxes
            .retain_in((acct, 0)..=(acct, u32::MAX), |_, _| false)?;
        self.mailbox_threads
            .retain_in((acct, 0, 0)..=(acct, u32::MAX, u32::MAX), |_, _| false)?;
        self.thread_refs
            .retain_in((acct, 0)..=(acct, u128::MAX), |_, _| false)?;
        self.thread_tails
            .retain_in((acct, 0)..=(acct, u32::MAX), |_, _| false)?;
        self.changes
            .retain_in((acct, 0, 0)..=(acct, u8::MAX, u64::MAX), |_, _| false)?;
        self.counters
            .retain_in((acct, 0)..=(acct, u8::MAX), |_, _| false)?;
        Ok(())
    }

    // ---- blobs ---------------------------------------------------------------------------

    /// Stores bytes once (content-addressed) and counts a reference from `acct`.
    pub fn put_blob(&mut self, acct: AccountId, bytes: &[u8]) -> Result<String> {
        let hash = hex_sha256(bytes);
        if self.blobs.get(hash.as_str())?.is_none() {
            self.blobs
                .insert(hash.as_str(), super::blob_codec::encode(bytes).as_slice())?;
        }
        let n = self
            .blob_refs
            .get((hash.as_str(), acct))?
            .map(|v| v.value())
            .unwrap_or(0);
        self.blob_refs.insert((hash.as_str(), acct), n + 1)?;
        Ok(hash)
    }

    /// Drops one reference; the bytes go when no account references them any more.
    pub fn release_blob(&mut self, acct: AccountId, hash: &str) -> Result<()> {
        let n = self
            .blob_refs
            .get((hash, acct))?
            .map(|v| v.value())
            .unwrap_or(0);
        if n > 1 {
            self.blob_refs.insert((hash, acct), n - 1)?;
            return Ok(());
        }
        self.blob_refs.remove((hash, acct))?;
        let still_used = self
            .blob_refs
            .range((hash, 0)..=(hash, u32::MAX))?
            .next()
            .is_some();
        if !still_used {
            self.blobs.remove(hash)?;
        }
        Ok(())
    }

    // ---- emails --------------------------------------------------------------------------

    fn email_state(&self, acct: AccountId, id: u32) -> Result<EmailState> {
        let v = self.emails.get((acct, id))?.ok_or(StoreError::NotFound)?;
        Ok(serde_json::from_slice(v.value())?)
    }

    fn mailbox(&self, acct: AccountId, id: u32) -> Result<Mailbox> {
        let v = self
            .mailboxes
            .get((acct, id))?
            .ok_or(StoreError::NotFound)?;
        Ok(serde_json::from_slice(v.value())?)
    }

    pub fn mailbox_id_by_role(&self, acct: AccountId, role: &str) -> Result<Option<u32>> {
        for row in self.mailboxes.range((acct, 0)..=(acct, u32::MAX))? {
            let (k, v) = row?;
            let mb: Mailbox = serde_json::from_slice(v.value())?;
            if mb.role.as_deref() == Some(role) {
                return Ok(Some(k.value().1));
            }
        }
        Ok(None)
    }

    fn check_mailboxes(&self, acct: AccountId, ids: &[u32]) -> Result<()> {
        if ids.is_empty() {
            return Err(StoreError::Invalid(
                "an email must be in at least one mailbox".into(),
            ));
        }
        for id in ids {
            if self.mailboxes.get((acct, *id))?.is_none() {
                return Err(StoreError::Invalid(format!(
                    "no mailbox {}",
                    IdKind::Mailbox.encode(*id)
                )));
            }
        }
        Ok(())
    }

    /// Stores a new message: blob, thread assignment, indexes, counts, changelog.
    /// `thread_keys` are the hashes of (message id, base subject) for every id the message
    /// carries (its own Message-ID, In-Reply-To, References); the first one already known in the
    /// account names the thread to join (DESIGN.md "Threading").
    pub fn insert_email(
        &mut self,
        new: &NewEmail,
        raw: &[u8],
        thread_keys: &[u128],
    ) -> Result<(u32, u32)> {
        let acct = new.account;
        if self.accounts.get(acct)?.is_none() {
            return Err(StoreError::NotFound);
        }
        self.check_mailboxes(acct, &new.mailbox_ids)?;
        // Refused before anything is written (store/redb/quota.rs).
        self.quota_charge(acct, raw.len() as u64)?;
        let hash = self.put_blob(acct, raw)?;
        let thread = mail::thread::join(&self.thread_refs, &self.threads, acct, thread_keys)?;
        let id = self.next_id(acct, slot::NEXT_EMAIL)?;
        let (thread_id, mut members) = match thread {
            Some(t) => {
                let v = self.threads.get((acct, t))?.ok_or(StoreError::NotFound)?;
                (t, serde_json::from_slice::<Vec<u32>>(v.value())?)
            }
            None => (self.next_id(acct, slot::NEXT_THREAD)?, Vec::new()),
        };
        mail::thread::remember(
            &mut self.thread_refs,
            &self.threads,
            acct,
            thread_keys,
            thread_id,
        )?;
        let mut mailbox_ids = new.mailbox_ids.clone();
        mailbox_ids.sort_unstable();
        mailbox_ids.dedup();
        let state = EmailState {
            blob: hash,
            thread_id,
            mailbox_ids,
            keywords: new.keywords.clone(),
            received_at: new.received_at,
            size: raw.len() as u64,
        };
        self.emails.insert((acct, id), json(&state)?.as_slice())?;
        self.email_meta
            .insert((acct, id), json(&new.meta)?.as_slice())?;
        self.received.insert((acct, state.received_at, id), ())?;
        for m in &state.mailbox_ids {
            self.mailbox_emails
                .insert((acct, *m, state.received_at, id), ())?;
        }
        let thread_is_new = members.is_empty();
        let appends = !thread_is_new
            && !state.keywords.contains_key("$draft")
            && self.appends_to_thread(acct, thread_id, &members, state.received_at, id)?;
        members.push(id);
        if appends {
            // The common case, whatever the thread's size: no drafts to place, and the newest
            // message goes last. Same order a rebuild would give, without reading the members.
            self.threads
                .insert((acct, thread_id), json(&members)?.as_slice())?;
            self.thread_tails.insert(
                (acct, thread_id),
                (members.len() as u32, 0, state.received_at, id),
            )?;
        } else {
            self.write_thread(acct, thread_id, members)?;
        }
        self.adjust_counts(acct, thread_id, None, Some(&state))?;
        self.log(acct, DataType::Email, id, ChangeKind::Created)?;
        let tkind = if thread_is_new {
            ChangeKind::Created
        } else {
            ChangeKind::Updated
        };
        self.log(acct, DataType::Thread, thread_id, tkind)?;
        self.log(acct, DataType::EmailDelivery, id, ChangeKind::Created)?;
        Ok((id, thread_id))
    }

    /// Whether a new non-draft message simply goes after the last member
    /// (`mail::thread::appends`, against the stored tail).
    fn appends_to_thread(
        &self,
        acct: AccountId,
        thread: u32,
        members: &[u32],
        at: i64,
        id: u32,
    ) -> Result<bool> {
        let tail = self.thread_tails.get((acct, thread))?.map(|v| v.value());
        Ok(mail::thread::appends(tail, members, at, id))
    }

    /// Stores a thread's email list in the order `mail::thread::order` gives (RFC 8621 §3),
    /// with its tail row (`mail::thread::rebuild`, over the backend interface).
    fn write_thread(&mut self, acct: AccountId, thread: u32, members: Vec<u32>) -> Result<()> {
        mail::thread::rebuild(
            &self.emails,
            &self.email_meta,
            &mut self.threads,
            &mut self.thread_tails,
            acct,
            thread,
            members,
        )
    }

    /// Changes an email's mailboxes and/or keywords, keeping indexes and counts exact.
    pub fn update_email(
        &mut self,
        acct: AccountId,
        id: u32,
        mailbox_ids: Option<Vec<u32>>,
        keywords: Option<BTreeMap<String, bool>>,
    ) -> Result<()> {
        let old = self.email_state(acct, id)?;
        let mut new = old.clone();
        if let Some(mut m) = mailbox_ids {
            m.sort_unstable();
            m.dedup();
            self.check_mailboxes(acct, &m)?;
            new.mailbox_ids = m;
        }
        if let Some(k) = keywords {
            new.keywords = k;
        }
        if new == old {
            return Ok(());
        }
        for m in &old.mailbox_ids {
            self.mailbox_emails
                .remove((acct, *m, old.received_at, id))?;
        }
        for m in &new.mailbox_ids {
            self.mailbox_emails
                .insert((acct, *m, new.received_at, id), ())?;
        }
        self.emails.insert((acct, id), json(&new)?.as_slice())?;
        self.adjust_counts(acct, old.thread_id, Some(&old), Some(&new))?;
        self.log(acct, DataType::Email, id, ChangeKind::Updated)?;
        if old.keywords.contains_key("$draft") != new.keywords.contains_key("$draft") {
            // A draft's place in its thread depends on the keyword (RFC 8621 §3).
            let members: Vec<u32> = match self.threads.get((acct, old.thread_id))? {
                Some(v) => serde_json::from_slice(v.value())?,
                None => Vec::new(),
            };
            let before = members.clone();
            self.write_thread(acct, old.thread_id, members)?;
            let after: Vec<u32> = match self.threads.get((acct, old.thread_id))? {
                Some(v) => serde_json::from_slice(v.value())?,
                None => Vec::new(),
            };
            if before != after {
                self.log(acct, DataType::Thread, old.thread_id, ChangeKind::Updated)?;
            }
        }
        Ok(())
    }

    /// Removes an email for good, with its thread membership and blob reference.
    pub fn destroy_email(&mut self, acct: AccountId, id: u32) -> Result<()> {
        let old = self.email_state(acct, id)?;
        self.emails.remove((acct, id))?;
        self.email_meta.remove((acct, id))?;
        self.received.remove((acct, old.received_at, id))?;
        for m in &old.mailbox_ids {
            self.mailbox_emails
                .remove((acct, *m, old.received_at, id))?;
        }
        self.adjust_counts(acct, old.thread_id, Some(&old), None)?;
        let members: Vec<u32> = match self.threads.get((acct, old.thread_id))? {
            Some(v) => serde_json::from_slice(v.value())?,
            None => Vec::new(),
        };
        let rest: Vec<u32> = members.into_iter().filter(|m| *m != id).collect();
        // The next delivery into this thread rebuilds its tail (once).
        self.thread_tails.remove((acct, old.thread_id))?;
        if rest.is_empty() {
            self.threads.remove((acct, old.thread_id))?;
            self.log(acct, DataType::Thread, old.thread_id, ChangeKind::Destroyed)?;
        } else {
            self.threads
                .insert((acct, old.thread_id), json(&rest)?.as_slice())?;
            self.log(acct, DataType::Thread, old.thread_id, ChangeKind::Updated)?;
        }
        self.release_blob(acct, &old.blob)?;
        self.quota_release(acct, old.size)?;
        self.log(acct, DataType::Email, id, ChangeKind::Destroyed)?;
        Ok(())
    }

    /// Moves the per-mailbox counters from `old` to `new` (either may be absent); the rule is
    /// `mail::counts::adjust`, over the backend interface.
    fn adjust_counts(
        &mut self,
        acct: AccountId,
        thread: u32,
        old: Option<&EmailState>,
        new: Option<&EmailState>,
    ) -> Result<()> {
        let changed = mail::counts::adjust(
            &mut self.mailboxes,
            &mut self.mailbox_threads,
            acct,
            thread,
            old,
            new,
        )?;
        for id in changed {
            self.log(acct, DataType::Mailbox, id, ChangeKind::CountsUpdated)?;
        }
        Ok(())
    }

    // ---- mailboxes -----------------------------------------------------------------------

    /// Creates or replaces a mailbox record after the caller validated it (jmap/mailbox.rs).
    /// Counts are kept from the stored record: they are server-set.
    pub fn put_mailbox(&mut self, acct: AccountId, mut mb: Mailbox, created: bool) -> Result<u32> {
        if created {
            mb.id = self.next_id(acct, slot::NEXT_MAILBOX)?;
            mb.counts = MailboxCounts::default();
        } else {
            mb.counts = self.mailbox(acct, mb.id)?.counts;
        }
        self.mailboxes
            .insert((acct, mb.id), json(&mb)?.as_slice())?;
        let kind = if created {
            ChangeKind::Created
        } else {
            ChangeKind::Updated
        };
        self.log(acct, DataType::Mailbox, mb.id, kind)?;
        Ok(mb.id)
    }

    /// Removes an empty mailbox record (callers move or destroy its emails first).
    pub fn remove_mailbox(&mut self, acct: AccountId, id: u32) -> Result<()> {
        if self
            .mailbox_emails
            .range((acct, id, i64::MIN, 0)..=(acct, id, i64::MAX, u32::MAX))?
            .next()
            .is_some()
        {
            return Err(StoreError::Conflict("mailboxHasEmail".into()));
        }
        self.mailboxes
            .remove((acct, id))?
            .ok_or(StoreError::NotFound)?;
        self.log(acct, DataType::Mailbox, id, ChangeKind::Destroyed)?;
        Ok(())
    }

    /// Adds an address (alias) that delivers to `acct`.
    pub fn add_address(&mut self, acct: AccountId, address: &str) -> Result<()> {
        let a = address.trim().to_lowercase();
        if self.addresses.get(a.as_str())?.is_some() {
            return Err(StoreError::Conflict(format!(
                "the address {a} is already in use"
            )));
        }
        self.addresses.insert(a.as_str(), acct)?;
        Ok(())
    }
}
