//! EmailSubmission/query and /queryChanges (RFC 8621 §7.3-7.4).
//!
//! An account has few submissions, so a query reads them all, then filters and sorts in
//! memory. Conditions: identityIds, emailIds, threadIds, undoStatus, before, after (on
//! `sendAt`), nested in AND/OR/NOT. Sorts: emailId, threadId, sentAt (the spec's name for the
//! `sendAt` order; `sendAt` is accepted too), then the id as a tiebreak.
//!
//! The query state is the EmailSubmission state; queryChanges reports every submission changed
//! since the client's state as removed, and re-adds those still in the results (§5.6 allows it).

use crate::jmap::Ctx;
use crate::jmap::args::{self, Args};
use crate::jmap::error::MethodError;
use crate::jmap::query_window::{ChangesArgs, Comparator, Filter, Window, comparators};
use crate::store::StoreError;
use crate::store::model::{DataType, IdKind};
use crate::store::model_send::Submission;
use serde_json::{Map, Value};
use std::cmp::Ordering;

enum Cond {
    Identities(Vec<String>),
    Emails(Vec<u32>),
    Threads(Vec<u32>),
    Undo(String),
    Before(i64),
    After(i64),
}

fn id_list(v: &Value, name: &str) -> Result<Vec<String>, MethodError> {
    let Value::Array(a) = v else {
        return Err(MethodError::invalid_arguments(format!(
            "filter condition '{name}' must be an array of ids"
        )));
    };
    let mut out = Vec::new();
    for id in a {
        let s = id.as_str().ok_or_else(|| {
            MethodError::invalid_arguments(format!("filter condition '{name}' holds ids"))
        })?;
        out.push(s.to_string());
    }
    Ok(out)
}

fn date(v: &Value, name: &str) -> Result<i64, MethodError> {
    v.as_str()
        .and_then(crate::date::parse_rfc3339)
        .ok_or_else(|| MethodError::invalid_arguments(format!("'{name}' must be a UTCDate")))
}

type SubmissionFilter = Filter<Vec<Cond>>;

fn parse_condition(m: &Map<String, Value>) -> Result<Vec<Cond>, MethodError> {
    // An id that does not decode names nothing, so it matches nothing: dropping it is exact.
    let decode = |list: Vec<String>, kind: IdKind| -> Vec<u32> {
        list.iter().filter_map(|s| kind.decode(s)).collect()
    };
    let mut conds = Vec::new();
    for (k, v) in m {
        conds.push(match k.as_str() {
            "identityIds" => Cond::Identities(id_list(v, k)?),
            "emailIds" => Cond::Emails(decode(id_list(v, k)?, IdKind::Email)),
            "threadIds" => Cond::Threads(decode(id_list(v, k)?, IdKind::Thread)),
            "undoStatus" => Cond::Undo(
                v.as_str()
                    .ok_or_else(|| MethodError::invalid_arguments("'undoStatus' must be a string"))?
                    .to_string(),
            ),
            "before" => Cond::Before(date(v, k)?),
            "after" => Cond::After(date(v, k)?),
            _ => {
                return Err(MethodError::unsupported_filter(format!(
                    "unknown condition '{k}'"
                )));
            }
        });
    }
    Ok(conds)
}

fn matches(f: &SubmissionFilter, s: &Submission) -> bool {
    f.matches(&|conds: &Vec<Cond>| {
        conds.iter().all(|c| match c {
            Cond::Identities(l) => l.contains(&s.identity_id),
            Cond::Emails(l) => l.contains(&s.email_id),
            Cond::Threads(l) => l.contains(&s.thread_id),
            Cond::Undo(u) => *u == s.undo_status,
            Cond::Before(t) => s.send_at < *t,
            Cond::After(t) => s.send_at >= *t,
        })
    })
}

fn parse_sort(v: Option<&Value>) -> Result<Vec<Comparator>, MethodError> {
    comparators(
        v,
        &["emailId", "threadId", "sentAt", "sendAt"],
        "submissions",
    )
}

fn compare(sorts: &[Comparator], a: &Submission, b: &Submission) -> Ordering {
    for s in sorts {
        let o = match s.property.as_str() {
            "emailId" => a.email_id.cmp(&b.email_id),
            "threadId" => a.thread_id.cmp(&b.thread_id),
            _ => a.send_at.cmp(&b.send_at),
        };
        let o = if s.ascending { o } else { o.reverse() };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.id.cmp(&b.id)
}

/// The full ordered result ids.
fn run(
    filter: &Option<SubmissionFilter>,
    sorts: &[Comparator],
    mut all: Vec<Submission>,
) -> Vec<u32> {
    all.retain(|s| filter.as_ref().is_none_or(|f| matches(f, s)));
    all.sort_by(|a, b| compare(sorts, a, b));
    all.into_iter().map(|s| s.id).collect()
}

/// The parsed filter (None = all) and sort.
type Parsed = (Option<SubmissionFilter>, Vec<Comparator>);

fn parse_query(a: &Args) -> Result<Parsed, MethodError> {
    let filter = match a.get("filter") {
        Some(f) => Filter::parse(f, &parse_condition)?,
        None => None,
    };
    Ok((filter, parse_sort(a.get("sort"))?))
}

pub async fn query(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    args::only(
        &a,
        &[
            "accountId",
            "filter",
            "sort",
            "position",
            "anchor",
            "anchorOffset",
            "limit",
            "calculateTotal",
        ],
    )?;
    let acct = ctx.account(&a)?;
    let (filter, sorts) = parse_query(&a)?;
    let window = Window::parse(&a)?;
    let (state, all) = ctx
        .jmap
        .store
        .read(move |r| {
            Ok((
                r.state(acct, DataType::EmailSubmission)?,
                r.submissions(acct)?,
            ))
        })
        .await?;
    window.response(
        ctx.account_id(),
        state,
        &run(&filter, &sorts, all),
        IdKind::Submission,
    )
}

pub async fn query_changes(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    args::only(
        &a,
        &[
            "accountId",
            "filter",
            "sort",
            "sinceQueryState",
            "maxChanges",
            "upToId",
            "calculateTotal",
        ],
    )?;
    let acct = ctx.account(&a)?;
    let (filter, sorts) = parse_query(&a)?;
    let c = ChangesArgs::parse(&a)?;
    let since = c.since;
    let read = ctx
        .jmap
        .store
        .read(move |r| {
            let ty = DataType::EmailSubmission;
            // From the future is Invalid, trimmed from the log is None: both cannot be answered.
            let valid = r.changes(acct, ty, since, 1)?.is_some();
            let rows = r.change_rows(acct, ty, since, usize::MAX)?;
            Ok((valid, r.state(acct, ty)?, r.submissions(acct)?, rows))
        })
        .await;
    let (valid, state, all, rows) = match read {
        Ok(v) => v,
        Err(StoreError::StateTooOld) => return Err(MethodError::cannot_calculate_changes()),
        Err(e) => return Err(e.into()),
    };
    if !valid {
        return Err(MethodError::cannot_calculate_changes());
    }
    let mut changed: Vec<u32> = Vec::new();
    for row in rows {
        if !changed.contains(&row.id) {
            changed.push(row.id);
        }
    }
    let ids = run(&filter, &sorts, all);
    c.response(ctx.account_id(), state, &ids, &changed, IdKind::Submission)
}
