//! /query of a type whose objects are few and read whole (EmailSubmission, ShareNotification):
//! the state and the list come from one snapshot, the type's `run` filters and sorts them, and
//! the window (RFC 8620 §5.5 position, anchor, limit) is cut from the ids. The /queryChanges
//! counterpart is [`super::changes::over_list`].

use super::changes::RunList;
use crate::jmap::Ctx;
use crate::jmap::args::Args;
use crate::jmap::error::MethodError;
use crate::store::model::{AccountId, DataType, IdKind};
use crate::store::{Reader, StoreError};
use serde_json::Value;

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
    let q = super::QueryRequest::<C, S>::parse(ctx, &a, &[])?;
    let (state, all) = ctx
        .jmap
        .store
        .read(move |r| Ok((r.state(acct, ty)?, load(r, acct)?)))
        .await?;
    let ids = run(q.filter.as_ref(), &q.sort, all);
    q.window.response(ctx, state, &ids, kind, None)
}
