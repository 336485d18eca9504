//! Push subscriptions (RFC 8620 §7.2), one row per subscription under the user's account.
//! They carry no JMAP state, so changing them appends nothing to the changelog.

use super::read::{Reader, table};
use super::tables::PUSH_SUBSCRIPTIONS;
use super::write::Writer;
use crate::store::error::Result;
use crate::store::model::{AccountId, PushSubscription};
use redb::ReadableTable;

impl Writer<'_> {
    pub fn push_subscription(&self, acct: AccountId, id: &str) -> Result<Option<PushSubscription>> {
        let t = self.tx.open_table(PUSH_SUBSCRIPTIONS)?;
        match t.get((acct, id))? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value())?)),
            None => Ok(None),
        }
    }

    pub fn push_subscription_count(&self, acct: AccountId) -> Result<usize> {
        let t = self.tx.open_table(PUSH_SUBSCRIPTIONS)?;
        let mut n = 0;
        for row in t.range((acct, "")..)? {
            if row?.0.value().0 != acct {
                break;
            }
            n += 1;
        }
        Ok(n)
    }

    pub fn put_push_subscription(&mut self, acct: AccountId, s: &PushSubscription) -> Result<()> {
        let bytes = serde_json::to_vec(s)?;
        let mut t = self.tx.open_table(PUSH_SUBSCRIPTIONS)?;
        t.insert((acct, s.id.as_str()), bytes.as_slice())?;
        Ok(())
    }

    /// Removes a subscription; false if there was none.
    pub fn remove_push_subscription(&mut self, acct: AccountId, id: &str) -> Result<bool> {
        let mut t = self.tx.open_table(PUSH_SUBSCRIPTIONS)?;
        Ok(t.remove((acct, id))?.is_some())
    }

    /// Drops every subscription of a user (password changed, account deleted).
    pub fn remove_all_push_subscriptions(&mut self, acct: AccountId) -> Result<usize> {
        let mut t = self.tx.open_table(PUSH_SUBSCRIPTIONS)?;
        let mut n = 0;
        t.retain(|k, _| {
            let mine = k.0 == acct;
            n += usize::from(mine);
            !mine
        })?;
        Ok(n)
    }

    /// Drops every subscription that expired before `now`; returns how many.
    pub fn expire_push_subscriptions(&mut self, now: i64) -> Result<usize> {
        let mut t = self.tx.open_table(PUSH_SUBSCRIPTIONS)?;
        let mut n = 0;
        t.retain(|_, v| {
            let keep =
                serde_json::from_slice::<PushSubscription>(v).is_ok_and(|s| s.expires >= now);
            if !keep {
                n += 1;
            }
            keep
        })?;
        Ok(n)
    }
}

impl Reader {
    /// The user's push subscriptions.
    pub fn push_subscriptions(&self, acct: AccountId) -> Result<Vec<PushSubscription>> {
        let Some(t) = table!(self, PUSH_SUBSCRIPTIONS) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in t.range((acct, "")..)? {
            let (k, v) = row?;
            if k.value().0 != acct {
                break;
            }
            out.push(serde_json::from_slice(v.value())?);
        }
        Ok(out)
    }
}
