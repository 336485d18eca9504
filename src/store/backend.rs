//! The backend interface: all the store asks of a storage engine. Eight methods, in the spirit
//! of redb's five-method `StorageBackend`: a transaction lifecycle ([`Backend`]: begin a read
//! snapshot, begin a write, commit it durably) and ordered tables seen through a transaction
//! ([`Table`]: get, range and range backwards; [`TableMut`]: insert and remove). Which tables
//! exist, and the type of each, is the mail layer's [`Schema`](crate::store::mail::tables::Schema).
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
//! - keys are ordered as tuples of their fields (strings bytewise), so a range over a key prefix
//!   finds everything an account owns (`redb/tables.rs` describes each table's key).
//!
//! Rows are never copied on their way to the caller: keys and values are passed as a [`Field`]'s
//! borrowed view (a `&str` key, a `&[u8]` record), which a backend may point into its own pages
//! for the length of the call. Fixed-size fields are their own view.

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

/// The type of a key or value column, named as redb spells it (`&'static str` for a string,
/// `&'static [u8]` for a record), and the form it is passed in: `View<'a>` borrows for `'a`.
pub trait Field {
    type View<'a>;
}

macro_rules! fixed {
    ($($t:ty),* $(,)?) => {$(impl Field for $t { type View<'a> = $t; })*};
}

fixed!(
    (),
    u8,
    u32,
    u64,
    i64,
    (u32, u8),
    (u32, u32),
    (u32, u128),
    (u32, u64),
    (i64, u64),
    (u32, u8, u64),
    (u32, u32, u32),
    (u32, i64, u32),
    (u32, u32, i64, u32),
);

impl Field for &'static str {
    type View<'a> = &'a str;
}
impl Field for &'static [u8] {
    type View<'a> = &'a [u8];
}
impl Field for (&'static str, u32) {
    type View<'a> = (&'a str, u32);
}
impl Field for (u32, &'static str) {
    type View<'a> = (u32, &'a str);
}
impl Field for (&'static str, u8) {
    type View<'a> = (&'a str, u8);
}

/// One ordered table as seen through a snapshot or a write transaction.
pub trait Table<K: Field, V: Field> {
    /// The value at `key`, handed to `read` (which may decode it in place), if there is one.
    fn get<R>(&self, key: K::View<'_>, read: impl FnOnce(V::View<'_>) -> R) -> Result<Option<R>>;
    /// Rows with `lo <= key <= hi` in key order, handed to `each` until it returns false.
    fn range<F>(&self, lo: K::View<'_>, hi: K::View<'_>, each: F) -> Result<()>
    where
        F: FnMut(K::View<'_>, V::View<'_>) -> Result<bool>;
    /// The same rows from the highest key down: the newest page of a date index costs that
    /// page, not the whole index (Email/query's common case, issue #20).
    fn range_rev<F>(&self, lo: K::View<'_>, hi: K::View<'_>, each: F) -> Result<()>
    where
        F: FnMut(K::View<'_>, V::View<'_>) -> Result<bool>;
}

/// A table inside a write transaction.
pub trait TableMut<K: Field, V: Field>: Table<K, V> {
    fn insert(&mut self, key: K::View<'_>, value: V::View<'_>) -> Result<()>;
    fn remove(&mut self, key: K::View<'_>) -> Result<()>;
}
