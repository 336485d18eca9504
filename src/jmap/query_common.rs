//! The shared parts of `/query` (RFC 8620 §5.5) and `/queryChanges` (§5.6), for any type.
//!
//! A type's query does three things itself: turn a FilterCondition into its own condition type
//! (a closure given to [`Filter::parse`]), decide which sort properties it supports, and produce
//! the complete, sorted list of matching ids. Everything else is here:
//! - [`Filter`]: FilterOperator trees (AND/OR/NOT, nested, depth-bounded) and evaluation;
//! - [`parse_sort`] / [`Collation`] / [`compare_str`]: Comparators with `isAscending` and
//!   `collation` (i;ascii-casemap, i;unicode-casemap, i;ascii-numeric, i;octet);
//! - [`parse_query`] + [`window`] + [`query_response`]: `position` (negative counts from the
//!   end), `anchor`/`anchorOffset` (`anchorNotFound`), `limit` (clamped to [`MAX_LIMIT`],
//!   reported when clamped), `calculateTotal`;
//! - [`parse_query_changes`] + [`query_changes`]: `removed`/`added` with indexes from the
//!   type's changelog, `maxChanges` (`tooManyChanges`), `upToId`, `calculateTotal`.
//!
//! Example (a type whose objects have a `name`):
//!
//! ```ignore
//! let q = query_common::parse_query(ctx, &a, &[], &["name"])?;
//! let filter = q.filter.as_ref().map(|f| Filter::parse(f, &mut |c| my_condition(c))).transpose()?;
//! let mut all: Vec<Foo> = load();
//! all.retain(|o| filter.as_ref().is_none_or(|f| f.matches(&mut |c| c.test(o))));
//! all.sort_by(|x, y| q.sort.iter().fold(Ordering::Equal, |acc, c| acc.then_with(|| c.order(compare_str(&x.name, &y.name, c.collation)))));
//! let ids: Vec<String> = all.iter().map(|o| o.id()).collect();
//! let w = query_common::window(&ids, &q)?;
//! Ok(query_common::query_response(&ctx.account_id(), &state, true, &w, q.calculate_total))
//! ```

use super::args::{self, Args};
use super::error::MethodError;
use super::{Ctx, parse_state, state_string};
use crate::store::model::ChangeSet;
use serde_json::{Map, Value, json};
use std::cmp::Ordering;
use std::collections::HashSet;

/// Most ids one /query response carries when the client gives no smaller `limit`.
pub const MAX_LIMIT: usize = 10_000;
/// Deepest FilterOperator nesting accepted.
pub const MAX_FILTER_DEPTH: usize = 16;

/// A filter: a FilterOperator tree with the type's conditions at the leaves (§5.5).
#[derive(Debug, Clone, PartialEq)]
pub enum Filter<C> {
    And(Vec<Filter<C>>),
    Or(Vec<Filter<C>>),
    Not(Vec<Filter<C>>),
    Cond(C),
}

impl<C> Filter<C> {
    /// Parses a filter. An object with `operator` is a FilterOperator (its `conditions` must be
    /// an array, its operator AND, OR or NOT); any other object is handed to `cond`.
    pub fn parse(
        v: &Value,
        cond: &mut impl FnMut(&Map<String, Value>) -> Result<C, MethodError>,
    ) -> Result<Filter<C>, MethodError> {
        Self::parse_at(v, cond, 0)
    }

    fn parse_at(
        v: &Value,
        cond: &mut impl FnMut(&Map<String, Value>) -> Result<C, MethodError>,
        depth: usize,
    ) -> Result<Filter<C>, MethodError> {
        if depth > MAX_FILTER_DEPTH {
            return Err(MethodError::unsupported_filter(format!(
                "filters nest at most {MAX_FILTER_DEPTH} levels"
            )));
        }
        let Value::Object(m) = v else {
            return Err(MethodError::invalid_arguments("a filter must be an object"));
        };
        let Some(op) = m.get("operator") else {
            return cond(m).map(Filter::Cond);
        };
        if m.keys().any(|k| k != "operator" && k != "conditions") {
            return Err(MethodError::unsupported_filter(
                "a FilterOperator has only 'operator' and 'conditions'",
            ));
        }
        let Some(Value::Array(items)) = m.get("conditions") else {
            return Err(MethodError::invalid_arguments(
                "a FilterOperator needs a 'conditions' array",
            ));
        };
        let subs = items
            .iter()
            .map(|x| Self::parse_at(x, cond, depth + 1))
            .collect::<Result<Vec<_>, _>>()?;
        match op.as_str() {
            Some("AND") => Ok(Filter::And(subs)),
            Some("OR") => Ok(Filter::Or(subs)),
            Some("NOT") => Ok(Filter::Not(subs)),
            _ => Err(MethodError::unsupported_filter(
                "'operator' must be AND, OR or NOT",
            )),
        }
    }

