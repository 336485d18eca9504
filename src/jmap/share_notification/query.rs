//! ShareNotification/query and /queryChanges (RFC 9670 §5.5-5.6) on the shared /query path:
//! conditions after, before, objectType, objectAccountId; sort by created (ties by id).

use crate::jmap::Ctx;
use crate::jmap::args::Args;
use crate::jmap::error::MethodError;
use crate::jmap::query::{Comparator, Condition, Filter, SortProperty, changes, list};
use crate::store::ShareNote;
use crate::store::model::{DataType, IdKind};
use serde_json::{Map, Value};

#[derive(Debug, Clone)]
pub enum Cond {
    After(i64),
    Before(i64),
    ObjectType(String),
    /// None: an id that names no account (matches nothing).
    ObjectAccount(Option<u32>),
}

impl Condition for Cond {
    fn parse(_: &Ctx<'_>, k: &str, v: &Value) -> Result<Option<Cond>, MethodError> {
        let s = || {
            v.as_str().ok_or_else(|| {
                MethodError::invalid_arguments(format!("filter '{k}' must be a string"))
            })
        };
        let date = || {
            s().and_then(|d| {
                crate::date::parse_rfc3339(d).ok_or_else(|| {
                    MethodError::invalid_arguments(format!("filter '{k}' must be a UTCDate"))
                })
            })
        };
        Ok(Some(match k {
            "after" => Cond::After(date()?),
            "before" => Cond::Before(date()?),
            "objectType" => Cond::ObjectType(s()?.to_string()),
            "objectAccountId" => Cond::ObjectAccount(IdKind::Account.decode(s()?)),
            _ => return Ok(None),
        }))
    }
}

impl Cond {
    fn matches(&self, n: &ShareNote) -> bool {
        match self {
            Cond::After(t) => n.created >= *t,
            Cond::Before(t) => n.created < *t,
            Cond::ObjectType(t) => super::object_type(n) == t,
            Cond::ObjectAccount(a) => *a == Some(n.object_account),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Created,
}

impl SortProperty for Sort {
    fn parse(property: &str, _: &Map<String, Value>) -> Result<Option<Sort>, MethodError> {
        Ok((property == "created").then_some(Sort::Created))
    }
}

fn run(
    filter: Option<&Filter<Cond>>,
    sorts: &[Comparator<Sort>],
    mut all: Vec<ShareNote>,
) -> Vec<u32> {
    all.retain(|n| filter.is_none_or(|f| f.matches(&|c: &Cond| c.matches(n))));
    all.sort_by(|a, b| {
        for s in sorts {
            // Ties (the same second) by id, which grows with time, in the same direction.
            let o = s.order(a.created.cmp(&b.created).then(a.id.cmp(&b.id)));
            if o != std::cmp::Ordering::Equal {
                return o;
            }
        }
        a.id.cmp(&b.id)
    });
    all.into_iter().map(|n| n.id).collect()
}

pub async fn query(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let of = (DataType::ShareNotification, IdKind::ShareNote);
    list::over_list(ctx, a, of, |r, acct| r.share_notes(acct), run).await
}

pub async fn query_changes(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let of = (DataType::ShareNotification, IdKind::ShareNote);
    changes::over_list(ctx, a, of, |r, acct| r.share_notes(acct), run).await
}
