//! Errors of the storage layer. They are mapped to the wire in exactly one place per protocol:
//! `jmap/error.rs` for JMAP, `smtp/` for SMTP replies.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// The database engine failed (I/O, corruption, a full disk). Not the client's fault.
    #[error("database error: {0}")]
    Db(String),
    /// A stored record could not be decoded; the file was written by another version or damaged.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// The object asked for does not exist (or is not visible to the account).
    #[error("not found")]
    NotFound,
    /// The request conflicts with what is stored (a duplicate address, a name clash).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The request itself is invalid for the store (an empty name, a bad role).
    #[error("invalid: {0}")]
    Invalid(String),
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

pub type Result<T> = std::result::Result<T, StoreError>;

macro_rules! db_error {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self { StoreError::Db(e.to_string()) }
        }
    )*};
}
db_error!(
    redb::Error,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

impl From<redb::DatabaseError> for StoreError {
    fn from(e: redb::DatabaseError) -> Self {
        match e {
            redb::DatabaseError::DatabaseAlreadyOpen => StoreError::Locked,
            other => StoreError::Db(other.to_string()),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}
