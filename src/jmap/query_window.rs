//! The parts of `/query` and `/queryChanges` (RFC 8620 §5.5-5.6) that are the same for every
//! type whose query sorts all its objects in memory (Mailbox, EmailSubmission): the result
//! window (position, anchor, anchorOffset, limit, calculateTotal), the queryChanges answer
//! built from the full new result list and the ids the changelog says changed, and the
//! FilterOperator tree and Comparator direction around the type's own conditions and sorts.
//!
//! Email/query has its own window: its results come from the index in pages.

use super::args::{self, Args};
use super::error::MethodError;
use super::{parse_state, state_string};
use crate::store::model::IdKind;
use serde_json::{Value, json};

/// The window arguments of a `/query`.
pub struct Window {
    position: i64,
    anchor: Option<String>,
    anchor_offset: i64,
    limit: Option<usize>,
    calculate_total: bool,
}

impl Window {
    pub fn parse(a: &Args) -> Result<Window, MethodError> {
        let limit = match args::opt_int(a, "limit")? {
            Some(l) if l < 0 => {
                return Err(MethodError::invalid_arguments(
                    "'limit' must not be negative",
                ));
            }
            Some(l) => Some(usize::try_from(l).unwrap_or(usize::MAX)),
            None => None,
        };
        Ok(Window {
            position: args::opt_int(a, "position")?.unwrap_or(0),
            anchor: args::opt_str(a, "anchor")?.map(str::to_string),
            anchor_offset: args::opt_int(a, "anchorOffset")?.unwrap_or(0),
            limit,
            calculate_total: args::opt_bool(a, "calculateTotal", false)?,
        })
    }

    /// The `/query` response for the full ordered result `ids` (§5.5: an anchor wins over
    /// position; a negative position counts from the end; both are clamped to the results).
    pub fn response(
        &self,
        account_id: String,
        state: u64,
        ids: &[u32],
        kind: IdKind,
    ) -> Result<Value, MethodError> {
        let total = ids.len();
        let start = match &self.anchor {
            Some(anchor) => {
                let at = kind
                    .decode(anchor)
                    .and_then(|n| ids.iter().position(|i| *i == n))
                    .ok_or_else(|| {
                        MethodError::new("anchorNotFound", "the anchor is not in the results")
                    })?;
                (at as i64).saturating_add(self.anchor_offset).max(0) as usize
            }
            None if self.position < 0 => (total as i64 + self.position).max(0) as usize,
            None => usize::try_from(self.position).unwrap_or(usize::MAX),
        }
        .min(total);
        let page: Vec<String> = ids[start..]
            .iter()
            .take(self.limit.unwrap_or(usize::MAX))
            .map(|i| kind.encode(*i))
            .collect();
        let mut out = json!({
            "accountId": account_id,
            "queryState": state_string(state),
            "canCalculateChanges": true,
            "position": start,
            "ids": page,
        });
        if self.calculate_total {
            out["total"] = json!(total);
        }
        if let Some(l) = self.limit {
            out["limit"] = json!(l);
        }
        Ok(out)
    }
}

/// The arguments of a `/queryChanges` besides the type's filter and sort.
pub struct ChangesArgs {
    since_s: String,
    pub since: u64,
    max: Option<usize>,
    calculate_total: bool,
}

impl ChangesArgs {
    pub fn parse(a: &Args) -> Result<ChangesArgs, MethodError> {
        let since_s = args::req_str(a, "sinceQueryState")?.to_string();
        let since = parse_state(&since_s).ok_or_else(MethodError::cannot_calculate_changes)?;
        let max = match args::opt_uint(a, "maxChanges")? {
            Some(0) => {
                return Err(MethodError::invalid_arguments(
                    "'maxChanges' must be greater than 0",
                ));
            }
            m => m.map(|m| usize::try_from(m).unwrap_or(usize::MAX)),
        };
        args::opt_str(a, "upToId")?;
        Ok(ChangesArgs {
            since_s,
            since,
            max,
            calculate_total: args::opt_bool(a, "calculateTotal", false)?,
        })
    }

