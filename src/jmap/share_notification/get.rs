//! ShareNotification/get and /changes (RFC 9670 §5.2-5.3): the user's own account only.

use crate::jmap::args::Args;
use crate::jmap::error::MethodError;
use crate::jmap::{Ctx, get};
use crate::store::model::{DataType, IdKind};
use serde_json::Value;

pub const PROPERTIES: [&str; 9] = [
    "id",
    "created",
    "changedBy",
    "objectType",
    "objectAccountId",
    "objectId",
    "name",
    "oldRights",
    "newRights",
];

pub async fn get(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let acct = ctx.account(&a)?;
    let g = get::parse(ctx, &a, &[], &PROPERTIES)?;
    let (state, all) = ctx
        .jmap
        .store
        .read(move |r| {
            let mut out = Vec::new();
            for n in r.share_notes(acct)? {
                out.push((n.id, super::to_json(r, &n)?));
            }
            Ok((r.state(acct, DataType::ShareNotification)?, out))
        })
        .await?;
    let (list, not_found) = get::pick(
        g,
        &all,
        |id| {
            IdKind::ShareNote
                .decode(id)
                .and_then(|n| all.iter().find(|(i, _)| *i == n))
        },
        |(_, m)| m.clone(),
    );
    Ok(get::response(&ctx.account_id(), state, list, not_found))
}

pub async fn changes(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    crate::jmap::changes::changes(ctx, a, DataType::ShareNotification, IdKind::ShareNote).await
}
