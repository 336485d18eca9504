//! The database's format version, and moving a database forward (DESIGN.md "Formats are
//! versioned").
//!
//! `META["schema"]` holds the version of the tables' layout ([`SCHEMA_VERSION`]). Before the
//! store opens a file for writing, [`prepare`] reads that version without writing:
//!
//! - **Same version** (or a new file): nothing to do.
//! - **Newer than this binary** (a downgrade): refused with [`StoreError::Newer`] before any
//!   write transaction exists, so the file keeps every byte. (redb itself rewrites its header
//!   only when the file needs crash repair; a cleanly closed file is opened read-only here.)
//! - **Older**: first a copy of the file is written next to it (`mailnook.redb.schema-vN.backup`,
//!   fsynced, then renamed into place, so a half-written copy never carries the final name); then
//!   every step from N up to [`SCHEMA_VERSION`] runs in ONE redb write transaction that also sets
//!   the new version. redb's commit is atomic: a crash or an error anywhere before it leaves the
//!   file exactly at version N, which this binary migrates again on the next start (and an older
//!   binary still opens). The backup is kept; remove it once the new version has proven itself.
//!
//! Every change to a table's layout or a record's encoding must bump [`SCHEMA_VERSION`], add a
//! [`Migration`] to [`MIGRATIONS`], and commit a fixture made by the previous version
//! (`make fixture-db`, tests/fixtures/db/): the fixture test opens each committed fixture with
//! the current binary.

use super::tables::{META, SCHEMA_VERSION};
use crate::store::error::{Result, StoreError};
use redb::ReadableDatabase;
use std::path::{Path, PathBuf};

/// One step forward: turns a database at `from` into one at `from + 1`, inside the caller's
/// write transaction (which it must not commit).
pub struct Migration {
    pub from: u64,
    /// What the step changes, for the log.
    pub what: &'static str,
    pub run: fn(&redb::WriteTransaction) -> Result<()>,
}

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[Migration {
    from: 1,
    what: "thread member lists from JSON to 4-byte ids (issue #20)",
    run: threads_to_binary,
}];

/// 1 -> 2: every `THREADS` value re-encoded by `mail::thread::encode_members` (version 2 also
/// reads the JSON form, so the step only makes the file uniform, and an older binary, which
/// cannot read the new form, refuses the file instead of failing on its threads).
fn threads_to_binary(tx: &redb::WriteTransaction) -> Result<()> {
    use crate::store::mail::thread::{decode_members, encode_members};
    use redb::ReadableTable;
    let mut t = tx.open_table(super::tables::THREADS)?;
    let mut rows = Vec::new();
    for row in t.iter()? {
        let (k, v) = row?;
        rows.push((k.value(), encode_members(&decode_members(v.value())?)));
    }
    for (k, v) in rows {
        t.insert(k, v.as_slice())?;
    }
    Ok(())
}

/// What [`prepare`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prepared {
    /// No file yet, or a file at this binary's version.
    Current,
    /// Migrated from `from`; the file as it was is at `backup`.
    Migrated { from: u64, backup: PathBuf },
}

/// Reads the schema version of the file at `path` (None: no file, or no version recorded yet).
/// Never writes to a cleanly closed file.
pub fn read_version(path: &Path) -> Result<Option<u64>> {
    if !path.exists() {
        return Ok(None);
    }
    let mut builder = redb::Builder::new();
    // Bounded: redb's default cache is 1 GiB (see backup::COPY_CACHE_BYTES).
    builder.set_cache_size(super::backup::COPY_CACHE_BYTES);
    match builder.open_read_only(path) {
        Ok(db) => version_in(&db),
        // A file not closed cleanly needs redb's repair, which only a writable open does. The
        // repair rewrites redb's own allocator state, never a table row; the version is then
        // read in a read transaction and no write transaction is started here.
        Err(redb::DatabaseError::RepairAborted) => {
            let db = builder.create(path)?;
            version_in(&db)
        }
        Err(e) => Err(e.into()),
    }
}

fn version_in(db: &impl ReadableDatabase) -> Result<Option<u64>> {
    let tx = db.begin_read()?;
    let table = match tx.open_table(META) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(table.get("schema")?.map(|v| v.value()))
}

/// Checks the file's version and migrates it forward if it is older (see the module header).
pub fn prepare(path: &Path) -> Result<Prepared> {
    prepare_with(path, SCHEMA_VERSION, MIGRATIONS)
}

/// [`prepare`] with an explicit target and step list (the tests use made-up steps).
pub fn prepare_with(path: &Path, target: u64, steps: &[Migration]) -> Result<Prepared> {
    let found = match read_version(path)? {
        None => return Ok(Prepared::Current),
        Some(v) if v == target => return Ok(Prepared::Current),
        Some(v) => v,
    };
    if found > target {
        return Err(StoreError::Newer(format!(
            "{} has database format {found}, but this mailnook (version {}) only knows formats \
             up to {target}: it was written by a newer mailnook. Nothing was changed. Run the \
             newer mailnook again, or restore a backup made before the upgrade.",
            path.display(),
            env!("CARGO_PKG_VERSION"),
        )));
    }
    // Every step must exist before anything is copied or written.
    let mut plan = Vec::new();
    for v in found..target {
        let step = steps.iter().find(|m| m.from == v).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "no migration from database format {v} (this mailnook knows {target})"
            ))
        })?;
        plan.push(step);
    }
    let backup = backup_path(path, found);
    if !backup.exists() {
        copy_durably(path, &backup)?;
    }
    log::warn!(
        "store: database format {found} is older than {target}: migrating; the old file is \
         saved as {}",
        backup.display()
    );
    let db = redb::Database::builder()
        .set_cache_size(super::backup::COPY_CACHE_BYTES)
        .create(path)?;
    let tx = db.begin_write()?;
    for step in plan {
        log::info!(
            "store: migration {} -> {}: {}",
            step.from,
            step.from + 1,
            step.what
        );
        // An error drops `tx` uncommitted: the file stays at `found`.
        (step.run)(&tx)?;
    }
    {
        let mut meta = tx.open_table(META)?;
        meta.insert("schema", target)?;
    }
    tx.commit()?;
    log::warn!("store: database migrated to format {target}");
    Ok(Prepared::Migrated {
        from: found,
        backup,
    })
}

