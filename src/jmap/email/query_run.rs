//! Running an Email/query plan against one store snapshot and one index snapshot; shared by
//! Email/query, Email/queryChanges and SearchSnippet/get.
//!
//! The common case stays cheap: with a top-level `inMailbox` (or no filter) and a receivedAt
//! sort, the candidates come in order from the store's `(account, mailbox, receivedAt, email)`
//! index, text conditions are set lookups, and an email record is read only when a condition,
//! thread collapsing or the sort needs it. When the total is not wanted, the walk stops as soon
//! as the requested page is full. A selective text condition instead yields its (few) hits as the
//! candidates.

use super::query_filter::{self, Email, Env, Filter, Parsed};
use super::query_sort::{self, Comparator};
use crate::index::Snapshot;
use crate::jmap::error::MethodError;
use crate::jmap::query::Key;
use crate::store::Reader;
use crate::store::model::{AccountId, DataType};
use std::collections::{HashMap, HashSet};

/// A required text condition with at most this many hits supplies the candidates itself.
const TEXT_CANDIDATES: usize = 2_000;

pub struct Plan {
    pub parsed: Parsed,
    pub sort: Vec<Comparator>,
    pub collapse: bool,
}

impl Plan {
    /// Whether an email's place in the results can change through another email of its
    /// thread (collapsing, or thread keyword conditions and sorts).
    pub fn depends_on_threads(&self) -> bool {
        self.collapse
            || query_sort::uses_threads(&self.sort)
            || self
                .parsed
                .filter
                .as_ref()
                .is_some_and(query_filter::uses_threads)
    }
}

/// How long the text queries of one request wait, together, for the index to catch up with
/// what was committed before them (`Ctx::index_deadline`).
pub const INDEX_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// The index snapshot for a query. With text conditions it waits (at most [`INDEX_WAIT`]) until
/// the index holds every Email change committed before the request read the state, so a search
/// right after an import or an SMTP 250 finds the message (issue 13, finding 8).
pub async fn snapshot(
    ctx: &crate::jmap::Ctx<'_>,
    acct: AccountId,
    plan: &Plan,
) -> Result<Snapshot, MethodError> {
    let index = &ctx.jmap.index;
    if !plan.parsed.has_text() {
        return Ok(index.snapshot());
    }
    let state = ctx
        .jmap
        .store
        .read(move |r| r.state(acct, DataType::Email))
        .await?;
    let left = ctx
        .index_deadline
        .saturating_duration_since(std::time::Instant::now());
    Ok(index.caught_up(acct, state, left).await)
}

/// The query state (RFC 8620 §5.5 queryState): the Email state, or, when text conditions are
/// involved, how far the index has got if it is behind, so that an email that becomes searchable
/// later is still reported by Email/queryChanges.
pub fn query_state(
    r: &Reader,
    snap: &Snapshot,
    acct: AccountId,
    plan: &Plan,
) -> Result<u64, MethodError> {
    let state = r.state(acct, DataType::Email)?;
    Ok(if plan.parsed.has_text() {
        state.min(snap.mark(acct))
    } else {
        state
    })
}

/// Emails of already-shown threads a collapsed walk passes over before it reads the member
/// lists of the shown threads to skip the rest without reading their records.
const SKIPS_BEFORE_LISTS: usize = 64;

