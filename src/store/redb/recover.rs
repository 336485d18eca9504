//! Recovery from I/O errors (a full disk) without a restart.
//!
//! redb poisons a `Database` after an I/O error: every later transaction fails with "Previous
//! I/O error occurred" until the file is closed and opened again. So the database lives in a
//! swappable slot behind a lock (`Slot`); readers clone the `Arc` for one read only. When a
//! batch fails with an engine error, the writer thread probes the database with an empty
//! commit; if that fails too, the database is taken out of the slot (readers then get
//! `StoreError::Unavailable`, SMTP answers 451, JMAP serverUnavailable — never a success), and
//! the writer reopens the file at most once a second, on the next job or after a second idle,
//! until opening (which commits once, so it needs a writable disk) succeeds. Nothing committed
//! is lost: redb's commit is atomic and the reopen runs its repair if the file was not closed
//! cleanly. The state is in [`Health`], shown on the admin page and logged on each change.

use super::super::error::StoreError;
use crate::date::now;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

pub type Slot = Arc<RwLock<Option<Arc<redb::Database>>>>;

/// Least time between two attempts to reopen the database.
const REOPEN_EVERY: Duration = Duration::from_secs(1);

/// Whether the store can write, for the admin page and for readers.
#[derive(Debug, Clone, Default)]
pub struct Health {
    /// Unix time since which writes fail (None: healthy).
    pub failing_since: Option<i64>,
    /// The last engine error seen while failing.
    pub last_error: Option<String>,
    /// Times the database was reopened after an I/O error since start.
    pub recoveries: u64,
    /// Unix time of the last recovery.
    pub recovered_at: Option<i64>,
}

/// The writer thread's handle on the database: the slot, how to reopen it, its health.
pub struct Db {
    pub slot: Slot,
    pub health: Arc<Mutex<Health>>,
    path: PathBuf,
    cache_bytes: usize,
    /// True while the slot is empty because of an I/O error.
    broken: bool,
    last_attempt: Option<Instant>,
}

impl Db {
    pub fn new(slot: Slot, health: Arc<Mutex<Health>>, path: PathBuf, cache_bytes: usize) -> Db {
        Db {
            slot,
            health,
            path,
            cache_bytes,
            broken: false,
            last_attempt: None,
        }
    }

    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// The database for the next batch, reopening it first if it is broken (rate-limited);
    /// `Err` while it cannot be used.
    pub fn current(&mut self) -> Result<Arc<redb::Database>, StoreError> {
        if self.broken {
            self.try_reopen();
        }
        if self.broken {
            return Err(self.unavailable());
        }
        match self.slot.read() {
            Ok(g) => g.clone().ok_or(StoreError::Closed),
            Err(_) => Err(StoreError::Closed),
        }
    }

    fn unavailable(&self) -> StoreError {
        let last = self
            .health
            .lock()
            .ok()
            .and_then(|h| h.last_error.clone())
            .unwrap_or_default();
        StoreError::Unavailable(last)
    }

    /// After a batch failed with an engine error: is the database itself broken? An empty
    /// commit tells (it fails on a poisoned database). If so, take it out of service.
    pub fn check_after_failure(&mut self, db: &redb::Database, error: &StoreError) {
        let probe = db
            .begin_write()
            .map_err(StoreError::from)
            .and_then(|tx| tx.commit().map_err(StoreError::from));
        let Err(probe_error) = probe else {
            return;
        };
        log::error!(
            "store: writes fail ({error}; probe: {probe_error}); answering 4xx and reopening \
             the database once space is back"
        );
        if let Ok(mut h) = self.health.lock() {
            h.failing_since.get_or_insert_with(now);
            h.last_error = Some(error.to_string());
        }
        self.broken = true;
        self.last_attempt = None;
        let old = self.slot.write().ok().and_then(|mut g| g.take());
        drop(old);
    }

    /// A commit succeeded: writes work.
    pub fn succeeded(&mut self) {
        let Ok(mut h) = self.health.lock() else {
            return;
        };
        if let Some(since) = h.failing_since.take() {
            log::warn!(
                "store: writes work again (they failed for {} s)",
                now().saturating_sub(since)
            );
            h.last_error = None;
        }
    }

    /// Reopens the file (at most once per [`REOPEN_EVERY`]). The old `Database` must be gone
    /// first: redb holds a lock on the file while one is open.
    pub fn try_reopen(&mut self) {
        if self
            .last_attempt
            .is_some_and(|t| t.elapsed() < REOPEN_EVERY)
        {
            return;
        }
        self.last_attempt = Some(Instant::now());
        match super::open(&self.path, self.cache_bytes) {
            Ok(db) => {
                if let Ok(mut g) = self.slot.write() {
                    *g = Some(Arc::new(db));
                }
                self.broken = false;
                if let Ok(mut h) = self.health.lock() {
                    h.recoveries += 1;
                    h.recovered_at = Some(now());
                }
                log::warn!("store: database reopened after an I/O error");
            }
            Err(e) => {
                log::debug!("store: cannot reopen the database yet: {e}");
                if let Ok(mut h) = self.health.lock() {
                    h.last_error = Some(e.to_string());
                }
            }
        }
    }
}
