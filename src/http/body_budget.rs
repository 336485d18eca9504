//! How many bytes of JMAP request bodies may be held in memory at once (found in review): the
//! concurrency slot is taken only after a body is complete (a stalled body must not hold a slot
//! every user shares), so without this, one account with many connections could make the
//! server buffer `connections × maxSizeRequest` (gigabytes). A body reserves its
//! Content-Length (or the whole limit when chunked) before it is read, from a budget per
//! account and one for the server; when either is spent the request gets the
//! `maxConcurrentRequests` limit problem (RFC 8620 §3.6.1) at once, before any byte is read.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The server's budget for API bodies being read: a few large requests, thousands of small.
pub const SERVER_BYTES: usize = 64 * 1024 * 1024;
/// One account's budget: somewhat more than one `maxSizeRequest`.
pub const ACCOUNT_BYTES: usize = 16 * 1024 * 1024;

#[derive(Default)]
pub struct BodyBudget {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    total: usize,
    by_account: HashMap<String, usize>,
}

/// Bytes reserved for one body; given back when dropped.
pub struct Reservation {
    budget: Arc<BodyBudget>,
    account: String,
    bytes: usize,
}

impl BodyBudget {
    /// Reserves `bytes` for `account`, or None when the server's or the account's budget
    /// would be exceeded.
    pub fn reserve(self: &Arc<Self>, account: &str, bytes: usize) -> Option<Reservation> {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mine = g.by_account.get(account).copied().unwrap_or(0);
        if g.total + bytes > SERVER_BYTES || mine + bytes > ACCOUNT_BYTES {
            return None;
        }
        g.total += bytes;
        g.by_account.insert(account.to_string(), mine + bytes);
        Some(Reservation {
            budget: self.clone(),
            account: account.to_string(),
            bytes,
        })
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut g = self.budget.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.total = g.total.saturating_sub(self.bytes);
        let left = g
            .by_account
            .get(&self.account)
            .copied()
            .unwrap_or(0)
            .saturating_sub(self.bytes);
        if left == 0 {
            g.by_account.remove(&self.account);
        } else {
            g.by_account.insert(self.account.clone(), left);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_account_and_total_and_given_back() {
        let b = Arc::new(BodyBudget::default());
        let r1 = b.reserve("a", ACCOUNT_BYTES).expect("fits");
        assert!(b.reserve("a", 1).is_none(), "the account's budget is spent");
        assert!(b.reserve("b", 10).is_some(), "others are not affected");
        drop(r1);
        assert!(b.reserve("a", 1).is_some(), "given back on drop");
        let many: Vec<_> = (0..SERVER_BYTES / ACCOUNT_BYTES)
            .filter_map(|i| b.reserve(&format!("u{i}"), ACCOUNT_BYTES))
            .collect();
        assert!(
            b.reserve("late", ACCOUNT_BYTES).is_none(),
            "the server's budget is spent"
        );
        drop(many);
        assert!(b.reserve("late", ACCOUNT_BYTES).is_some());
    }
}
