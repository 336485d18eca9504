//! Uploaded blobs (RFC 8620 §6.1), over the backend interface. An upload stores the bytes once
//! (content-addressed, shared with every other reference to the same bytes) and records
//! `(account, hash) -> (time, size)` in `uploads`, holding one blob reference of its own.
//! Uploading the same bytes again resets the time instead of adding a reference. The sweep
//! drops rows older than the time-to-live (and their reference); bytes that an email or another
//! upload still references stay. When an upload would take the account past its quota of
//! unreferenced bytes, the oldest uploads go first (§6 "oldest first, until there is room").

use super::domains::STR_MAX;
use super::tables::{Schema, Tables, exists};
use crate::store::backend::{Table, TableMut};
use crate::store::error::{Result, StoreError};
use crate::store::model::AccountId;

/// The `uploads` table: (account, hash) -> (uploaded at, size).
pub trait Uploads: TableMut<(u32, &'static str), (i64, u64)> {}
impl<T: TableMut<(u32, &'static str), (i64, u64)>> Uploads for T {}

/// When `acct` uploaded the blob, if it is a live upload.
pub fn upload(
    t: &impl Table<(u32, &'static str), (i64, u64)>,
    acct: AccountId,
    hash: &str,
) -> Result<Option<(i64, u64)>> {
    t.get((acct, hash), |v| v)
}

/// The account's uploads as (uploaded at, hash, size).
fn rows_of(t: &impl Uploads, acct: AccountId) -> Result<Vec<(i64, String, u64)>> {
    let mut rows = Vec::new();
    t.range((acct, ""), (acct, STR_MAX), |(_, h), (at, size)| {
        rows.push((at, h.to_string(), size));
        Ok(true)
    })?;
    Ok(rows)
}

impl<S: Schema> Tables<'_, S> {
    /// Records an upload of `bytes` by `acct` at `now`; returns the hex SHA-256.
    /// `quota` bounds the total size of the account's uploads: older ones are dropped to make
    /// room; a single upload larger than the quota is refused.
    pub fn put_upload(
        &mut self,
        uploads: &mut impl Uploads,
        acct: AccountId,
        bytes: &[u8],
        now: i64,
        quota: u64,
    ) -> Result<String> {
        let size = bytes.len() as u64;
        if size > quota {
            return Err(StoreError::Invalid(
                "the upload is larger than the upload quota".into(),
            ));
        }
        let hash = super::blob::hex_sha256(bytes);
        if !exists(uploads, (acct, hash.as_str()))? {
            self.make_room(uploads, acct, size, quota)?;
            self.put_blob(acct, bytes)?;
        }
        uploads.insert((acct, hash.as_str()), (now, size))?;
        Ok(hash)
    }

    /// Gives `to` an upload-style reference to a blob `from` can read (Blob/copy, §6.3).
    /// Returns false if `from` cannot read it.
    pub fn copy_blob(
        &mut self,
        uploads: &mut impl Uploads,
        from: AccountId,
        to: AccountId,
        hash: &str,
        now: i64,
        quota: u64,
    ) -> Result<bool> {
        if !exists(&*self.blob_refs, (hash, from))? {
            return Ok(false);
        }
        let Some(size) = self.blobs.get(hash, |v| v.len() as u64)? else {
            return Ok(false);
        };
        if !exists(uploads, (to, hash))? {
            self.make_room(uploads, to, size, quota)?;
            let n = self.blob_refs.get((hash, to), |v| v)?.unwrap_or(0);
            self.blob_refs.insert((hash, to), n + 1)?;
        }
        uploads.insert((to, hash), (now, size))?;
        Ok(true)
    }

    /// Drops the oldest uploads of `acct` until `incoming` more bytes fit in `quota`.
    fn make_room(
        &mut self,
        uploads: &mut impl Uploads,
        acct: AccountId,
        incoming: u64,
        quota: u64,
    ) -> Result<()> {
        let mut rows = rows_of(uploads, acct)?;
        let mut used: u64 = rows.iter().map(|r| r.2).sum();
        rows.sort();
        for (_, hash, size) in rows {
            if used + incoming <= quota {
                break;
            }
            self.drop_upload(uploads, acct, &hash)?;
            used = used.saturating_sub(size);
        }
        Ok(())
    }

    fn drop_upload(
        &mut self,
        uploads: &mut impl Uploads,
        acct: AccountId,
        hash: &str,
    ) -> Result<()> {
        if exists(uploads, (acct, hash))? {
            uploads.remove((acct, hash))?;
            self.release_blob(acct, hash)?;
        }
        Ok(())
    }

    /// Drops every upload of an account (account deletion), with its blob references.
    pub fn remove_all_uploads(
        &mut self,
        uploads: &mut impl Uploads,
        acct: AccountId,
    ) -> Result<()> {
        for (_, h, _) in rows_of(uploads, acct)? {
            self.drop_upload(uploads, acct, &h)?;
        }
        Ok(())
    }

    /// Drops uploads made before `cutoff` (unix seconds); returns how many went.
    pub fn expire_uploads(&mut self, uploads: &mut impl Uploads, cutoff: i64) -> Result<usize> {
        let mut old: Vec<(AccountId, String)> = Vec::new();
        uploads.range((0, ""), (u32::MAX, STR_MAX), |(a, h), (at, _)| {
            if at < cutoff {
                old.push((a, h.to_string()));
            }
            Ok(true)
        })?;
        for (a, h) in &old {
            self.drop_upload(uploads, *a, h)?;
        }
        Ok(old.len())
    }
}
