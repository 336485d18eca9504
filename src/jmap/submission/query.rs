//! EmailSubmission/query and /queryChanges (RFC 8621 §7.3-7.4) on the shared /query path
//! (`jmap/query/`).
//!
//! An account has few submissions, so a query reads them all, then filters and sorts in
//! memory. Conditions ([`Cond`]): identityIds, emailIds, threadIds, undoStatus, before, after
//! (on `sendAt`). Sorts ([`Sort`]): emailId, threadId, sentAt (the spec's name for the `sendAt`
//! order; `sendAt` is accepted too), then the id as a tiebreak.
//!
//! The query state is the EmailSubmission state; queryChanges reports every submission changed
//! since the client's state as removed, and re-adds those still in the results (§5.6 allows it).

use crate::jmap::Ctx;
use crate::jmap::args::Args;
use crate::jmap::error::MethodError;
use crate::jmap::query::{Comparator, Condition, Filter, SortProperty, changes, list};
use crate::store::model::{DataType, IdKind};
use crate::store::model_send::Submission;
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// One FilterCondition property (RFC 8621 §7.3).
#[derive(Debug, Clone)]
pub enum Cond {
    Identities(Vec<String>),
    /// Ids that do not decode name nothing, so they are dropped (they match nothing).
    Emails(Vec<u32>),
    Threads(Vec<u32>),
    Undo(String),
    Before(i64),
    After(i64),
}

fn id_list(ctx: &Ctx<'_>, v: &Value, name: &str) -> Result<Vec<String>, MethodError> {
    let Value::Array(a) = v else {
        return Err(MethodError::invalid_arguments(format!(
            "filter condition '{name}' must be an array of ids"
        )));
    };
    a.iter()
        .map(|id| {
            id.as_str().map(|s| ctx.resolve_id(s)).ok_or_else(|| {
                MethodError::invalid_arguments(format!("filter condition '{name}' holds ids"))
            })
        })
        .collect()
}

fn date(v: &Value, name: &str) -> Result<i64, MethodError> {
    v.as_str()
        .and_then(crate::date::parse_rfc3339)
        .ok_or_else(|| MethodError::invalid_arguments(format!("'{name}' must be a UTCDate")))
}

impl Condition for Cond {
    fn parse(ctx: &Ctx<'_>, k: &str, v: &Value) -> Result<Option<Cond>, MethodError> {
        let decode = |list: Vec<String>, kind: IdKind| -> Vec<u32> {
            list.iter().filter_map(|s| kind.decode(s)).collect()
        };
        Ok(Some(match k {
            "identityIds" => Cond::Identities(id_list(ctx, v, k)?),
            "emailIds" => Cond::Emails(decode(id_list(ctx, v, k)?, IdKind::Email)),
            "threadIds" => Cond::Threads(decode(id_list(ctx, v, k)?, IdKind::Thread)),
            "undoStatus" => Cond::Undo(
                v.as_str()
                    .ok_or_else(|| MethodError::invalid_arguments("'undoStatus' must be a string"))?
                    .to_string(),
            ),
            "before" => Cond::Before(date(v, k)?),
            "after" => Cond::After(date(v, k)?),
            _ => return Ok(None),
        }))
    }
}

impl Cond {
    fn matches(&self, s: &Submission) -> bool {
        match self {
            Cond::Identities(l) => l.contains(&s.identity_id),
            Cond::Emails(l) => l.contains(&s.email_id),
            Cond::Threads(l) => l.contains(&s.thread_id),
            Cond::Undo(u) => *u == s.undo_status,
            Cond::Before(t) => s.send_at < *t,
            Cond::After(t) => s.send_at >= *t,
        }
    }
}

/// One sort property (RFC 8621 §7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    EmailId,
    ThreadId,
    SentAt,
}

impl SortProperty for Sort {
    fn parse(property: &str, _: &Map<String, Value>) -> Result<Option<Sort>, MethodError> {
        Ok(match property {
            "emailId" => Some(Sort::EmailId),
            "threadId" => Some(Sort::ThreadId),
            "sentAt" | "sendAt" => Some(Sort::SentAt),
            _ => None,
        })
    }
}

fn compare(sorts: &[Comparator<Sort>], a: &Submission, b: &Submission) -> Ordering {
    for s in sorts {
        let o = s.order(match s.property {
            Sort::EmailId => a.email_id.cmp(&b.email_id),
            Sort::ThreadId => a.thread_id.cmp(&b.thread_id),
            Sort::SentAt => a.send_at.cmp(&b.send_at),
        });
        if o != Ordering::Equal {
            return o;
        }
    }
    a.id.cmp(&b.id)
}

/// The full ordered result ids.
fn run(
    filter: Option<&Filter<Cond>>,
    sorts: &[Comparator<Sort>],
    mut all: Vec<Submission>,
) -> Vec<u32> {
    all.retain(|s| filter.is_none_or(|f| f.matches(&|c: &Cond| c.matches(s))));
    all.sort_by(|a, b| compare(sorts, a, b));
    all.into_iter().map(|s| s.id).collect()
}

pub async fn query(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let of = (DataType::EmailSubmission, IdKind::Submission);
    list::over_list(ctx, a, of, |r, acct| r.submissions(acct), run).await
}

pub async fn query_changes(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let of = (DataType::EmailSubmission, IdKind::Submission);
    changes::over_list(ctx, a, of, |r, acct| r.submissions(acct), run).await
}
