//! Where an import from another server stopped, per account and source folder, so that the
//! next run of `mailnook import imap` fetches only what is new (resumable and incremental).
//! IMAP names a message by (UIDVALIDITY, UID) (RFC 9051 §2.3.1.1): while UIDVALIDITY stays the
//! same, every UID above the recorded one is new; a changed UIDVALIDITY means the folder was
//! recreated and is read again (the duplicate check in `transfer/` keeps that from doubling mail).

use super::read::{Reader, table};
use super::write::Writer;
use crate::store::error::Result;
use crate::store::model::AccountId;
use redb::TableDefinition;

/// (account, source: `imap://user@host/folder`) -> (UIDVALIDITY, highest UID imported).
pub const IMPORT_STATE: TableDefinition<(u32, &str), (u64, u64)> =
    TableDefinition::new("import_state");

impl Reader {
    pub fn import_state(&self, acct: AccountId, source: &str) -> Result<Option<(u64, u64)>> {
        let Some(t) = table!(self, IMPORT_STATE) else {
            return Ok(None);
        };
        Ok(t.get((acct, source))?.map(|v| v.value()))
    }
}

impl Writer<'_> {
    pub fn set_import_state(
        &mut self,
        acct: AccountId,
        source: &str,
        uidvalidity: u64,
        uid: u64,
    ) -> Result<()> {
        let mut t = self.tx.open_table(IMPORT_STATE)?;
        t.insert((acct, source), (uidvalidity, uid))?;
        Ok(())
    }
}
