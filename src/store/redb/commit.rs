//! Group commit: one thread owns every write transaction.
//!
//! Callers hand in jobs; the thread takes every job that is waiting, runs them all in one
//! write transaction and commits it durably (fsync) once. Only then does each caller get its
//! answer, so an SMTP 250 always means "on disk" (DESIGN.md "Durability promise") while many
//! concurrent deliveries share the cost of one fsync. If one job fails, the batch is aborted and
//! every job is run again in a transaction of its own, so one bad job cannot undo the others.

use super::recover::Db;
use super::write::Writer;
use crate::store::backend::Backend;
use crate::store::error::{Result, StoreError};
use crate::store::model::{AccountId, DataType};
use std::collections::BTreeSet;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

/// The most jobs one transaction takes; bounds the latency of the first job in a batch.
const MAX_BATCH: usize = 256;

pub trait Job: Send {
    fn apply(&mut self, w: &mut Writer<'_>) -> Result<()>;
    fn finish(self: Box<Self>, outcome: Result<()>);
}

/// A job made of a closure and the channel its caller waits on.
pub struct FnJob<F, T> {
    pub f: F,
    pub value: Option<T>,
    pub reply: async_channel::Sender<Result<T>>,
}

impl<F, T> Job for FnJob<F, T>
where
    F: FnMut(&mut Writer<'_>) -> Result<T> + Send,
    T: Send,
{
    fn apply(&mut self, w: &mut Writer<'_>) -> Result<()> {
        self.value = Some((self.f)(w)?);
        Ok(())
    }
    fn finish(self: Box<Self>, outcome: Result<()>) {
        let r = match (outcome, self.value) {
            (Ok(()), Some(v)) => Ok(v),
            (Ok(()), None) => Err(StoreError::Db("job produced no value".into())),
            (Err(e), _) => Err(e),
        };
        let _ = self.reply.try_send(r);
    }
}

pub type Published = BTreeSet<(AccountId, DataType)>;

/// Starts the writer thread. `db` is the swappable database (`recover.rs`): a batch that fails
/// with an engine error is followed by a probe, and a poisoned database is reopened in place.
pub fn spawn(
    mut db: Db,
    jobs: Receiver<Box<dyn Job>>,
    publish: impl Fn(Published) + Send + 'static,
) -> Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("store-writer".into())
        .spawn(move || {
            loop {
                let first = if db.is_broken() {
                    // Idle while broken: try to reopen every second, not only when a job comes.
                    match jobs.recv_timeout(Duration::from_secs(1)) {
                        Ok(j) => j,
                        Err(RecvTimeoutError::Timeout) => {
                            db.try_reopen();
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                } else {
                    match jobs.recv() {
                        Ok(j) => j,
                        Err(_) => return,
                    }
                };
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match jobs.try_recv() {
                        Ok(j) => batch.push(j),
                        Err(_) => break,
                    }
                }
                let current = match db.current() {
                    Ok(d) => d,
                    Err(e) => {
                        for job in batch {
                            job.finish(Err(e.clone()));
                        }
                        continue;
                    }
                };
                let engine_error = run_batch(&current, batch, &publish);
                match engine_error {
                    Some(e) => db.check_after_failure(&current, &e),
                    None => db.succeeded(),
                }
            }
        })
        .map_err(|e| StoreError::Db(e.to_string()))
}

/// Whether an error came from the database engine (I/O, a full disk), as opposed to a job's own
/// refusal (a `/set` abort is `StoreError::Aborted`).
fn is_engine_error(e: &StoreError) -> bool {
    e.is_engine()
}

/// Runs a batch; returns an engine error if one was seen (None when every commit worked or
/// only jobs refused).
fn run_batch(
    db: &redb::Database,
    mut batch: Vec<Box<dyn Job>>,
    publish: &impl Fn(Published),
) -> Option<StoreError> {
    match run_together(db, &mut batch) {
        Ok(touched) => {
            for job in batch {
                job.finish(Ok(()));
            }
            if !touched.is_empty() {
                publish(touched);
            }
            None
        }
        Err(_) if batch.len() > 1 => {
            let mut engine = None;
            for mut job in batch {
                let mut one = [job];
                let outcome = run_together(db, &mut one[..]);
                [job] = one;
                match outcome {
                    Ok(touched) => {
                        job.finish(Ok(()));
                        if !touched.is_empty() {
                            publish(touched);
                        }
                    }
                    Err(e) => {
                        if engine.is_none() && is_engine_error(&e) {
                            engine = Some(e.clone());
                        }
                        job.finish(Err(e));
                    }
                }
            }
            engine
        }
        Err(e) => {
            let engine = is_engine_error(&e).then(|| e.clone());
            // A batch of one: hand its own error back, typed.
            if let Some(job) = batch.pop() {
                job.finish(Err(e));
            }
            engine
        }
    }
}

/// One transaction through the backend interface (`store/backend.rs`): begin, every job,
/// one durable commit.
fn run_together(db: &redb::Database, batch: &mut [Box<dyn Job>]) -> Result<Published> {
    let tx = Backend::begin_write(db)?;
    let touched = {
        let mut w = Writer::open(&tx)?;
        for job in batch.iter_mut() {
            job.apply(&mut w)?;
        }
        std::mem::take(&mut w.touched)
    };
    Backend::commit(db, tx)?;
    Ok(touched)
}

pub type JobSender = Sender<Box<dyn Job>>;
