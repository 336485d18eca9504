//! Full-text search: one tantivy index under `<data_dir>/index` for all accounts (DESIGN.md
//! "Search"). The index is derived data: redb is the truth, the store records how far the index
//! has got ([`crate::store::IndexMarks`]), and the indexer (`indexer.rs`) catches up from the
//! store's changelog on start and after every commit the store publishes. A missing, corrupt or
//! outdated index directory is rebuilt from the store, never fatal.
//!
//! Searching: [`SearchIndex::snapshot`] gives a consistent view (a searcher and the marks it
//! reflects); [`Snapshot::search`] answers one protocol-neutral [`query::TextSearch`] with the
//! matching email ids of one account. Everything else about a query (mailboxes, keywords, dates,
//! sorting) is answered from redb by `jmap/`.

pub mod collector;
pub mod highlight;
pub mod indexer;
pub mod query;
pub mod schema;
pub mod tokenizer;

use crate::store::model::AccountId;
use schema::Fields;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument};
use thiserror::Error;

/// tantivy's smallest writer arena (DESIGN.md "Facts checked"); one indexing thread.
pub const WRITER_MEMORY: usize = 15_000_000;

#[derive(Debug, Error)]
pub enum IndexError {
    /// tantivy failed (I/O, a corrupt segment, a bad query).
    #[error("search index: {0}")]
    Tantivy(String),
    /// The index directory could not be created or removed.
    #[error("search index directory {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

impl From<tantivy::TantivyError> for IndexError {
    fn from(e: tantivy::TantivyError) -> Self {
        IndexError::Tantivy(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, IndexError>;

/// The read side, shared by every JMAP request.
#[derive(Clone)]
pub struct SearchIndex {
    inner: Arc<Inner>,
}

struct Inner {
    fields: Fields,
    reader: IndexReader,
    view: RwLock<View>,
    /// Notified after every publish, for [`SearchIndex::caught_up`].
    published: event_listener::Event,
}

#[derive(Clone)]
struct View {
    searcher: Searcher,
    marks: Arc<BTreeMap<AccountId, u64>>,
}

/// A consistent view: the searcher and, per account, the modseq of the Email changes it holds.
#[derive(Clone)]
pub struct Snapshot {
    fields: Fields,
    searcher: Searcher,
    marks: Arc<BTreeMap<AccountId, u64>>,
}

impl Snapshot {
    /// The email ids of `account` matching `search`, in no particular order.
    pub fn search(&self, account: AccountId, search: &query::TextSearch) -> Result<Vec<u32>> {
        let q = query::build(&self.fields, account, search);
        Ok(self.searcher.search(&*q, &collector::EmailIds)?)
    }

    /// Every Email change of the account up to this modseq is searchable.
    pub fn mark(&self, account: AccountId) -> u64 {
        self.marks.get(&account).copied().unwrap_or(0)
    }

    pub fn num_docs(&self) -> u64 {
        self.searcher.num_docs()
    }
}

impl SearchIndex {
    pub fn snapshot(&self) -> Snapshot {
        let view = match self.inner.view.read() {
            Ok(v) => v.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        Snapshot {
            fields: self.inner.fields,
            searcher: view.searcher,
            marks: view.marks,
        }
    }

    /// A snapshot that holds every Email change of `account` up to `modseq` (the "committed-up-
    /// to" watermark is the snapshot's mark), waiting for the indexer at most `timeout`. A text
    /// query calls this with the account's Email state read when the request started, so a
    /// message whose import or SMTP 250 came before the request is found although the indexer
    /// batches commits (~`index_batch_ms` behind). If the indexer does not catch up in time (it
    /// is failing, or a huge batch), the latest snapshot is returned: the query state then says
    /// how far the results go (`query_run::query_state`).
    pub async fn caught_up(&self, account: AccountId, modseq: u64, timeout: Duration) -> Snapshot {
        use futures_lite::FutureExt;
        let deadline = Instant::now() + timeout;
        loop {
            // Listen before looking, so a publish between the two is not missed.
            let listener = self.inner.published.listen();
            let snap = self.snapshot();
            if snap.mark(account) >= modseq || Instant::now() >= deadline {
                return snap;
            }
            let timer = async {
                smol::Timer::at(deadline).await;
            };
            listener.or(timer).await;
        }
    }

    /// An empty index in memory with no indexer: for unit tests that build a `Jmap` by hand.
    pub fn in_ram() -> Result<SearchIndex> {
        let (schema, fields) = schema::build();
        let mut index = Index::create_in_ram(schema);
        Ok(finish(&mut index, fields, None)?.search)
    }

    /// Called by the indexer after each commit: reload and publish the new marks together.
    fn publish(&self, marks: BTreeMap<AccountId, u64>) -> Result<()> {
        self.inner.reader.reload()?;
        let searcher = self.inner.reader.searcher();
        let view = View {
            searcher,
            marks: Arc::new(marks),
        };
        match self.inner.view.write() {
            Ok(mut v) => *v = view,
            Err(poisoned) => *poisoned.into_inner() = view,
        }
        self.inner.published.notify(usize::MAX);
        Ok(())
    }
}

/// An opened index: the shared read side plus the single writer (for the indexer).
pub struct Opened {
    pub search: SearchIndex,
    pub index: Index,
    pub writer: IndexWriter<TantivyDocument>,
    pub fields: Fields,
    /// The generation recorded in the last commit, if any; `None` for a new index.
    pub generation: Option<u64>,
}

/// The commit payload: schema version and generation, e.g. `mailnook-index 1 8421...`.
fn payload(generation: u64) -> String {
    format!("mailnook-index {} {generation}", schema::VERSION)
}

fn parse_payload(p: &str) -> Option<(u32, u64)> {
    let rest = p.strip_prefix("mailnook-index ")?;
    let (v, g) = rest.split_once(' ')?;
    Some((v.parse().ok()?, g.parse().ok()?))
}

/// Opens the index in `dir`, or builds an empty one there if it is missing, unreadable or of
/// another schema version (the indexer then refills it from the store).
pub fn open(dir: &Path) -> Result<Opened> {
    match try_open(dir) {
        Ok(o) => Ok(o),
        Err(e) => {
            if dir.exists() {
                log::warn!(
                    "search index {} is unusable ({e}); rebuilding it from the store",
                    dir.display()
                );
                std::fs::remove_dir_all(dir).map_err(|e| IndexError::Io(dir.to_path_buf(), e))?;
            }
            create(dir)
        }
    }
}

/// Removes any index in `dir` and creates an empty one (`mailnook reindex`).
pub fn recreate(dir: &Path) -> Result<Opened> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| IndexError::Io(dir.to_path_buf(), e))?;
    }
    create(dir)
}

fn try_open(dir: &Path) -> Result<Opened> {
    if !dir.join("meta.json").exists() {
        return Err(IndexError::Tantivy("no index yet".into()));
    }
    let mut index = Index::open_in_dir(dir)?;
    let (schema, fields) = schema::build();
    if index.schema() != schema {
        return Err(IndexError::Tantivy("the schema has changed".into()));
    }
    let metas = index.load_metas()?;
    let generation = match metas.payload.as_deref().map(parse_payload) {
        None => None,
        Some(Some((v, g))) if v == schema::VERSION => Some(g),
        Some(_) => return Err(IndexError::Tantivy("another index version".into())),
    };
    finish(&mut index, fields, generation)
}

fn create(dir: &Path) -> Result<Opened> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| IndexError::Io(dir.to_path_buf(), e))?;
    let (schema, fields) = schema::build();
    let mut index = Index::create_in_dir(dir, schema)?;
    finish(&mut index, fields, None)
}

fn finish(index: &mut Index, fields: Fields, generation: Option<u64>) -> Result<Opened> {
    index
        .tokenizers()
        .register(tokenizer::NAME, tokenizer::analyzer(tokenizer::Mode::Index));
    let options = tantivy::indexer::IndexWriterOptions::builder()
        .memory_budget_per_thread(WRITER_MEMORY)
        .num_worker_threads(1)
        .num_merge_threads(1)
        .build();
    let writer = index.writer_with_options(options)?;
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()?;
    let view = View {
        searcher: reader.searcher(),
        marks: Arc::default(),
    };
    let search = SearchIndex {
        inner: Arc::new(Inner {
            fields,
            reader,
            view: RwLock::new(view),
            published: event_listener::Event::new(),
        }),
    };
    Ok(Opened {
        search,
        index: index.clone(),
        writer,
        fields,
        generation,
    })
}

/// A fresh random generation number for a new index.
fn new_generation() -> u64 {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 8];
    if ring::rand::SystemRandom::new().fill(&mut b).is_err() {
        // Falls back to the clock: a generation only needs to differ from the previous one.
        return std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1);
    }
    u64::from_le_bytes(b)
}
