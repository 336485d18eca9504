//! Newest-first walks that stop early (issue #20): a page of the newest emails costs that page,
//! not the whole account. Email/query's common cases: the inbox view (one mailbox) and a search
//! whose hits are too many to read one by one (the whole account, checked against the hit set).

use super::read::{Reader, table};
use super::tables::*;
use crate::store::error::Result;
use crate::store::model::AccountId;

impl Reader {
    /// Walks every email of an account newest first (receivedAt, then id, both descending),
    /// calling `f(receivedAt, id)` until it returns false.
    pub fn all_emails_newest(
        &self,
        acct: AccountId,
        mut f: impl FnMut(i64, u32) -> bool,
    ) -> Result<()> {
        let Some(t) = table!(self, RECEIVED) else {
            return Ok(());
        };
        let range = t.range((acct, i64::MIN, 0)..=(acct, i64::MAX, u32::MAX))?;
        for row in range.rev() {
            let (k, _) = row?;
            let (_, at, id) = k.value();
            if !f(at, id) {
                break;
            }
        }
        Ok(())
    }
}
