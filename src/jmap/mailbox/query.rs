//! Mailbox/query and Mailbox/queryChanges (RFC 8621 §2.3-2.4) on the shared /query path
//! (`jmap/query/`).
//!
//! An account has few mailboxes, so a query reads them all and filters and sorts in memory.
//! Conditions ([`Cond`]): parentId, name (contains, case-insensitive), role, hasAnyRole,
//! isSubscribed. Sorts ([`Sort`]): sortOrder, name (under the comparator's collation), and as a
//! tiebreak the id. `sortAsTree` orders the whole forest depth-first with siblings sorted by the
//! comparators, then keeps the matches in that order; `filterAsTree` also drops a match whose
//! ancestors do not all match.
//!
//! The query state is the Mailbox state. queryChanges replays the Mailbox changelog since the
//! client's state, ignoring count-only changes (no filter or sort looks at counts). In tree
//! mode a change can move a whole subtree, so any change reports all results.

use crate::jmap::Ctx;
use crate::jmap::args::{self, Args};
use crate::jmap::error::MethodError;
use crate::jmap::query::{
    Comparator, Condition, Filter, QueryChangesRequest, QueryRequest, SortProperty, changes,
};
use crate::store::model::{ChangeKind, DataType, IdKind, Mailbox};
use serde_json::{Map, Value};
use std::cmp::Ordering;
use std::collections::HashSet;

/// The arguments Mailbox/query and /queryChanges add (RFC 8621 §2.3).
const TREE_ARGS: [&str; 2] = ["sortAsTree", "filterAsTree"];

/// One FilterCondition property (RFC 8621 §2.3).
#[derive(Debug, Clone)]
pub enum Cond {
    /// `None`: a top-level mailbox. `Some(None)`: an id that names no mailbox (matches none).
    ParentId(Option<Option<u32>>),
    /// Lowercased; matches a name containing it.
    Name(String),
    Role(Option<String>),
    HasAnyRole(bool),
    IsSubscribed(bool),
}

fn wrong_type(name: &str) -> MethodError {
    MethodError::invalid_arguments(format!("wrong type for filter condition '{name}'"))
}

impl Condition for Cond {
    fn parse(ctx: &Ctx<'_>, name: &str, v: &Value) -> Result<Option<Cond>, MethodError> {
        let string = || v.as_str().ok_or_else(|| wrong_type(name));
        let nullable = || match v {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s.as_str())),
            _ => Err(wrong_type(name)),
        };
        let boolean = || v.as_bool().ok_or_else(|| wrong_type(name));
        Ok(Some(match name {
            "parentId" => {
                Cond::ParentId(nullable()?.map(|id| IdKind::Mailbox.decode(&ctx.resolve_id(id))))
            }
            "name" => Cond::Name(string()?.to_lowercase()),
            "role" => Cond::Role(nullable()?.map(str::to_string)),
            "hasAnyRole" => Cond::HasAnyRole(boolean()?),
            "isSubscribed" => Cond::IsSubscribed(boolean()?),
            _ => return Ok(None),
        }))
    }
}

impl Cond {
    fn matches(&self, m: &Mailbox) -> bool {
        match self {
            Cond::ParentId(p) => match p {
                None => m.parent_id.is_none(),
                Some(p) => p.is_some() && m.parent_id == *p,
            },
            Cond::Name(n) => m.name.to_lowercase().contains(n.as_str()),
            Cond::Role(r) => m.role == *r,
            Cond::HasAnyRole(b) => m.role.is_some() == *b,
            Cond::IsSubscribed(b) => m.is_subscribed == *b,
        }
    }
}

/// One sort property (RFC 8621 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    SortOrder,
    Name,
}

impl SortProperty for Sort {
    fn parse(property: &str, _: &Map<String, Value>) -> Result<Option<Sort>, MethodError> {
        Ok(match property {
            "sortOrder" => Some(Sort::SortOrder),
            "name" => Some(Sort::Name),
            _ => None,
        })
    }
}

fn compare(sorts: &[Comparator<Sort>], a: &Mailbox, b: &Mailbox) -> Ordering {
    for s in sorts {
        let o = match s.property {
            Sort::SortOrder => a.sort_order.cmp(&b.sort_order),
            Sort::Name => s.collation.key(&a.name).cmp(&s.collation.key(&b.name)),
        };
        let o = s.order(o);
        if o != Ordering::Equal {
            return o;
        }
    }
    a.id.cmp(&b.id)
}

