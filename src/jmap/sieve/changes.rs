//! SieveScript/changes (RFC 9661 §2.3: the standard /changes of RFC 8620 §5.2), from the
//! changes `store/redb/sieve.rs` logs under `DataType::SieveScript`, with the script ids
//! SieveScript/get uses. (RFC 9661 defines no SieveScript/queryChanges.)

use super::id;
use crate::jmap::Ctx;
use crate::jmap::args::Args;
use crate::jmap::changes::{parse, read};
use crate::jmap::error::MethodError;
use crate::jmap::state_string;
use crate::store::model::DataType;
use serde_json::{Value, json};

pub async fn changes(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let acct = ctx.account(&a)?;
    let c = parse(&a, &[])?;
    let set = read(ctx, acct, DataType::SieveScript, &c).await?;
    let ids = |v: &[u32]| v.iter().map(|n| id(*n)).collect::<Vec<_>>();
    Ok(json!({
        "accountId": ctx.account_id(),
        "oldState": state_string(c.since),
        "newState": state_string(set.new_modseq),
        "hasMoreChanges": set.has_more,
        "created": ids(&set.created),
        "updated": ids(&set.updated),
        "destroyed": ids(&set.destroyed),
    }))
}
