//! The one import loop: every message from Maildir, mbox and IMAP enters through
//! `ingest::prepare` + `ingest::insert` in a store write, exactly like SMTP delivery (threads,
//! counts, change log, and the index, which follows the change log).
//!
//! **No duplicates** (issue #18: "same Message-ID and same content -> skipped"). A message is
//! the same as an email the account holds when its bytes are identical, or when it has the same
//! first Message-ID and the same bytes up to line ends ([`normalized`]: Dovecot keeps LF on disk
//! but sends CRLF over IMAP, so its Maildir and its IMAP give the same mail in two spellings).
//! Such a message is not stored again: the folders it is found in are added to that email
//! instead, so re-running an import changes nothing, and a message seen in several folders (an
//! export of an email in two mailboxes, Gmail labels) becomes one email in several mailboxes.
//! Same Message-ID with other content (an edited draft, a list's copy with a footer) is another
//! message and is kept. **One bad message never stops an import**: it is counted and listed
//! (at most [`MAX_LISTED`]), and the run goes on.

use super::flags;
use crate::ingest;
use crate::store::model::{AccountId, Mailbox};
use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

pub const MAX_LISTED: usize = 100;
/// The largest message imported (larger ones are listed as failed).
pub const MAX_MESSAGE: usize = 128 * 1024 * 1024;

/// A message to import.
#[derive(Debug, Clone)]
pub struct Item {
    pub raw: Vec<u8>,
    /// Mailbox paths (names from the top); empty list: the inbox.
    pub folders: Vec<Vec<String>>,
    pub keywords: BTreeSet<String>,
    pub received_at: Option<i64>,
    /// Where it came from, for the report.
    pub origin: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    pub imported: u64,
    /// Already present in every folder it was found in.
    pub skipped: u64,
    /// Already present; added to more mailboxes.
    pub merged: u64,
    pub failed: u64,
    pub bytes: u64,
    pub seconds: f64,
    pub problems: Vec<String>,
    /// Messages this run will see in all, when known beforehand (IMAP: from the first pass over
    /// the folders), for the ETA.
    #[serde(default)]
    pub total: Option<u64>,
}

impl Summary {
    pub fn seen(&self) -> u64 {
        self.imported + self.skipped + self.merged + self.failed
    }

    pub fn fail(&mut self, what: String) {
        self.failed += 1;
        if self.problems.len() < MAX_LISTED {
            self.problems.push(what);
        }
    }

    /// One line: counts, bytes, rate, and the ETA when the total is known.
    pub fn progress_line(&self, total: Option<u64>) -> String {
        let rate = self.seen() as f64 / self.seconds.max(0.001);
        let mb = self.bytes as f64 / 1e6;
        let mut s = format!(
            "{} messages ({} new, {} already there, {} failed), {mb:.1} MB, {rate:.0} msg/s, {:.2} MB/s",
            self.seen(),
            self.imported,
            self.skipped + self.merged,
            self.failed,
            mb / self.seconds.max(0.001)
        );
        if let Some(t) = total.or(self.total)
            && self.seen() < t
        {
            s.push_str(&format!(", {}/{t}", self.seen()));
            if self.seen() > 0 {
                let left = t.saturating_sub(self.seen()) as f64 / rate.max(0.001);
                s.push_str(&format!(", ETA {left:.0} s"));
            }
        }
        s
    }

    pub fn report(&self) -> String {
        let mut s = format!(
            "import done in {:.1} s: {}",
            self.seconds,
            self.progress_line(None)
        );
        for p in &self.problems {
            s.push_str(&format!("\nnot imported: {p}"));
        }
        if self.failed > self.problems.len() as u64 {
            s.push_str(&format!(
                "\n... and {} more",
                self.failed - self.problems.len() as u64
            ));
        }
        s
    }
}

pub struct Importer {
    store: Store,
    account: AccountId,
    mailboxes: Vec<Mailbox>,
    by_path: HashMap<Vec<String>, u32>,
    /// Source paths sent to a mailbox chosen by role (an IMAP folder's RFC 6154 attribute wins
    /// over its name), looked up before anything else.
    aliases: HashMap<Vec<String>, u32>,
    /// blob (hex SHA-256) -> (email id, its mailboxes).
    by_blob: HashMap<String, (u32, BTreeSet<u32>)>,
    /// First Message-ID -> blobs of the account's emails with it (at most [`MAX_SAME_ID`]).
    by_msgid: HashMap<String, Vec<String>>,
    /// Hash of the line-end-normalised bytes ([`normalized`]) -> blob, for the messages met in
    /// this run.
    by_norm: HashMap<String, String>,
    pub summary: Summary,
    /// A message already held gains the mailboxes it is found in again (false: it is left
    /// where it is; for views like IMAP's `\All`).
    pub merge_existing: bool,
    started: Instant,
    /// New messages not yet stored ([`Importer::flush`]).
    pending: Vec<Pending>,
    pending_bytes: usize,
}