/// What decides the results: the filter, the sort and the tree arguments.
struct Shape<'q> {
    filter: Option<&'q Filter<Cond>>,
    sorts: &'q [Comparator<Sort>],
    as_tree: bool,
    filter_as_tree: bool,
}

impl Shape<'_> {
    fn tree(a: &Args) -> Result<(bool, bool), MethodError> {
        Ok((
            args::opt_bool(a, "sortAsTree", false)?,
            args::opt_bool(a, "filterAsTree", false)?,
        ))
    }
}

/// The full ordered result ids.
fn run(q: &Shape<'_>, all: &[Mailbox]) -> Vec<u32> {
    let ok = |m: &Mailbox| q.filter.is_none_or(|f| f.matches(&|c: &Cond| c.matches(m)));
    let mut ordered: Vec<&Mailbox> = if q.as_tree {
        let mut out = Vec::with_capacity(all.len());
        let ids: HashSet<u32> = all.iter().map(|m| m.id).collect();
        // Roots: no parent, or a parent that no longer exists.
        let mut roots: Vec<&Mailbox> = all
            .iter()
            .filter(|m| m.parent_id.is_none_or(|p| !ids.contains(&p)))
            .collect();
        roots.sort_by(|a, b| compare(q.sorts, a, b));
        fn walk<'a>(
            m: &'a Mailbox,
            all: &'a [Mailbox],
            sorts: &[Comparator<Sort>],
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
            walk(r, all, q.sorts, &mut out, 0);
        }
        out
    } else {
        let mut v: Vec<&Mailbox> = all.iter().collect();
        v.sort_by(|a, b| compare(q.sorts, a, b));
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
    let (acct, access) = ctx.access(&a)?;
    let q = QueryRequest::<Cond, Sort>::parse(ctx, &a, &TREE_ARGS)?;
    let (as_tree, filter_as_tree) = Shape::tree(&a)?;
    let (state, all) = ctx
        .jmap
        .store
        .read(move |r| Ok((r.state(acct, DataType::Mailbox)?, r.mailboxes(acct)?)))
        .await?;
    let (state, all) = (access.state(state), access.visible_mailboxes(all));
    let shape = Shape {
        filter: q.filter.as_ref(),
        sorts: &q.sort,
        as_tree,
        filter_as_tree,
    };
    q.window
        .response(ctx, state, &run(&shape, &all), IdKind::Mailbox, None)
}

pub async fn query_changes(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let (acct, access) = ctx.access(&a)?;
    let q = QueryChangesRequest::<Cond, Sort>::parse(ctx, &a, &TREE_ARGS)?;
    let (as_tree, filter_as_tree) = Shape::tree(&a)?;
    let since = q.since.since;
    access.check_since(since)?;
    let (state, all, rows) = ctx
        .jmap
        .store
        .read(move |r| {
            Ok((|| {
                let rows = changes::rows_since(r, acct, DataType::Mailbox, since)?;
                Ok::<_, MethodError>((r.state(acct, DataType::Mailbox)?, r.mailboxes(acct)?, rows))
            })())
        })
        .await??;
    let (state, all) = (access.state(state), access.visible_mailboxes(all));
    let shape = Shape {
        filter: q.filter.as_ref(),
        sorts: &q.sort,
        as_tree,
        filter_as_tree,
    };
    let ids = run(&shape, &all);
    let mut changed = changes::distinct_ids(&rows, &|c| c.kind == ChangeKind::CountsUpdated);
    if (as_tree || filter_as_tree) && !changed.is_empty() {
        let known: HashSet<u32> = changed.iter().copied().collect();
        changed.extend(ids.iter().filter(|i| !known.contains(i)));
    }
    q.since
        .response(ctx, state, &ids, &changed, IdKind::Mailbox)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jmap::query::Collation;

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
        let sort = vec![Comparator {
            property: Sort::Name,
            ascending: true,
            collation: Collation::UnicodeCasemap,
        }];
        let q = Shape {
            filter: None,
            sorts: &sort,
            as_tree: true,
            filter_as_tree: false,
        };
        assert_eq!(run(&q, &all), vec![2, 5, 1, 4, 3]);
        let f = Filter::Or(vec![
            Filter::Cond(Cond::Name("z".into())),
            Filter::Cond(Cond::ParentId(None)),
        ]);
        let q2 = Shape {
            filter: Some(&f),
            filter_as_tree: true,
            ..q
        };
        // z's ancestors (b) match "parentId: null", y's parent a too, but y itself does not.
        assert_eq!(run(&q2, &all), vec![2, 1, 3]);
    }
}
