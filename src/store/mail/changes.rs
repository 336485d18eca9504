//! The per-account modseq and changelog (RFC 8620 §5.2).
//!
//! Every change to any object takes the next modseq of its account and appends one row
//! `(account, type, modseq) -> (id, kind)`. A type's state string is the highest modseq of a
//! change of that type. `/changes` replays the rows after the client's modseq; rows at or below
//! the trim mark are gone, so older states get cannotCalculateChanges.
//!
//! Backend-neutral: written against the store's table interface (`store/backend.rs`), over
//! the `COUNTERS` and `CHANGES` tables (`redb/tables.rs` has their key layout).

use crate::store::backend::{Table, TableMut};
use crate::store::error::Result;
use crate::store::model::{AccountId, Change, ChangeKind, ChangeSet, DataType};
use crate::store::slot;
use std::collections::HashMap;

/// A counter of an account (modseq, next ids, type states); 0 when never set.
pub fn counter(t: &impl Table<(u32, u8), u64>, acct: AccountId, s: u8) -> Result<u64> {
    Ok(t.get((acct, s), |v| v)?.unwrap_or(0))
}

/// Appends a change at a fresh modseq and raises the type's state. Returns the modseq.
pub fn append(
    counters: &mut impl TableMut<(u32, u8), u64>,
    changes: &mut impl TableMut<(u32, u8, u64), (u32, u8)>,
    acct: AccountId,
    ty: DataType,
    id: u32,
    kind: ChangeKind,
) -> Result<u64> {
    let modseq = counter(counters, acct, slot::MODSEQ)? + 1;
    counters.insert((acct, slot::MODSEQ), modseq)?;
    counters.insert((acct, slot::TYPE_HIGH + ty as u8), modseq)?;
    changes.insert((acct, ty as u8, modseq), (id, kind as u8))?;
    Ok(modseq)
}

/// Reads changes after `since`, folding several changes of one object into one entry:
/// created-then-destroyed is not reported; created-then-updated is created (RFC 8620 §5.2).
/// `max` bounds the number of distinct ids returned; then `has_more` is set and `new_modseq` is
/// the last modseq fully included, so the client can continue from there.
pub fn since(
    changes: &impl Table<(u32, u8, u64), (u32, u8)>,
    acct: AccountId,
    ty: DataType,
    since: u64,
    high: u64,
    max: usize,
) -> Result<ChangeSet> {
    let mut order: Vec<u32> = Vec::new();
    let mut first: HashMap<u32, ChangeKind> = HashMap::new();
    let mut last: HashMap<u32, ChangeKind> = HashMap::new();
    let mut counts_only: HashMap<u32, bool> = HashMap::new();
    let mut new_modseq = high;
    let mut has_more = false;
    let (lo, hi) = ((acct, ty as u8, since + 1), (acct, ty as u8, u64::MAX));
    changes.range(lo, hi, |(_, _, modseq), (id, kind)| {
        let Some(kind) = ChangeKind::from_u8(kind) else {
            return Ok(true);
        };
        if let std::collections::hash_map::Entry::Vacant(e) = first.entry(id) {
            if order.len() >= max {
                has_more = true;
                new_modseq = modseq - 1;
                return Ok(false);
            }
            order.push(id);
            e.insert(kind);
        }
        last.insert(id, kind);
        let c = counts_only.entry(id).or_insert(true);
        *c = *c && kind == ChangeKind::CountsUpdated;
        Ok(true)
    })?;
    let mut set = ChangeSet {
        new_modseq,
        has_more,
        only_counts: true,
        ..Default::default()
    };
    for id in order {
        let (f, l) = (first[&id], last[&id]);
        match (f, l) {
            (ChangeKind::Created, ChangeKind::Destroyed) => {}
            (ChangeKind::Created, _) => set.created.push(id),
            (_, ChangeKind::Destroyed) => set.destroyed.push(id),
            _ => {
                set.only_counts &= counts_only[&id];
                set.updated.push(id)
            }
        }
    }
    if set.updated.is_empty() {
        set.only_counts = false;
    }
    Ok(set)
}

/// The raw rows after `since`, for consumers that need every change (the indexer).
pub fn rows_since(
    changes: &impl Table<(u32, u8, u64), (u32, u8)>,
    acct: AccountId,
    ty: DataType,
    since: u64,
    limit: usize,
) -> Result<Vec<Change>> {
    let mut out = Vec::new();
    let (lo, hi) = ((acct, ty as u8, since + 1), (acct, ty as u8, u64::MAX));
    changes.range(lo, hi, |(_, _, modseq), (id, kind)| {
        if let Some(kind) = ChangeKind::from_u8(kind) {
            out.push(Change { modseq, id, kind });
        }
        Ok(out.len() < limit)
    })?;
    Ok(out)
}
