//! The search index's watermark, kept in the store because redb is the truth (DESIGN.md):
//! per account, the modseq up to which every Email change is reflected in the index, and the
//! generation (a random number) of the index those marks describe. The indexer writes the marks
//! only after the index commit that contains the changes, so a crash between the two leaves the
//! mark behind, and the next start simply indexes those changes again. The rows are read and
//! written through the backend interface (`store/mail/index_marks.rs`).

use super::changes;
use super::read::{Reader, table};
use super::tables::*;
use super::write::Writer;
use crate::store::backend::{Table, TableMut};
use crate::store::error::Result;
use crate::store::mail::index_marks as index;
use crate::store::model::{AccountId, DataType};
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
            out.generation = Table::get(&t, GENERATION, |v| v)?;
        }
        if let Some(t) = table!(self, INDEX_MARKS) {
            out.marks = index::marks(&t)?;
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
        TableMut::insert(&mut self.meta, GENERATION, generation)?;
        index::clear(&mut self.tx.open_table(INDEX_MARKS)?)
    }

    /// Records marks after an index commit; `None` removes an account's mark (account gone).
    pub fn set_index_marks(&mut self, marks: &[(AccountId, Option<u64>)]) -> Result<()> {
        index::set(&mut self.tx.open_table(INDEX_MARKS)?, marks)
    }
}