    /// Evaluates the tree; `test` answers one condition. NOT is "none of" (§5.5).
    pub fn matches(&self, test: &mut impl FnMut(&C) -> bool) -> bool {
        match self {
            Filter::And(v) => v.iter().all(|f| f.matches(test)),
            Filter::Or(v) => v.iter().any(|f| f.matches(test)),
            Filter::Not(v) => !v.iter().any(|f| f.matches(test)),
            Filter::Cond(c) => test(c),
        }
    }

    /// Every condition in the tree (to check which indexes a query needs).
    pub fn conditions(&self) -> Vec<&C> {
        match self {
            Filter::Cond(c) => vec![c],
            Filter::And(v) | Filter::Or(v) | Filter::Not(v) => {
                v.iter().flat_map(|f| f.conditions()).collect()
            }
        }
    }
}

/// String comparison algorithms (RFC 4790 registry names; §5.5 `collation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collation {
    /// i;ascii-casemap: ASCII letters compare case-insensitively, other bytes as is.
    AsciiCasemap,
    /// i;unicode-casemap (RFC 5051), approximated by comparing full Unicode lowercase forms.
    UnicodeCasemap,
    /// i;ascii-numeric: the leading decimal digits as a number; no digits sorts last.
    AsciiNumeric,
    /// i;octet: bytes.
    Octet,
}

impl Collation {
    pub fn parse(s: &str) -> Option<Collation> {
        match s {
            "i;ascii-casemap" => Some(Collation::AsciiCasemap),
            "i;unicode-casemap" => Some(Collation::UnicodeCasemap),
            "i;ascii-numeric" => Some(Collation::AsciiNumeric),
            "i;octet" => Some(Collation::Octet),
            _ => None,
        }
    }
}

pub fn compare_str(a: &str, b: &str, c: Collation) -> Ordering {
    match c {
        Collation::Octet => a.as_bytes().cmp(b.as_bytes()),
        Collation::AsciiCasemap => a
            .bytes()
            .map(|x| x.to_ascii_lowercase())
            .cmp(b.bytes().map(|x| x.to_ascii_lowercase())),
        Collation::UnicodeCasemap => a
            .chars()
            .flat_map(char::to_lowercase)
            .cmp(b.chars().flat_map(char::to_lowercase)),
        Collation::AsciiNumeric => {
            let num = |s: &str| -> Option<u128> {
                let d: String = s
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .take(38)
                    .collect();
                (!d.is_empty()).then(|| d.parse().ok()).flatten()
            };
            match (num(a), num(b)) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            }
        }
    }
}

/// One Comparator (§5.5 `sort`).
#[derive(Debug, Clone, PartialEq)]
pub struct Comparator {
    pub property: String,
    pub is_ascending: bool,
    pub collation: Collation,
    /// Type-specific members (e.g. Email's `keyword`).
    pub extra: Map<String, Value>,
}

impl Comparator {
    /// Applies the direction to an ascending comparison.
    pub fn order(&self, ascending: Ordering) -> Ordering {
        if self.is_ascending {
            ascending
        } else {
            ascending.reverse()
        }
    }
}

