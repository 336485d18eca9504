//! The indexer: one thread that owns the single tantivy writer and keeps the index in step with
//! the store.
//!
//! It never runs in the delivery path: ingest commits to redb and answers 250; the store then
//! publishes a `StateChange`, and this thread wakes up, waits a short batch window (`index_batch_ms`, 100 ms) for more,
//! reads the Email change rows past each account's watermark (`Reader::change_rows`), adds
//! created emails, deletes destroyed ones, commits once, reloads the reader and finally records
//! the new watermarks in the store. The order makes a crash at any point harmless: a change is
//! either below the stored watermark and in a committed index, or above it and indexed again on
//! the next start (adding is idempotent: the document is deleted by key first).
//!
//! Self-repair: an index of another generation than the store's marks (a new, deleted or
//! foreign index directory) is refilled from the store; an account whose changelog was trimmed
//! past its watermark is re-read whole; an account that no longer exists leaves the index. A
//! sweep of all accounts runs at start and every [`SWEEP_INTERVAL`], so a notification lost to a
//! full queue delays indexing but never loses it.

use super::schema::{self, Fields};
use super::{IndexError, Opened, Result, SearchIndex, payload};
use crate::store::Store;
use crate::store::model::{AccountId, ChangeKind, DataType};
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};
use tantivy::{IndexWriter, TantivyDocument, Term};

/// How often every account is checked even without a notification.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(5);
/// Change rows (and messages) read from the store per snapshot.
const ROWS_PER_READ: usize = 200;
/// The most message bytes read from the store per snapshot: 200 messages with large
/// attachments would otherwise sit in memory together (issue #20, peak RSS during ingest).
const BYTES_PER_READ: usize = 4 << 20;
/// A commit of at least this many documents means mail is streaming in: the next batch window
/// is [`BUSY_FACTOR`] times longer.
const BUSY_DOCS: usize = 50;
const BUSY_FACTOR: u32 = 4;
/// Message bytes indexed between two commits at most (see `Indexer::over_budget`).
const BYTES_PER_COMMIT: usize = 16 << 20;
/// A commit at least this often while catching up, so progress survives a crash.
const DOCS_PER_COMMIT: usize = 5_000;

pub struct Indexer {
    store: Store,
    search: SearchIndex,
    writer: IndexWriter<TantivyDocument>,
    fields: Fields,
    generation: u64,
    /// Marks of the last commit (also published to searchers).
    marks: BTreeMap<AccountId, u64>,
    /// Marks reached since the last commit; `None`: the account is gone.
    pending: BTreeMap<AccountId, Option<u64>>,
    uncommitted: usize,
    /// Message bytes behind the documents added since the last commit.
    uncommitted_bytes: usize,
}

/// Starts the indexer thread and returns the read side. The index is usable (at its last
/// committed state) at once; catching up runs in the background.
pub fn spawn(store: Store, opened: Opened, batch: Duration) -> Result<SearchIndex> {
    let search = opened.search.clone();
    let mut ix = Indexer::new(store.clone(), opened)?;
    // Subscribe before the first sweep, so nothing committed meanwhile is missed.
    let events = store.subscribe(4096);
    std::thread::Builder::new()
        .name("indexer".into())
        .spawn(move || ix.run(events, batch))
        .map_err(|e| IndexError::Tantivy(format!("cannot start the indexer thread: {e}")))?;
    Ok(search)
}

/// Rebuilds a (fresh) index from scratch, reporting `(emails done, total)`; for `mailnook reindex`.
pub fn rebuild(store: Store, opened: Opened, progress: &mut dyn FnMut(u64, u64)) -> Result<u64> {
    let mut ix = Indexer::new(store, opened)?;
    let accounts = ix.accounts()?;
    let total: u64 = ix
        .store
        .read_blocking(|r| {
            let mut n = 0;
            for a in &accounts {
                n += r.email_count(*a)?;
            }
            Ok(n)
        })
        .map_err(store_err)?;
    let mut done = 0u64;
    progress(0, total);
    for a in accounts {
        ix.reindex_account(a, &mut |n| {
            done += n;
            progress(done, total);
        })?;
    }
    ix.commit()?;
    ix.writer.wait_merging_threads()?;
    Ok(done)
}

