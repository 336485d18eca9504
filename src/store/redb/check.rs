//! `mailnook check`: walks every table of one snapshot and checks that the derived tables agree
//! with the emails (a database or a backup). Read-only; the answer is a list of problems.
//!
//! Checked: the format version; tables nobody knows; per email: its meta record, its blob (in
//! `BLOBS` with a reference from the account), its `RECEIVED` and `MAILBOX_EMAILS` rows, its
//! mailboxes exist, its thread lists it; per mailbox: the stored counts (RFC 8621 §2) and
//! `MAILBOX_THREADS` against counts recomputed from the emails, and no index row without an
//! email; every blob's bytes hash to its name (SHA-256); no reference to a missing blob.

use super::read::{Reader, table};
use super::tables::*;
use crate::store::error::Result;
use crate::store::model::{EmailState, Mailbox, MailboxCounts};
use redb::ReadableTable;
use std::collections::{BTreeMap, BTreeSet};

/// At most this many problems are listed (the count goes on).
const MAX_LISTED: usize = 200;

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct CheckReport {
    pub schema: Option<u64>,
    pub accounts: u64,
    pub mailboxes: u64,
    pub emails: u64,
    pub blobs: u64,
    pub blob_bytes: u64,
    pub problem_count: u64,
    pub problems: Vec<String>,
}

impl CheckReport {
    fn problem(&mut self, p: String) {
        self.problem_count += 1;
        if self.problems.len() < MAX_LISTED {
            self.problems.push(p);
        }
    }
}

/// Per (mailbox, thread): (emails, unread).
type ThreadCounts = BTreeMap<(u32, u32), (u32, u32)>;

impl Reader {
    pub fn check(&self) -> Result<CheckReport> {
        let mut rep = CheckReport::default();
        if let Some(t) = table!(self, META) {
            rep.schema = t.get("schema")?.map(|v| v.value());
        }
        match rep.schema {
            None => rep.problem("no schema version recorded".into()),
            Some(v) if v > SCHEMA_VERSION => rep.problem(format!(
                "format {v} is newer than this mailnook's {SCHEMA_VERSION}"
            )),
            _ => {}
        }
        for t in self.unknown_tables()? {
            rep.problem(format!("unknown table {t}"));
        }
        let mut referenced: BTreeSet<String> = BTreeSet::new();
        for account in self.accounts()? {
            rep.accounts += 1;
            self.check_account(account.id, &account.name, &mut rep, &mut referenced)?;
            if let Some(p) = self.quota_check(account.id, &account.name)? {
                rep.problem(p);
            }
        }
        self.check_blobs(&mut rep)?;
        Ok(rep)
    }

    fn check_account(
        &self,
        acct: u32,
        name: &str,
        rep: &mut CheckReport,
        referenced: &mut BTreeSet<String>,
    ) -> Result<()> {
        let mailboxes: BTreeMap<u32, Mailbox> = self
            .mailboxes(acct)?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        rep.mailboxes += mailboxes.len() as u64;
        let mut per_thread: ThreadCounts = BTreeMap::new();
        let mut email_ids = BTreeSet::new();
        let (
            Some(emails),
            Some(metas),
            Some(received),
            Some(mbe),
            Some(threads),
            Some(refs),
            Some(blobs),
        ) = (
            table!(self, EMAILS),
            table!(self, EMAIL_META),
            table!(self, RECEIVED),
            table!(self, MAILBOX_EMAILS),
            table!(self, THREADS),
            table!(self, BLOB_REFS),
            table!(self, BLOBS),
        )
        else {
            return Ok(());
        };
        for row in emails.range((acct, 0)..=(acct, u32::MAX))? {
            let (k, v) = row?;
            let id = k.value().1;
            rep.emails += 1;
            email_ids.insert(id);
            let at = format!("{name}: email {id}");
            let st: EmailState = match serde_json::from_slice(v.value()) {
                Ok(s) => s,
                Err(e) => {
                    rep.problem(format!("{at}: unreadable state: {e}"));
                    continue;
                }
            };
            if metas.get((acct, id))?.is_none() {
                rep.problem(format!("{at}: no meta record"));
            }
            if blobs.get(st.blob.as_str())?.is_none() {
                rep.problem(format!("{at}: blob {} missing", st.blob));
            }
            if refs.get((st.blob.as_str(), acct))?.is_none() {
                rep.problem(format!("{at}: no blob reference"));
            }
            referenced.insert(st.blob.clone());
            if received.get((acct, st.received_at, id))?.is_none() {
                rep.problem(format!("{at}: missing from the date index"));
            }
            if st.mailbox_ids.is_empty() {
                rep.problem(format!("{at}: in no mailbox"));
            }
            for m in &st.mailbox_ids {
                if !mailboxes.contains_key(m) {
                    rep.problem(format!("{at}: in missing mailbox {m}"));
                }
                if mbe.get((acct, *m, st.received_at, id))?.is_none() {
                    rep.problem(format!("{at}: missing from mailbox {m}'s index"));
                }
                let c = per_thread.entry((*m, st.thread_id)).or_default();
                c.0 += 1;
                if st.is_unread() {
                    c.1 += 1;
                }
            }
            match threads.get((acct, st.thread_id))? {
                Some(t) => {
                    let ids =
                        crate::store::mail::thread::decode_members(t.value()).unwrap_or_default();
                    if !ids.contains(&id) {
                        rep.problem(format!("{at}: not listed in thread {}", st.thread_id));
                    }
                }
                None => rep.problem(format!("{at}: thread {} missing", st.thread_id)),
            }
        }
        for row in received.range((acct, i64::MIN, 0)..=(acct, i64::MAX, u32::MAX))? {
            let (k, _) = row?;
            if !email_ids.contains(&k.value().2) {
                rep.problem(format!(
                    "{name}: date index names missing email {}",
                    k.value().2
                ));
            }
        }
        self.check_counts(acct, name, &mailboxes, &per_thread, rep)
    }