/// Parses `sort`; an unknown property or collation is unsupportedSort (§5.5).
/// `extra_members` names further Comparator members the type accepts (e.g. "keyword").
pub fn parse_sort(
    v: Option<&Value>,
    known: &[&str],
    extra_members: &[&str],
) -> Result<Vec<Comparator>, MethodError> {
    let items = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(MethodError::invalid_arguments("'sort' must be an array")),
    };
    let mut out = Vec::with_capacity(items.len());
    for c in items {
        let Value::Object(m) = c else {
            return Err(MethodError::invalid_arguments("a Comparator is an object"));
        };
        let property = match m.get("property") {
            Some(Value::String(p)) => p.clone(),
            _ => {
                return Err(MethodError::invalid_arguments(
                    "a Comparator needs a 'property' string",
                ));
            }
        };
        if !known.contains(&property.as_str()) {
            return Err(MethodError::unsupported_sort(format!(
                "cannot sort by '{property}'"
            )));
        }
        let is_ascending = match m.get("isAscending") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(MethodError::invalid_arguments(
                    "'isAscending' must be a boolean",
                ));
            }
        };
        let collation = match m.get("collation") {
            None | Some(Value::Null) => Collation::UnicodeCasemap,
            Some(Value::String(s)) => Collation::parse(s)
                .ok_or_else(|| MethodError::unsupported_sort(format!("unknown collation '{s}'")))?,
            Some(_) => {
                return Err(MethodError::invalid_arguments(
                    "'collation' must be a string",
                ));
            }
        };
        let mut extra = Map::new();
        for (k, v) in m {
            match k.as_str() {
                "property" | "isAscending" | "collation" => {}
                k if extra_members.contains(&k) => {
                    extra.insert(k.to_string(), v.clone());
                }
                other => {
                    return Err(MethodError::invalid_arguments(format!(
                        "unknown Comparator member '{other}'"
                    )));
                }
            }
        }
        out.push(Comparator {
            property,
            is_ascending,
            collation,
            extra,
        });
    }
    Ok(out)
}

/// The standard /query arguments.
#[derive(Debug, Clone)]
pub struct QueryArgs {
    pub filter: Option<Value>,
    pub sort: Vec<Comparator>,
    pub position: i64,
    pub anchor: Option<String>,
    pub anchor_offset: i64,
    pub limit: Option<usize>,
    pub calculate_total: bool,
}

/// Parses the §5.5 arguments (after the caller checked `accountId`). `extra` names the type's
/// own arguments (e.g. collapseThreads); `sortable` its sort properties.
pub fn parse_query(
    ctx: &Ctx<'_>,
    a: &Args,
    extra: &[&str],
    sortable: &[&str],
    comparator_members: &[&str],
) -> Result<QueryArgs, MethodError> {
    let mut allowed = vec![
        "accountId",
        "filter",
        "sort",
        "position",
        "anchor",
        "anchorOffset",
        "limit",
        "calculateTotal",
    ];
    allowed.extend_from_slice(extra);
    args::only(a, &allowed)?;
    let filter = match a.get("filter") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(v.clone()),
        Some(_) => {
            return Err(MethodError::invalid_arguments(
                "'filter' must be an object or null",
            ));
        }
    };
    let limit = match args::opt_int(a, "limit")? {
        Some(n) if n < 0 => {
            return Err(MethodError::invalid_arguments(
                "'limit' must not be negative",
            ));
        }
        Some(n) => Some(usize::try_from(n).unwrap_or(usize::MAX)),
        None => None,
    };
    Ok(QueryArgs {
        filter,
        sort: parse_sort(a.get("sort"), sortable, comparator_members)?,
        position: args::opt_int(a, "position")?.unwrap_or(0),
        anchor: args::opt_str(a, "anchor")?.map(|s| ctx.resolve_id(s)),
        anchor_offset: args::opt_int(a, "anchorOffset")?.unwrap_or(0),
        limit,
        calculate_total: args::opt_bool(a, "calculateTotal", false)?,
    })
}

/// The part of the results a /query returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub position: usize,
    pub ids: Vec<String>,
    pub total: usize,
    /// Set when the server lowered the client's limit (returned as `limit`, §5.5).
    pub clamped_limit: Option<usize>,
}

