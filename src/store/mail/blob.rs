//! Blob naming: a blob is named by the hex SHA-256 of its bytes (DESIGN.md "Ids"), so the same
//! message delivered to two accounts is stored once, whatever the backend.

pub fn hex_sha256(bytes: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, bytes);
    let mut s = String::with_capacity(64);
    for b in d.as_ref() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

use super::tables::{Schema, Tables, any, exists};
use crate::store::backend::{Table, TableMut};
use crate::store::error::{Result, StoreError};
use crate::store::model::AccountId;

impl<S: Schema> Tables<'_, S> {
    /// Stores bytes once (content-addressed) and counts a reference from `acct`.
    pub fn put_blob(&mut self, acct: AccountId, bytes: &[u8]) -> Result<String> {
        let hash = hex_sha256(bytes);
        if !exists(&*self.blobs, hash.as_str())? {
            self.blobs
                .insert(hash.as_str(), &super::blob_codec::encode(bytes))?;
        }
        let n = self
            .blob_refs
            .get((hash.as_str(), acct), |v| v)?
            .unwrap_or(0);
        self.blob_refs.insert((hash.as_str(), acct), n + 1)?;
        Ok(hash)
    }

    /// Drops one reference; the bytes go when no account references them any more.
    pub fn release_blob(&mut self, acct: AccountId, hash: &str) -> Result<()> {
        let n = self.blob_refs.get((hash, acct), |v| v)?.unwrap_or(0);
        if n > 1 {
            self.blob_refs.insert((hash, acct), n - 1)?;
            return Ok(());
        }
        self.blob_refs.remove((hash, acct))?;
        if !any(&*self.blob_refs, (hash, 0), (hash, u32::MAX))? {
            self.blobs.remove(hash)?;
        }
        Ok(())
    }
}

/// The bytes of a blob, if `acct` holds a reference to it (the download access check).
pub fn read(
    refs: &impl Table<(&'static str, u32), u32>,
    blobs: &impl Table<&'static str, &'static [u8]>,
    acct: AccountId,
    hash: &str,
) -> Result<Option<Vec<u8>>> {
    if !exists(refs, (hash, acct))? {
        return Ok(None);
    }
    match blobs.get(hash, super::blob_codec::decode)? {
        Some(bytes) => bytes.map(Some).map_err(StoreError::Corrupt),
        None => Ok(None),
    }
}
