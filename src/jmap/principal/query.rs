//! Principal/query and /queryChanges (RFC 9670 §4.4-4.5) on the shared /query path. Every
//! FilterCondition of §4.4.1: accountIds, email, name, text (name, email or description), type,
//! timeZone; text conditions are case-insensitive substring matches. Sorts: name, email, type.

use super::{Loaded, kind, load};
use crate::jmap::Ctx;
use crate::jmap::args::Args;
use crate::jmap::error::MethodError;
use crate::jmap::query::{
    Comparator, Condition, Filter, QueryChangesRequest, QueryRequest, SortProperty,
};
use crate::store::model::IdKind;
use serde_json::{Map, Value};
use std::cmp::Ordering;

#[derive(Debug, Clone)]
pub enum Cond {
    AccountIds(Vec<u32>),
    Email(String),
    Name(String),
    Text(String),
    Type(String),
    TimeZone(String),
}

fn string(k: &str, v: &Value) -> Result<String, MethodError> {
    v.as_str()
        .map(str::to_lowercase)
        .ok_or_else(|| MethodError::invalid_arguments(format!("filter '{k}' must be a string")))
}

impl Condition for Cond {
    fn parse(ctx: &Ctx<'_>, k: &str, v: &Value) -> Result<Option<Cond>, MethodError> {
        Ok(Some(match k {
            "accountIds" => {
                let Value::Array(list) = v else {
                    return Err(MethodError::invalid_arguments(
                        "filter 'accountIds' must be an array of ids",
                    ));
                };
                let mut ids = Vec::with_capacity(list.len());
                for id in list {
                    let s = id.as_str().ok_or_else(|| {
                        MethodError::invalid_arguments("filter 'accountIds' holds ids")
                    })?;
                    if let Some(n) = IdKind::Account.decode(&ctx.resolve_id(s)) {
                        ids.push(n);
                    }
                }
                Cond::AccountIds(ids)
            }
            "email" => Cond::Email(string(k, v)?),
            "name" => Cond::Name(string(k, v)?),
            "text" => Cond::Text(string(k, v)?),
            "type" => Cond::Type(v.as_str().unwrap_or_default().to_string()),
            "timeZone" => Cond::TimeZone(string(k, v)?),
            _ => return Ok(None),
        }))
    }
}

impl Cond {
    fn matches(&self, p: &Loaded) -> bool {
        let name = p.account.name.to_lowercase();
        match self {
            Cond::AccountIds(ids) => p.reachable.is_some() && ids.contains(&p.account.id),
            Cond::Email(s) | Cond::Name(s) | Cond::Text(s) => name.contains(s.as_str()),
            Cond::Type(t) => kind(p) == t,
            // No principal has a time zone.
            Cond::TimeZone(_) => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Name,
    Email,
    Type,
}

impl SortProperty for Sort {
    fn parse(property: &str, _: &Map<String, Value>) -> Result<Option<Sort>, MethodError> {
        Ok(match property {
            "name" => Some(Sort::Name),
            "email" => Some(Sort::Email),
            "type" => Some(Sort::Type),
            _ => None,
        })
    }
}

fn run(
    filter: Option<&Filter<Cond>>,
    sorts: &[Comparator<Sort>],
    mut all: Vec<Loaded>,
) -> Vec<u32> {
    all.retain(|p| filter.is_none_or(|f| f.matches(&|c: &Cond| c.matches(p))));
    all.sort_by(|a, b| {
        for s in sorts {
            let o = s.order(match s.property {
                Sort::Name | Sort::Email => s
                    .collation
                    .key(&a.account.name)
                    .cmp(&s.collation.key(&b.account.name)),
                Sort::Type => kind(a).cmp(kind(b)),
            });
            if o != Ordering::Equal {
                return o;
            }
        }
        a.account.id.cmp(&b.account.id)
    });
    all.into_iter().map(|p| p.account.id).collect()
}

pub async fn query(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    ctx.account(&a)?;
    let q = QueryRequest::<Cond, Sort>::parse(ctx, &a, &[])?;
    let user = ctx.user.id;
    let (state, all) = ctx.jmap.store.read(move |r| load(r, user)).await?;
    let ids = run(q.filter.as_ref(), &q.sort, all);
    q.window.response(ctx, state, &ids, IdKind::Account, None)
}

/// The current state: nothing changed; any other: cannotCalculateChanges (see `mod.rs`).
pub async fn query_changes(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    ctx.account(&a)?;
    let q = QueryChangesRequest::<Cond, Sort>::parse(ctx, &a, &[])?;
    let user = ctx.user.id;
    let (state, all) = ctx.jmap.store.read(move |r| load(r, user)).await?;
    if q.since.since != state {
        return Err(MethodError::cannot_calculate_changes());
    }
    let ids = run(q.filter.as_ref(), &q.sort, all);
    q.since.response(ctx, state, &ids, &[], IdKind::Account)
}
