//! Mailbox/query and Mailbox/queryChanges (RFC 8621 §2.3-2.4, RFC 8620 §5.5-5.6).
//!
//! An account has few mailboxes, so a query reads them all and filters and sorts in memory.
//! Filters: parentId, name (contains, case-insensitive), role, hasAnyRole, isSubscribed, nested
//! in AND/OR/NOT operators. Sorts: sortOrder, name (optionally with a collation), and as a
//! tiebreak the id. `sortAsTree` orders the whole forest depth-first with siblings sorted by the
//! comparators, then keeps the matches in that order; `filterAsTree` also drops a match whose
//! ancestors do not all match.
//!
//! The query state is the Mailbox state. queryChanges replays the Mailbox changelog since the
//! client's state, ignoring count-only changes (no filter or sort looks at counts): every
//! changed id is in `removed`, and those still in the results are in `added` with their index,
//! as §5.6 allows. In tree mode a change can move a whole subtree, so any change reports all.

use super::Ctx;
use super::args::{self, Args};
use super::error::MethodError;
use super::query_window::{ChangesArgs, Filter as QueryFilter, Window, comparators};
use crate::store::StoreError;
use crate::store::model::{ChangeKind, DataType, IdKind, Mailbox};
use serde_json::{Map, Value, json};
use std::cmp::Ordering;
use std::collections::HashSet;

const QUERY_ARGS: [&str; 10] = [
    "accountId",
    "filter",
    "sort",
    "position",
    "anchor",
    "anchorOffset",
    "limit",
    "calculateTotal",
    "sortAsTree",
    "filterAsTree",
];

type Filter = QueryFilter<Map<String, Value>>;

fn parse_condition(m: &Map<String, Value>) -> Result<Map<String, Value>, MethodError> {
    for (k, v) in m {
        let ok = match k.as_str() {
            "parentId" | "role" => v.is_null() || v.is_string(),
            "name" => v.is_string(),
            "hasAnyRole" | "isSubscribed" => v.is_boolean(),
            _ => {
                return Err(MethodError::unsupported_filter(format!(
                    "unknown condition '{k}'"
                )));
            }
        };
        if !ok {
            return Err(MethodError::invalid_arguments(format!(
                "wrong type for filter condition '{k}'"
            )));
        }
    }
    Ok(m.clone())
}

fn matches(f: &Filter, m: &Mailbox) -> bool {
    f.matches(&|c: &Map<String, Value>| {
        c.iter().all(|(k, v)| match k.as_str() {
            "parentId" => json!(m.parent_id.map(|p| IdKind::Mailbox.encode(p))) == *v,
            "name" => v
                .as_str()
                .is_some_and(|n| m.name.to_lowercase().contains(&n.to_lowercase())),
            "role" => json!(m.role) == *v,
            "hasAnyRole" => v.as_bool() == Some(m.role.is_some()),
            "isSubscribed" => v.as_bool() == Some(m.is_subscribed),
            _ => false,
        })
    })
}

struct Sort {
    property: String,
    ascending: bool,
    ascii: bool,
}

fn parse_sort(v: Option<&Value>) -> Result<Vec<Sort>, MethodError> {
    comparators(v, &["sortOrder", "name"], "mailboxes")?
        .into_iter()
        .map(|c| {
            let ascii = match c.collation.as_deref() {
                None | Some("i;unicode-casemap") => false,
                Some("i;ascii-casemap" | "i;ascii-numeric") => true,
                Some(other) => {
                    return Err(MethodError::unsupported_sort(format!(
                        "unknown collation '{other}'"
                    )));
                }
            };
            Ok(Sort {
                property: c.property,
                ascending: c.ascending,
                ascii,
            })
        })
        .collect()
}

