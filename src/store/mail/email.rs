//! Emails in a write transaction: insert (blob, thread, indexes, counts, changelog), update
//! (mailboxes and keywords) and destroy, keeping every index and count exact in the same
//! transaction (RFC 8621 §2 counts, §3 threads, §4 emails). Over the backend interface.

use super::tables::{Records, Schema, Tables, exists, json};
use crate::store::backend::{Table, TableMut};
use crate::store::error::{Result, StoreError};
use crate::store::model::*;
use crate::store::slot;
use std::collections::BTreeMap;

impl<S: Schema> Tables<'_, S> {
    fn email_state(&self, acct: AccountId, id: u32) -> Result<EmailState> {
        self.emails.record((acct, id))?.ok_or(StoreError::NotFound)
    }

    fn check_mailboxes(&self, acct: AccountId, ids: &[u32]) -> Result<()> {
        if ids.is_empty() {
            return Err(StoreError::Invalid(
                "an email must be in at least one mailbox".into(),
            ));
        }
        for id in ids {
            if !exists(&*self.mailboxes, (acct, *id))? {
                return Err(StoreError::Invalid(format!(
                    "no mailbox {}",
                    IdKind::Mailbox.encode(*id)
                )));
            }
        }
        Ok(())
    }

    /// What `insert_email` refuses before writing anything (the account exists, the mailboxes
    /// exist): callers with checks of their own that must also come before any write (the
    /// quota, `redb/quota.rs`) run this first.
    pub fn check_insert(&self, new: &NewEmail) -> Result<()> {
        if !exists(&*self.accounts, new.account)? {
            return Err(StoreError::NotFound);
        }
        self.check_mailboxes(new.account, &new.mailbox_ids)
    }

    /// A thread's members in order (empty when it has none).
    fn members(&self, acct: AccountId, thread: u32) -> Result<Vec<u32>> {
        Ok(super::thread::members(&*self.threads, acct, thread)?.unwrap_or_default())
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
        if !exists(&*self.accounts, acct)? {
            return Err(StoreError::NotFound);
        }
        self.check_mailboxes(acct, &new.mailbox_ids)?;
        let hash = self.put_blob(acct, raw)?;
        let thread = super::thread::join(&*self.thread_refs, &*self.threads, acct, thread_keys)?;
        let id = self.next_id(acct, slot::NEXT_EMAIL)?;
        let (thread_id, mut members) = match thread {
            Some(t) => {
                let m =
                    super::thread::members(&*self.threads, acct, t)?.ok_or(StoreError::NotFound)?;
                (t, m)
            }
            None => (self.next_id(acct, slot::NEXT_THREAD)?, Vec::new()),
        };
        super::thread::remember(
            self.thread_refs,
            &*self.threads,
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
        self.emails.insert((acct, id), &json(&state)?)?;
        self.email_meta.insert((acct, id), &json(&new.meta)?)?;
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
                .insert((acct, thread_id), &super::thread::encode_members(&members))?;
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
    /// (`thread::appends`, against the stored tail).
    fn appends_to_thread(
        &self,
        acct: AccountId,
        thread: u32,
        members: &[u32],
        at: i64,
        id: u32,
    ) -> Result<bool> {
        let tail = self.thread_tails.get((acct, thread), |v| v)?;
        Ok(super::thread::appends(tail, members, at, id))
    }

    /// Stores a thread's email list in the order `thread::order` gives (RFC 8621 §3), with its
    /// tail row (`thread::rebuild`).
    fn write_thread(&mut self, acct: AccountId, thread: u32, members: Vec<u32>) -> Result<()> {
        super::thread::rebuild(
            &*self.emails,
            &*self.email_meta,
            self.threads,
            self.thread_tails,
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
        self.emails.insert((acct, id), &json(&new)?)?;
        self.adjust_counts(acct, old.thread_id, Some(&old), Some(&new))?;
        self.log(acct, DataType::Email, id, ChangeKind::Updated)?;
        if old.keywords.contains_key("$draft") != new.keywords.contains_key("$draft") {
            // A draft's place in its thread depends on the keyword (RFC 8621 §3).
            let members = self.members(acct, old.thread_id)?;
            let before = members.clone();
            self.write_thread(acct, old.thread_id, members)?;
            if before != self.members(acct, old.thread_id)? {
                self.log(acct, DataType::Thread, old.thread_id, ChangeKind::Updated)?;
            }
        }
        Ok(())
    }

    /// Removes an email for good, with its thread membership and blob reference.
    /// Returns the destroyed message's size (for the quota figures).
    pub fn destroy_email(&mut self, acct: AccountId, id: u32) -> Result<u64> {
        let old = self.email_state(acct, id)?;
        self.emails.remove((acct, id))?;
        self.email_meta.remove((acct, id))?;
        self.received.remove((acct, old.received_at, id))?;
        for m in &old.mailbox_ids {
            self.mailbox_emails
                .remove((acct, *m, old.received_at, id))?;
        }
        self.adjust_counts(acct, old.thread_id, Some(&old), None)?;
        let members = self.members(acct, old.thread_id)?;
        let rest: Vec<u32> = members.into_iter().filter(|m| *m != id).collect();
        // The next delivery into this thread rebuilds its tail (once).
        self.thread_tails.remove((acct, old.thread_id))?;
        if rest.is_empty() {
            self.threads.remove((acct, old.thread_id))?;
            self.log(acct, DataType::Thread, old.thread_id, ChangeKind::Destroyed)?;
        } else {
            self.threads
                .insert((acct, old.thread_id), &super::thread::encode_members(&rest))?;
            self.log(acct, DataType::Thread, old.thread_id, ChangeKind::Updated)?;
        }
        self.release_blob(acct, &old.blob)?;
        self.log(acct, DataType::Email, id, ChangeKind::Destroyed)?;
        Ok(old.size)
    }

    /// Moves the per-mailbox counters from `old` to `new` (either may be absent); the rule is
    /// `counts::adjust`.
    fn adjust_counts(
        &mut self,
        acct: AccountId,
        thread: u32,
        old: Option<&EmailState>,
        new: Option<&EmailState>,
    ) -> Result<()> {
        let changed =
            super::counts::adjust(self.mailboxes, self.mailbox_threads, acct, thread, old, new)?;
        for id in changed {
            self.log(acct, DataType::Mailbox, id, ChangeKind::CountsUpdated)?;
        }
        Ok(())
    }

    /// The ids of every email of the account.
    pub fn email_ids(&self, acct: AccountId) -> Result<Vec<u32>> {
        let mut ids = Vec::new();
        self.emails
            .range((acct, 0), (acct, u32::MAX), |(_, id), _| {
                ids.push(id);
                Ok(true)
            })?;
        Ok(ids)
    }
}
