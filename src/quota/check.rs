//! The cheap look before the work: is an account already full? SMTP asks at RCPT TO (RFC 5321
//! §4.5.3.1.10 lets a server refuse a recipient with 452 for a temporary reason) so a sender
//! does not transmit a message that cannot be stored; the upload endpoint asks before it
//! buffers bytes for an account that can take no new mail. The store's own check at insert
//! (`store/redb/quota.rs`) is the one that decides; this one only saves work.

use crate::store::mail::quota as rules;
use crate::store::model::AccountId;
use crate::store::{Store, StoreError};

/// The first of `accounts` that is at or over a hard limit, or cannot fit a message of `size`
/// octets (0: size unknown), with the reason.
pub async fn full(
    store: &Store,
    accounts: &[AccountId],
    size: u64,
) -> Result<Option<String>, StoreError> {
    let accounts = accounts.to_vec();
    store
        .read(move |r| {
            for a in accounts {
                let q = r.quota(a)?;
                let used = (q.octets, q.messages);
                if rules::full(used, q.storage, q.count)
                    || (size > 0 && rules::refuse(used, size, q.storage, q.count).is_some())
                {
                    return Ok(Some(format!(
                        "{} of {} octets, {} of {} messages",
                        q.octets,
                        q.storage.hard.map_or("unlimited".into(), |h| h.to_string()),
                        q.messages,
                        q.count.hard.map_or("unlimited".into(), |h| h.to_string()),
                    )));
                }
            }
            Ok(None)
        })
        .await
}

/// Whether `size` more octets would pass the account's storage hard limit, or it is full.
pub async fn refuse(
    store: &Store,
    acct: AccountId,
    size: u64,
) -> Result<Option<String>, StoreError> {
    store
        .read(move |r| {
            let q = r.quota(acct)?;
            if rules::full((q.octets, q.messages), q.storage, q.count) {
                return Ok(Some("the account is over its quota".to_string()));
            }
            Ok(rules::refuse(
                (q.octets, q.messages),
                size,
                q.storage,
                q.count,
            ))
        })
        .await
}
