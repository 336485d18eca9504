//! Storage for the sending side, over the backend interface: the outbound queue (`outbound`:
//! queue id -> QueuedMessage), DKIM keys (`dkim_keys`: (domain, algorithm) -> DkimKey),
//! EmailSubmission records (`submissions`: (account, id) -> Submission, RFC 8621 §7) and the
//! vacation-reply log (`vacation_replies`: (account, sender) -> time, RFC 3834 §2). Each table
//! is passed in (a backend opens them on demand).
//!
//! A queued message's bytes are an ordinary blob with a reference held by the pseudo-account
//! `QUEUE_OWNER`, taken when the message is queued and dropped when it leaves the queue.

use super::tables::{Records, Schema, Tables, exists, json};
use crate::store::QUEUE_OWNER;
use crate::store::backend::{Table, TableMut};
use crate::store::error::{Result, StoreError};
use crate::store::model::AccountId;
use crate::store::model_send::{DkimKey, QueuedMessage, Submission};

type Record = &'static [u8];

impl<S: Schema> Tables<'_, S> {
    /// Queues a message. With `raw` the bytes are stored (once, content-addressed); without it
    /// `msg.blob` must name a stored blob, which gains a queue reference. Returns the queue id.
    pub fn enqueue(
        &mut self,
        outbound: &mut impl TableMut<u64, Record>,
        mut msg: QueuedMessage,
        raw: Option<&[u8]>,
    ) -> Result<u64> {
        match raw {
            Some(bytes) => msg.blob = self.put_blob(QUEUE_OWNER, bytes)?,
            None => {
                let hash = msg.blob.as_str();
                if !exists(&*self.blobs, hash)? {
                    return Err(StoreError::NotFound);
                }
                let n = self.blob_refs.get((hash, QUEUE_OWNER), |v| v)?.unwrap_or(0);
                self.blob_refs.insert((hash, QUEUE_OWNER), n + 1)?;
            }
        }
        let id = self.meta.get("next_outbound", |v| v)?.unwrap_or(1);
        self.meta.insert("next_outbound", id + 1)?;
        msg.id = id;
        put_queued(outbound, &msg)?;
        Ok(id)
    }

    /// Takes a message out of the queue and drops its blob reference.
    pub fn remove_queued(
        &mut self,
        outbound: &mut impl TableMut<u64, Record>,
        id: u64,
    ) -> Result<()> {
        let Some(msg) = queued(outbound, id)? else {
            return Ok(());
        };
        outbound.remove(id)?;
        self.release_blob(QUEUE_OWNER, &msg.blob)
    }
}

pub fn queued(t: &impl Table<u64, Record>, id: u64) -> Result<Option<QueuedMessage>> {
    t.record(id)
}

/// Every queued message, oldest first (the queue of a family server is short).
pub fn queued_all(t: &impl Table<u64, Record>) -> Result<Vec<QueuedMessage>> {
    t.records(0, u64::MAX)
}

pub fn put_queued(t: &mut impl TableMut<u64, Record>, msg: &QueuedMessage) -> Result<()> {
    t.insert(msg.id, &json(msg)?)
}

/// Stores `key` unless the domain already has a key of that algorithm; returns the one kept
/// (so two servers racing to make a key agree on one).
pub fn put_dkim_key_once(
    t: &mut impl TableMut<(&'static str, u8), Record>,
    key: &DkimKey,
    algo: u8,
) -> Result<DkimKey> {
    if let Some(kept) = t.record((key.domain.as_str(), algo))? {
        return Ok(kept);
    }
    t.insert((key.domain.as_str(), algo), &json(key)?)?;
    Ok(key.clone())
}

pub fn dkim_key(
    t: &impl Table<(&'static str, u8), Record>,
    domain: &str,
    algo: u8,
) -> Result<Option<DkimKey>> {
    t.record((domain, algo))
}

pub fn submission(
    t: &impl Table<(u32, u32), Record>,
    acct: AccountId,
    id: u32,
) -> Result<Option<Submission>> {
    t.record((acct, id))
}

/// Every EmailSubmission of an account, by id.
pub fn submissions(t: &impl Table<(u32, u32), Record>, acct: AccountId) -> Result<Vec<Submission>> {
    t.records((acct, 0), (acct, u32::MAX))
}

pub fn put_submission(
    t: &mut impl TableMut<(u32, u32), Record>,
    acct: AccountId,
    s: &Submission,
) -> Result<()> {
    t.insert((acct, s.id), &json(s)?)
}

/// Removes a submission; false if there was none.
pub fn remove_submission(
    t: &mut impl TableMut<(u32, u32), Record>,
    acct: AccountId,
    id: u32,
) -> Result<bool> {
    if !exists(t, (acct, id))? {
        return Ok(false);
    }
    t.remove((acct, id))?;
    Ok(true)
}

/// When a vacation reply last went to `sender` from `acct`.
pub fn vacation_replied(
    t: &impl Table<(u32, &'static str), i64>,
    acct: AccountId,
    sender: &str,
) -> Result<Option<i64>> {
    t.get((acct, sender), |v| v)
}

pub fn set_vacation_replied(
    t: &mut impl TableMut<(u32, &'static str), i64>,
    acct: AccountId,
    sender: &str,
    at: i64,
) -> Result<()> {
    t.insert((acct, sender), at)
}
