//! Read-only figures for the admin page: per-account usage and deliveries since a time.
//! Nothing here reads a message's content: only sizes, counts and dates. Read through the
//! backend interface (`store/mail/stats.rs`).

use super::read::{Reader, table};
use super::tables::*;
use crate::store::error::Result;
use crate::store::mail::stats;
use crate::store::model::AccountId;

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
            (u.emails, u.bytes) = stats::emails_and_bytes(&t, acct)?;
        }
        if let Some(t) = table!(self, RECEIVED) {
            u.last_received = stats::last_received(&t, acct)?;
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
            n += stats::received_since(&t, a.id, since)?;
        }
        Ok(n)
    }
}
