//! Quota/queryChanges (RFC 9425 §5.4) on the shared path: every Quota changed since the
//! client's query state is `removed`, and those in the new results are `added` again (§5.6 of
//! RFC 8620 allows it). Results can move with `used` (a sort by used), so nothing is skipped.

use super::super::Ctx;
use super::super::args::Args;
use super::super::error::MethodError;
use super::super::query::{QueryChangesRequest, changes};
use super::objects;
use super::query::{Cond, Sort, run};
use crate::store::model::{DataType, IdKind};
use serde_json::Value;

pub async fn query_changes(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let acct = ctx.account(&a)?;
    let q = QueryChangesRequest::<Cond, Sort>::parse(ctx, &a, &[])?;
    let since = q.since.since;
    let (state, status, account, rows) = ctx
        .jmap
        .store
        .read(move |r| {
            let ty = DataType::Quota;
            Ok((|| {
                let rows = changes::rows_since(r, acct, ty, since)?;
                Ok::<_, MethodError>((r.state(acct, ty)?, r.quota(acct)?, r.account(acct)?, rows))
            })())
        })
        .await??;
    let name = account.map(|a| a.name).unwrap_or_default();
    let all = objects(ctx, &name, &status);
    let changed = changes::distinct_ids(&rows, &|_| false);
    let ids = run(q.filter.as_ref(), &q.sort, all);
    q.since.response(ctx, state, &ids, &changed, IdKind::Quota)
}
