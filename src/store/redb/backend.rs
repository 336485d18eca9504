//! redb as a [`Backend`](crate::store::backend::Backend): transactions and ordered tables.
//!
//! redb's own key order for a tuple is field by field, which is the order the interface
//! promises, and its `Value::SelfType<'a>` is the interface's `Field::View<'a>` (both borrow a
//! `&str` or `&[u8]` from the page for the length of the call). Tables are implemented for the
//! key/value types the mail operations use (`store/mail/tables.rs`, `Schema`), and for the
//! record tables the other stores may move over; add a line to `tables!` for another.

use super::write::Writer;
use crate::store::backend::{Backend, Field, Table, TableMut};
use crate::store::error::Result;
use crate::store::mail::tables::{Schema, Tables};
use redb::{ReadTransaction, ReadableDatabase, ReadableTable, WriteTransaction};

impl Backend for redb::Database {
    type Snapshot = ReadTransaction;
    type Txn = WriteTransaction;
    fn begin_read(&self) -> Result<ReadTransaction> {
        Ok(ReadableDatabase::begin_read(self)?)
    }
    fn begin_write(&self) -> Result<WriteTransaction> {
        Ok(redb::Database::begin_write(self)?)
    }
    /// redb's default durability is `Immediate`: the commit is fsynced before it returns.
    fn commit(&self, tx: WriteTransaction) -> Result<()> {
        Ok(tx.commit()?)
    }
}

/// The read half of `Table` for one redb table type (read-only or inside a write).
macro_rules! readable {
    ($k:ty, $v:ty) => {
        fn get<R>(
            &self,
            key: <$k as Field>::View<'_>,
            read: impl FnOnce(<$v as Field>::View<'_>) -> R,
        ) -> Result<Option<R>> {
            Ok(ReadableTable::get(self, key)?.map(|g| read(g.value())))
        }
        fn range<F>(
            &self,
            lo: <$k as Field>::View<'_>,
            hi: <$k as Field>::View<'_>,
            mut each: F,
        ) -> Result<()>
        where
            F: FnMut(<$k as Field>::View<'_>, <$v as Field>::View<'_>) -> Result<bool>,
        {
            for row in ReadableTable::range(self, lo..=hi)? {
                let (k, v) = row?;
                if !each(k.value(), v.value())? {
                    break;
                }
            }
            Ok(())
        }
        fn range_rev<F>(
            &self,
            lo: <$k as Field>::View<'_>,
            hi: <$k as Field>::View<'_>,
            mut each: F,
        ) -> Result<()>
        where
            F: FnMut(<$k as Field>::View<'_>, <$v as Field>::View<'_>) -> Result<bool>,
        {
            for row in ReadableTable::range(self, lo..=hi)?.rev() {
                let (k, v) = row?;
                if !each(k.value(), v.value())? {
                    break;
                }
            }
            Ok(())
        }
    };
}

/// `Table`/`TableMut` for redb tables of these key and value types.
macro_rules! tables {
    ($(($k:ty, $v:ty)),* $(,)?) => {$(
        impl Table<$k, $v> for redb::ReadOnlyTable<$k, $v> {
            readable!($k, $v);
        }
        impl Table<$k, $v> for redb::Table<'_, $k, $v> {
            readable!($k, $v);
        }
        impl TableMut<$k, $v> for redb::Table<'_, $k, $v> {
            fn insert(&mut self, key: <$k as Field>::View<'_>, value: <$v as Field>::View<'_>) -> Result<()> {
                redb::Table::insert(self, key, value)?;
                Ok(())
            }
            fn remove(&mut self, key: <$k as Field>::View<'_>) -> Result<()> {
                redb::Table::remove(self, key)?;
                Ok(())
            }
        }
    )*};
}

