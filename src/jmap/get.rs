//! The shared parts of every `/get` (RFC 8620 §5.1): ids (null = all), properties (id is always
//! returned), notFound, and the maxObjectsInGet limit.

use super::args::{self, Args};
use super::error::MethodError;
use super::{Ctx, state_string};
use serde_json::{Map, Value, json};

pub struct GetArgs {
    pub ids: Option<Vec<String>>,
    pub properties: Option<Vec<String>>,
}

pub fn parse(
    ctx: &Ctx<'_>,
    a: &Args,
    extra: &[&str],
    known: &[&str],
) -> Result<GetArgs, MethodError> {
    let mut allowed = vec!["accountId", "ids", "properties"];
    allowed.extend_from_slice(extra);
    args::only(a, &allowed)?;
    // RFC 8620 §5.1: an id given more than once is returned once (list or notFound), so a
    // request naming the same id a thousand times costs one lookup.
    let ids = args::opt_str_list(a, "ids")?.map(|ids| {
        let mut seen = std::collections::HashSet::with_capacity(ids.len());
        ids.into_iter()
            .map(|id| ctx.resolve_id(&id))
            .filter(|id| seen.insert(id.clone()))
            .collect::<Vec<_>>()
    });
    if let Some(ids) = &ids
        && ids.len() > ctx.jmap.limits.max_objects_in_get
    {
        return Err(MethodError::request_too_large(format!(
            "at most {} ids per /get",
            ctx.jmap.limits.max_objects_in_get
        )));
    }
    let properties = args::opt_str_list(a, "properties")?;
    if let Some(p) = &properties {
        for name in p {
            if !known.contains(&name.as_str()) && !name.starts_with("header:") {
                return Err(MethodError::invalid_arguments(format!(
                    "unknown property '{name}'"
                )));
            }
        }
    }
    Ok(GetArgs { ids, properties })
}

/// Keeps the requested properties of a full object (and always `id`).
pub fn select(full: Map<String, Value>, props: Option<&[String]>) -> Value {
    match props {
        None => Value::Object(full),
        Some(p) => {
            let mut out = Map::new();
            for (k, v) in full {
                if k == "id" || p.contains(&k) {
                    out.insert(k, v);
                }
            }
            Value::Object(out)
        }
    }
}

/// The list and notFound of a /get over objects already loaded in full: every object when ids
/// is null, else each asked id that `find` resolves (ids were deduplicated by [`parse`]).
pub fn pick<'a, T: 'a>(
    g: GetArgs,
    all: &'a [T],
    find: impl Fn(&str) -> Option<&'a T>,
    to_json: impl Fn(&T) -> Map<String, Value>,
) -> (Vec<Value>, Vec<String>) {
    let props = g.properties.as_deref();
    let Some(ids) = g.ids else {
        return (
            all.iter().map(|t| select(to_json(t), props)).collect(),
            Vec::new(),
        );
    };
    let mut list = Vec::new();
    let mut not_found = Vec::new();
    for id in ids {
        match find(&id) {
            Some(t) => list.push(select(to_json(t), props)),
            None => not_found.push(id),
        }
    }
    (list, not_found)
}

pub fn response(account_id: &str, state: u64, list: Vec<Value>, not_found: Vec<String>) -> Value {
    json!({
        "accountId": account_id,
        "state": state_string(state),
        "list": list,
        "notFound": not_found,
    })
}
