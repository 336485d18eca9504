//! Quota/get (RFC 9425 §5.1): the standard /get over the account's two Quota objects.

use super::super::args::Args;
use super::super::error::MethodError;
use super::super::{Ctx, get};
use super::{PROPERTIES, Quota, load};
use crate::store::model::IdKind;

pub async fn get(ctx: &mut Ctx<'_>, a: Args) -> Result<serde_json::Value, MethodError> {
    let acct = ctx.account(&a)?;
    let g = get::parse(ctx, &a, &[], &PROPERTIES)?;
    let (state, quotas) = load(ctx, acct).await?;
    let (list, not_found) = get::pick(
        g,
        &quotas,
        |id| {
            IdKind::Quota
                .decode(id)
                .and_then(|n| quotas.iter().find(|q| q.id == n))
        },
        Quota::to_json,
    );
    Ok(get::response(&ctx.account_id(), state, list, not_found))
}