fn store_err(e: crate::store::StoreError) -> IndexError {
    IndexError::Tantivy(format!("reading the store: {e}"))
}

impl Indexer {
    /// Checks the index against the store's marks; a different generation starts over.
    fn new(store: Store, opened: Opened) -> Result<Indexer> {
        let recorded = store
            .read_blocking(|r| r.index_marks())
            .map_err(store_err)?;
        let Opened {
            search,
            writer,
            fields,
            generation,
            ..
        } = opened;
        let mut ix = Indexer {
            store,
            search,
            writer,
            fields,
            generation: 0,
            marks: BTreeMap::new(),
            pending: BTreeMap::new(),
            uncommitted: 0,
            uncommitted_bytes: 0,
        };
        match generation {
            Some(g) if recorded.generation == Some(g) => {
                ix.generation = g;
                ix.marks = recorded.marks;
            }
            _ => {
                let g = super::new_generation();
                log::info!("search index: new generation; indexing every account from the store");
                ix.writer.delete_all_documents()?;
                ix.store
                    .write_blocking(move |w| w.reset_index_marks(g))
                    .map_err(store_err)?;
                ix.generation = g;
            }
        }
        ix.search.publish(ix.marks.clone())?;
        Ok(ix)
    }

    fn run(&mut self, events: async_channel::Receiver<crate::store::StateChange>, batch: Duration) {
        let mut dirty: BTreeSet<AccountId> = BTreeSet::new();
        let mut sweep = true;
        // Documents in the last commit: many means mail is streaming in.
        let mut last_docs = 0usize;
        loop {
            if sweep {
                match self.accounts() {
                    Ok(all) => dirty.extend(all),
                    Err(e) => log::error!("indexer: {e}"),
                }
                dirty.extend(self.marks.keys().copied());
            }
            if !dirty.is_empty() {
                let started = Instant::now();
                let mut outcome = dirty.iter().try_for_each(|a| self.sync_account(*a));
                last_docs = self.uncommitted;
                if outcome.is_ok() {
                    outcome = self.commit();
                }
                match outcome {
                    Ok(()) => {
                        log::debug!(
                            "indexer: {} account(s) in {} ms",
                            dirty.len(),
                            started.elapsed().as_millis()
                        );
                        dirty.clear();
                    }
                    Err(e) => {
                        // Forget the uncommitted work; the marks still say where to resume.
                        log::error!("indexer: {e}; retrying");
                        let _ = self.writer.rollback();
                        self.pending.clear();
                        self.uncommitted = 0;
                        self.uncommitted_bytes = 0;
                        std::thread::sleep(Duration::from_secs(1));
                        continue;
                    }
                }
            }
            // Wait for the next change (or the next sweep), then gather what follows it.
            sweep = false;
            match recv_timeout(&events, SWEEP_INTERVAL) {
                Recv::Closed => return,
                Recv::Timeout => sweep = true,
                Recv::Event(ev) => {
                    if ev.types.contains(&DataType::Email) {
                        dirty.insert(ev.account);
                    }
                    // While mail streams in, gather for longer: every commit writes a segment,
                    // fsyncs it and the store's marks, and reloads the searchers, and small
                    // segments are merged again and again (a tenth of the ingest CPU at a
                    // commit every 100 ms, issue #20). A lone message is still searchable after
                    // one short window.
                    let window = if last_docs >= BUSY_DOCS {
                        batch.saturating_mul(BUSY_FACTOR)
                    } else {
                        batch
                    };
                    let deadline = Instant::now() + window;
                    loop {
                        let left = deadline.saturating_duration_since(Instant::now());
                        if left.is_zero() {
                            break;
                        }
                        match recv_timeout(&events, left) {
                            Recv::Event(ev) if ev.types.contains(&DataType::Email) => {
                                dirty.insert(ev.account);
                            }
                            Recv::Event(_) => {}
                            Recv::Timeout | Recv::Closed => break,
                        }
                    }
                }
            }
        }
    }

