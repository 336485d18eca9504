//! The arguments of every /queryChanges besides filter and sort (RFC 8620 §5.6:
//! sinceQueryState, maxChanges, upToId, calculateTotal) and the one builder of its response.
//!
//! No type keeps a history of query results, so the answer is derived from the changelog: every
//! id the type says may have moved since the old state is in `removed`, and those of them in
//! the current results are in `added` at their current index (sorted by index). §5.6 allows
//! exactly this over-reporting ("the server MAY return the ids of extra" items) and it is
//! correct for every filter and sort, mutable properties included. `upToId` is accepted and
//! ignored, as §5.6 allows. A state the changelog cannot answer (from the future, or older than
//! its trimmed start) is `cannotCalculateChanges`.

use crate::jmap::args::{self, Args};
use crate::jmap::error::MethodError;
use crate::jmap::{Ctx, parse_state, state_string};
use crate::store::model::{AccountId, Change, DataType, IdKind};
use crate::store::{Reader, StoreError};
use serde_json::{Value, json};
use std::collections::HashSet;

/// The /queryChanges arguments shared by every type.
#[derive(Debug, Clone)]
pub struct Since {
    since_s: String,
    /// The client's query state.
    pub since: u64,
    max: Option<u64>,
    calculate_total: bool,
}

impl Since {
    pub fn parse(a: &Args) -> Result<Since, MethodError> {
        let since_s = args::req_str(a, "sinceQueryState")?.to_string();
        let since = parse_state(&since_s).ok_or_else(MethodError::cannot_calculate_changes)?;
        let max = match args::opt_uint(a, "maxChanges")? {
            Some(0) => {
                return Err(MethodError::invalid_arguments(
                    "'maxChanges' must be greater than 0",
                ));
            }
            m => m,
        };
        args::opt_str(a, "upToId")?;
        Ok(Since {
            since_s,
            since,
            max,
            calculate_total: args::opt_bool(a, "calculateTotal", false)?,
        })
    }

    /// The /queryChanges response: `changed` (in the order given) is `removed`; those in the
    /// new results `ids` are `added` with their index.
    pub fn response(
        &self,
        ctx: &Ctx<'_>,
        state: u64,
        ids: &[u32],
        changed: &[u32],
        kind: IdKind,
    ) -> Result<Value, MethodError> {
        let set: HashSet<u32> = changed.iter().copied().collect();
        let removed: Vec<String> = changed.iter().map(|i| kind.encode(*i)).collect();
        let added: Vec<Value> = ids
            .iter()
            .enumerate()
            .filter(|(_, i)| set.contains(i))
            .map(|(n, i)| json!({"id": kind.encode(*i), "index": n}))
            .collect();
        if let Some(m) = self.max
            && (removed.len() + added.len()) as u64 > m
        {
            return Err(MethodError::new(
                "tooManyChanges",
                format!("more than {m} changes; query again"),
            ));
        }
        let mut out = json!({
            "accountId": ctx.account_id(),
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

/// Maps the store's answer for a state it cannot go back to (from the future:
/// `StateTooOld`) to cannotCalculateChanges (`jmap/error.rs` does the same for any `?`).
pub fn too_old(e: StoreError) -> MethodError {
    match e {
        StoreError::StateTooOld => MethodError::cannot_calculate_changes(),
        e => e.into(),
    }
}

/// The changelog rows of `ty` since `since`, or cannotCalculateChanges when the log cannot
/// answer from there.
pub fn rows_since(
    r: &Reader,
    acct: AccountId,
    ty: DataType,
    since: u64,
) -> Result<Vec<Change>, MethodError> {
    // From the future is Invalid, trimmed from the log is None: neither can be answered.
    if r.changes(acct, ty, since, 1).map_err(too_old)?.is_none() {
        return Err(MethodError::cannot_calculate_changes());
    }
    Ok(r.change_rows(acct, ty, since, usize::MAX)?)
}

/// The distinct ids in `rows`, in log order, skipping the kinds `skip` names.
pub fn distinct_ids(rows: &[Change], skip: &dyn Fn(&Change) -> bool) -> Vec<u32> {
    let mut seen = HashSet::new();
    rows.iter()
        .filter(|r| !skip(r))
        .filter(|r| seen.insert(r.id))
        .map(|r| r.id)
        .collect()
}

/// Filters and sorts a list read whole into ids (each type's `run`).
pub type RunList<C, S, T> =
    fn(Option<&super::Filter<C>>, &[super::Comparator<S>], Vec<T>) -> Vec<u32>;

/// /queryChanges of a type whose objects are few and read whole (EmailSubmission,
/// ShareNotification): every object changed since the client's state is `removed`, and those
/// in the new results `added` again (RFC 8620 §5.6 allows it). `load` reads the objects in the
/// same snapshot as the state and the log; `run` filters and sorts them into ids.
pub async fn over_list<C, S, T>(
    ctx: &mut Ctx<'_>,
    a: Args,
    (ty, kind): (DataType, IdKind),
    load: fn(&Reader, AccountId) -> Result<Vec<T>, StoreError>,
    run: RunList<C, S, T>,
) -> Result<Value, MethodError>
where
    C: super::Condition,
    S: super::SortProperty,
    T: Send + 'static,
{
    let acct = ctx.account(&a)?;
    let q = super::QueryChangesRequest::<C, S>::parse(ctx, &a, &[])?;
    let since = q.since.since;
    let (state, all, rows) = ctx
        .jmap
        .store
        .read(move |r| {
            Ok((|| {
                let rows = rows_since(r, acct, ty, since)?;
                Ok::<_, MethodError>((r.state(acct, ty)?, load(r, acct)?, rows))
            })())
        })
        .await??;
    let changed = distinct_ids(&rows, &|_| false);
    let ids = run(q.filter.as_ref(), &q.sort, all);
    q.since.response(ctx, state, &ids, &changed, kind)
}
