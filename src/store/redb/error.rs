//! redb's errors as [`StoreError`]s: the only place that knows both. I/O keeps its cause (and a
//! full disk is told apart, `StoreError::io`); a damaged file is `Corrupt`; an earlier I/O
//! error that poisoned the database (`PreviousIo`) is I/O too, so the writer reopens it
//! (`recover.rs`); the rest are engine errors (`Db`).

use crate::store::error::StoreError;
use redb::{CommitError, DatabaseError, Error, StorageError, TableError, TransactionError};

impl From<StorageError> for StoreError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Io(io) => StoreError::io(io),
            StorageError::PreviousIo => StoreError::Io(std::sync::Arc::new(std::io::Error::other(
                "an earlier I/O error left the database unusable until it is reopened",
            ))),
            StorageError::Corrupted(d) => StoreError::Corrupt(d),
            other => StoreError::Db(other.to_string()),
        }
    }
}

impl From<TransactionError> for StoreError {
    fn from(e: TransactionError) -> Self {
        match e {
            TransactionError::Storage(s) => s.into(),
            other => StoreError::Db(other.to_string()),
        }
    }
}

impl From<TableError> for StoreError {
    fn from(e: TableError) -> Self {
        match e {
            TableError::Storage(s) => s.into(),
            other => StoreError::Db(other.to_string()),
        }
    }
}

impl From<CommitError> for StoreError {
    fn from(e: CommitError) -> Self {
        match e {
            CommitError::Storage(s) => s.into(),
            other => StoreError::Db(other.to_string()),
        }
    }
}

impl From<DatabaseError> for StoreError {
    fn from(e: DatabaseError) -> Self {
        match e {
            DatabaseError::DatabaseAlreadyOpen => StoreError::Locked,
            DatabaseError::Storage(s) => s.into(),
            other => StoreError::Db(other.to_string()),
        }
    }
}

impl From<Error> for StoreError {
    fn from(e: Error) -> Self {
        match e {
            Error::DatabaseAlreadyOpen => StoreError::Locked,
            Error::Io(io) => StoreError::io(io),
            Error::PreviousIo => StorageError::PreviousIo.into(),
            Error::Corrupted(d) => StoreError::Corrupt(d),
            other => StoreError::Db(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_errors_keep_their_kind() {
        let full = StorageError::Io(std::io::Error::from(std::io::ErrorKind::StorageFull));
        assert!(matches!(
            StoreError::from(CommitError::Storage(full)),
            StoreError::DiskFull(_)
        ));
        assert!(matches!(
            StoreError::from(StorageError::PreviousIo),
            StoreError::Io(_)
        ));
        assert!(matches!(
            StoreError::from(TableError::Storage(StorageError::Corrupted("x".into()))),
            StoreError::Corrupt(_)
        ));
    }
}
