//! Uploads (RFC 8620 §6.1), without HTTP: bytes in, the upload response object out.
//!
//! Blob ids are content hashes, so the same bytes uploaded twice are stored once and get the
//! same blobId (allowed by §6.1; re-uploading resets the expiry, as §6 recommends). Uploads are
//! unreferenced blobs with their own quota per account ([`quota`]); past it the oldest uploads
//! are dropped first (§6). [`sweep_forever`] drops uploads older than [`UPLOAD_TTL_SECS`]
//! (at least the hour §6 requires); bytes that an object references by then stay.

use super::Jmap;
use super::blob::blob_id;
use crate::store::model::{AccountId, IdKind};
use crate::store::{Store, StoreError};
use serde_json::{Value, json};
use std::time::Duration;

/// How long an unreferenced upload lives. §6: "MUST NOT be deleted for at least 1 hour".
pub const UPLOAD_TTL_SECS: i64 = 24 * 3600;
/// How often the sweep runs.
pub const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// The per-account budget for unreferenced uploads: room for two of the largest uploads
/// (§6: "at least the maximum total size that a single object can reference").
pub fn quota(jmap: &Jmap) -> u64 {
    2 * jmap.limits.max_size_upload as u64
}

/// The media type to report: the request's Content-Type if it is printable and short, else
/// `application/octet-stream`.
pub fn media_type(content_type: Option<&str>) -> String {
    match content_type.map(str::trim) {
        Some(t)
            if !t.is_empty() && t.len() <= 255 && t.bytes().all(|b| (0x20..0x7f).contains(&b)) =>
        {
            t.to_string()
        }
        _ => "application/octet-stream".into(),
    }
}

/// Stores an upload for `acct` and returns the §6.1 response object.
pub async fn upload(
    jmap: &Jmap,
    acct: AccountId,
    content_type: Option<&str>,
    bytes: Vec<u8>,
) -> Result<Value, StoreError> {
    let size = bytes.len();
    // An account at its storage quota can make nothing of an upload (RFC 9425 hardLimit).
    if let Some(why) = crate::quota::check::refuse(&jmap.store, acct, size as u64).await? {
        return Err(StoreError::OverQuota(why));
    }
    let now = crate::date::now();
    let quota = quota(jmap);
    let hash = jmap
        .store
        .write(move |w| w.put_upload(acct, &bytes, now, quota))
        .await?;
    Ok(json!({
        "accountId": IdKind::Account.encode(acct),
        "blobId": blob_id(&hash),
        "type": media_type(content_type),
        "size": size,
    }))
}

/// Expires old uploads and push subscriptions and trims the changelog to `keep` rows per
/// type, at start and then every SWEEP_EVERY (spawned by app.rs).
pub async fn sweep_forever(store: Store, keep: usize) {
    loop {
        let now = crate::date::now();
        match store
            .write(move |w| {
                // Expired Bearer/refresh tokens can never authenticate again (`tokens.rs`).
                w.expire_tokens(now)?;
                Ok((
                    w.expire_uploads(now - UPLOAD_TTL_SECS)?,
                    w.expire_push_subscriptions(now)?,
                    w.trim_changes(keep)?,
                ))
            })
            .await
        {
            Ok((0, 0, 0)) => {}
            Ok((u, p, c)) => log::info!(
                "sweep: {u} expired uploads, {p} expired push subscriptions, {c} old changelog rows"
            ),
            Err(e) => log::warn!("sweep failed: {e}"),
        }
        smol::Timer::after(SWEEP_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use crate::store::Store;

    #[test]
    fn uploads_dedup_expire_and_respect_quota() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), 1 << 20).unwrap();
        let a = store
            .write_blocking(|w| w.create_account("u@example.org", "x", false, 0))
            .unwrap()
            .id;
        let h1 = store
            .write_blocking(move |w| w.put_upload(a, b"one", 100, 12))
            .unwrap();
        let h1b = store
            .write_blocking(move |w| w.put_upload(a, b"one", 200, 12))
            .unwrap();
        assert_eq!(h1, h1b);
        let h = h1.clone();
        assert_eq!(
            store.read_blocking(|r| r.upload(a, &h)).unwrap(),
            Some((200, 3))
        );
        // Quota 12: "one" (3) + "seven!!" (7) fit; "four" (4) pushes the oldest out.
        let h2 = store
            .write_blocking(move |w| w.put_upload(a, b"seven!!", 300, 12))
            .unwrap();
        let h3 = store
            .write_blocking(move |w| w.put_upload(a, b"four", 400, 12))
            .unwrap();
        let (x1, x2, x3) = (h1.clone(), h2.clone(), h3.clone());
        let (b1, b2, b3) = store
            .read_blocking(move |r| Ok((r.blob(a, &x1)?, r.blob(a, &x2)?, r.blob(a, &x3)?)))
            .unwrap();
        assert_eq!(b1, None, "the oldest upload made room");
        assert_eq!(b2.as_deref(), Some(&b"seven!!"[..]));
        assert_eq!(b3.as_deref(), Some(&b"four"[..]));
        assert!(
            store
                .write_blocking(move |w| w.put_upload(a, b"thirteen bytes", 500, 12))
                .is_err()
        );
        // Expiry drops uploads made before the cutoff, and their bytes when unreferenced.
        assert_eq!(store.write_blocking(|w| w.expire_uploads(350)).unwrap(), 1);
        let (x2, x3) = (h2.clone(), h3.clone());
        let (b2, b3) = store
            .read_blocking(move |r| Ok((r.blob(a, &x2)?, r.blob(a, &x3)?)))
            .unwrap();
        assert_eq!(b2, None);
        assert!(b3.is_some());
    }
}
