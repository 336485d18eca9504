//! SieveScript/query (RFC 9661 §2.4): an account has few scripts (at most
//! `Limits::max_scripts`), so all are read, filtered (`name` contains, case-insensitive;
//! `isActive`) and sorted (`name`, `isActive`) in memory. Paging by position and limit.

use super::super::args::{self, Args};
use super::super::error::MethodError;
use super::super::{Ctx, state_string};
use super::id;
use crate::store::model::{DataType, SieveScript};
use serde_json::{Map, Value, json};

fn condition(s: &SieveScript, f: &Map<String, Value>) -> Result<bool, MethodError> {
    if let Some(op) = f.get("operator") {
        let list = f
            .get("conditions")
            .and_then(Value::as_array)
            .ok_or_else(|| MethodError::invalid_arguments("operator needs conditions"))?;
        let mut results = Vec::new();
        for c in list {
            let c = c
                .as_object()
                .ok_or_else(|| MethodError::invalid_arguments("a condition must be an object"))?;
            results.push(condition(s, c)?);
        }
        return match op.as_str() {
            Some("AND") => Ok(results.iter().all(|b| *b)),
            Some("OR") => Ok(results.iter().any(|b| *b)),
            Some("NOT") => Ok(!results.iter().any(|b| *b)),
            _ => Err(MethodError::unsupported_filter("unknown operator")),
        };
    }
    for (k, v) in f {
        let ok = match (k.as_str(), v) {
            ("name", Value::String(n)) => s.name.to_lowercase().contains(&n.to_lowercase()),
            ("isActive", Value::Bool(b)) => s.is_active == *b,
            _ => {
                return Err(MethodError::unsupported_filter(format!(
                    "unsupported condition '{k}'"
                )));
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

pub async fn query(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let acct = ctx.account(&a)?;
    args::only(
        &a,
        &[
            "accountId",
            "filter",
            "sort",
            "position",
            "limit",
            "calculateTotal",
        ],
    )?;
    let (state, mut scripts) = ctx
        .jmap
        .store
        .read(move |r| {
            Ok((
                r.state(acct, DataType::SieveScript)?,
                r.sieve_scripts(acct)?,
            ))
        })
        .await?;
    if let Some(f) = a.get("filter").filter(|f| !f.is_null()) {
        let f = f
            .as_object()
            .ok_or_else(|| MethodError::invalid_arguments("filter must be an object"))?;
        let mut kept = Vec::new();
        for s in scripts {
            if condition(&s, f)? {
                kept.push(s);
            }
        }
        scripts = kept;
    }
    if let Some(sort) = a.get("sort").filter(|s| !s.is_null()) {
        let sort = sort
            .as_array()
            .ok_or_else(|| MethodError::invalid_arguments("sort must be a list"))?;
        let mut keys = Vec::new();
        for c in sort.iter().rev() {
            let prop = c.get("property").and_then(Value::as_str).unwrap_or("");
            let asc = c
                .get("isAscending")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            if !matches!(prop, "name" | "isActive") {
                return Err(MethodError::unsupported_sort(format!(
                    "cannot sort by '{prop}'"
                )));
            }
            keys.push((prop.to_string(), asc));
        }
        scripts.sort_by_key(|s| s.id);
        for (prop, asc) in keys {
            scripts.sort_by(|x, y| {
                let o = if prop == "name" {
                    x.name.cmp(&y.name)
                } else {
                    x.is_active.cmp(&y.is_active)
                };
                if asc { o } else { o.reverse() }
            });
        }
    }
    let total = scripts.len();
    let position = args::opt_int(&a, "position")?.unwrap_or(0);
    let start = if position < 0 {
        total.saturating_sub(position.unsigned_abs() as usize)
    } else {
        (position as usize).min(total)
    };
    let limit = args::opt_uint(&a, "limit")?.map_or(total, |l| l as usize);
    let ids: Vec<String> = scripts[start..]
        .iter()
        .take(limit)
        .map(|s| id(s.id))
        .collect();
    let mut out = json!({
        "accountId": ctx.account_id(),
        "queryState": state_string(state),
        "canCalculateChanges": false,
        "position": start,
        "ids": ids,
    });
    if args::opt_bool(&a, "calculateTotal", false)? {
        out["total"] = json!(total);
    }
    Ok(out)
}
