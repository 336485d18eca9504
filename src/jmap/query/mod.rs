//! One /query and /queryChanges path for every JMAP object type (RFC 8620 §5.5-5.6).
//!
//! A call is parsed once into a typed request, [`QueryRequest`] or [`QueryChangesRequest`]:
//! the filter tree over the type's conditions (`filter.rs`), the comparators over the type's
//! sort properties with their collation (`sort.rs`), and the window (`window.rs`) or the
//! since-state (`changes.rs`). The answer is built by [`Window::response`] and
//! [`Since::response`], so every type answers the same way: the same errors for the same
//! mistakes, `limit` echoed only when capped, `anchorNotFound`, `tooManyChanges`.
//!
//! Adding /query to an object type `Foo` (SieveScript, Principal, Quota, ...):
//! 1. `jmap/foo/query.rs`: an enum `Cond` with one variant per FilterCondition property of the
//!    spec, `impl Condition for Cond` (name + JSON value -> variant; `Ok(None)` for an unknown
//!    name), and an enum `Sort` with `impl SortProperty for Sort`.
//! 2. `query`: `let q = QueryRequest::<Cond, Sort>::parse(ctx, &a, &[])?;` (the slice names any
//!    extra arguments the type defines, which it reads itself), read the objects and the type's
//!    state, keep those where `q.filter` matches (`Filter::matches`), sort by `q.sort` (each
//!    `Comparator::order`, strings through `Collation::key`, ties by id), and return
//!    `q.window.response(ctx, state, &ids, IdKind::Foo, None)` (`Some(max)` to cap `limit`).
//! 3. `query_changes`: `QueryChangesRequest::parse`, the ids changed since `q.since.since`
//!    ([`changes::rows_since`]), the new results as above, `q.since.response(...)`.
//! 4. Two rows in `jmap/dispatch.rs`.
//!
//! Mailbox and EmailSubmission follow exactly these steps (`mailbox/query.rs`,
//! `submission/query.rs`); Email adds index-backed text conditions and a walk that can stop
//! early (`email/query*.rs`).

pub mod changes;
pub mod filter;
pub mod list;
pub mod sort;
pub mod window;

pub use changes::Since;
pub use filter::{Condition, Filter};
pub use sort::{Collation, Comparator, Key, SortProperty};
pub use window::Window;

use crate::jmap::Ctx;
use crate::jmap::args::{self, Args};
use crate::jmap::error::MethodError;

/// The arguments every /query takes (RFC 8620 §5.5).
const QUERY_ARGS: [&str; 8] = [
    "accountId",
    "filter",
    "sort",
    "position",
    "anchor",
    "anchorOffset",
    "limit",
    "calculateTotal",
];

/// The arguments every /queryChanges takes (RFC 8620 §5.6).
const CHANGES_ARGS: [&str; 7] = [
    "accountId",
    "filter",
    "sort",
    "sinceQueryState",
    "maxChanges",
    "upToId",
    "calculateTotal",
];

/// Rejects any argument neither the method nor the type (`extra`) defines (§3.6.2).
fn only(a: &Args, common: &[&str], extra: &[&str]) -> Result<(), MethodError> {
    let all: Vec<&str> = common.iter().chain(extra).copied().collect();
    args::only(a, &all)
}

/// A parsed Foo/query call.
#[derive(Debug, Clone)]
pub struct QueryRequest<C, S> {
    /// `None`: every object.
    pub filter: Option<Filter<C>>,
    /// Empty: the type's default order.
    pub sort: Vec<Comparator<S>>,
    pub window: Window,
}

impl<C: Condition, S: SortProperty> QueryRequest<C, S> {
    /// Parses the call; `extra` names the type's own arguments (e.g. `collapseThreads`).
    pub fn parse(ctx: &Ctx<'_>, a: &Args, extra: &[&str]) -> Result<Self, MethodError> {
        only(a, &QUERY_ARGS, extra)?;
        Ok(QueryRequest {
            filter: Filter::parse(ctx, a.get("filter"))?,
            sort: Comparator::parse_list(a.get("sort"))?,
            window: Window::parse(ctx, a)?,
        })
    }
}

/// A parsed Foo/queryChanges call.
#[derive(Debug, Clone)]
pub struct QueryChangesRequest<C, S> {
    pub filter: Option<Filter<C>>,
    pub sort: Vec<Comparator<S>>,
    pub since: Since,
}

impl<C: Condition, S: SortProperty> QueryChangesRequest<C, S> {
    /// Parses the call; `extra` names the type's own arguments.
    pub fn parse(ctx: &Ctx<'_>, a: &Args, extra: &[&str]) -> Result<Self, MethodError> {
        only(a, &CHANGES_ARGS, extra)?;
        Ok(QueryChangesRequest {
            filter: Filter::parse(ctx, a.get("filter"))?,
            sort: Comparator::parse_list(a.get("sort"))?,
            since: Since::parse(a)?,
        })
    }
}
