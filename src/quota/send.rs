//! Outbound limits per account: messages and recipients per hour and per day, so a stolen
//! password or a compromised phone cannot turn a family server into a spam cannon.
//!
//! The counters live in the store (`store/redb/send_counts.rs`, table `SEND_COUNTS`), so they
//! survive a restart, and are charged in the same write transaction that queues the message
//! (JMAP EmailSubmission/set, the submission port through `Outbound::enqueue`): a refused
//! message is not queued and not counted. Windows are the current clock hour and UTC day
//! (fixed windows: at most twice a limit can pass around a boundary, which is still far from
//! a spam run). Only a user's own mail counts; automatic replies from the null sender do not.
//!
//! Answers: JMAP `forbiddenToSend` (a message limit) or `tooManyRecipients` (a recipient
//! limit) in EmailSubmission/set (RFC 8621 §7.5); the submission port `450 4.7.1` (a message
//! limit, RFC 3463 X.7.1 "delivery not authorized") and `452 4.5.3` (a recipient limit, RFC
//! 5321 §4.5.3.1.10), refused at RCPT TO when the recipients already show it.

use crate::store::model::AccountId;
pub use crate::store::model_quota::{SendLimits, SentCounts};
use crate::store::{Reader, Store, StoreError};

/// The account's counts now.
pub fn counts(r: &Reader, acct: AccountId, now: i64) -> Result<SentCounts, StoreError> {
    r.sent_counts(acct, now)
}

/// Whether one more message with `recipients` recipients would pass a limit: the refusal as
/// the store would give it (`StoreError::SendLimit`), without charging anything.
pub async fn refuse(
    store: &Store,
    acct: AccountId,
    recipients: u32,
    limits: &SendLimits,
) -> Result<Option<StoreError>, StoreError> {
    let now = crate::date::now();
    let limits = limits.clone();
    store
        .read(move |r| {
            let c = r.sent_counts(acct, now)?;
            Ok(crate::store::mail::quota::send_refuse(
                &c, recipients, &limits,
            ))
        })
        .await
}