/// The ids of the results in order, collapsed if asked. With `stop_after`, the walk may stop
/// once that many results are found (the list is then a prefix of the full results).
pub fn run(
    r: &Reader,
    snap: &Snapshot,
    acct: AccountId,
    plan: &Plan,
    stop_after: Option<usize>,
) -> Result<Vec<u32>, MethodError> {
    let mut texts = Vec::with_capacity(plan.parsed.texts.len());
    for t in &plan.parsed.texts {
        texts.push(snap.search(acct, t)?.into_iter().collect::<HashSet<u32>>());
    }
    let mut env = Env {
        reader: r,
        acct,
        texts,
        threads: HashMap::new(),
        known_mailbox: None,
    };
    let filter = plan.parsed.filter.as_ref();
    let mut required = Vec::new();
    if let Some(f) = filter {
        query_filter::required_texts(f, &mut required);
    }
    let smallest = required
        .iter()
        .copied()
        .min_by_key(|i| env.texts.get(*i).map_or(usize::MAX, |s| s.len()));
    let small_text =
        smallest.is_some_and(|i| env.texts.get(i).is_some_and(|s| s.len() <= TEXT_CANDIDATES));
    // The newest page (issue #20): walk the mailbox's index (the inbox view: 29 ms at 100,000
    // before) or, with no mailbox condition, the account's date index (a search for a common
    // word: its hits are checked as a set) backwards and stop once the page is full, instead of
    // reading every entry first.
    let scope = match filter.and_then(query_filter::required_mailbox) {
        None => Some(None),
        Some(Some(m)) => Some(Some(m)),
        // inMailbox of a mailbox that does not exist: nothing to walk.
        Some(None) => None,
    };
    if let (false, Some(scope), Some(false), Some(n)) = (
        small_text,
        scope,
        query_sort::by_received_only(&plan.sort),
        stop_after,
    ) {
        env.known_mailbox = scope;
        let mut seen_threads = HashSet::new();
        // The members of the threads already shown: a later email of one of them is passed
        // over without reading its record. A 10,000-message thread at the top of the inbox
        // otherwise cost 10,000 record reads per page (issue #20, the bench's big-thread
        // figure); now it costs one read of its member list. The lists are read only once the
        // walk has passed over [`SKIPS_BEFORE_LISTS`] emails of shown threads, so an ordinary
        // inbox of small threads pays nothing for it.
        let mut shown_members: HashSet<u32> = HashSet::new();
        let mut skips = 0usize;
        let mut out = Vec::new();
        let mut failed = None;
        let mut visit = |at: i64, id: u32| {
            if shown_members.contains(&id) {
                return true;
            }
            let mut e = Email::new(id, at);
            let step = (|| -> Result<(), MethodError> {
                if !keep(filter, &mut e, &mut env)? {
                    return Ok(());
                }
                if plan.collapse {
                    let Some(t) = e.thread(&env)? else {
                        return Ok(());
                    };
                    if !seen_threads.insert(t) {
                        skips += 1;
                        if skips == SKIPS_BEFORE_LISTS {
                            for shown in &seen_threads {
                                shown_members.extend(r.thread(acct, *shown)?.unwrap_or_default());
                            }
                        }
                        return Ok(());
                    }
                    if skips >= SKIPS_BEFORE_LISTS {
                        shown_members.extend(r.thread(acct, t)?.unwrap_or_default());
                    }
                }
                out.push(e.id);
                Ok(())
            })();
            match step {
                Ok(()) => out.len() < n,
                Err(err) => {
                    failed = Some(err);
                    false
                }
            }
        };
        match scope {
            Some(m) => r.mailbox_emails_newest(acct, m, &mut visit)?,
            None => r.all_emails_newest(acct, &mut visit)?,
        }
        if let Some(err) = failed {
            return Err(err);
        }
        return Ok(out);
    }
    let mut candidates: Vec<Email> =
        match (smallest, filter.and_then(query_filter::required_mailbox)) {
            (_, Some(None)) => Vec::new(),
            (Some(i), _) if env.texts.get(i).is_some_and(|s| s.len() <= TEXT_CANDIDATES) => {
                let mut out = Vec::new();
                let ids: Vec<u32> = env
                    .texts
                    .get(i)
                    .map(|s| s.iter().copied().collect())
                    .unwrap_or_default();
                for id in ids {
                    if let Some(st) = r.email_state(acct, id)? {
                        out.push(Email::with_state(id, st));
                    }
                }
                out.sort_unstable_by_key(|e| (e.received_at, e.id));
                out
            }
            (_, Some(Some(m))) => {
                env.known_mailbox = Some(m);
                r.mailbox_emails(acct, m)?
                    .into_iter()
                    .map(|(at, id)| Email::new(id, at))
                    .collect()
            }
            (_, None) => r
                .all_emails(acct)?
                .into_iter()
                .map(|(at, id)| Email::new(id, at))
                .collect(),
        };
    let mut seen_threads = HashSet::new();
    let mut out = Vec::new();
    if let Some(ascending) = query_sort::by_received_only(&plan.sort) {
        if !ascending {
            candidates.reverse();
        }
        for mut e in candidates {
            if !keep(filter, &mut e, &mut env)? {
                continue;
            }
            if plan.collapse {
                let Some(t) = e.thread(&env)? else { continue };
                if !seen_threads.insert(t) {
                    continue;
                }
            }
            out.push(e.id);
            if stop_after.is_some_and(|n| out.len() >= n) {
                break;
            }
        }
        return Ok(out);
    }
    let mut keyed: Vec<(Vec<Key>, Email)> = Vec::new();
    for mut e in candidates {
        if !keep(filter, &mut e, &mut env)? {
            continue;
        }
        let k = query_sort::keys(&plan.sort, &mut e, &mut env)?;
        keyed.push((k, e));
    }
    keyed.sort_by(|a, b| query_sort::compare(&plan.sort, (&a.0, a.1.id), (&b.0, b.1.id)));
    for (_, mut e) in keyed {
        if plan.collapse {
            let Some(t) = e.thread(&env)? else { continue };
            if !seen_threads.insert(t) {
                continue;
            }
        }
        out.push(e.id);
    }
    Ok(out)
}

fn keep(filter: Option<&Filter>, e: &mut Email, env: &mut Env<'_>) -> Result<bool, MethodError> {
    match filter {
        None => Ok(true),
        Some(f) => query_filter::matches(f, e, env),
    }
}