/// Cuts the window out of the complete result list (§5.5 position/anchor/limit rules).
pub fn window(all: &[String], q: &QueryArgs) -> Result<Window, MethodError> {
    let total = all.len();
    let start = match &q.anchor {
        Some(anchor) => {
            let at = all.iter().position(|id| id == anchor).ok_or_else(|| {
                MethodError::new("anchorNotFound", "the anchor is not in the results")
            })?;
            // "If the anchor + offset is negative, the position is 0" (clamped, never wraps).
            (at as i64).saturating_add(q.anchor_offset).max(0) as usize
        }
        None if q.position < 0 => (total as i64).saturating_add(q.position).max(0) as usize,
        None => usize::try_from(q.position).unwrap_or(usize::MAX),
    };
    let (limit, clamped_limit) = match q.limit {
        Some(l) if l > MAX_LIMIT => (MAX_LIMIT, Some(MAX_LIMIT)),
        Some(l) => (l, None),
        None => (MAX_LIMIT, None),
    };
    let ids = all.iter().skip(start).take(limit).cloned().collect();
    Ok(Window {
        position: start.min(total),
        ids,
        total,
        clamped_limit,
    })
}

/// The /query response (§5.5).
pub fn query_response(
    account_id: &str,
    query_state: &str,
    can_calculate_changes: bool,
    w: &Window,
    calculate_total: bool,
) -> Value {
    let mut v = json!({
        "accountId": account_id,
        "queryState": query_state,
        "canCalculateChanges": can_calculate_changes,
        "position": w.position,
        "ids": w.ids,
    });
    if calculate_total {
        v["total"] = json!(w.total);
    }
    if let Some(l) = w.clamped_limit {
        v["limit"] = json!(l);
    }
    v
}

/// The standard /queryChanges arguments (§5.6).
#[derive(Debug, Clone)]
pub struct QueryChangesArgs {
    pub filter: Option<Value>,
    pub sort: Vec<Comparator>,
    /// The modseq the client's query state names.
    pub since: u64,
    pub max_changes: Option<usize>,
    pub up_to_id: Option<String>,
    pub calculate_total: bool,
}

pub fn parse_query_changes(
    ctx: &Ctx<'_>,
    a: &Args,
    extra: &[&str],
    sortable: &[&str],
    comparator_members: &[&str],
) -> Result<QueryChangesArgs, MethodError> {
    let mut allowed = vec![
        "accountId",
        "filter",
        "sort",
        "sinceQueryState",
        "maxChanges",
        "upToId",
        "calculateTotal",
    ];
    allowed.extend_from_slice(extra);
    args::only(a, &allowed)?;
    let filter = match a.get("filter") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(v.clone()),
        Some(_) => {
            return Err(MethodError::invalid_arguments(
                "'filter' must be an object or null",
            ));
        }
    };
    let since = args::req_str(a, "sinceQueryState")?;
    let since = parse_state(since).ok_or_else(MethodError::cannot_calculate_changes)?;
    let max_changes = match args::opt_uint(a, "maxChanges")? {
        Some(0) => {
            return Err(MethodError::invalid_arguments(
                "'maxChanges' must be greater than 0",
            ));
        }
        m => m.map(|n| usize::try_from(n).unwrap_or(usize::MAX)),
    };
    Ok(QueryChangesArgs {
        filter,
        sort: parse_sort(a.get("sort"), sortable, comparator_members)?,
        since,
        max_changes,
        up_to_id: args::opt_str(a, "upToId")?.map(|s| ctx.resolve_id(s)),
        calculate_total: args::opt_bool(a, "calculateTotal", false)?,
    })
}

