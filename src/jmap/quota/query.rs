//! Quota/query (RFC 9425 §5.3) on the shared /query path (`jmap/query/`). Conditions
//! ([`Cond`]): name (contains, case-insensitive), scope, resourceType (exact), type (in
//! `types`). Sorts ([`Sort`]): name (under the comparator's collation) and used, then the id.
//! The query state is the Quota state.

use super::super::Ctx;
use super::super::args::Args;
use super::super::error::MethodError;
use super::super::query::{Comparator, Condition, Filter, QueryRequest, SortProperty};
use super::{Quota, load};
use crate::store::model::IdKind;
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// One FilterCondition property (RFC 9425 §5.3).
#[derive(Debug, Clone)]
pub enum Cond {
    Name(String),
    Scope(String),
    ResourceType(String),
    Type(String),
}

impl Condition for Cond {
    fn parse(_: &Ctx<'_>, k: &str, v: &Value) -> Result<Option<Cond>, MethodError> {
        let s = || {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| MethodError::invalid_arguments(format!("'{k}' must be a string")))
        };
        Ok(Some(match k {
            "name" => Cond::Name(s()?.to_lowercase()),
            "scope" => Cond::Scope(s()?),
            "resourceType" => Cond::ResourceType(s()?),
            "type" => Cond::Type(s()?),
            _ => return Ok(None),
        }))
    }
}

impl Cond {
    fn matches(&self, q: &Quota) -> bool {
        match self {
            Cond::Name(n) => q.name.to_lowercase().contains(n.as_str()),
            Cond::Scope(s) => s == "account",
            Cond::ResourceType(t) => t == q.resource_type,
            Cond::Type(t) => t == "Email",
        }
    }
}

/// One sort property (RFC 9425 §5.3: name and used MUST be supported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Name,
    Used,
}

impl SortProperty for Sort {
    fn parse(property: &str, _: &Map<String, Value>) -> Result<Option<Sort>, MethodError> {
        Ok(match property {
            "name" => Some(Sort::Name),
            "used" => Some(Sort::Used),
            _ => None,
        })
    }
}

fn compare(sorts: &[Comparator<Sort>], a: &Quota, b: &Quota) -> Ordering {
    for s in sorts {
        let o = s.order(match s.property {
            Sort::Name => s.collation.key(&a.name).cmp(&s.collation.key(&b.name)),
            Sort::Used => a.used.cmp(&b.used),
        });
        if o != Ordering::Equal {
            return o;
        }
    }
    a.id.cmp(&b.id)
}

/// The full ordered result ids.
pub fn run(
    filter: Option<&Filter<Cond>>,
    sorts: &[Comparator<Sort>],
    mut all: Vec<Quota>,
) -> Vec<u32> {
    all.retain(|q| filter.is_none_or(|f| f.matches(&|c: &Cond| c.matches(q))));
    all.sort_by(|a, b| compare(sorts, a, b));
    all.into_iter().map(|q| q.id).collect()
}

pub async fn query(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let acct = ctx.account(&a)?;
    let q = QueryRequest::<Cond, Sort>::parse(ctx, &a, &[])?;
    let (state, all) = load(ctx, acct).await?;
    let ids = run(q.filter.as_ref(), &q.sort, all);
    q.window.response(ctx, state, &ids, IdKind::Quota, None)
}
