//! Principal/get and Principal/changes (RFC 9670 §4.1-4.2).

use super::{load, to_json};
use crate::jmap::args::Args;
use crate::jmap::error::MethodError;
use crate::jmap::{Ctx, get};
use crate::store::model::IdKind;
use serde_json::{Value, json};

pub const PROPERTIES: [&str; 8] = [
    "id",
    "type",
    "name",
    "description",
    "email",
    "timeZone",
    "capabilities",
    "accounts",
];

pub async fn get(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    ctx.account(&a)?;
    let g = get::parse(ctx, &a, &[], &PROPERTIES)?;
    let user = ctx.user.id;
    let (state, all) = ctx.jmap.store.read(move |r| load(r, user)).await?;
    let (list, not_found) = get::pick(
        g,
        &all,
        |id| {
            IdKind::Account
                .decode(id)
                .and_then(|n| all.iter().find(|p| p.account.id == n))
        },
        to_json,
    );
    Ok(get::response(&ctx.account_id(), state, list, not_found))
}

/// No changelog: the current state has no changes, any other cannot be calculated.
pub async fn changes(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    ctx.account(&a)?;
    let c = crate::jmap::changes::parse(&a, &[])?;
    let user = ctx.user.id;
    let (state, _) = ctx.jmap.store.read(move |r| load(r, user)).await?;
    if c.since != state {
        return Err(MethodError::cannot_calculate_changes());
    }
    Ok(json!({
        "accountId": ctx.account_id(),
        "oldState": crate::jmap::state_string(state),
        "newState": crate::jmap::state_string(state),
        "hasMoreChanges": false,
        "created": [],
        "updated": [],
        "destroyed": [],
    }))
}
