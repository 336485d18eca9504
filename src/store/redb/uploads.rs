//! Uploaded blobs (RFC 8620 §6.1): the rules are in `store/mail/uploads.rs`, over the backend
//! interface; this opens the redb table `UPLOADS` on demand for them.

use super::read::{Reader, table};
use super::tables::UPLOADS;
use super::write::Writer;
use crate::store::error::Result;
use crate::store::mail::uploads;
use crate::store::model::AccountId;

impl Writer<'_> {
    /// Records an upload of `bytes` by `acct` at `now`; returns the hex SHA-256.
    /// `quota` bounds the total size of the account's uploads: older ones are dropped to make
    /// room; a single upload larger than the quota is refused.
    pub fn put_upload(
        &mut self,
        acct: AccountId,
        bytes: &[u8],
        now: i64,
        quota: u64,
    ) -> Result<String> {
        let tx = self.tx;
        let mut t = tx.open_table(UPLOADS)?;
        self.mail().put_upload(&mut t, acct, bytes, now, quota)
    }

    /// Gives `to` an upload-style reference to a blob `from` can read (Blob/copy, §6.3).
    /// Returns false if `from` cannot read it.
    pub fn copy_blob(
        &mut self,
        from: AccountId,
        to: AccountId,
        hash: &str,
        now: i64,
        quota: u64,
    ) -> Result<bool> {
        let tx = self.tx;
        let mut t = tx.open_table(UPLOADS)?;
        self.mail().copy_blob(&mut t, from, to, hash, now, quota)
    }

    /// Drops every upload of an account (account deletion), with its blob references.
    pub fn remove_all_uploads(&mut self, acct: AccountId) -> Result<()> {
        let tx = self.tx;
        let mut t = tx.open_table(UPLOADS)?;
        self.mail().remove_all_uploads(&mut t, acct)
    }

    /// Drops uploads made before `cutoff` (unix seconds); returns how many went.
    pub fn expire_uploads(&mut self, cutoff: i64) -> Result<usize> {
        let tx = self.tx;
        let mut t = tx.open_table(UPLOADS)?;
        self.mail().expire_uploads(&mut t, cutoff)
    }
}

impl Reader {
    /// When `acct` uploaded the blob, if it is a live upload.
    pub fn upload(&self, acct: AccountId, hash: &str) -> Result<Option<(i64, u64)>> {
        let Some(t) = table!(self, UPLOADS) else {
            return Ok(None);
        };
        uploads::upload(&t, acct, hash)
    }
}
