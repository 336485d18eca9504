//! Email/queryChanges (RFC 8620 §5.6, RFC 8621 §4.5) on the shared /queryChanges path
//! (`jmap/query/changes.rs`: changed ids are removed, and re-added where they are now).
//!
//! The changed ids: every email changed since the old state (created, updated or destroyed;
//! and, when the query depends on threads, every email of a thread that changed). A state older
//! than the trimmed changelog gets cannotCalculateChanges.

use super::query::{EXTRA_ARGS, plan};
use super::query_filter::Cond;
use super::query_run;
use super::query_sort::Property;
use crate::jmap::Ctx;
use crate::jmap::args::Args;
use crate::jmap::error::MethodError;
use crate::jmap::query::QueryChangesRequest;
use crate::jmap::query::changes::too_old;
use crate::store::model::{DataType, IdKind};
use serde_json::Value;
use std::collections::BTreeSet;

pub async fn query_changes(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let (acct, access) = ctx.access(&a)?;
    let q = QueryChangesRequest::<Cond, Property>::parse(ctx, &a, &EXTRA_ARGS)?;
    let since = q.since.since;
    access.check_since(since)?;
    let plan = plan(&a, super::query::restrict(&access, q.filter)?, q.sort)?;
    let snap = query_run::snapshot(ctx, acct, &plan).await?;
    let (new_state, changed, ids) = ctx
        .jmap
        .store
        .read(move |r| {
            Ok((|| {
                let new_state = access.state(query_run::query_state(r, &snap, acct, &plan)?);
                let changes = |ty| match r.changes(acct, ty, since, usize::MAX) {
                    Ok(Some(c)) => Ok(c),
                    Ok(None) => Err(MethodError::cannot_calculate_changes()),
                    Err(e) => Err(too_old(e)),
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

    let changed: Vec<u32> = changed.into_iter().collect();
    q.since
        .response(ctx, new_state, &ids, &changed, IdKind::Email)
}
