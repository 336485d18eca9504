//! The store: the one source of truth (DESIGN.md). This file is the swap boundary: callers see
//! `Store`, `Reader` and `Writer` and the model types, never a redb type.
//!
//! Reads run on a blocking thread (`crate::pool::unblock`) against a consistent snapshot. Writes go to
//! the single writer thread, which batches concurrent jobs into one durable commit.

pub mod backend;
pub mod error;
pub mod mail;
pub mod model;
pub mod model_quota;
pub mod model_send;
mod redb;
pub mod snapshot;
pub mod watch;

pub use self::redb::app_passwords::AppPassword;
pub use self::redb::backup::CopyStats;
pub use self::redb::check::CheckReport;
pub use self::redb::index_marks::IndexMarks;
pub use self::redb::junk::{HAM, JunkAccount, SPAM};
pub use self::redb::mta_sts::{CachedPolicy, TlsDay};
pub use self::redb::oauth_clients::OAuthClient;
pub use self::redb::read::Reader;
pub use self::redb::read_addresses::Recipient;
pub use self::redb::read_stats::Usage;
pub use self::redb::recover::Health;
pub use self::redb::shares::{Grant, MAX_GRANTS_PER_OWNER, ShareNote};
pub use self::redb::tables::SCHEMA_VERSION;
pub use self::redb::tables::{QUEUE_OWNER, slot};
pub use self::redb::tokens::{Token, TokenKind};
pub use self::redb::write::Writer;
pub use error::{Result, StoreError};
pub use mail::address::{normalize_address, normalize_domain};
pub use mail::blob::hex_sha256;
pub use mail::mailbox::VALID_ROLES;
pub use mail::rights::Rights;

use self::redb::commit::{self, FnJob, Job, JobSender};
use model::{AccountId, DataType};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// A committed change: which types of which account moved. Sent to push and the indexer.
#[derive(Debug, Clone)]
pub struct StateChange {
    pub account: AccountId,
    pub types: Vec<DataType>,
}

#[derive(Clone)]
pub struct Store {
    /// `None` after [`Store::shutdown`], or while the writer reopens it after an I/O error
    /// (`redb/recover.rs`); readers clone the inner Arc and drop the lock at once.
    db: self::redb::recover::Slot,
    health: Arc<Mutex<Health>>,
    jobs: Arc<Mutex<Option<JobSender>>>,
    writer: Arc<Mutex<Option<std::thread::JoinHandle<()>>>>,
    listeners: Arc<Mutex<Vec<async_channel::Sender<StateChange>>>>,
}

impl Store {
    /// Opens the database at `path` and starts the writer thread.
    pub fn open(path: &Path, cache_bytes: usize) -> Result<Store> {
        let db = Arc::new(self::redb::open(path, cache_bytes)?);
        let slot: self::redb::recover::Slot = Arc::new(std::sync::RwLock::new(Some(db)));
        let health: Arc<Mutex<Health>> = Arc::default();
        let recovering = self::redb::recover::Db::new(
            slot.clone(),
            health.clone(),
            path.to_path_buf(),
            cache_bytes,
        );
        let listeners: Arc<Mutex<Vec<async_channel::Sender<StateChange>>>> = Arc::default();
        let (tx, rx) = std::sync::mpsc::channel::<Box<dyn Job>>();
        let l2 = listeners.clone();
        let writer = commit::spawn(recovering, rx, move |touched| {
            let mut by_account: std::collections::BTreeMap<AccountId, Vec<DataType>> =
                Default::default();
            for (a, t) in touched {
                by_account.entry(a).or_default().push(t);
            }
            let Ok(mut ls) = l2.lock() else { return };
            for (account, types) in by_account {
                let ev = StateChange { account, types };
                // A full listener queue means a slow consumer: it will re-read state anyway.
                ls.retain(|s| !s.is_closed());
                for s in ls.iter() {
                    let _ = s.try_send(ev.clone());
                }
            }
        })?;
        Ok(Store {
            db: slot,
            health,
            jobs: Arc::new(Mutex::new(Some(tx))),
            writer: Arc::new(Mutex::new(Some(writer))),
            listeners,
        })
    }

    /// Runs `f` on a read snapshot, off the executor threads.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&Reader) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.database()?;
        crate::pool::unblock(move || {
            let r = Reader::begin(&db)?;
            f(&r)
        })
        .await
    }

    /// Runs `f` in the next group-commit transaction and returns once it is durable.
    /// `f` may run twice (if another job in its batch failed), so it must not have side effects
    /// outside the transaction.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        F: FnMut(&mut Writer<'_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (reply, rx) = async_channel::bounded(1);
        let job: Box<dyn Job> = Box::new(FnJob {
            f,
            value: None,
            reply,
        });
        {
            let guard = self.jobs.lock().map_err(|_| StoreError::Closed)?;
            let sender = guard.as_ref().ok_or(StoreError::Closed)?;
            sender.send(job).map_err(|_| StoreError::Closed)?;
        }
        rx.recv().await.map_err(|_| StoreError::Closed)?
    }

    /// Blocking variants for the command line (no executor running).
    pub fn read_blocking<T>(&self, f: impl FnOnce(&Reader) -> Result<T>) -> Result<T> {
        let db = self.database()?;
        let r = Reader::begin(&db)?;
        f(&r)
    }

    pub fn write_blocking<T, F>(&self, f: F) -> Result<T>
    where
        F: FnMut(&mut Writer<'_>) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        smol::block_on(self.write(f))
    }

    fn database(&self) -> Result<Arc<::redb::Database>> {
        let db = match self.db.read() {
            Ok(g) => g.clone(),
            Err(_) => return Err(StoreError::Closed),
        };
        db.ok_or_else(|| match self.health() {
            Health {
                failing_since: Some(_),
                last_error,
                ..
            } => StoreError::Unavailable(last_error.unwrap_or_default()),
            _ => StoreError::Closed,
        })
    }

    /// Whether writes work (and what failed if not), for the admin page.
    pub fn health(&self) -> Health {
        self.health
            .lock()
            .map(|h| h.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }

    /// Closes the database cleanly: no new jobs, the writer drains and stops, then the file is
    /// closed once in-flight reads end. A clean close spares the next start redb's repair pass
    /// (which walks the whole file after a crash). Safe to call more than once.
    pub fn shutdown(&self) {
        if let Ok(mut j) = self.jobs.lock() {
            j.take();
        }
        let handle = self.writer.lock().ok().and_then(|mut w| w.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
        let db = self.db.write().ok().and_then(|mut g| g.take());
        if let Some(mut db) = db {
            // Readers hold clones only for the length of one read; wait for them (bounded).
            for _ in 0..500 {
                match Arc::try_unwrap(db) {
                    Ok(d) => {
                        drop(d);
                        return;
                    }
                    Err(still_shared) => {
                        db = still_shared;
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                }
            }
            log::warn!(
                "store: reads still running at shutdown; the next start will repair the file"
            );
        }
    }

    /// A stream of committed state changes (push, the indexer).
    pub fn subscribe(&self, capacity: usize) -> async_channel::Receiver<StateChange> {
        let (tx, rx) = async_channel::bounded(capacity);
        if let Ok(mut ls) = self.listeners.lock() {
            ls.push(tx);
        }
        rx
    }
}