tables!(
    // META: name -> value (schema version, next account and queue ids)
    (&'static str, u64),
    // ACCOUNTS, VACATION: account -> record
    (u32, &'static [u8]),
    // ADDRESSES: address -> account
    (&'static str, u32),
    // COUNTERS: (account, slot) -> value (modseq, id counters, type states)
    ((u32, u8), u64),
    // MAILBOXES, EMAILS, EMAIL_META, THREADS, SUBMISSIONS, IDENTITIES: (account, id) -> record
    ((u32, u32), &'static [u8]),
    // MAILBOX_EMAILS: (account, mailbox, receivedAt, email) -> ()
    ((u32, u32, i64, u32), ()),
    // RECEIVED: (account, receivedAt, email) -> ()
    ((u32, i64, u32), ()),
    // MAILBOX_THREADS: (account, mailbox, thread) -> (emails, unread)
    ((u32, u32, u32), (u32, u32)),
    // THREAD_TAILS: (account, thread) -> (members, drafts, last receivedAt, last member)
    ((u32, u32), (u32, u32, i64, u32)),
    // THREAD_REFS: (account, hash of message id and base subject) -> thread
    ((u32, u128), u32),
    // BLOBS, ALIASES, TOKENS, SECRETS: name -> record
    (&'static str, &'static [u8]),
    // BLOB_REFS: (hash, account) -> references
    ((&'static str, u32), u32),
    // CHANGES: (account, type, modseq) -> (id, kind)
    ((u32, u8, u64), (u32, u8)),
    // DOMAINS: domain -> added at
    (&'static str, i64),
    // UPLOADS: (account, hash) -> (uploaded at, size)
    ((u32, &'static str), (i64, u64)),
    // PUSH_SUBSCRIPTIONS, APP_PASSWORDS: (account, name) -> record
    ((u32, &'static str), &'static [u8]),
    // OUTBOUND: queue id -> QueuedMessage
    (u64, &'static [u8]),
    // DKIM_KEYS: (domain, algorithm) -> DkimKey
    ((&'static str, u8), &'static [u8]),
    // VACATION_REPLIES, SENT_TO: (account, address) -> time
    ((u32, &'static str), i64),
    // INDEX_MARKS: account -> modseq
    (u32, u64),
);

/// The redb types of the mail tables, for the mail operations (`store/mail/`).
pub struct Redb<'t>(std::marker::PhantomData<&'t ()>);

impl<'t> Schema for Redb<'t> {
    type Meta = redb::Table<'t, &'static str, u64>;
    type Accounts = redb::Table<'t, u32, &'static [u8]>;
    type Addresses = redb::Table<'t, &'static str, u32>;
    type Counters = redb::Table<'t, (u32, u8), u64>;
    type Records = redb::Table<'t, (u32, u32), &'static [u8]>;
    type MailboxEmails = redb::Table<'t, (u32, u32, i64, u32), ()>;
    type Received = redb::Table<'t, (u32, i64, u32), ()>;
    type MailboxThreads = redb::Table<'t, (u32, u32, u32), (u32, u32)>;
    type ThreadTails = redb::Table<'t, (u32, u32), (u32, u32, i64, u32)>;
    type ThreadRefs = redb::Table<'t, (u32, u128), u32>;
    type Blobs = redb::Table<'t, &'static str, &'static [u8]>;
    type BlobRefs = redb::Table<'t, (&'static str, u32), u32>;
    type Changes = redb::Table<'t, (u32, u8, u64), (u32, u8)>;
}

impl<'t> Writer<'t> {
    /// The mail tables of this transaction, for the operations in `store/mail/`.
    pub(crate) fn mail(&mut self) -> Tables<'_, Redb<'t>> {
        Tables {
            meta: &mut self.meta,
            accounts: &mut self.accounts,
            addresses: &mut self.addresses,
            counters: &mut self.counters,
            mailboxes: &mut self.mailboxes,
            emails: &mut self.emails,
            email_meta: &mut self.email_meta,
            mailbox_emails: &mut self.mailbox_emails,
            received: &mut self.received,
            mailbox_threads: &mut self.mailbox_threads,
            threads: &mut self.threads,
            thread_tails: &mut self.thread_tails,
            thread_refs: &mut self.thread_refs,
            blobs: &mut self.blobs,
            blob_refs: &mut self.blob_refs,
            changes: &mut self.changes,
            touched: &mut self.touched,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::mail::domains::STR_MAX;
    use crate::store::mail::tables::{any, exists};

    const T: redb::TableDefinition<(u32, &str), i64> = redb::TableDefinition::new("t");

    /// The contract of `store/backend.rs` on redb: borrowed string keys, tuple order, inclusive
    /// bounds, early stop, and the reverse walk.
    #[test]
    fn ranges_over_borrowed_keys_in_tuple_order()
    -> std::result::Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let db = redb::Database::create(dir.path().join("db"))?;
        let tx = Backend::begin_write(&db)?;
        {
            let mut t = tx.open_table(T)?;
            for (a, k, v) in [(1, "b", 2), (1, "a", 1), (2, "a", 3), (1, "c", 4)] {
                let key = k.to_string();
                TableMut::insert(&mut t, (a, key.as_str()), v)?;
            }
            TableMut::remove(&mut t, (1, "c"))?;
        }
        Backend::commit(&db, tx)?;
        let rx = Backend::begin_read(&db)?;
        let t = rx.open_table(T)?;
        assert_eq!(Table::get(&t, (1, "b"), |v| v)?, Some(2));
        assert!(!exists(&t, (1, "c"))?, "removed");
        let mut rows = Vec::new();
        Table::range(&t, (1, ""), (1, STR_MAX), |(a, k), v| {
            rows.push((a, k.to_string(), v));
            Ok(true)
        })?;
        assert_eq!(rows, vec![(1, "a".into(), 1), (1, "b".into(), 2)]);
        let mut newest = Vec::new();
        Table::range_rev(&t, (0, ""), (u32::MAX, STR_MAX), |(a, k), _| {
            newest.push((a, k.to_string()));
            Ok(newest.len() < 2)
        })?;
        assert_eq!(newest, vec![(2, "a".into()), (1, "b".into())]);
        assert!(!any(&t, (3, ""), (3, STR_MAX))?);
        Ok(())
    }
}
