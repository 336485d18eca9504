//! Errors of the storage layer, one variant per thing a caller may do differently. They are
//! mapped to the wire in exactly one place per protocol: `jmap/error.rs` for JMAP,
//! `smtp/store_reply.rs` for SMTP replies. The conversions from the engine's own errors live
//! with the engine (`redb/error.rs`), so this file names no backend.
//!
//! Engine failures keep their cause: an I/O error carries the operating system's error as its
//! `source()`, and a full disk (ENOSPC, EDQUOT) is told apart from other I/O so SMTP can answer
//! 452 "insufficient system storage" (RFC 5321 §4.2.3) instead of a generic 451.

use std::sync::Arc;
use thiserror::Error;

#[derive(Debug, Clone, Error)]
pub enum StoreError {
    /// The engine could not read or write its file. Not the client's fault; may pass.
    #[error("storage I/O error: {0}")]
    Io(#[source] Arc<std::io::Error>),
    /// No space left on the device (or over the filesystem quota): nothing was stored.
    #[error("the disk is full: {0}")]
    DiskFull(#[source] Arc<std::io::Error>),
    /// Any other engine failure (neither I/O nor a damaged file): a bug or a code/file mismatch.
    #[error("database error: {0}")]
    Db(String),
    /// A stored record could not be decoded; the file was written by another version or damaged.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// A `/changes` or `/queryChanges` state the log cannot answer from: trimmed (too old) or
    /// never issued (from the future). JMAP says cannotCalculateChanges (RFC 8620 §5.2).
    #[error("the state is too old or unknown")]
    StateTooOld,
    /// A job gave up on its own transaction (a JMAP `/set` whose handler failed): nothing of it
    /// is kept. Not an engine failure, so it never takes the database out of service.
    #[error("aborted: {0}")]
    Aborted(String),
    /// The object asked for does not exist (or is not visible to the account).
    #[error("not found")]
    NotFound,
    /// The request conflicts with what is stored (a duplicate address, a name clash).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The request itself is invalid for the store (an empty name, a bad role, a bad address).
    #[error("invalid: {0}")]
    Invalid(String),
    /// The account's quota (RFC 9425 hard limit) leaves no room for what was asked: nothing
    /// was stored. JMAP says `overQuota`, SMTP `452 4.2.2`.
    #[error("{0}")]
    OverQuota(String),
    /// An account's outbound limit (`quota/send.rs`) refuses one more message (`recipients`
    /// false) or these recipients (true): nothing was queued. JMAP says forbiddenToSend or
    /// tooManyRecipients, the submission port 450 4.7.1 or 452 4.5.3.
    #[error("sending limit reached: {reason}")]
    SendLimit { recipients: bool, reason: String },
    /// Another process holds the database file (redb allows one process to open it).
    #[error("the database is in use by another mailnook process")]
    Locked,
    /// The file was written by a newer mailnook (a higher schema version): refused unchanged.
    #[error("{0}")]
    Newer(String),
    /// The store's writer thread has stopped (shutdown in progress).
    #[error("the store is shutting down")]
    Closed,
    /// The database is being reopened after an I/O error (a full disk): try again shortly.
    /// Never `Closed`, which tells background loops to stop.
    #[error("the database is recovering from an I/O error: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// An I/O error from the engine, sorted into [`StoreError::DiskFull`] or
    /// [`StoreError::Io`].
    pub fn io(e: std::io::Error) -> StoreError {
        // ENOSPC is ErrorKind::StorageFull; EDQUOT (a quota) has no kind of its own.
        const EDQUOT: i32 = 122;
        if e.kind() == std::io::ErrorKind::StorageFull || e.raw_os_error() == Some(EDQUOT) {
            StoreError::DiskFull(Arc::new(e))
        } else {
            StoreError::Io(Arc::new(e))
        }
    }

    /// Whether the engine itself failed (I/O, a full disk, another engine error), as opposed to
    /// a job's own refusal. After such a failure the writer probes the database
    /// (`redb/recover.rs`).
    pub fn is_engine(&self) -> bool {
        matches!(
            self,
            StoreError::Io(_) | StoreError::DiskFull(_) | StoreError::Db(_)
        )
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_told_apart_from_other_io() {
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert!(matches!(StoreError::io(full), StoreError::DiskFull(_)));
        let quota = std::io::Error::from_raw_os_error(122);
        assert!(matches!(StoreError::io(quota), StoreError::DiskFull(_)));
        let other = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let e = StoreError::io(other);
        assert!(matches!(e, StoreError::Io(_)));
        // The cause stays reachable for logs.
        assert!(std::error::Error::source(&e).is_some());
        assert!(e.is_engine());
        assert!(!StoreError::Aborted("x".into()).is_engine());
    }
}
