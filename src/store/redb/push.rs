//! Push subscriptions (RFC 8620 §7.2): the rules are in `store/mail/push.rs`, over the backend
//! interface; this opens the redb table `PUSH_SUBSCRIPTIONS` on demand for them.

use super::read::{Reader, table};
use super::tables::PUSH_SUBSCRIPTIONS;
use super::write::Writer;
use crate::store::error::Result;
use crate::store::mail::push;
use crate::store::model::{AccountId, PushSubscription};

impl Writer<'_> {
    pub fn push_subscription(&self, acct: AccountId, id: &str) -> Result<Option<PushSubscription>> {
        push::get(&self.tx.open_table(PUSH_SUBSCRIPTIONS)?, acct, id)
    }

    pub fn push_subscription_count(&self, acct: AccountId) -> Result<usize> {
        push::count(&self.tx.open_table(PUSH_SUBSCRIPTIONS)?, acct)
    }

    pub fn put_push_subscription(&mut self, acct: AccountId, s: &PushSubscription) -> Result<()> {
        push::put(&mut self.tx.open_table(PUSH_SUBSCRIPTIONS)?, acct, s)
    }

    /// Removes a subscription; false if there was none.
    pub fn remove_push_subscription(&mut self, acct: AccountId, id: &str) -> Result<bool> {
        push::remove(&mut self.tx.open_table(PUSH_SUBSCRIPTIONS)?, acct, id)
    }

    /// Drops every subscription of a user (password changed, account deleted).
    pub fn remove_all_push_subscriptions(&mut self, acct: AccountId) -> Result<usize> {
        push::remove_all(&mut self.tx.open_table(PUSH_SUBSCRIPTIONS)?, acct)
    }

    /// Drops every subscription that expired before `now`; returns how many.
    pub fn expire_push_subscriptions(&mut self, now: i64) -> Result<usize> {
        push::expire(&mut self.tx.open_table(PUSH_SUBSCRIPTIONS)?, now)
    }
}

impl Reader {
    /// The user's push subscriptions.
    pub fn push_subscriptions(&self, acct: AccountId) -> Result<Vec<PushSubscription>> {
        let Some(t) = table!(self, PUSH_SUBSCRIPTIONS) else {
            return Ok(Vec::new());
        };
        push::list(&t, acct)
    }
}
