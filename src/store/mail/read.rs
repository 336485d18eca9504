//! Reads on one snapshot, over the backend interface: each takes the table it reads. The
//! backend's reader (`redb/read.rs`) opens the table and calls these; a second backend's
//! reader would do the same.

use super::tables::Records;
use crate::store::backend::Table;
use crate::store::error::{Result, StoreError};
use crate::store::model::*;
use crate::store::slot;

pub fn accounts(t: &impl Table<u32, &'static [u8]>) -> Result<Vec<Account>> {
    t.records(0, u32::MAX)
}

/// The account an address names, if the address is the account's own name (not an alias).
pub fn account_by_name(
    addresses: &impl Table<&'static str, u32>,
    accounts: &impl Table<u32, &'static [u8]>,
    name: &str,
) -> Result<Option<Account>> {
    let name = name.to_lowercase();
    let Some(id) = addresses.get(name.as_str(), |v| v)? else {
        return Ok(None);
    };
    Ok(accounts.record::<Account>(id)?.filter(|a| a.name == name))
}

pub fn mailboxes(
    t: &impl Table<(u32, u32), &'static [u8]>,
    acct: AccountId,
) -> Result<Vec<Mailbox>> {
    t.records((acct, 0), (acct, u32::MAX))
}

/// The id of the account's mailbox with `role`, if any.
pub fn mailbox_id_by_role(
    t: &impl Table<(u32, u32), &'static [u8]>,
    acct: AccountId,
    role: &str,
) -> Result<Option<u32>> {
    let mut found = None;
    t.range((acct, 0), (acct, u32::MAX), |(_, id), v| {
        let mb: Mailbox = serde_json::from_slice(v)?;
        if mb.role.as_deref() == Some(role) {
            found = Some(id);
            return Ok(false);
        }
        Ok(true)
    })?;
    Ok(found)
}

/// The ids of the emails in a mailbox (oldest first).
pub fn mailbox_email_ids(
    t: &impl Table<(u32, u32, i64, u32), ()>,
    acct: AccountId,
    mailbox: u32,
) -> Result<Vec<u32>> {
    let mut out = Vec::new();
    let (lo, hi) = (
        (acct, mailbox, i64::MIN, 0),
        (acct, mailbox, i64::MAX, u32::MAX),
    );
    t.range(lo, hi, |(_, _, _, id), ()| {
        out.push(id);
        Ok(true)
    })?;
    Ok(out)
}

/// Email ids of a mailbox ordered by receivedAt (oldest first), with their dates.
pub fn mailbox_emails(
    t: &impl Table<(u32, u32, i64, u32), ()>,
    acct: AccountId,
    mailbox: u32,
) -> Result<Vec<(i64, u32)>> {
    let mut out = Vec::new();
    let (lo, hi) = (
        (acct, mailbox, i64::MIN, 0),
        (acct, mailbox, i64::MAX, u32::MAX),
    );
    t.range(lo, hi, |(_, _, at, id), ()| {
        out.push((at, id));
        Ok(true)
    })?;
    Ok(out)
}

/// Walks a mailbox newest first, calling `f(receivedAt, id)` until it returns false: a page
/// of the newest costs that page, not the whole mailbox (Email/query's common case).
pub fn mailbox_emails_newest(
    t: &impl Table<(u32, u32, i64, u32), ()>,
    acct: AccountId,
    mailbox: u32,
    mut f: impl FnMut(i64, u32) -> bool,
) -> Result<()> {
    let (lo, hi) = (
        (acct, mailbox, i64::MIN, 0),
        (acct, mailbox, i64::MAX, u32::MAX),
    );
    t.range_rev(lo, hi, |(_, _, at, id), ()| Ok(f(at, id)))
}

/// Every email id of an account ordered by receivedAt (oldest first).
pub fn all_emails(t: &impl Table<(u32, i64, u32), ()>, acct: AccountId) -> Result<Vec<(i64, u32)>> {
    let mut out = Vec::new();
    let (lo, hi) = ((acct, i64::MIN, 0), (acct, i64::MAX, u32::MAX));
    t.range(lo, hi, |(_, at, id), ()| {
        out.push((at, id));
        Ok(true)
    })?;
    Ok(out)
}

pub fn email_count(t: &impl Table<(u32, u32), &'static [u8]>, acct: AccountId) -> Result<u64> {
    let mut n = 0;
    t.range((acct, 0), (acct, u32::MAX), |_, _| {
        n += 1;
        Ok(true)
    })?;
    Ok(n)
}

/// Changes of a type since a state. `Err(StateTooOld)` when the state is in the future, and
/// `Ok(None)` when the log was trimmed past it (cannotCalculateChanges, RFC 8620 §5.2).
pub fn changes(
    counters: &impl Table<(u32, u8), u64>,
    log: &impl Table<(u32, u8, u64), (u32, u8)>,
    acct: AccountId,
    ty: DataType,
    since: u64,
    max: usize,
) -> Result<Option<ChangeSet>> {
    use super::changes::counter;
    let high = counter(counters, acct, slot::TYPE_HIGH + ty as u8)?;
    if since > counter(counters, acct, slot::MODSEQ)? {
        return Err(StoreError::StateTooOld);
    }
    if since < counter(counters, acct, slot::TYPE_LOW + ty as u8)? {
        return Ok(None);
    }
    super::changes::since(log, acct, ty, since, high.max(since), max).map(Some)
}
