//! Server secrets that must outlive a restart (`SECRETS`: name -> bytes), made on first use.
//! Today one: the key of the Sender Rewriting Scheme (`outbound/srs.rs`), which must verify
//! bounces to addresses it signed weeks ago. Kept in the store so a backup restores it.

use super::read::{Reader, table};
use super::tables::SECRETS;
use super::write::Writer;
use crate::store::error::Result;
use redb::ReadableTable;

impl Reader {
    /// The secret `name`, if it was ever made.
    pub fn secret(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let Some(t) = table!(self, SECRETS) else {
            return Ok(None);
        };
        Ok(t.get(name)?.map(|v| v.value().to_vec()))
    }
}

impl Writer<'_> {
    /// The secret `name`; made with `fresh` and stored if there is none yet (two servers
    /// racing to make it is impossible: writes are serialised, and this reads inside the write).
    pub fn secret_once(&mut self, name: &str, fresh: impl FnOnce() -> Vec<u8>) -> Result<Vec<u8>> {
        let mut t = self.tx.open_table(SECRETS)?;
        if let Some(v) = t.get(name)? {
            return Ok(v.value().to_vec());
        }
        let v = fresh();
        t.insert(name, v.as_slice())?;
        Ok(v)
    }
}
