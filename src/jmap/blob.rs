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
        // A body part of a stored message (jmap/email/body.rs), decoded on demand.
        let Some((hash, path)) = super::email::body::split_part_blob_id(blob_id) else {
            return Ok(None);
        };
        let hash = hash.to_string();
        return store
            .read(move |r| {
                Ok(r.blob(acct, &hash)?
                    .and_then(|raw| super::email::body::resolve_part(&raw, &path)))
            })
            .await;
    };
    store.read(move |r| r.blob(acct, &hash)).await
}

/// A download by `user` from `acct`: its own account, or a shared one where the blob belongs
/// to a message it may read (`access.rs`).
pub async fn download_as(
    store: &Store,
    user: AccountId,
    acct: AccountId,
    blob_id: &str,
) -> crate::store::Result<Option<Vec<u8>>> {
    if user != acct {
        let hash = match hash_of(blob_id) {
            Some(h) => h.to_string(),
            None => match super::email::body::split_part_blob_id(blob_id) {
                Some((h, _)) => h.to_string(),
                None => return Ok(None),
            },
        };
        let ok = store
            .read(move |r| match super::access::load(r, user, acct)? {
                Some(a) => super::access::blob_readable(r, acct, &a, &hash),
                None => Ok(false),
            })
            .await?;
        if !ok {
            return Ok(None);
        }
    }
    download(store, acct, blob_id).await
}

/// Blob/copy (RFC 8620 §6.3): gives `accountId` its own reference to blobs `fromAccountId` can
/// read. The copy is an upload-style reference (it expires unless an object takes it up).
pub async fn copy(
    ctx: &mut super::Ctx<'_>,
    a: super::args::Args,
) -> Result<serde_json::Value, super::error::MethodError> {
    use super::args;
    use super::error::{MethodError, SetError};
    use crate::store::model::IdKind;
    use serde_json::{Map, Value, json};
    args::only(&a, &["fromAccountId", "accountId", "blobIds"])?;
    let from_s = args::req_str(&a, "fromAccountId")?;
    let not_found = || {
        MethodError::new(
            "fromAccountNotFound",
            "The fromAccountId does not name an account you can access",
        )
    };
    // Either side may be shared with the user (issue #16): a blob is readable in the source as
    // a download would be (`access::blob_readable`); the target needs mayAddItems somewhere.
    let from = IdKind::Account.decode(from_s).ok_or_else(not_found)?;
    let from_access = super::access::load_for(ctx, from)
        .await?
        .ok_or_else(not_found)?;
    let (to, to_access) = ctx.access(&a)?;
    if !to_access
        .any_rights()
        .has(crate::store::mail::rights::Rights::ADD)
    {
        return Err(MethodError::new(
            "forbidden",
            "the share does not allow adding to this account (mayAddItems)",
        ));
    }
    let ids = args::opt_str_list(&a, "blobIds")?
        .ok_or_else(|| MethodError::invalid_arguments("'blobIds' is required"))?;
    if ids.len() > ctx.jmap.limits.max_objects_in_set {
        return Err(MethodError::request_too_large(format!(
            "at most {} blobs per Blob/copy",
            ctx.jmap.limits.max_objects_in_set
        )));
    }
    let now = crate::date::now();
    let quota = super::upload::quota(ctx.jmap);
    let ids2 = ids.clone();
    let hashes: Vec<String> = ids
        .iter()
        .filter_map(|i| hash_of(i))
        .map(str::to_string)
        .collect();
    let readable: std::collections::HashSet<String> = ctx
        .jmap
        .store
        .read(move |r| {
            let mut ok = std::collections::HashSet::new();
            for h in hashes {
                if super::access::blob_readable(r, from, &from_access, &h)? {
                    ok.insert(h);
                }
            }
            Ok(ok)
        })
        .await?;
    let results: Vec<bool> = ctx
        .jmap
        .store
        .write(move |w| {
            let mut out = Vec::with_capacity(ids2.len());
            for id in &ids2 {
                out.push(match hash_of(id) {
                    Some(h) if readable.contains(h) => w.copy_blob(from, to, h, now, quota)?,
                    _ => false,
                });
            }
            Ok(out)
        })
        .await?;
    let (mut copied, mut not_copied) = (Map::new(), Map::new());
    for (id, ok) in ids.into_iter().zip(results) {
        if ok {
            copied.insert(id.clone(), json!(id));
        } else {
            not_copied.insert(id, SetError::not_found().to_value());
        }
    }
    let or_null = |m: Map<String, Value>| {
        if m.is_empty() {
            Value::Null
        } else {
            Value::Object(m)
        }
    };
    Ok(json!({
        "fromAccountId": from_s,
        "accountId": IdKind::Account.encode(to),
        "copied": or_null(copied),
        "notCopied": or_null(not_copied),
    }))
}
