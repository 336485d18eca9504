//! Push subscriptions (RFC 8620 §7.2), one row `(account, id) -> PushSubscription` (JSON) per
//! subscription, over the backend interface. They carry no JMAP state, so changing them appends
//! nothing to the changelog.

use super::domains::STR_MAX;
use super::tables::{Records, exists, json};
use crate::store::backend::{Table, TableMut};
use crate::store::error::Result;
use crate::store::model::{AccountId, PushSubscription};

type Subs = &'static [u8];

pub fn get(
    t: &impl Table<(u32, &'static str), Subs>,
    acct: AccountId,
    id: &str,
) -> Result<Option<PushSubscription>> {
    t.record((acct, id))
}

/// The user's push subscriptions.
pub fn list(
    t: &impl Table<(u32, &'static str), Subs>,
    acct: AccountId,
) -> Result<Vec<PushSubscription>> {
    t.records((acct, ""), (acct, STR_MAX))
}

pub fn count(t: &impl Table<(u32, &'static str), Subs>, acct: AccountId) -> Result<usize> {
    let mut n = 0;
    t.range((acct, ""), (acct, STR_MAX), |_, _| {
        n += 1;
        Ok(true)
    })?;
    Ok(n)
}

pub fn put(
    t: &mut impl TableMut<(u32, &'static str), Subs>,
    acct: AccountId,
    s: &PushSubscription,
) -> Result<()> {
    t.insert((acct, s.id.as_str()), &json(s)?)
}

/// Removes a subscription; false if there was none.
pub fn remove(
    t: &mut impl TableMut<(u32, &'static str), Subs>,
    acct: AccountId,
    id: &str,
) -> Result<bool> {
    if !exists(t, (acct, id))? {
        return Ok(false);
    }
    t.remove((acct, id))?;
    Ok(true)
}

/// Removes the rows in `lo..=hi` that `gone` picks (keys are read first: a table is not changed
/// while it is walked); returns how many went.
fn remove_where(
    t: &mut impl TableMut<(u32, &'static str), Subs>,
    lo: (u32, &str),
    hi: (u32, &str),
    mut gone: impl FnMut(&[u8]) -> bool,
) -> Result<usize> {
    let mut keys: Vec<(u32, String)> = Vec::new();
    t.range(lo, hi, |(a, id), v| {
        if gone(v) {
            keys.push((a, id.to_string()));
        }
        Ok(true)
    })?;
    for (a, id) in &keys {
        t.remove((*a, id.as_str()))?;
    }
    Ok(keys.len())
}

/// Drops every subscription of a user (password changed, account deleted).
pub fn remove_all(
    t: &mut impl TableMut<(u32, &'static str), Subs>,
    acct: AccountId,
) -> Result<usize> {
    remove_where(t, (acct, ""), (acct, STR_MAX), |_| true)
}

/// Drops every subscription that expired before `now` (or cannot be read); returns how many.
pub fn expire(t: &mut impl TableMut<(u32, &'static str), Subs>, now: i64) -> Result<usize> {
    remove_where(t, (0, ""), (u32::MAX, STR_MAX), |v| {
        !serde_json::from_slice::<PushSubscription>(v).is_ok_and(|s| s.expires >= now)
    })
}
