//! SieveScript/get (RFC 9661 §2.2).

use super::super::args::Args;
use super::super::error::MethodError;
use super::super::{Ctx, get};
use super::{PROPERTIES, parse_id, to_json};
use crate::store::model::DataType;

pub async fn get(ctx: &mut Ctx<'_>, a: Args) -> Result<serde_json::Value, MethodError> {
    let acct = ctx.account(&a)?;
    let g = get::parse(ctx, &a, &[], &PROPERTIES)?;
    let (state, scripts) = ctx
        .jmap
        .store
        .read(move |r| {
            Ok((
                r.state(acct, DataType::SieveScript)?,
                r.sieve_scripts(acct)?,
            ))
        })
        .await?;
    let (list, not_found) = get::pick(
        g,
        &scripts,
        |id| parse_id(id).and_then(|n| scripts.iter().find(|s| s.id == n)),
        to_json,
    );
    Ok(get::response(&ctx.account_id(), state, list, not_found))
}
