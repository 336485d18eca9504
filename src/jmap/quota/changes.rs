//! Quota/changes (RFC 9425 §5.2): the standard /changes plus `updatedProperties`, which is
//! `["used"]` when every change since the state only moved the figures (logged as
//! count-only by the store), else null (a limit changed).

use super::super::Ctx;
use super::super::args::Args;
use super::super::changes::{parse, read, response};
use super::super::error::MethodError;
use crate::store::model::{DataType, IdKind};
use serde_json::{Value, json};

pub async fn changes(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let acct = ctx.account(&a)?;
    let c = parse(&a, &[])?;
    let set = read(ctx, acct, DataType::Quota, &c).await?;
    let mut v = response(&ctx.account_id(), c.since, &set, IdKind::Quota);
    v["updatedProperties"] = if set.only_counts && !set.updated.is_empty() {
        json!(["used"])
    } else {
        Value::Null
    };
    Ok(v)
}