/// Computes /queryChanges from the type's changes since the client's query state and the
/// current complete result list (§5.6). Every object changed since then is reported as
/// removed (the spec allows extra ids in `removed`), and re-added at its current index if it
/// is in the results now; new objects in the results are added. With `upToId` and a query on
/// immutable properties only (`immutable`), additions past the client's last cached id are
/// left out, as §5.6 allows.
pub fn query_changes(
    account_id: &str,
    q: &QueryChangesArgs,
    changes: &ChangeSetIds,
    new_state: u64,
    results: &[String],
    immutable: bool,
) -> Result<Value, MethodError> {
    let touched: HashSet<&str> = changes
        .created
        .iter()
        .chain(&changes.updated)
        .chain(&changes.destroyed)
        .map(String::as_str)
        .collect();
    let mut removed: Vec<&str> = changes
        .updated
        .iter()
        .chain(&changes.destroyed)
        .map(String::as_str)
        .collect();
    removed.sort_unstable();
    removed.dedup();
    let stop = match (&q.up_to_id, immutable) {
        (Some(id), true) => results.iter().position(|r| r == id),
        _ => None,
    };
    let mut added = Vec::new();
    for (i, id) in results.iter().enumerate() {
        if stop.is_some_and(|s| i > s) {
            break;
        }
        if touched.contains(id.as_str()) {
            added.push(json!({"id": id, "index": i}));
        }
    }
    if let Some(max) = q.max_changes
        && removed.len() + added.len() > max
    {
        return Err(MethodError::new(
            "tooManyChanges",
            format!("more than {max} changes; query again"),
        ));
    }
    let mut v = json!({
        "accountId": account_id,
        "oldQueryState": state_string(q.since),
        "newQueryState": state_string(new_state),
        "removed": removed,
        "added": added,
    });
    if q.calculate_total {
        v["total"] = json!(results.len());
    }
    Ok(v)
}

/// A ChangeSet with ids rendered for the wire.
#[derive(Debug, Clone, Default)]
pub struct ChangeSetIds {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub destroyed: Vec<String>,
}

