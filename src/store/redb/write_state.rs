//! State reads inside a write transaction, so a JMAP /set can check `ifInState` and report
//! `oldState`/`newState` against exactly the state it changes (RFC 8620 §5.3).

use super::changes;
use super::tables::slot;
use super::write::Writer;
use crate::store::error::Result;
use crate::store::model::{AccountId, DataType};

impl Writer<'_> {
    /// The state (highest modseq) of one type in an account, as of this transaction.
    pub fn state(&self, acct: AccountId, ty: DataType) -> Result<u64> {
        changes::counter(&self.counters, acct, slot::TYPE_HIGH + ty as u8)
    }

    /// The account's modseq, as of this transaction.
    pub fn modseq(&self, acct: AccountId) -> Result<u64> {
        changes::counter(&self.counters, acct, slot::MODSEQ)
    }
}
