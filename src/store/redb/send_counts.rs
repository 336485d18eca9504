//! Outbound counters per account (`quota/send.rs`): `SEND_COUNTS account -> (hour, messages,
//! recipients, day, messages, recipients)`, charged in the transaction that queues a user's
//! message; the rules are `store/mail/quota.rs` (`sent_now`, `sent_row`, `send_refuse`).

use super::read::{Reader, table};
use super::tables::SEND_COUNTS;
use super::write::Writer;
use crate::store::error::Result;
use crate::store::mail::quota as rules;
use crate::store::model::AccountId;
use crate::store::model_quota::{SendLimits, SentCounts};
use redb::ReadableTable;

impl Writer<'_> {
    /// Counts one message to `recipients` recipients sent by `acct` at `now`, or refuses it
    /// (`StoreError::SendLimit`) before anything is written.
    pub fn send_charge(
        &mut self,
        acct: AccountId,
        recipients: u32,
        now: i64,
        limits: &SendLimits,
    ) -> Result<()> {
        let mut t = self.tx.open_table(SEND_COUNTS)?;
        let row = t.get(acct)?.map(|v| v.value());
        let c = rules::sent_now(row, now);
        if let Some(e) = rules::send_refuse(&c, recipients, limits) {
            return Err(e);
        }
        t.insert(acct, rules::sent_row(c, recipients, now))?;
        Ok(())
    }

    /// Drops the account's counters (account deletion).
    pub(super) fn send_forget_account(&mut self, acct: AccountId) -> Result<()> {
        self.tx.open_table(SEND_COUNTS)?.remove(acct)?;
        Ok(())
    }
}

impl Reader {
    /// What the account sent in the current hour and day.
    pub fn sent_counts(&self, acct: AccountId, now: i64) -> Result<SentCounts> {
        let row = match table!(self, SEND_COUNTS) {
            Some(t) => t.get(acct)?.map(|v| v.value()),
            None => None,
        };
        Ok(rules::sent_now(row, now))
    }
}