impl ChangeSetIds {
    pub fn from_set(set: &ChangeSet, render: impl Fn(u32) -> String) -> ChangeSetIds {
        ChangeSetIds {
            created: set.created.iter().map(|n| render(*n)).collect(),
            updated: set.updated.iter().map(|n| render(*n)).collect(),
            destroyed: set.destroyed.iter().map(|n| render(*n)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("x{i}")).collect()
    }

    fn q() -> QueryArgs {
        QueryArgs {
            filter: None,
            sort: Vec::new(),
            position: 0,
            anchor: None,
            anchor_offset: 0,
            limit: None,
            calculate_total: false,
        }
    }

    #[test]
    fn positions_anchors_and_limits() {
        let all = ids(10);
        let w = window(
            &all,
            &QueryArgs {
                position: 3,
                limit: Some(2),
                ..q()
            },
        )
        .unwrap();
        assert_eq!(
            (w.position, w.ids.clone()),
            (3, vec!["x3".into(), "x4".into()])
        );
        let w = window(
            &all,
            &QueryArgs {
                position: -3,
                ..q()
            },
        )
        .unwrap();
        assert_eq!(w.position, 7);
        assert_eq!(w.ids.len(), 3);
        let w = window(
            &all,
            &QueryArgs {
                position: -30,
                ..q()
            },
        )
        .unwrap();
        assert_eq!(w.position, 0);
        let w = window(
            &all,
            &QueryArgs {
                position: 30,
                ..q()
            },
        )
        .unwrap();
        assert!(w.ids.is_empty());
        assert_eq!(w.position, 10);
        let w = window(
            &all,
            &QueryArgs {
                anchor: Some("x5".into()),
                anchor_offset: -2,
                limit: Some(3),
                position: 9,
                ..q()
            },
        )
        .unwrap();
        assert_eq!(w.ids, vec!["x3", "x4", "x5"]);
        let w = window(
            &all,
            &QueryArgs {
                anchor: Some("x1".into()),
                anchor_offset: -5,
                ..q()
            },
        )
        .unwrap();
        assert_eq!(w.position, 0);
        let e = window(
            &all,
            &QueryArgs {
                anchor: Some("zz".into()),
                ..q()
            },
        )
        .unwrap_err();
        assert_eq!(e.kind, "anchorNotFound");
        let w = window(
            &ids(3),
            &QueryArgs {
                limit: Some(MAX_LIMIT + 1),
                ..q()
            },
        )
        .unwrap();
        assert_eq!(w.clamped_limit, Some(MAX_LIMIT));
        let v = query_response("a", "5", true, &w, true);
        assert_eq!(v["total"], json!(3));
        assert_eq!(v["limit"], json!(MAX_LIMIT));
    }

    #[test]
    fn filters() {
        let f: Filter<i64> = Filter::parse(
            &json!({"operator": "OR", "conditions": [
                {"n": 1},
                {"operator": "AND", "conditions": [{"n": 2}, {"operator": "NOT", "conditions": [{"n": 3}]}]}
            ]}),
            &mut |m| m.get("n").and_then(Value::as_i64).ok_or_else(|| MethodError::unsupported_filter("n")),
        )
        .unwrap();
        assert!(f.matches(&mut |c| *c == 1));
        assert!(f.matches(&mut |c| *c == 2));
        assert!(!f.matches(&mut |c| *c == 3));
        assert_eq!(f.conditions(), vec![&1, &2, &3]);
        let mut cond = |_: &Map<String, Value>| Ok(0);
        for bad in [
            json!({"operator": "XOR", "conditions": []}),
            json!({"operator": "AND"}),
            json!({"operator": "AND", "conditions": [], "x": 1}),
            json!([1]),
        ] {
            assert!(Filter::parse(&bad, &mut cond).is_err(), "{bad}");
        }
        let mut deep = json!({"n": 1});
        for _ in 0..40 {
            deep = json!({"operator": "NOT", "conditions": [deep]});
        }
        assert_eq!(
            Filter::parse(&deep, &mut cond).unwrap_err().kind,
            "unsupportedFilter"
        );
    }

    #[test]
    fn sorts_and_collations() {
        let s = parse_sort(
            Some(&json!([{"property": "name", "isAscending": false, "collation": "i;ascii-casemap"}])),
            &["name"],
            &[],
        )
        .unwrap();
        assert!(!s[0].is_ascending);
        assert_eq!(s[0].collation, Collation::AsciiCasemap);
        assert_eq!(
            parse_sort(Some(&json!([{"property": "x"}])), &["name"], &[])
                .unwrap_err()
                .kind,
            "unsupportedSort"
        );
        assert_eq!(
            parse_sort(
                Some(&json!([{"property": "name", "collation": "i;klingon"}])),
                &["name"],
                &[]
            )
            .unwrap_err()
            .kind,
            "unsupportedSort"
        );
        assert_eq!(
            compare_str("abc", "ABD", Collation::AsciiCasemap),
            Ordering::Less
        );
        assert_eq!(
            compare_str("Émile", "émile", Collation::UnicodeCasemap),
            Ordering::Equal
        );
        assert_eq!(
            compare_str("Émile", "émile", Collation::AsciiCasemap),
            Ordering::Less
        );
        assert_eq!(
            compare_str("10", "9", Collation::AsciiNumeric),
            Ordering::Greater
        );
        assert_eq!(
            compare_str("x", "9", Collation::AsciiNumeric),
            Ordering::Greater
        );
    }

    #[test]
    fn query_changes_reports_removed_and_added() {
        let qc = QueryChangesArgs {
            filter: None,
            sort: Vec::new(),
            since: 4,
            max_changes: None,
            up_to_id: None,
            calculate_total: true,
        };
        let ch = ChangeSetIds {
            created: vec!["n".into()],
            updated: vec!["u".into()],
            destroyed: vec!["d".into()],
        };
        let results: Vec<String> = ["a", "n", "u", "b"].iter().map(|s| s.to_string()).collect();
        let v = query_changes("acc", &qc, &ch, 9, &results, false).unwrap();
        assert_eq!(v["removed"], json!(["d", "u"]));
        assert_eq!(
            v["added"],
            json!([{"id": "n", "index": 1}, {"id": "u", "index": 2}])
        );
        assert_eq!(v["total"], json!(4));
        assert_eq!(v["oldQueryState"], json!("4"));
        assert_eq!(v["newQueryState"], json!("9"));
        let few = QueryChangesArgs {
            max_changes: Some(3),
            ..qc.clone()
        };
        assert_eq!(
            query_changes("acc", &few, &ch, 9, &results, false)
                .unwrap_err()
                .kind,
            "tooManyChanges"
        );
        let upto = QueryChangesArgs {
            up_to_id: Some("a".into()),
            ..qc
        };
        let v = query_changes("acc", &upto, &ch, 9, &results, true).unwrap();
        assert_eq!(v["added"], json!([]));
    }
}