impl Importer {
    /// Loads the account's mailboxes and what it already holds.
    pub async fn new(store: &Store, account: &str) -> Result<Importer, String> {
        let name = account.trim().to_lowercase();
        let (id, mailboxes, emails) = store
            .read(move |r| {
                let a = r.account_by_name(&name)?.ok_or(StoreError::NotFound)?;
                let mut emails = Vec::new();
                for (_, id) in r.all_emails(a.id)? {
                    if let Some(st) = r.email_state(a.id, id)? {
                        let msgid = r
                            .email_meta(a.id, id)?
                            .and_then(|m| m.message_id)
                            .and_then(|ids| ids.into_iter().next());
                        emails.push((st.blob, id, st.mailbox_ids, msgid));
                    }
                }
                Ok((a.id, r.mailboxes(a.id)?, emails))
            })
            .await
            .map_err(|e| match e {
                StoreError::NotFound => format!("no account {account}"),
                e => e.to_string(),
            })?;
        let mut by_blob = HashMap::new();
        let mut by_msgid: HashMap<String, Vec<String>> = HashMap::new();
        for (blob, id, mbs, msgid) in emails {
            if let Some(m) = msgid {
                let same = by_msgid.entry(m).or_default();
                if same.len() < MAX_SAME_ID {
                    same.push(blob.clone());
                }
            }
            by_blob.insert(blob, (id, mbs.into_iter().collect()));
        }
        let mut imp = Importer {
            store: store.clone(),
            account: id,
            mailboxes,
            by_path: HashMap::new(),
            aliases: HashMap::new(),
            by_blob,
            by_msgid,
            by_norm: HashMap::new(),
            summary: Summary::default(),
            merge_existing: true,
            started: Instant::now(),
            pending: Vec::new(),
            pending_bytes: 0,
        };
        imp.index_paths();
        Ok(imp)
    }

