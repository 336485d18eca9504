//! Blob ids (RFC 8620 §6): `b` + the hex SHA-256 of the bytes.

use crate::store::Store;
use crate::store::model::AccountId;

pub fn blob_id(hash: &str) -> String {
    format!("b{hash}")
}

/// The hash inside a blob id, if the id is well-formed.
pub fn hash_of(blob_id: &str) -> Option<&str> {
    let h = blob_id.strip_prefix('b')?;
    (h.len() == 64
        && h.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
    .then_some(h)
}

/// The bytes of a blob the account may read (RFC 8620 §6.2), or None.
pub async fn download(
    store: &Store,
    acct: AccountId,
    blob_id: &str,
) -> crate::store::Result<Option<Vec<u8>>> {
    let Some(hash) = hash_of(blob_id).map(str::to_string) else {
        return Ok(None);
    };
    store.read(move |r| r.blob(acct, &hash)).await
}
