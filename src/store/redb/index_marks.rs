//! The search index's watermark, kept in the store because redb is the truth (DESIGN.md):
//! per account, the modseq up to which every Email change is reflected in the index, and the
//! generation (a random number) of the index those marks describe. The indexer writes the marks
//! only after the index commit that contains the changes, so a crash between the two leaves the
//! mark behind, and the next start simply indexes those changes again.

use super::changes;
use super::read::{Reader, table};
use super::tables::*;
use super::write::Writer;
use crate::store::error::Result;
use crate::store::model::{AccountId, DataType};
use redb::ReadableTable;
use std::collections::BTreeMap;

const GENERATION: &str = "index_generation";

/// What the store knows about the index: its generation and the per-account marks.
#[derive(Debug, Clone, Default)]
pub struct IndexMarks {
    pub generation: Option<u64>,
    pub marks: BTreeMap<AccountId, u64>,
}

impl Reader {
    pub fn index_marks(&self) -> Result<IndexMarks> {
        let mut out = IndexMarks::default();
        if let Some(t) = table!(self, META) {
            out.generation = t.get(GENERATION)?.map(|v| v.value());
        }
        if let Some(t) = table!(self, INDEX_MARKS) {
            for row in t.iter()? {
                let (k, v) = row?;
                out.marks.insert(k.value(), v.value());
            }
        }
        Ok(out)
    }

    /// Email changes at or below this modseq have been trimmed from the changelog: an index
    /// behind it must re-read the account's emails instead of replaying the log.
    pub fn email_log_low(&self, acct: AccountId) -> Result<u64> {
        match table!(self, COUNTERS) {
            Some(t) => changes::counter(&t, acct, slot::TYPE_LOW + DataType::Email as u8),
            None => Ok(0),
        }
    }
}

impl Writer<'_> {
    /// Starts a new index generation: all marks are forgotten (the new index is empty).
    pub fn reset_index_marks(&mut self, generation: u64) -> Result<()> {
        self.meta.insert(GENERATION, generation)?;
        let mut t = self.tx.open_table(INDEX_MARKS)?;
        t.retain(|_, _| false)?;
        Ok(())
    }

    /// Records marks after an index commit; `None` removes an account's mark (account gone).
    pub fn set_index_marks(&mut self, marks: &[(AccountId, Option<u64>)]) -> Result<()> {
        let mut t = self.tx.open_table(INDEX_MARKS)?;
        for (acct, mark) in marks {
            match mark {
                Some(m) => {
                    t.insert(*acct, *m)?;
                }
                None => {
                    t.remove(*acct)?;
                }
            }
        }
        Ok(())
    }
}