fn compare(sorts: &[Sort], a: &Mailbox, b: &Mailbox) -> Ordering {
    for s in sorts {
        let o = match s.property.as_str() {
            "sortOrder" => a.sort_order.cmp(&b.sort_order),
            _ if s.ascii => a
                .name
                .to_ascii_lowercase()
                .cmp(&b.name.to_ascii_lowercase()),
            _ => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
        };
        let o = if s.ascending { o } else { o.reverse() };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.id.cmp(&b.id)
}

/// The query's parsed arguments.
struct Query {
    filter: Option<Filter>,
    sorts: Vec<Sort>,
    as_tree: bool,
    filter_as_tree: bool,
}

fn parse_query(a: &Args) -> Result<Query, MethodError> {
    Ok(Query {
        filter: match a.get("filter") {
            Some(f) => Filter::parse(f, &parse_condition)?,
            None => None,
        },
        sorts: parse_sort(a.get("sort"))?,
        as_tree: args::opt_bool(a, "sortAsTree", false)?,
        filter_as_tree: args::opt_bool(a, "filterAsTree", false)?,
    })
}

/// The full ordered result ids.
fn run(q: &Query, all: &[Mailbox]) -> Vec<u32> {
    let ok = |m: &Mailbox| q.filter.as_ref().is_none_or(|f| matches(f, m));
    let mut ordered: Vec<&Mailbox> = if q.as_tree {
        let mut out = Vec::with_capacity(all.len());
        let ids: HashSet<u32> = all.iter().map(|m| m.id).collect();
        // Roots: no parent, or a parent that no longer exists.
        let mut roots: Vec<&Mailbox> = all
            .iter()
            .filter(|m| m.parent_id.is_none_or(|p| !ids.contains(&p)))
            .collect();
        roots.sort_by(|a, b| compare(&q.sorts, a, b));
        fn walk<'a>(
            m: &'a Mailbox,
            all: &'a [Mailbox],
            sorts: &[Sort],
            out: &mut Vec<&'a Mailbox>,
            depth: usize,
        ) {
            out.push(m);
            if depth > 64 {
                return;
            }
            let mut kids: Vec<&Mailbox> =
                all.iter().filter(|c| c.parent_id == Some(m.id)).collect();
            kids.sort_by(|a, b| compare(sorts, a, b));
            for k in kids {
                walk(k, all, sorts, out, depth + 1);
            }
        }
        for r in roots {
            walk(r, all, &q.sorts, &mut out, 0);
        }
        out
    } else {
        let mut v: Vec<&Mailbox> = all.iter().collect();
        v.sort_by(|a, b| compare(&q.sorts, a, b));
        v
    };
    ordered.retain(|m| {
        if !ok(m) {
            return false;
        }
        if q.filter_as_tree {
            let mut cur = m.parent_id;
            let mut guard = 0;
            while let Some(p) = cur {
                guard += 1;
                match all.iter().find(|x| x.id == p) {
                    Some(parent) if guard < 64 => {
                        if !ok(parent) {
                            return false;
                        }
                        cur = parent.parent_id;
                    }
                    _ => break,
                }
            }
        }
        true
    });
    ordered.into_iter().map(|m| m.id).collect()
}

pub async fn query(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    args::only(&a, &QUERY_ARGS)?;
    let acct = ctx.account(&a)?;
    let q = parse_query(&a)?;
    let window = Window::parse(&a)?;
    let (state, all) = ctx
        .jmap
        .store
        .read(move |r| Ok((r.state(acct, DataType::Mailbox)?, r.mailboxes(acct)?)))
        .await?;
    window.response(ctx.account_id(), state, &run(&q, &all), IdKind::Mailbox)
}

pub async fn query_changes(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    args::only(
        &a,
        &[
            "accountId",
            "filter",
            "sort",
            "sortAsTree",
            "filterAsTree",
            "sinceQueryState",
            "maxChanges",
            "upToId",
            "calculateTotal",
        ],
    )?;
    let acct = ctx.account(&a)?;
    let q = parse_query(&a)?;
    let c = ChangesArgs::parse(&a)?;
    let since = c.since;
    let read = ctx
        .jmap
        .store
        .read(move |r| {
            // Validity of the old state: from the future is Invalid, trimmed is None.
            let valid = r.changes(acct, DataType::Mailbox, since, 1)?.is_some();
            let rows = r.change_rows(acct, DataType::Mailbox, since, usize::MAX)?;
            Ok((
                valid,
                r.state(acct, DataType::Mailbox)?,
                r.mailboxes(acct)?,
                rows,
            ))
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
    let ids = run(&q, &all);
    let mut changed: Vec<u32> = Vec::new();
    for row in rows {
        if row.kind != ChangeKind::CountsUpdated && !changed.contains(&row.id) {
            changed.push(row.id);
        }
    }
    if (q.as_tree || q.filter_as_tree) && !changed.is_empty() {
        for i in &ids {
            if !changed.contains(i) {
                changed.push(*i);
            }
        }
    }
    c.response(ctx.account_id(), state, &ids, &changed, IdKind::Mailbox)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mb(id: u32, name: &str, parent: Option<u32>, sort: u32) -> Mailbox {
        Mailbox {
            id,
            name: name.into(),
            parent_id: parent,
            role: None,
            sort_order: sort,
            is_subscribed: true,
            counts: Default::default(),
        }
    }

    #[test]
    fn tree_sorting_and_filtering() {
        let all = vec![
            mb(1, "b", None, 0),
            mb(2, "a", None, 0),
            mb(3, "z", Some(1), 0),
            mb(4, "c", Some(1), 0),
            mb(5, "y", Some(2), 0),
        ];
        let sort = vec![Sort {
            property: "name".into(),
            ascending: true,
            ascii: false,
        }];
        let q = Query {
            filter: None,
            sorts: sort,
            as_tree: true,
            filter_as_tree: false,
        };
        assert_eq!(run(&q, &all), vec![2, 5, 1, 4, 3]);
        let mut cond = Map::new();
        cond.insert("name".into(), json!("z"));
        let q2 = Query {
            filter: Some(Filter::Or(vec![
                Filter::Cond(cond),
                Filter::Cond(Map::from_iter([("parentId".to_string(), json!(null))])),
            ])),
            filter_as_tree: true,
            ..q
        };
        // z's ancestors (b) match "parentId: null", y's parent a too, but y itself does not.
        assert_eq!(run(&q2, &all), vec![2, 1, 3]);
    }
}
