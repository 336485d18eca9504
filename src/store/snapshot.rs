//! Whole-database operations on one snapshot: a consistent copy (`mailnook backup`) and the
//! consistency check (`mailnook check`), on the running store or on a file nobody has open.

use super::redb::backup::CopyStats;
use super::redb::check::CheckReport;
use super::{Reader, Result, Store, StoreError};
use std::path::{Path, PathBuf};

impl Store {
    /// Copies the database as of one read snapshot into a new file `dest`; writes go on.
    pub async fn copy_snapshot(&self, dest: PathBuf) -> Result<CopyStats> {
        self.read(move |r| r.copy_to(&dest)).await
    }

    /// Checks the running store on one snapshot.
    pub async fn check(&self) -> Result<CheckReport> {
        self.read(|r| r.check()).await
    }
}

/// Checks a database file that no process has open (a backup, a stopped server's file),
/// without writing to it.
pub fn check_file(path: &Path) -> Result<CheckReport> {
    if !path.is_file() {
        return Err(StoreError::NotFound);
    }
    let db = ::redb::Builder::new()
        .set_cache_size(super::redb::backup::COPY_CACHE_BYTES)
        .open_read_only(path)?;
    let r = Reader::begin_read_only(&db)?;
    r.check()
}

/// The schema version of a file nobody has open (None: no version recorded).
pub fn file_version(path: &Path) -> Result<Option<u64>> {
    super::redb::schema::read_version(path)
}

/// Copies a file so that `to` appears only complete (temporary name, fsync, rename).
pub fn copy_durably(from: &Path, to: &Path) -> Result<()> {
    super::redb::schema::copy_durably(from, to)
}