    pub fn account(&self) -> AccountId {
        self.account
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    fn index_paths(&mut self) {
        self.by_path.clear();
        let by_id: HashMap<u32, &Mailbox> = self.mailboxes.iter().map(|m| (m.id, m)).collect();
        for m in &self.mailboxes {
            let mut path = vec![m.name.clone()];
            let mut cur = m.parent_id;
            let mut guard = 0;
            while let (Some(p), true) = (cur, guard < 64) {
                let Some(pm) = by_id.get(&p) else { break };
                path.insert(0, pm.name.clone());
                cur = pm.parent_id;
                guard += 1;
            }
            self.by_path.insert(path, m.id);
        }
    }

    /// Sends the source folder `path` to the account's mailbox with `role` (RFC 6154), when the
    /// account has one; false otherwise (the folder then maps by its name).
    pub fn route_to_role(&mut self, path: &[String], role: &str) -> bool {
        let Some(m) = self
            .mailboxes
            .iter()
            .find(|m| m.role.as_deref() == Some(role))
        else {
            return false;
        };
        let key = if path.is_empty() {
            vec!["INBOX".to_string()]
        } else {
            path.to_vec()
        };
        self.aliases.insert(key, m.id);
        true
    }

    /// The mailbox for a path, created (with its parents) when missing. A top-level name of
    /// a special mailbox (`INBOX`, `Sent Items`, `[Gmail]/Spam`...) is the account's mailbox
    /// with that role.
    async fn mailbox(&mut self, path: &[String]) -> Result<u32, String> {
        let path: Vec<String> = if path.is_empty() {
            vec!["INBOX".into()]
        } else {
            path.to_vec()
        };
        if let Some(id) = self.aliases.get(&path) {
            return Ok(*id);
        }
        let joined = path.join("/");
        let role = if path.len() == 1 {
            flags::role_by_name(&path[0])
        } else {
            flags::role_by_name(&joined)
                .filter(|_| joined.to_ascii_lowercase().starts_with("[gmail]/"))
        };
        if let Some(role) = role
            && let Some(m) = self
                .mailboxes
                .iter()
                .find(|m| m.role.as_deref() == Some(role))
        {
            return Ok(m.id);
        }
        if let Some(id) = self.by_path.get(&path) {
            return Ok(*id);
        }
        let mut parent = None;
        for i in 0..path.len() {
            let prefix = path[..=i].to_vec();
            if let Some(id) = self.by_path.get(&prefix) {
                parent = Some(*id);
                continue;
            }
            let name = prefix[i].clone();
            if name.trim().is_empty() || name.len() > 255 {
                return Err(format!("mailbox name {joined:?} cannot be used"));
            }
            let acct = self.account;
            let mb = Mailbox {
                id: 0,
                name,
                parent_id: parent,
                role: None,
                sort_order: 0,
                is_subscribed: true,
                counts: Default::default(),
            };
            let stored = mb.clone();
            let id = self
                .store
                .write(move |w| w.put_mailbox(acct, stored.clone(), true))
                .await
                .map_err(|e| format!("cannot create mailbox {joined:?}: {e}"))?;
            self.mailboxes.push(Mailbox { id, ..mb });
            self.by_path.insert(prefix, id);
            parent = Some(id);
        }
        parent.ok_or_else(|| "empty mailbox path".to_string())
    }

    /// Imports one message; never fails the run (a failure is counted and listed).
    pub async fn add(&mut self, item: Item) {
        self.summary.bytes += item.raw.len() as u64;
        if let Err(e) = self.try_add(&item).await {
            self.summary.fail(format!("{}: {e}", item.origin));
        }
        self.summary.seconds = self.started.elapsed().as_secs_f64();
    }

    async fn try_add(&mut self, item: &Item) -> Result<(), String> {
        if item.raw.is_empty() {
            return Err("empty message".into());
        }
        if item.raw.len() > MAX_MESSAGE {
            return Err(format!("larger than {} MB", MAX_MESSAGE >> 20));
        }
        let mut mailbox_ids = BTreeSet::new();
        if item.folders.is_empty() {
            mailbox_ids.insert(self.mailbox(&[]).await?);
        }
        for f in &item.folders {
            mailbox_ids.insert(self.mailbox(f).await?);
        }
        // Hashing a large message is blocking work: off the executor (DESIGN.md, Runtime).
        let raw = item.raw.clone();
        let (blob, norm, raw) = crate::pool::unblock(move || {
            let blob = crate::store::hex_sha256(&raw);
            let norm = crate::store::hex_sha256(&normalized(&raw));
            (blob, norm, raw)
        })
        .await;
        let same = self.by_norm.get(&norm).cloned();
        for b in std::iter::once(blob.clone()).chain(same) {
            if self.merge_into(&b, &mailbox_ids).await? {
                return Ok(());
            }
        }
        let prepared = crate::pool::unblock(move || ingest::prepare(raw)).await;
        if let Some(b) = self.stored_same_message(&prepared, &norm).await {
            self.by_norm.insert(norm.clone(), b.clone());
            if self.merge_into(&b, &mailbox_ids).await? {
                return Ok(());
            }
        }
        self.by_norm.insert(norm, blob.clone());
        let received = item
            .received_at
            .or_else(|| {
                prepared
                    .meta
                    .sent_at
                    .as_deref()
                    .and_then(crate::date::parse_rfc3339)
            })
            .unwrap_or_else(crate::date::now);
        self.pending_bytes += item.raw.len();
        self.pending.push(Pending {
            prepared,
            blob,
            mailbox_ids,
            keywords: item.keywords.iter().map(|k| (k.clone(), true)).collect(),
            received,
            origin: item.origin.clone(),
        });
        if self.pending.len() >= BATCH || self.pending_bytes >= BATCH_BYTES {
            self.flush().await;
        }
        Ok(())
    }

    /// Whether `blob` is already held (stored, or waiting in this batch); if so, the message's
    /// mailboxes are added to it (unless [`Importer::merge_existing`] is off) and it is counted.
    async fn merge_into(
        &mut self,
        blob: &str,
        mailbox_ids: &BTreeSet<u32>,
    ) -> Result<bool, String> {
        let acct = self.account;
        if let Some((email, have)) = self.by_blob.get(blob).cloned() {
            if mailbox_ids.is_subset(&have) || !self.merge_existing {
                self.summary.skipped += 1;
                return Ok(true);
            }
            let all: Vec<u32> = have.union(mailbox_ids).copied().collect();
            let ids = all.clone();
            self.store
                .write(move |w| w.update_email(acct, email, Some(ids.clone()), None))
                .await
                .map_err(|e| e.to_string())?;
            self.by_blob
                .insert(blob.to_string(), (email, all.into_iter().collect()));
            self.summary.merged += 1;
            return Ok(true);
        }
        if let Some(p) = self.pending.iter_mut().find(|p| p.blob == blob) {
            // Seen earlier in this batch (the same message in another folder).
            if !self.merge_existing || mailbox_ids.is_subset(&p.mailbox_ids) {
                self.summary.skipped += 1;
            } else {
                p.mailbox_ids.extend(mailbox_ids);
                self.summary.merged += 1;
            }
            return Ok(true);
        }
        Ok(false)
    }

    /// The blob of a stored email with the same first Message-ID and the same content up to
    /// line ends ([`normalized`]): the same message, as another store wrote it (Dovecot keeps
    /// LF on disk and sends CRLF over IMAP; an mbox export may have its own line ends).
    async fn stored_same_message(
        &mut self,
        prepared: &ingest::Prepared,
        norm: &str,
    ) -> Option<String> {
        let id = prepared.meta.message_id.as_ref()?.first()?;
        let candidates = self.by_msgid.get(id)?.clone();
        for b in candidates {
            let (acct, key) = (self.account, b.clone());
            let Ok(Some(bytes)) = self.store.read(move |r| r.blob(acct, &key)).await else {
                continue;
            };
            let theirs =
                crate::pool::unblock(move || crate::store::hex_sha256(&normalized(&bytes))).await;
            if theirs == norm {
                return Some(b);
            }
        }
        None
    }

    /// Stores the waiting new messages in one store write (one durable commit for the batch
    /// instead of one per message); if the batch fails, each is stored alone so that one bad
    /// message fails alone.
    pub async fn flush(&mut self) {
        let batch = std::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        if batch.is_empty() {
            return;
        }
        let acct = self.account;
        let jobs: std::sync::Arc<Vec<Pending>> = std::sync::Arc::new(batch);
        let all = jobs.clone();
        let together = self
            .store
            .write(move |w| {
                let mut ids = Vec::with_capacity(all.len());
                for p in all.iter() {
                    ids.push(p.insert(w, acct)?);
                }
                Ok(ids)
            })
            .await;
        let outcomes: Vec<Result<u32, String>> = match together {
            Ok(ids) => ids.into_iter().map(Ok).collect(),
            Err(_) => {
                let mut out = Vec::with_capacity(jobs.len());
                for i in 0..jobs.len() {
                    let one = jobs.clone();
                    out.push(
                        self.store
                            .write(move |w| one[i].insert(w, acct))
                            .await
                            .map_err(|e| e.to_string()),
                    );
                }
                out
            }
        };
        for (p, r) in jobs.iter().zip(outcomes) {
            match r {
                Ok(email) => {
                    self.by_blob
                        .insert(p.blob.clone(), (email, p.mailbox_ids.clone()));
                    self.summary.imported += 1;
                }
                Err(e) => self.summary.fail(format!("{}: {e}", p.origin)),
            }
        }
        self.summary.seconds = self.started.elapsed().as_secs_f64();
    }
}

/// Stored emails compared per Message-ID (a hostile mailbox could hold many with one id).
const MAX_SAME_ID: usize = 8;

/// The message with every CRLF turned into LF and the line ends at its end removed: what
/// "the same content" means across stores that write line ends differently.
pub fn normalized(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\r' && raw.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(raw[i]);
        i += 1;
    }
    while out.last() == Some(&b'\n') {
        out.pop();
    }
    out
}