/// `mailnook.redb` at version 1 -> `mailnook.redb.schema-v1.backup`.
pub fn backup_path(path: &Path, version: u64) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".schema-v{version}.backup"));
    path.with_file_name(name)
}

/// Copies `from` to `to` so that `to` exists only complete: a temporary name, fsync, rename,
/// fsync of the directory.
pub fn copy_durably(from: &Path, to: &Path) -> Result<()> {
    let io = |e: std::io::Error| StoreError::Db(format!("cannot copy {}: {e}", from.display()));
    let mut tmp_name = to.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".partial");
    let tmp = to.with_file_name(tmp_name);
    std::fs::copy(from, &tmp).map_err(io)?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io)?;
    std::fs::rename(&tmp, to).map_err(io)?;
    if let Some(dir) = to.parent() {
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::{ReadableTable, TableDefinition};

    const EXTRA: TableDefinition<u32, u32> = TableDefinition::new("test_extra");

    fn db_at(dir: &Path, version: u64) -> PathBuf {
        let path = dir.join("mailnook.redb");
        let db = redb::Database::create(&path).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut m = tx.open_table(META).unwrap();
            m.insert("schema", version).unwrap();
            let mut t = tx.open_table(EXTRA).unwrap();
            t.insert(1, 10).unwrap();
        }
        tx.commit().unwrap();
        path
    }

    fn doubled(tx: &redb::WriteTransaction) -> Result<()> {
        let mut t = tx.open_table(EXTRA)?;
        let v = t.get(1)?.map(|v| v.value()).unwrap_or(0);
        t.insert(1, v * 2)?;
        Ok(())
    }

    fn fails_half_way(tx: &redb::WriteTransaction) -> Result<()> {
        doubled(tx)?;
        Err(StoreError::Db(
            "simulated crash in the middle of a migration".into(),
        ))
    }

    fn value(path: &Path) -> (Option<u64>, u32) {
        let db = redb::ReadOnlyDatabase::open(path).unwrap();
        let tx = db.begin_read().unwrap();
        let v = tx
            .open_table(EXTRA)
            .unwrap()
            .get(1)
            .unwrap()
            .unwrap()
            .value();
        drop(tx);
        drop(db);
        (read_version(path).unwrap(), v)
    }

    #[test]
    fn older_is_migrated_after_a_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = db_at(dir.path(), 1);
        let steps = [
            Migration {
                from: 1,
                what: "double",
                run: doubled,
            },
            Migration {
                from: 2,
                what: "double again",
                run: doubled,
            },
        ];
        let r = prepare_with(&path, 3, &steps).unwrap();
        let backup = backup_path(&path, 1);
        assert_eq!(
            r,
            Prepared::Migrated {
                from: 1,
                backup: backup.clone()
            }
        );
        assert_eq!(value(&path), (Some(3), 40));
        assert_eq!(
            value(&backup),
            (Some(1), 10),
            "the backup is the file as it was"
        );
        assert_eq!(prepare_with(&path, 3, &steps).unwrap(), Prepared::Current);
    }

    #[test]
    fn a_failed_step_leaves_the_old_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = db_at(dir.path(), 1);
        let steps = [
            Migration {
                from: 1,
                what: "double",
                run: doubled,
            },
            Migration {
                from: 2,
                what: "fails",
                run: fails_half_way,
            },
        ];
        assert!(prepare_with(&path, 3, &steps).is_err());
        assert_eq!(
            value(&path),
            (Some(1), 10),
            "nothing of the migration is kept"
        );
        // The next start (with a fixed binary) migrates from the same place.
        let fixed = [
            Migration {
                from: 1,
                what: "double",
                run: doubled,
            },
            Migration {
                from: 2,
                what: "double",
                run: doubled,
            },
        ];
        prepare_with(&path, 3, &fixed).unwrap();
        assert_eq!(value(&path), (Some(3), 40));
    }

    #[test]
    fn newer_is_refused_without_a_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = db_at(dir.path(), 7);
        let before = std::fs::read(&path).unwrap();
        let e = prepare_with(&path, 3, &[]).unwrap_err();
        assert!(
            matches!(e, StoreError::Newer(ref m) if m.contains("format 7")),
            "{e}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert!(!backup_path(&path, 7).exists());
    }

    #[test]
    fn a_missing_step_is_refused_before_the_backup() {
        let dir = tempfile::tempdir().unwrap();
        let path = db_at(dir.path(), 1);
        assert!(prepare_with(&path, 2, &[]).is_err());
        assert!(!backup_path(&path, 1).exists());
        assert_eq!(value(&path), (Some(1), 10));
    }
}
