//! Read-only figures for the admin page: per-account usage and deliveries since a time.
//! Nothing here reads a message's content: only sizes, counts and dates.

use super::read::{Reader, table};
use super::tables::*;
use crate::store::error::Result;
use crate::store::model::{AccountId, EmailState};

/// What one account holds, as the admin page lists it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub emails: u64,
    /// Sum of the stored message sizes (octets, RFC 8621 §4.1.1 `size`).
    pub bytes: u64,
    /// The newest receivedAt (seconds since the epoch), if the account holds any mail.
    pub last_received: Option<i64>,
}

impl Reader {
    /// Counts, sizes and the newest receivedAt of one account. O(emails of the account).
    pub fn usage(&self, acct: AccountId) -> Result<Usage> {
        let mut u = Usage::default();
        if let Some(t) = table!(self, EMAILS) {
            for row in t.range((acct, 0)..=(acct, u32::MAX))? {
                let (_, v) = row?;
                let s: EmailState = serde_json::from_slice(v.value())?;
                u.emails += 1;
                u.bytes += s.size;
            }
        }
        if let Some(t) = table!(self, RECEIVED) {
            // The index is sorted by date: its last row for the account is the newest.
            if let Some(row) = t
                .range((acct, i64::MIN, 0)..=(acct, i64::MAX, u32::MAX))?
                .next_back()
            {
                u.last_received = Some(row?.0.value().1);
            }
        }
        Ok(u)
    }

    /// How many messages (over all accounts) have a receivedAt at or after `since`.
    pub fn received_since(&self, since: i64) -> Result<u64> {
        let Some(t) = table!(self, RECEIVED) else {
            return Ok(0);
        };
        let mut n = 0;
        for a in self.accounts()? {
            for row in t.range((a.id, since, 0)..=(a.id, i64::MAX, u32::MAX))? {
                row?;
                n += 1;
            }
        }
        Ok(n)
    }
}
