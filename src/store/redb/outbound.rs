//! Storage for the sending side: the outbound queue (`OUTBOUND`), DKIM keys (`DKIM_KEYS`),
//! EmailSubmission records (`SUBMISSIONS`) and the vacation-reply log (`VACATION_REPLIES`).
//!
//! A queued message's bytes are an ordinary blob with a reference held by the pseudo-account
//! `QUEUE_OWNER`, taken when the message is queued and dropped when it leaves the queue.

use super::read::{Reader, table};
use super::tables::{DKIM_KEYS, OUTBOUND, QUEUE_OWNER, SUBMISSIONS, VACATION_REPLIES};
use super::write::Writer;
use crate::store::error::{Result, StoreError};
use crate::store::model::AccountId;
use crate::store::model_send::{DkimKey, QueuedMessage, Submission};
use redb::ReadableTable;

impl Writer<'_> {
    /// Queues a message. With `raw` the bytes are stored (once, content-addressed); without it
    /// `msg.blob` must name a stored blob, which gains a queue reference. Returns the queue id.
    pub fn enqueue(&mut self, mut msg: QueuedMessage, raw: Option<&[u8]>) -> Result<u64> {
        match raw {
            Some(bytes) => msg.blob = self.put_blob(QUEUE_OWNER, bytes)?,
            None => {
                if self.blobs.get(msg.blob.as_str())?.is_none() {
                    return Err(StoreError::NotFound);
                }
                let n = self
                    .blob_refs
                    .get((msg.blob.as_str(), QUEUE_OWNER))?
                    .map(|v| v.value())
                    .unwrap_or(0);
                self.blob_refs
                    .insert((msg.blob.as_str(), QUEUE_OWNER), n + 1)?;
            }
        }
        let id = self
            .meta
            .get("next_outbound")?
            .map(|v| v.value())
            .unwrap_or(1);
        self.meta.insert("next_outbound", id + 1)?;
        msg.id = id;
        self.put_queued(&msg)?;
        Ok(id)
    }

    pub fn queued(&self, id: u64) -> Result<Option<QueuedMessage>> {
        let t = self.tx.open_table(OUTBOUND)?;
        match t.get(id)? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value())?)),
            None => Ok(None),
        }
    }

    pub fn put_queued(&mut self, msg: &QueuedMessage) -> Result<()> {
        let bytes = serde_json::to_vec(msg)?;
        let mut t = self.tx.open_table(OUTBOUND)?;
        t.insert(msg.id, bytes.as_slice())?;
        Ok(())
    }

    /// Takes a message out of the queue and drops its blob reference.
    pub fn remove_queued(&mut self, id: u64) -> Result<()> {
        let Some(msg) = self.queued(id)? else {
            return Ok(());
        };
        {
            let mut t = self.tx.open_table(OUTBOUND)?;
            t.remove(id)?;
        }
        self.release_blob(QUEUE_OWNER, &msg.blob)
    }

    /// Stores `key` unless the domain already has a key of that algorithm; returns the one kept
    /// (so two servers racing to make a key agree on one).
    pub fn put_dkim_key_once(&mut self, key: &DkimKey, algo: u8) -> Result<DkimKey> {
        let mut t = self.tx.open_table(DKIM_KEYS)?;
        if let Some(v) = t.get((key.domain.as_str(), algo))? {
            return Ok(serde_json::from_slice(v.value())?);
        }
        let bytes = serde_json::to_vec(key)?;
        t.insert((key.domain.as_str(), algo), bytes.as_slice())?;
        Ok(key.clone())
    }

    pub fn submission(&self, acct: AccountId, id: u32) -> Result<Option<Submission>> {
        let t = self.tx.open_table(SUBMISSIONS)?;
        match t.get((acct, id))? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value())?)),
            None => Ok(None),
        }
    }

    pub fn put_submission(&mut self, acct: AccountId, s: &Submission) -> Result<()> {
        let bytes = serde_json::to_vec(s)?;
        let mut t = self.tx.open_table(SUBMISSIONS)?;
        t.insert((acct, s.id), bytes.as_slice())?;
        Ok(())
    }

    pub fn remove_submission(&mut self, acct: AccountId, id: u32) -> Result<bool> {
        let mut t = self.tx.open_table(SUBMISSIONS)?;
        Ok(t.remove((acct, id))?.is_some())
    }

    /// When a vacation reply last went to `sender` from `acct`.
    pub fn vacation_replied(&self, acct: AccountId, sender: &str) -> Result<Option<i64>> {
        let t = self.tx.open_table(VACATION_REPLIES)?;
        Ok(t.get((acct, sender))?.map(|v| v.value()))
    }

    pub fn set_vacation_replied(&mut self, acct: AccountId, sender: &str, at: i64) -> Result<()> {
        let mut t = self.tx.open_table(VACATION_REPLIES)?;
        t.insert((acct, sender), at)?;
        Ok(())
    }
}

impl Reader {
    /// Every queued message, oldest first (the queue of a family server is short).
    pub fn queued_all(&self) -> Result<Vec<QueuedMessage>> {
        let Some(t) = table!(self, OUTBOUND) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in t.iter()? {
            let (_, v) = row?;
            out.push(serde_json::from_slice(v.value())?);
        }
        Ok(out)
    }

    pub fn queued(&self, id: u64) -> Result<Option<QueuedMessage>> {
        let Some(t) = table!(self, OUTBOUND) else {
            return Ok(None);
        };
        match t.get(id)? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value())?)),
            None => Ok(None),
        }
    }

    pub fn dkim_key(&self, domain: &str, algo: u8) -> Result<Option<DkimKey>> {
        let Some(t) = table!(self, DKIM_KEYS) else {
            return Ok(None);
        };
        match t.get((domain, algo))? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value())?)),
            None => Ok(None),
        }
    }

    pub fn submission(&self, acct: AccountId, id: u32) -> Result<Option<Submission>> {
        let Some(t) = table!(self, SUBMISSIONS) else {
            return Ok(None);
        };
        match t.get((acct, id))? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value())?)),
            None => Ok(None),
        }
    }

    /// Every EmailSubmission of an account, by id.
    pub fn submissions(&self, acct: AccountId) -> Result<Vec<Submission>> {
        let Some(t) = table!(self, SUBMISSIONS) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in t.range((acct, 0)..=(acct, u32::MAX))? {
            let (_, v) = row?;
            out.push(serde_json::from_slice(v.value())?);
        }
        Ok(out)
    }

    pub fn vacation_replied(&self, acct: AccountId, sender: &str) -> Result<Option<i64>> {
        let Some(t) = table!(self, VACATION_REPLIES) else {
            return Ok(None);
        };
        Ok(t.get((acct, sender))?.map(|v| v.value()))
    }
}