    /// The `/queryChanges` response: every changed id is in `removed`, and those in the new
    /// results are in `added` with their index, as §5.6 allows a server to report.
    pub fn response(
        &self,
        account_id: String,
        state: u64,
        ids: &[u32],
        changed: &[u32],
        kind: IdKind,
    ) -> Result<Value, MethodError> {
        let removed: Vec<String> = changed.iter().map(|i| kind.encode(*i)).collect();
        let added: Vec<Value> = ids
            .iter()
            .enumerate()
            .filter(|(_, i)| changed.contains(i))
            .map(|(n, i)| json!({"id": kind.encode(*i), "index": n}))
            .collect();
        if let Some(m) = self.max
            && removed.len() + added.len() > m
        {
            return Err(MethodError::new(
                "tooManyChanges",
                format!("more than {m} changes"),
            ));
        }
        let mut out = json!({
            "accountId": account_id,
            "oldQueryState": self.since_s,
            "newQueryState": state_string(state),
            "removed": removed,
            "added": added,
        });
        if self.calculate_total {
            out["total"] = json!(ids.len());
        }
        Ok(out)
    }
}

/// Parses one FilterCondition object into a type's condition.
pub type ParseCondition<C> = dyn Fn(&serde_json::Map<String, Value>) -> Result<C, MethodError>;

/// A /query filter (§5.5): FilterOperators over the type's conditions `C`.
pub enum Filter<C> {
    And(Vec<Filter<C>>),
    Or(Vec<Filter<C>>),
    Not(Vec<Filter<C>>),
    Cond(C),
}

impl<C> Filter<C> {
    /// Parses `filter` (null = none); `leaf` parses one FilterCondition object.
    pub fn parse(v: &Value, leaf: &ParseCondition<C>) -> Result<Option<Filter<C>>, MethodError> {
        Self::parse_at(v, 0, leaf)
    }

    fn parse_at(
        v: &Value,
        depth: usize,
        leaf: &ParseCondition<C>,
    ) -> Result<Option<Filter<C>>, MethodError> {
        if depth > 16 {
            return Err(MethodError::unsupported_filter("the filter nests too deep"));
        }
        let m = match v {
            Value::Null => return Ok(None),
            Value::Object(m) => m,
            _ => return Err(MethodError::invalid_arguments("'filter' must be an object")),
        };
        let Some(op) = m.get("operator") else {
            return leaf(m).map(|c| Some(Filter::Cond(c)));
        };
        let Some(Value::Array(list)) = m.get("conditions") else {
            return Err(MethodError::invalid_arguments(
                "a FilterOperator needs 'conditions'",
            ));
        };
        let conds = list
            .iter()
            .map(|c| {
                Self::parse_at(c, depth + 1, leaf)?
                    .ok_or_else(|| MethodError::invalid_arguments("a condition must be an object"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        match op.as_str() {
            Some("AND") => Ok(Some(Filter::And(conds))),
            Some("OR") => Ok(Some(Filter::Or(conds))),
            Some("NOT") => Ok(Some(Filter::Not(conds))),
            _ => Err(MethodError::unsupported_filter("unknown operator")),
        }
    }

    /// Does an object match, given how one condition matches it?
    pub fn matches(&self, cond: &dyn Fn(&C) -> bool) -> bool {
        match self {
            Filter::And(c) => c.iter().all(|f| f.matches(cond)),
            Filter::Or(c) => c.iter().any(|f| f.matches(cond)),
            Filter::Not(c) => !c.iter().any(|f| f.matches(cond)),
            Filter::Cond(c) => cond(c),
        }
    }
}

/// One Comparator (§5.5) on a property the type can sort by.
pub struct Comparator {
    pub property: String,
    pub ascending: bool,
    pub collation: Option<String>,
}

/// Parses `sort` (null = none); a property not in `known` is unsupportedSort.
pub fn comparators(
    v: Option<&Value>,
    known: &[&str],
    what: &str,
) -> Result<Vec<Comparator>, MethodError> {
    let list = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(MethodError::invalid_arguments("'sort' must be an array")),
    };
    list.iter()
        .map(|c| {
            let Value::Object(c) = c else {
                return Err(MethodError::invalid_arguments(
                    "a Comparator must be an object",
                ));
            };
            let property = c
                .get("property")
                .and_then(Value::as_str)
                .ok_or_else(|| MethodError::invalid_arguments("a Comparator needs 'property'"))?;
            if !known.contains(&property) {
                return Err(MethodError::unsupported_sort(format!(
                    "cannot sort {what} by '{property}'"
                )));
            }
            let ascending = match c.get("isAscending") {
                None | Some(Value::Null) => true,
                Some(Value::Bool(b)) => *b,
                Some(_) => {
                    return Err(MethodError::invalid_arguments(
                        "'isAscending' must be a boolean",
                    ));
                }
            };
            Ok(Comparator {
                property: property.to_string(),
                ascending,
                collation: c
                    .get("collation")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            })
        })
        .collect()
}
