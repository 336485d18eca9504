//! The backend interface: all the store asks of a storage engine. Seven methods, in the spirit
//! of redb's five-method `StorageBackend`: a transaction lifecycle ([`Backend`]: begin a read
//! snapshot, begin a write, commit it durably) and ordered tables seen through a transaction
//! ([`Table`]: get and range; [`TableMut`]: insert and remove).
//!
//! The mail operations (`store/mail/`) are written against these traits, so a second backend
//! (docs/ARCHITECTURE.md "A second backend": a distributed SQL or key-value store for metadata,
//! S3-compatible storage for blobs) implements this file and reuses every rule. `store/redb/`
//! implements it for redb (`redb/backend.rs`).
//!
//! Contract a backend must keep:
//! - a read snapshot is consistent (it sees every commit before it began and nothing after);
//! - a write transaction sees its own writes, and nothing of it is visible before `commit`;
//! - `commit` returns only once the transaction is durable (DESIGN.md "Durability promise":
//!   SMTP answers 250 only after it), and either all of it is kept or none;
//! - one writer at a time: the group-commit thread (`redb/commit.rs`) is the only caller of
//!   `begin_write`, and batches many jobs into one transaction;
//! - keys are ordered as tuples of their fields, so a range over a key prefix finds everything
//!   an account owns (`redb/tables.rs` describes each table's key).

use crate::store::error::Result;

/// A storage engine's transaction lifecycle.
pub trait Backend {
    /// A consistent read snapshot.
    type Snapshot;
    /// One write transaction (many jobs of a group commit share it).
    type Txn;
    fn begin_read(&self) -> Result<Self::Snapshot>;
    fn begin_write(&self) -> Result<Self::Txn>;
    /// Makes the transaction durable (fsync or a quorum write) before returning.
    fn commit(&self, tx: Self::Txn) -> Result<()>;
}

/// One ordered table as seen through a snapshot or a write transaction.
pub trait Table<K, V> {
    fn get(&self, key: K) -> Result<Option<V>>;
    /// Rows with `lo <= key <= hi` in key order, handed to `each` until it returns false.
    fn range(&self, lo: K, hi: K, each: &mut dyn FnMut(K, V) -> Result<bool>) -> Result<()>;
}

/// A table inside a write transaction.
pub trait TableMut<K, V>: Table<K, V> {
    fn insert(&mut self, key: K, value: V) -> Result<()>;
    fn remove(&mut self, key: K) -> Result<()>;
}
