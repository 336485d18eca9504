//! Store errors as SMTP replies: the one place SMTP maps them (DESIGN.md "Errors").
//!
//! Every store failure is a 4xx, so the client keeps the message and retries (RFC 5321 §4.2.5:
//! a server must not answer 250 to mail it has not stored, and a temporary local failure is
//! 451). A full disk gets its own code, 452 4.3.1 "insufficient system storage" (RFC 5321
//! §4.2.3, RFC 3463 §3.4 X.3.1), which tells a human reading a bounce what to fix.

use super::reply::{self, Reply};
use crate::store::StoreError;

/// The reply to a command that failed because the store did.
pub fn reply_for(e: &StoreError) -> &'static Reply {
    match e {
        StoreError::DiskFull(_) => &reply::INSUFFICIENT_STORAGE,
        StoreError::OverQuota(_) => &reply::OVER_QUOTA,
        StoreError::SendLimit {
            recipients: true, ..
        } => &reply::TOO_MANY_RECIPIENTS,
        StoreError::SendLimit { .. } => &reply::SEND_LIMIT,
        _ => &reply::LOCAL_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn store_failures_are_temporary_and_a_full_disk_says_so() {
        let full = StoreError::io(std::io::Error::from(std::io::ErrorKind::StorageFull));
        assert_eq!(reply_for(&full).code, 452);
        // Quotas and sending limits (src/quota/): temporary, with their own status codes.
        let over = reply_for(&StoreError::OverQuota("full".into()));
        assert_eq!((over.code, over.status), (452, "4.2.2"));
        let send = |recipients| StoreError::SendLimit {
            recipients,
            reason: "x".into(),
        };
        assert_eq!(
            (reply_for(&send(false)).code, reply_for(&send(false)).status),
            (450, "4.7.1")
        );
        assert_eq!(
            (reply_for(&send(true)).code, reply_for(&send(true)).status),
            (452, "4.5.3")
        );
        let io = StoreError::Io(Arc::new(std::io::Error::other("eio")));
        for e in [
            io,
            StoreError::Unavailable("recovering".into()),
            StoreError::Closed,
            StoreError::Corrupt("x".into()),
            StoreError::Db("x".into()),
        ] {
            let r = reply_for(&e);
            assert!((400..500).contains(&r.code), "{e}: {}", r.code);
        }
    }
}
