//! Identity/get (RFC 8621 §6.1) and the JSON form of an [`Identity`].

use crate::jmap::args::Args;
use crate::jmap::error::MethodError;
use crate::jmap::set::Obj;
use crate::jmap::{Ctx, get};
use crate::store::model::{DataType, IdKind, Identity};
use serde_json::{Map, Value, json};

pub const PROPERTIES: [&str; 8] = [
    "id",
    "name",
    "email",
    "replyTo",
    "bcc",
    "textSignature",
    "htmlSignature",
    "mayDelete",
];

pub fn to_json(i: &Identity) -> Obj {
    let v = json!({
        "id": IdKind::Identity.encode(i.id),
        "name": i.name,
        "email": i.email,
        "replyTo": i.reply_to,
        "bcc": i.bcc,
        "textSignature": i.text_signature,
        "htmlSignature": i.html_signature,
        "mayDelete": i.may_delete,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
pub async fn get(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let acct = ctx.account(&a)?;
    let g = get::parse(ctx, &a, &[], &PROPERTIES)?;
    let (state, all) = ctx
        .jmap
        .store
        .read(move |r| Ok((r.state(acct, DataType::Identity)?, r.identities(acct)?)))
        .await?;
    let (list, not_found) = get::pick(
        g,
        &all,
        |id| {
            IdKind::Identity
                .decode(id)
                .and_then(|n| all.iter().find(|i| i.id == n))
        },
        to_json,
    );
    Ok(get::response(&ctx.account_id(), state, list, not_found))
}
