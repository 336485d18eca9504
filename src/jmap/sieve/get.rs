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
    let mut list = Vec::new();
    let mut not_found = Vec::new();
    match g.ids {
        None => {
            for s in &scripts {
                list.push(get::select(to_json(s), g.properties.as_deref()));
            }
        }
        Some(ids) => {
            for i in ids {
                match parse_id(&i).and_then(|n| scripts.iter().find(|s| s.id == n)) {
                    Some(s) => list.push(get::select(to_json(s), g.properties.as_deref())),
                    None => not_found.push(i),
                }
            }
        }
    }
    Ok(get::response(&ctx.account_id(), state, list, not_found))
}