    fn check_counts(
        &self,
        acct: u32,
        name: &str,
        mailboxes: &BTreeMap<u32, Mailbox>,
        per_thread: &ThreadCounts,
        rep: &mut CheckReport,
    ) -> Result<()> {
        let (Some(mt), Some(mbe)) = (table!(self, MAILBOX_THREADS), table!(self, MAILBOX_EMAILS))
        else {
            return Ok(());
        };
        for (id, mb) in mailboxes {
            let mut want = MailboxCounts::default();
            for ((_, _), (e, u)) in per_thread.range((*id, 0)..=(*id, u32::MAX)) {
                want.total_emails += e;
                want.unread_emails += u;
                want.total_threads += 1;
                if *u > 0 {
                    want.unread_threads += 1;
                }
            }
            if mb.counts != want {
                rep.problem(format!(
                    "{name}: mailbox {} ({}) counts {:?}, the emails say {:?}",
                    id, mb.name, mb.counts, want
                ));
            }
            let mut rows = 0u32;
            for row in mbe.range((acct, *id, i64::MIN, 0)..=(acct, *id, i64::MAX, u32::MAX))? {
                row?;
                rows += 1;
            }
            if rows != want.total_emails {
                rep.problem(format!(
                    "{name}: mailbox {id} index has {rows} rows for {} emails",
                    want.total_emails
                ));
            }
            for row in mt.range((acct, *id, 0)..=(acct, *id, u32::MAX))? {
                let (k, v) = row?;
                let thread = k.value().2;
                let have = v.value();
                let want = per_thread.get(&(*id, thread)).copied().unwrap_or((0, 0));
                if have != want {
                    rep.problem(format!(
                        "{name}: mailbox {id} thread {thread}: stored (emails, unread) \
                         {have:?}, the emails say {want:?}"
                    ));
                }
            }
        }
        Ok(())
    }

    fn check_blobs(&self, rep: &mut CheckReport) -> Result<()> {
        let Some(blobs) = table!(self, BLOBS) else {
            return Ok(());
        };
        for row in blobs.iter()? {
            let (k, v) = row?;
            rep.blobs += 1;
            rep.blob_bytes += v.value().len() as u64;
            match super::blob_codec::decode(v.value()) {
                Ok(bytes) => {
                    if super::write::hex_sha256(&bytes) != k.value() {
                        rep.problem(format!(
                            "blob {}: content does not match its hash",
                            k.value()
                        ));
                    }
                }
                Err(e) => rep.problem(format!("blob {}: unreadable: {e}", k.value())),
            }
        }
        if let Some(refs) = table!(self, BLOB_REFS) {
            for row in refs.iter()? {
                let (k, _) = row?;
                let (hash, acct) = k.value();
                if blobs.get(hash)?.is_none() {
                    rep.problem(format!("account {acct}: reference to missing blob {hash}"));
                }
            }
        }
        Ok(())
    }
}
