//! Storage for the sending side: the outbound queue (`OUTBOUND`), DKIM keys (`DKIM_KEYS`),
//! EmailSubmission records (`SUBMISSIONS`) and the vacation-reply log (`VACATION_REPLIES`).
//! The rules are in `store/mail/outbound.rs`, over the backend interface; this opens the redb
//! tables on demand for them.

use super::read::{Reader, table};
use super::tables::{DKIM_KEYS, OUTBOUND, SUBMISSIONS, VACATION_REPLIES};
use super::write::Writer;
use crate::store::error::Result;
use crate::store::mail::outbound as out;
use crate::store::model::AccountId;
use crate::store::model_send::{DkimKey, QueuedMessage, Submission};

impl Writer<'_> {
    /// Queues a message. With `raw` the bytes are stored (once, content-addressed); without it
    /// `msg.blob` must name a stored blob, which gains a queue reference. Returns the queue id.
    pub fn enqueue(&mut self, msg: QueuedMessage, raw: Option<&[u8]>) -> Result<u64> {
        let tx = self.tx;
        let mut t = tx.open_table(OUTBOUND)?;
        self.mail().enqueue(&mut t, msg, raw)
    }

    pub fn queued(&self, id: u64) -> Result<Option<QueuedMessage>> {
        out::queued(&self.tx.open_table(OUTBOUND)?, id)
    }

    pub fn put_queued(&mut self, msg: &QueuedMessage) -> Result<()> {
        out::put_queued(&mut self.tx.open_table(OUTBOUND)?, msg)
    }

    /// Takes a message out of the queue and drops its blob reference.
    pub fn remove_queued(&mut self, id: u64) -> Result<()> {
        let tx = self.tx;
        let mut t = tx.open_table(OUTBOUND)?;
        self.mail().remove_queued(&mut t, id)
    }

    /// Stores `key` unless the domain already has a key of that algorithm; returns the one kept
    /// (so two servers racing to make a key agree on one).
    pub fn put_dkim_key_once(&mut self, key: &DkimKey, algo: u8) -> Result<DkimKey> {
        out::put_dkim_key_once(&mut self.tx.open_table(DKIM_KEYS)?, key, algo)
    }

    pub fn submission(&self, acct: AccountId, id: u32) -> Result<Option<Submission>> {
        out::submission(&self.tx.open_table(SUBMISSIONS)?, acct, id)
    }

    pub fn put_submission(&mut self, acct: AccountId, s: &Submission) -> Result<()> {
        out::put_submission(&mut self.tx.open_table(SUBMISSIONS)?, acct, s)
    }

    pub fn remove_submission(&mut self, acct: AccountId, id: u32) -> Result<bool> {
        out::remove_submission(&mut self.tx.open_table(SUBMISSIONS)?, acct, id)
    }

    /// When a vacation reply last went to `sender` from `acct`.
    pub fn vacation_replied(&self, acct: AccountId, sender: &str) -> Result<Option<i64>> {
        out::vacation_replied(&self.tx.open_table(VACATION_REPLIES)?, acct, sender)
    }

    pub fn set_vacation_replied(&mut self, acct: AccountId, sender: &str, at: i64) -> Result<()> {
        out::set_vacation_replied(&mut self.tx.open_table(VACATION_REPLIES)?, acct, sender, at)
    }
}

impl Reader {
    /// Every queued message, oldest first (the queue of a family server is short).
    pub fn queued_all(&self) -> Result<Vec<QueuedMessage>> {
        let Some(t) = table!(self, OUTBOUND) else {
            return Ok(Vec::new());
        };
        out::queued_all(&t)
    }

    pub fn queued(&self, id: u64) -> Result<Option<QueuedMessage>> {
        let Some(t) = table!(self, OUTBOUND) else {
            return Ok(None);
        };
        out::queued(&t, id)
    }

    pub fn dkim_key(&self, domain: &str, algo: u8) -> Result<Option<DkimKey>> {
        let Some(t) = table!(self, DKIM_KEYS) else {
            return Ok(None);
        };
        out::dkim_key(&t, domain, algo)
    }

    pub fn submission(&self, acct: AccountId, id: u32) -> Result<Option<Submission>> {
        let Some(t) = table!(self, SUBMISSIONS) else {
            return Ok(None);
        };
        out::submission(&t, acct, id)
    }

    /// Every EmailSubmission of an account, by id.
    pub fn submissions(&self, acct: AccountId) -> Result<Vec<Submission>> {
        let Some(t) = table!(self, SUBMISSIONS) else {
            return Ok(Vec::new());
        };
        out::submissions(&t, acct)
    }

    pub fn vacation_replied(&self, acct: AccountId, sender: &str) -> Result<Option<i64>> {
        let Some(t) = table!(self, VACATION_REPLIES) else {
            return Ok(None);
        };
        out::vacation_replied(&t, acct, sender)
    }
}
