//! A consistent copy of the database as of one read transaction (`mailnook backup`).
//!
//! The copy walks every table of a read snapshot and writes the rows into a new redb file. A
//! redb read transaction is a snapshot (MVCC): the group-commit writer keeps committing while
//! the copy runs, so SMTP keeps answering 250, and the copy holds exactly the commits made
//! before the snapshot began: every message acknowledged before `mailnook backup` was asked is
//! in it. The search index is derived (DESIGN.md), so its marks are left out: a server started
//! on the copy sees no index generation and indexes every account again.
//!
//! Every table the store knows is listed in [`copy_all`]; a table in the file that the list
//! does not name makes the backup fail rather than silently leave it out (a table added
//! without a line here is caught by the first backup, and by the unit test below).

use super::read::Reader;
use super::tables::*;
use crate::store::error::{Result, StoreError};
use redb::{MultimapTableHandle, ReadableTable, TableDefinition, TableHandle};
use std::collections::BTreeSet;
use std::path::Path;

/// What a copy holds.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct CopyStats {
    pub tables: u64,
    pub rows: u64,
    pub schema: u64,
}

/// Tables that are not copied: the index watermark (derived data, see the module header).
const SKIPPED: [&str; 1] = ["index_marks"];

/// Lists every table once: [`known_tables`] and [`copy_all`] come from the same list.
macro_rules! tables {
    ($($def:expr),* $(,)?) => {
        /// Names of every table the copy knows.
        pub fn known_tables() -> BTreeSet<&'static str> {
            let mut s = BTreeSet::new();
            $( s.insert($def.name()); )*
            s
        }
        fn copy_all(src: &redb::ReadTransaction, dst: &redb::WriteTransaction) -> Result<CopyStats> {
            let mut stats = CopyStats::default();
            $(
                let n = copy_table(src, dst, $def)?;
                stats.tables += 1;
                stats.rows += n;
            )*
            Ok(stats)
        }
    };
}

tables!(
    META,
    ACCOUNTS,
    ADDRESSES,
    COUNTERS,
    MAILBOXES,
    EMAILS,
    EMAIL_META,
    MAILBOX_EMAILS,
    RECEIVED,
    MAILBOX_THREADS,
    THREADS,
    THREAD_TAILS,
    THREAD_REFS,
    BLOBS,
    BLOB_REFS,
    CHANGES,
    PUSH_SUBSCRIPTIONS,
    UPLOADS,
    DOMAINS,
    ALIASES,
    OUTBOUND,
    DKIM_KEYS,
    SUBMISSIONS,
    VACATION_REPLIES,
    IDENTITIES,
    VACATION,
    APP_PASSWORDS,
    SHARES,
    SHARED_WITH,
    SHARE_NOTES,
    TOKENS,
    OAUTH_CLIENTS,
    SIEVE_SCRIPTS,
    SIEVE_REPORTED,
    JUNK_TOKENS,
    JUNK_ACCOUNTS,
    JUNK_TRAINED,
    JUNK_PENDING,
    SENT_TO,
    MTA_STS_POLICIES,
    TLS_RESULTS,
    super::import_state::IMPORT_STATE,
    QUOTA_USAGE,
    QUOTA_LIMITS,
    SEND_COUNTS,
    SECRETS,
);

fn copy_table<K: redb::Key + 'static, V: redb::Value + 'static>(
    src: &redb::ReadTransaction,
    dst: &redb::WriteTransaction,
    def: TableDefinition<K, V>,
) -> Result<u64> {
    let table = match src.open_table(def) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    let mut out = dst.open_table(def)?;
    let mut n = 0;
    for row in table.iter()? {
        let (k, v) = row?;
        out.insert(k.value(), v.value())?;
        n += 1;
    }
    Ok(n)
}

/// How much memory a backup copy or a check of a file may use for redb's page cache (redb's
/// default is 1 GiB, which a Pi does not have).
pub const COPY_CACHE_BYTES: usize = 16 << 20;

impl Reader {
    /// A reader on a file opened read-only (`mailnook check` of a backup).
    pub(crate) fn begin_read_only(db: &redb::ReadOnlyDatabase) -> Result<Reader> {
        use redb::ReadableDatabase;
        Ok(Reader {
            tx: db.begin_read()?,
        })
    }

    /// Tables in this snapshot that neither the copy nor [`SKIPPED`] knows.
    pub fn unknown_tables(&self) -> Result<Vec<String>> {
        let known = known_tables();
        let mut out = Vec::new();
        for t in self.tx.list_tables()? {
            let name = t.name().to_string();
            if !known.contains(name.as_str()) && !SKIPPED.contains(&name.as_str()) {
                out.push(name);
            }
        }
        for t in self.tx.list_multimap_tables()? {
            out.push(t.name().to_string());
        }
        Ok(out)
    }

    /// Writes every table of this snapshot into a new database at `dest` (which must not
    /// exist), committed durably. The index marks are left out (module header).
    pub fn copy_to(&self, dest: &Path) -> Result<CopyStats> {
        let unknown = self.unknown_tables()?;
        if !unknown.is_empty() {
            return Err(StoreError::Invalid(format!(
                "the database has tables the backup does not know: {} (add them to \
                 store/redb/backup.rs)",
                unknown.join(", ")
            )));
        }
        if dest.exists() {
            return Err(StoreError::Conflict(format!("{} exists", dest.display())));
        }
        // A small cache: redb's default is 1 GiB, and the copy's dirty pages stay in it until
        // it is full, so backing up a 1 GB store grew the running server by about that much (a
        // Pi-sized run was OOM-killed mid-backup). With 16 MiB the pages go to the file as the
        // copy runs; the one commit at the end still makes it durable at once.
        let db = redb::Database::builder()
            .set_cache_size(COPY_CACHE_BYTES)
            .create(dest)?;
        let tx = db.begin_write()?;
        let mut stats = copy_all(&self.tx, &tx)?;
        {
            let mut meta = tx.open_table(META)?;
            meta.remove("index_generation")?;
            stats.schema = meta.get("schema")?.map(|v| v.value()).unwrap_or(0);
        }
        tx.commit()?;
        drop(db);
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    /// Every table a fresh store creates is known to the backup (a new table without a line in
    /// `tables!` fails here before it fails a user's backup).
    /// Every table declared in tables.rs is copied or deliberately skipped: a branch that adds
    /// a table and forgets the list above fails here, not in a user's backup.
    #[test]
    fn every_declared_table_is_in_the_copy_list() {
        let src = include_str!("tables.rs");
        let known = super::known_tables();
        for part in src.split("TableDefinition::new(\"").skip(1) {
            let name = part.split('"').next().unwrap_or_default();
            assert!(
                known.contains(name) || super::SKIPPED.contains(&name),
                "table {name} is neither copied nor skipped by the backup"
            );
        }
    }

    #[test]
    fn every_table_is_known() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.redb");
        let db = super::super::open(&path, 1 << 20).unwrap();
        let r = super::Reader::begin(&db).unwrap();
        assert_eq!(r.unknown_tables().unwrap(), Vec::<String>::new());
    }
}