    fn accounts(&self) -> Result<Vec<AccountId>> {
        self.store
            .read_blocking(|r| Ok(r.accounts()?.into_iter().map(|a| a.id).collect()))
            .map_err(store_err)
    }

    fn mark(&self, acct: AccountId) -> u64 {
        match self.pending.get(&acct) {
            Some(Some(m)) => *m,
            Some(None) => 0,
            None => self.marks.get(&acct).copied().unwrap_or(0),
        }
    }

    fn account_term(&self, acct: AccountId) -> Term {
        Term::from_field_u64(self.fields.account, u64::from(acct))
    }

    fn key_term(&self, acct: AccountId, email: u32) -> Term {
        Term::from_field_u64(self.fields.key, schema::key(acct, email))
    }

    /// Applies the account's Email changes past its mark.
    fn sync_account(&mut self, acct: AccountId) -> Result<()> {
        loop {
            let since = self.mark(acct);
            let batch = self
                .store
                .read_blocking(move |r| {
                    if r.account(acct)?.is_none() {
                        return Ok(Batch::Gone);
                    }
                    if since < r.email_log_low(acct)? {
                        return Ok(Batch::Trimmed);
                    }
                    let rows = r.change_rows(acct, DataType::Email, since, ROWS_PER_READ)?;
                    let mut out = Vec::with_capacity(rows.len());
                    let mut bytes = 0;
                    for row in &rows {
                        if bytes >= BYTES_PER_READ {
                            // The rest comes with the next read (the mark stops at this row).
                            return Ok(Batch::Rows(out, true));
                        }
                        let raw = match row.kind {
                            ChangeKind::Created => match r.email_state(acct, row.id)? {
                                Some(st) => r.blob(acct, &st.blob)?,
                                // Destroyed since: a later row says so.
                                None => None,
                            },
                            _ => None,
                        };
                        bytes += raw.as_ref().map_or(0, Vec::len);
                        out.push((row.modseq, row.id, row.kind, raw));
                    }
                    let full = out.len() >= ROWS_PER_READ;
                    Ok(Batch::Rows(out, full))
                })
                .map_err(store_err)?;
            let rows = match batch {
                Batch::Gone => {
                    if self.marks.contains_key(&acct) || self.pending.contains_key(&acct) {
                        self.writer.delete_term(self.account_term(acct));
                        self.pending.insert(acct, None);
                        self.uncommitted += 1;
                    }
                    return Ok(());
                }
                Batch::Trimmed => {
                    log::info!("indexer: account {acct} is behind the changelog; re-reading it");
                    return self.reindex_account(acct, &mut |_| {});
                }
                Batch::Rows(rows, full) => (rows, full),
            };
            let (rows, full) = rows;
            let Some(last) = rows.last().map(|r| r.0) else {
                return Ok(());
            };
            for (_, id, kind, raw) in rows {
                match kind {
                    ChangeKind::Created => {
                        self.writer.delete_term(self.key_term(acct, id));
                        if let Some(raw) = raw {
                            let doc = schema::document(&self.fields, acct, id, &raw);
                            self.writer.add_document(doc)?;
                            self.uncommitted += 1;
                            self.uncommitted_bytes += raw.len();
                        }
                    }
                    ChangeKind::Destroyed => {
                        self.writer.delete_term(self.key_term(acct, id));
                        self.uncommitted += 1;
                    }
                    // The indexed text of an email never changes (RFC 8621: immutable).
                    ChangeKind::Updated | ChangeKind::CountsUpdated => {}
                }
            }
            self.pending.insert(acct, Some(last));
            if self.over_budget() {
                self.commit()?;
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Replaces everything indexed for an account by what the store holds now. The mark becomes
    /// the Email state of the first snapshot: anything later is replayed from the changelog.
    fn reindex_account(&mut self, acct: AccountId, progress: &mut dyn FnMut(u64)) -> Result<()> {
        let (state, ids) = self
            .store
            .read_blocking(move |r| {
                let ids: Vec<u32> = r.all_emails(acct)?.into_iter().map(|(_, id)| id).collect();
                Ok((r.state(acct, DataType::Email)?, ids))
            })
            .map_err(store_err)?;
        self.writer.delete_term(self.account_term(acct));
        for chunk in ids.chunks(ROWS_PER_READ) {
            let chunk = chunk.to_vec();
            let raws = self
                .store
                .read_blocking(move |r| {
                    let mut out = Vec::with_capacity(chunk.len());
                    for id in chunk {
                        if let Some(st) = r.email_state(acct, id)?
                            && let Some(raw) = r.blob(acct, &st.blob)?
                        {
                            out.push((id, raw));
                        }
                    }
                    Ok(out)
                })
                .map_err(store_err)?;
            let n = raws.len() as u64;
            for (id, raw) in raws {
                self.writer
                    .add_document(schema::document(&self.fields, acct, id, &raw))?;
                self.uncommitted += 1;
                self.uncommitted_bytes += raw.len();
            }
            progress(n);
            if self.over_budget() {
                // The account's mark is not moved yet: a crash here re-reads it again.
                self.commit()?;
            }
        }
        self.pending.insert(acct, Some(state));
        self.uncommitted += 1;
        Ok(())
    }

    /// Commits the index (with its generation as payload), publishes the new view, then records
    /// the marks in the store.
    /// Whether to commit before reading more: tantivy queues up to 10,000 documents between
    /// this thread and its own, each with up to 1 MiB of body text, so documents are counted
    /// and bytes too (a backlog of large text messages would otherwise sit in that queue).
    fn over_budget(&self) -> bool {
        self.uncommitted >= DOCS_PER_COMMIT || self.uncommitted_bytes >= BYTES_PER_COMMIT
    }

    fn commit(&mut self) -> Result<()> {
        if self.pending.is_empty() && self.uncommitted == 0 {
            return Ok(());
        }
        let mut prepared = self.writer.prepare_commit()?;
        prepared.set_payload(&payload(self.generation));
        prepared.commit()?;
        self.uncommitted = 0;
        self.uncommitted_bytes = 0;
        let changes: Vec<(AccountId, Option<u64>)> =
            std::mem::take(&mut self.pending).into_iter().collect();
        for (a, m) in &changes {
            match m {
                Some(m) => self.marks.insert(*a, *m),
                None => self.marks.remove(a),
            };
        }
        self.search.publish(self.marks.clone())?;
        log::debug!(
            "indexer: committed; {} documents in the index",
            self.search.snapshot().num_docs()
        );
        if !changes.is_empty() {
            self.store
                .write_blocking(move |w| w.set_index_marks(&changes))
                .map_err(store_err)?;
        }
        Ok(())
    }
}

enum Batch {
    Gone,
    Trimmed,
    /// The rows read, and whether more may follow (a full read or the byte budget).
    Rows(Vec<(u64, u32, ChangeKind, Option<Vec<u8>>)>, bool),
}

enum Recv<T> {
    Event(T),
    Timeout,
    Closed,
}

/// Waits on this (non-executor) thread. `futures_lite`'s block_on parks the thread and leaves
/// the reactor to async-io's own thread; `smol::block_on` would drive the reactor here, and each
/// time it let go async-io's thread woke about ten times to take it back: 1.5 wake-ups a second
/// of an idle server from the 5-second sweep alone (issue #20).
fn recv_timeout<T>(rx: &async_channel::Receiver<T>, timeout: Duration) -> Recv<T> {
    futures_lite::future::block_on(futures_lite::future::or(
        async {
            match rx.recv().await {
                Ok(v) => Recv::Event(v),
                Err(_) => Recv::Closed,
            }
        },
        async {
            smol::Timer::after(timeout).await;
            Recv::Timeout
        },
    ))
}
