//! The search index's per-account watermarks (`index_marks`: account -> modseq up to which
//! every Email change is in the index), over the backend interface.

use crate::store::backend::{Table, TableMut};
use crate::store::error::Result;
use crate::store::model::AccountId;
use std::collections::BTreeMap;

pub fn marks(t: &impl Table<u32, u64>) -> Result<BTreeMap<AccountId, u64>> {
    let mut out = BTreeMap::new();
    t.range(0, u32::MAX, |acct, mark| {
        out.insert(acct, mark);
        Ok(true)
    })?;
    Ok(out)
}

/// Forgets every mark (a new, empty index).
pub fn clear(t: &mut impl TableMut<u32, u64>) -> Result<()> {
    let accounts: Vec<AccountId> = marks(t)?.into_keys().collect();
    for acct in accounts {
        t.remove(acct)?;
    }
    Ok(())
}

/// Records marks after an index commit; `None` removes an account's mark (account gone).
pub fn set(t: &mut impl TableMut<u32, u64>, marks: &[(AccountId, Option<u64>)]) -> Result<()> {
    for (acct, mark) in marks {
        match mark {
            Some(m) => t.insert(*acct, *m)?,
            None => t.remove(*acct)?,
        }
    }
    Ok(())
}
