//! redb as a [`Backend`](crate::store::backend::Backend): transactions and ordered tables.
//!
//! redb's own key order for a tuple is field by field, which is the order the interface
//! promises. Tables are implemented for the key/value types the backend-neutral mail
//! operations use (`store/mail/`); add a line to `tables!` when a mail operation needs another.

use crate::store::backend::{Backend, Table, TableMut};
use crate::store::error::Result;
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

fn range<K, V, T>(t: &T, lo: K, hi: K, each: &mut dyn FnMut(K, V) -> Result<bool>) -> Result<()>
where
    K: redb::Key + 'static + for<'a> redb::Value<SelfType<'a> = K>,
    V: redb::Value + 'static + for<'a> redb::Value<SelfType<'a> = V>,
    T: ReadableTable<K, V>,
{
    for row in t.range(lo..=hi)? {
        let (k, v) = row?;
        if !each(k.value(), v.value())? {
            break;
        }
    }
    Ok(())
}

/// `Table`/`TableMut` for redb tables of fixed-size keys and values.
macro_rules! tables {
    ($(($k:ty, $v:ty)),* $(,)?) => {$(
        impl Table<$k, $v> for redb::ReadOnlyTable<$k, $v> {
            fn get(&self, key: $k) -> Result<Option<$v>> {
                Ok(ReadableTable::get(self, key)?.map(|v| v.value()))
            }
            fn range(&self, lo: $k, hi: $k, each: &mut dyn FnMut($k, $v) -> Result<bool>) -> Result<()> {
                range(self, lo, hi, each)
            }
        }
        impl Table<$k, $v> for redb::Table<'_, $k, $v> {
            fn get(&self, key: $k) -> Result<Option<$v>> {
                Ok(ReadableTable::get(self, key)?.map(|v| v.value()))
            }
            fn range(&self, lo: $k, hi: $k, each: &mut dyn FnMut($k, $v) -> Result<bool>) -> Result<()> {
                range(self, lo, hi, each)
            }
        }
        impl TableMut<$k, $v> for redb::Table<'_, $k, $v> {
            fn insert(&mut self, key: $k, value: $v) -> Result<()> {
                redb::Table::insert(self, key, value)?;
                Ok(())
            }
            fn remove(&mut self, key: $k) -> Result<()> {
                redb::Table::remove(self, key)?;
                Ok(())
            }
        }
    )*};
}

tables!(
    // COUNTERS: (account, slot) -> value (modseq, id counters, type states)
    ((u32, u8), u64),
    // CHANGES: (account, type, modseq) -> (id, kind)
    ((u32, u8, u64), (u32, u8)),
    // MAILBOX_THREADS: (account, mailbox, thread) -> (emails, unread)
    ((u32, u32, u32), (u32, u32)),
    // THREAD_TAILS: (account, thread) -> (members, drafts, last receivedAt, last member)
    ((u32, u32), (u32, u32, i64, u32)),
    // THREAD_REFS: (account, hash of message id and base subject) -> thread
    ((u32, u128), u32),
);

/// `Table`/`TableMut` for redb tables of fixed-size keys and byte-string (record) values; the
/// interface hands out owned bytes.
macro_rules! record_tables {
    ($($k:ty),* $(,)?) => {$(
        impl Table<$k, Vec<u8>> for redb::ReadOnlyTable<$k, &'static [u8]> {
            fn get(&self, key: $k) -> Result<Option<Vec<u8>>> {
                Ok(ReadableTable::get(self, key)?.map(|v| v.value().to_vec()))
            }
            fn range(&self, lo: $k, hi: $k, each: &mut dyn FnMut($k, Vec<u8>) -> Result<bool>) -> Result<()> {
                record_range(self, lo, hi, each)
            }
        }
        impl Table<$k, Vec<u8>> for redb::Table<'_, $k, &'static [u8]> {
            fn get(&self, key: $k) -> Result<Option<Vec<u8>>> {
                Ok(ReadableTable::get(self, key)?.map(|v| v.value().to_vec()))
            }
            fn range(&self, lo: $k, hi: $k, each: &mut dyn FnMut($k, Vec<u8>) -> Result<bool>) -> Result<()> {
                record_range(self, lo, hi, each)
            }
        }
        impl TableMut<$k, Vec<u8>> for redb::Table<'_, $k, &'static [u8]> {
            fn insert(&mut self, key: $k, value: Vec<u8>) -> Result<()> {
                redb::Table::insert(self, key, value.as_slice())?;
                Ok(())
            }
            fn remove(&mut self, key: $k) -> Result<()> {
                redb::Table::remove(self, key)?;
                Ok(())
            }
        }
    )*};
}

fn record_range<K, T>(
    t: &T,
    lo: K,
    hi: K,
    each: &mut dyn FnMut(K, Vec<u8>) -> Result<bool>,
) -> Result<()>
where
    K: redb::Key + 'static + for<'a> redb::Value<SelfType<'a> = K>,
    T: ReadableTable<K, &'static [u8]>,
{
    for row in t.range(lo..=hi)? {
        let (k, v) = row?;
        if !each(k.value(), v.value().to_vec())? {
            break;
        }
    }
    Ok(())
}

record_tables!(
    // MAILBOXES, EMAILS, EMAIL_META, THREADS, SUBMISSIONS, IDENTITIES: (account, id) -> record
    (u32, u32),
);
