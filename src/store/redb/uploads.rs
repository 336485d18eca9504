//! Uploaded blobs (RFC 8620 §6.1). An upload stores the bytes once (content-addressed, shared
//! with every other reference to the same bytes) and records `(account, hash) -> (time, size)`
//! in `UPLOADS`, holding one blob reference of its own. Uploading the same bytes again resets
//! the time instead of adding a reference. The sweep drops rows older than the time-to-live
//! (and their reference); bytes that an email or another upload still references stay.
//! When an upload would take the account past its quota of unreferenced bytes, the oldest
//! uploads go first (§6 "oldest first, until there is room").

use super::read::{Reader, table};
use super::tables::UPLOADS;
use super::write::Writer;
use crate::store::error::{Result, StoreError};
use crate::store::model::AccountId;
use redb::ReadableTable;

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
        let size = bytes.len() as u64;
        if size > quota {
            return Err(StoreError::Invalid(
                "the upload is larger than the upload quota".into(),
            ));
        }
        let hash = super::write::hex_sha256(bytes);
        let known = {
            let t = self.tx.open_table(UPLOADS)?;
            t.get((acct, hash.as_str()))?.is_some()
        };
        if !known {
            self.make_room(acct, size, quota)?;
            self.put_blob(acct, bytes)?;
        }
        let mut t = self.tx.open_table(UPLOADS)?;
        t.insert((acct, hash.as_str()), (now, size))?;
        Ok(hash)
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
        if self.blob_refs.get((hash, from))?.is_none() {
            return Ok(false);
        }
        let Some(size) = self.blobs.get(hash)?.map(|v| v.value().len() as u64) else {
            return Ok(false);
        };
        let known = {
            let t = self.tx.open_table(UPLOADS)?;
            t.get((to, hash))?.is_some()
        };
        if !known {
            self.make_room(to, size, quota)?;
            let n = self
                .blob_refs
                .get((hash, to))?
                .map(|v| v.value())
                .unwrap_or(0);
            self.blob_refs.insert((hash, to), n + 1)?;
        }
        let mut t = self.tx.open_table(UPLOADS)?;
        t.insert((to, hash), (now, size))?;
        Ok(true)
    }

    /// Drops the oldest uploads of `acct` until `incoming` more bytes fit in `quota`.
    fn make_room(&mut self, acct: AccountId, incoming: u64, quota: u64) -> Result<()> {
        let mut rows: Vec<(i64, String, u64)> = Vec::new();
        {
            let t = self.tx.open_table(UPLOADS)?;
            for row in t.range((acct, "")..)? {
                let (k, v) = row?;
                let (a, h) = k.value();
                if a != acct {
                    break;
                }
                let (at, size) = v.value();
                rows.push((at, h.to_string(), size));
            }
        }
        let mut used: u64 = rows.iter().map(|r| r.2).sum();
        rows.sort();
        for (_, hash, size) in rows {
            if used + incoming <= quota {
                break;
            }
            self.drop_upload(acct, &hash)?;
            used = used.saturating_sub(size);
        }
        Ok(())
    }

    fn drop_upload(&mut self, acct: AccountId, hash: &str) -> Result<()> {
        let removed = {
            let mut t = self.tx.open_table(UPLOADS)?;
            t.remove((acct, hash))?.is_some()
        };
        if removed {
            self.release_blob(acct, hash)?;
        }
        Ok(())
    }

    /// Drops every upload of an account (account deletion), with its blob references.
    pub fn remove_all_uploads(&mut self, acct: AccountId) -> Result<()> {
        let mine: Vec<String> = {
            let t = self.tx.open_table(UPLOADS)?;
            let mut v = Vec::new();
            for row in t.range((acct, "")..)? {
                let (k, _) = row?;
                if k.value().0 != acct {
                    break;
                }
                v.push(k.value().1.to_string());
            }
            v
        };
        for h in mine {
            self.drop_upload(acct, &h)?;
        }
        Ok(())
    }

    /// Drops uploads made before `cutoff` (unix seconds); returns how many went.
    pub fn expire_uploads(&mut self, cutoff: i64) -> Result<usize> {
        let mut old: Vec<(AccountId, String)> = Vec::new();
        {
            let t = self.tx.open_table(UPLOADS)?;
            for row in t.iter()? {
                let (k, v) = row?;
                if v.value().0 < cutoff {
                    let (a, h) = k.value();
                    old.push((a, h.to_string()));
                }
            }
        }
        for (a, h) in &old {
            self.drop_upload(*a, h)?;
        }
        Ok(old.len())
    }
}

impl Reader {
    /// When `acct` uploaded the blob, if it is a live upload.
    pub fn upload(&self, acct: AccountId, hash: &str) -> Result<Option<(i64, u64)>> {
        let Some(t) = table!(self, UPLOADS) else {
            return Ok(None);
        };
        Ok(t.get((acct, hash))?.map(|v| v.value()))
    }
}
