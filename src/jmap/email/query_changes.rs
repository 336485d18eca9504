//! Email/queryChanges (RFC 8620 §5.6, RFC 8621 §4.5).
//!
//! The server keeps no history of query results, so the changes are derived from the changelog:
//! every email changed since the old state (created, updated or destroyed; and, when the query
//! depends on threads, every email of a thread that changed) is reported as removed, and those
//! of them that are in the current results are reported as added at their current index. §5.6
//! allows exactly this over-reporting ("the server MAY return the ids of extra items"), and it
//! stays correct for every filter and sort, mutable properties included. A state older than the
//! trimmed changelog gets cannotCalculateChanges.

use super::query::plan;
use super::query_run;
use crate::jmap::args::{self, Args};
use crate::jmap::error::MethodError;
use crate::jmap::{Ctx, parse_state, state_string};
use crate::store::StoreError;
use crate::store::model::{DataType, IdKind};
use serde_json::{Value, json};
use std::collections::BTreeSet;

pub async fn query_changes(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let acct = ctx.account(&a)?;
    args::only(
        &a,
        &[
            "accountId",
            "filter",
            "sort",
            "sinceQueryState",
            "maxChanges",
            "upToId",
            "calculateTotal",
            "collapseThreads",
        ],
    )?;
    let plan = plan(ctx, &a)?;
    let since_str = args::req_str(&a, "sinceQueryState")?.to_string();
    let since = parse_state(&since_str).ok_or_else(MethodError::cannot_calculate_changes)?;
    let max_changes = args::opt_uint(&a, "maxChanges")?;
    if max_changes == Some(0) {
        return Err(MethodError::invalid_arguments(
            "maxChanges must be positive",
        ));
    }
    // upToId is accepted; §5.6 lets the server report changes past it anyway.
    args::opt_str(&a, "upToId")?;
    let calculate_total = args::opt_bool(&a, "calculateTotal", false)?;

    let snap = query_run::snapshot(ctx, acct, &plan).await?;
    let (new_state, changed, ids) = ctx
        .jmap
        .store
        .read(move |r| {
            Ok((|| {
                let new_state = query_run::query_state(r, &snap, acct, &plan)?;
                let changes = |ty| match r.changes(acct, ty, since, usize::MAX) {
                    Ok(Some(c)) => Ok(c),
                    Ok(None) | Err(StoreError::StateTooOld) => {
                        Err(MethodError::cannot_calculate_changes())
                    }
                    Err(e) => Err(MethodError::from(e)),
                };
                let emails = changes(DataType::Email)?;
                let mut changed: BTreeSet<u32> = BTreeSet::new();
                changed.extend(&emails.created);
                changed.extend(&emails.updated);
                changed.extend(&emails.destroyed);
                if plan.depends_on_threads() {
                    let threads = changes(DataType::Thread)?;
                    let mut touched: BTreeSet<u32> = BTreeSet::new();
                    touched.extend(&threads.created);
                    touched.extend(&threads.updated);
                    for id in emails.created.iter().chain(&emails.updated) {
                        if let Some(st) = r.email_state(acct, *id)? {
                            touched.insert(st.thread_id);
                        }
                    }
                    for t in touched {
                        changed.extend(r.thread(acct, t)?.unwrap_or_default());
                    }
                }
                let ids = query_run::run(r, &snap, acct, &plan, None)?;
                Ok::<_, MethodError>((new_state, changed, ids))
            })())
        })
        .await??;

    let added: Vec<Value> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| changed.contains(id))
        .map(|(i, id)| json!({ "id": IdKind::Email.encode(*id), "index": i }))
        .collect();
    let removed: Vec<String> = changed.iter().map(|id| IdKind::Email.encode(*id)).collect();
    if let Some(max) = max_changes
        && (added.len() + removed.len()) as u64 > max
    {
        return Err(MethodError::new(
            "tooManyChanges",
            format!("more than {max} changes; query again"),
        ));
    }
    let mut out = json!({
        "accountId": ctx.account_id(),
        "oldQueryState": since_str,
        "newQueryState": state_string(new_state),
        "removed": removed,
        "added": added,
    });
    if calculate_total {
        out["total"] = json!(ids.len());
    }
    Ok(out)
}