/// New messages stored together per flush (bounded by count and bytes: one transaction's size).
const BATCH: usize = 64;
const BATCH_BYTES: usize = 16 * 1024 * 1024;

/// A new message waiting for [`Importer::flush`].
struct Pending {
    prepared: ingest::Prepared,
    blob: String,
    mailbox_ids: BTreeSet<u32>,
    keywords: std::collections::BTreeMap<String, bool>,
    received: i64,
    origin: String,
}

impl Pending {
    fn insert(
        &self,
        w: &mut crate::store::Writer<'_>,
        acct: AccountId,
    ) -> crate::store::Result<u32> {
        let mbs: Vec<u32> = self.mailbox_ids.iter().copied().collect();
        let (email, _) = ingest::insert(
            w,
            &self.prepared,
            acct,
            mbs,
            self.keywords.clone(),
            self.received,
        )?;
        Ok(email)
    }
}

#[cfg(test)]
mod tests {
    use super::normalized;

    #[test]
    fn line_ends_do_not_make_another_message() {
        let crlf = b"Message-ID: <a@b>\r\nSubject: x\r\n\r\nbody\r\n";
        let lf = b"Message-ID: <a@b>\nSubject: x\n\nbody\n";
        assert_eq!(normalized(crlf), normalized(lf));
        assert_eq!(normalized(crlf), b"Message-ID: <a@b>\nSubject: x\n\nbody");
        // A bare CR is content, and so is a changed word.
        assert_ne!(normalized(b"a\rb\n"), normalized(b"a\nb\n"));
        assert_ne!(
            normalized(crlf),
            normalized(b"Message-ID: <a@b>\nSubject: y\n\nbody\n")
        );
    }
}
