//! Figures for the admin page over the backend interface: sizes, counts and dates only,
//! never a message's content.

use crate::store::backend::Table;
use crate::store::error::Result;
use crate::store::model::{AccountId, EmailState};

/// How many emails the account holds and the sum of their sizes (octets, RFC 8621 §4.1.1).
/// O(emails of the account).
pub fn emails_and_bytes(
    emails: &impl Table<(u32, u32), &'static [u8]>,
    acct: AccountId,
) -> Result<(u64, u64)> {
    let (mut n, mut bytes) = (0, 0);
    emails.range((acct, 0), (acct, u32::MAX), |_, v| {
        let s: EmailState = serde_json::from_slice(v)?;
        n += 1;
        bytes += s.size;
        Ok(true)
    })?;
    Ok((n, bytes))
}

/// The newest receivedAt of the account: the last row of its part of the date index.
pub fn last_received(
    received: &impl Table<(u32, i64, u32), ()>,
    acct: AccountId,
) -> Result<Option<i64>> {
    let mut last = None;
    let (lo, hi) = ((acct, i64::MIN, 0), (acct, i64::MAX, u32::MAX));
    received.range_rev(lo, hi, |(_, at, _), ()| {
        last = Some(at);
        Ok(false)
    })?;
    Ok(last)
}

/// How many of the account's messages have a receivedAt at or after `since`.
pub fn received_since(
    received: &impl Table<(u32, i64, u32), ()>,
    acct: AccountId,
    since: i64,
) -> Result<u64> {
    let mut n = 0;
    received.range((acct, since, 0), (acct, i64::MAX, u32::MAX), |_, ()| {
        n += 1;
        Ok(true)
    })?;
    Ok(n)
}
