//! Email/query (RFC 8621 §4.4) on the shared /query path (`jmap/query/`): every filter
//! condition of §4.4.1 (`query_filter.rs`), every sort property of §4.4.2 (`query_sort.rs`),
//! collapseThreads, and the shared window and response with `limit` capped at [`MAX_LIMIT`].
//! Text conditions are answered by the search index, the rest by the store (`query_run.rs`).

use super::query_filter::{self, Cond};
use super::query_run::{self, Plan};
use super::query_sort::{self, Property};
use crate::jmap::Ctx;
use crate::jmap::access::Access;
use crate::jmap::args::{self, Args};
use crate::jmap::error::MethodError;
use crate::jmap::query::{Comparator, Filter, QueryRequest};
use crate::store::model::IdKind;
use serde_json::Value;

/// The most ids one Email/query returns (also the page when the client gives no limit).
pub const MAX_LIMIT: usize = 1000;

/// The argument Email/query and Email/queryChanges add (RFC 8621 §4.4).
pub const EXTRA_ARGS: [&str; 1] = ["collapseThreads"];

/// The plan of a parsed Email/query or Email/queryChanges.
pub fn plan(
    a: &Args,
    filter: Option<Filter<Cond>>,
    sort: Vec<Comparator<Property>>,
) -> Result<Plan, MethodError> {
    Ok(Plan {
        parsed: query_filter::number(filter)?,
        sort: query_sort::or_default(sort),
        collapse: args::opt_bool(a, "collapseThreads", false)?,
    })
}

/// A grantee's filter (access.rs): the client's filter AND "in one of the readable
/// mailboxes", so the index, the sorts and the window only ever see readable messages. Thread
/// conditions are refused: they would answer about members the grantee cannot read.
pub fn restrict(
    access: &Access,
    filter: Option<Filter<Cond>>,
) -> Result<Option<Filter<Cond>>, MethodError> {
    let Some(readable) = access.readable_mailboxes() else {
        return Ok(filter);
    };
    let mut filter = filter;
    if let Some(f) = &mut filter {
        f.visit_mut(&mut |c: &mut Cond| match c {
            Cond::AllInThread(_) | Cond::SomeInThread(_) | Cond::NoneInThread(_) => {
                Err(MethodError::unsupported_filter(
                    "thread keyword conditions are not available in mailboxes shared with you",
                ))
            }
            _ => Ok(()),
        })?;
    }
    let mut within: Vec<Filter<Cond>> = readable
        .into_iter()
        .map(|m| Filter::Cond(Cond::InMailbox(Some(m))))
        .collect();
    if within.is_empty() {
        within.push(Filter::Cond(Cond::InMailbox(None)));
    }
    let within = Filter::Or(within);
    Ok(Some(match filter {
        Some(f) => Filter::And(vec![within, f]),
        None => within,
    }))
}

pub async fn query(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let (acct, access) = ctx.access(&a)?;
    let q = QueryRequest::<Cond, Property>::parse(ctx, &a, &EXTRA_ARGS)?;
    let window = q.window;
    let plan = plan(&a, restrict(&access, q.filter)?, q.sort)?;
    // A mailbox listing's total comes from the mailbox's counts, so calculateTotal (with or
    // without collapseThreads) reads one page, not the whole mailbox (issue #20).
    let counted = window.calculate_total && !plan.parsed.has_text();
    let counted = counted
        .then(|| {
            plan.parsed
                .filter
                .as_ref()
                .and_then(query_filter::only_mailbox)
        })
        .flatten();
    let stop_after = match counted {
        Some(_) => window.stop_after_counted(Some(MAX_LIMIT)),
        None => window.stop_after(Some(MAX_LIMIT)),
    };
    let snap = query_run::snapshot(ctx, acct, &plan).await?;
    let (state, ids, total) = ctx
        .jmap
        .store
        .read(move |r| {
            Ok((|| {
                let state = query_run::query_state(r, &snap, acct, &plan)?;
                let state = access.state(state);
                let total = match counted {
                    Some(m) => Some(mailbox_total(r, acct, m, plan.collapse)?),
                    None => None,
                };
                let ids = query_run::run(r, &snap, acct, &plan, stop_after)?;
                Ok::<_, MethodError>((state, ids, total))
            })())
        })
        .await??;
    match total {
        Some(t) => window.response_counted(ctx, state, &ids, IdKind::Email, Some(MAX_LIMIT), t),
        None => window.response(ctx, state, &ids, IdKind::Email, Some(MAX_LIMIT)),
    }
}

/// How many results an `inMailbox`-only query has: the mailbox's totalEmails, or collapsed its
/// totalThreads (the store keeps both per mailbox, moved with every change).
fn mailbox_total(
    r: &crate::store::Reader,
    acct: crate::store::model::AccountId,
    mailbox: u32,
    collapse: bool,
) -> Result<usize, MethodError> {
    let counts = r
        .mailbox(acct, mailbox)?
        .map(|m| m.counts)
        .unwrap_or_default();
    let n = if collapse {
        counts.total_threads
    } else {
        counts.total_emails
    };
    Ok(n as usize)
}
