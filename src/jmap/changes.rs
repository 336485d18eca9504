//! The shared `/changes` (RFC 8620 §5.2), built on the store changelog.
//!
//! A state string is a modseq (`jmap::state_string`). The store folds the log after `sinceState`
//! (created-then-destroyed is dropped, created-then-updated is created) and stops at
//! `maxChanges` distinct ids at a modseq boundary, which becomes the intermediate `newState`
//! with `hasMoreChanges: true`. Because a page always ends on a modseq boundary and takes every
//! change up to it, an object is never reported as created after a page that called it updated
//! or destroyed (the MUST at the end of §5.2).
//!
//! A state the server cannot use (malformed, from the future, or older than the trimmed log)
//! is `cannotCalculateChanges`: the client must resync.
//!
//! A type's `X/changes` is one row in `dispatch.rs`: `changes::changes(ctx, args, Type, IdKind)`.

use super::args::{self, Args};
use super::error::MethodError;
use super::{Ctx, parse_state, state_string};
use crate::store::StoreError;
use crate::store::model::{ChangeSet, DataType, IdKind};
use serde_json::{Value, json};

/// The most ids one response carries when the client gives no (or a larger) `maxChanges`.
/// The server "MAY choose to return fewer" (§5.2); a bounded page bounds memory.
pub const SERVER_MAX_CHANGES: usize = 5000;

/// Mailbox properties that only the server computes (RFC 8621 §2.2 `updatedProperties`).
pub const MAILBOX_COUNT_PROPERTIES: [&str; 4] = [
    "totalEmails",
    "unreadEmails",
    "totalThreads",
    "unreadThreads",
];

/// Parsed `/changes` arguments, for types that need more than `changes()` does.
pub struct ChangesArgs {
    pub since: u64,
    pub max: usize,
}

/// Parses accountId, sinceState and maxChanges; `extra` names further allowed arguments.
pub fn parse(a: &Args, extra: &[&str]) -> Result<ChangesArgs, MethodError> {
    let mut allowed = vec!["accountId", "sinceState", "maxChanges"];
    allowed.extend_from_slice(extra);
    args::only(a, &allowed)?;
    let since = args::req_str(a, "sinceState")?;
    let max = match args::opt_uint(a, "maxChanges")? {
        Some(0) => {
            return Err(MethodError::invalid_arguments(
                "'maxChanges' must be greater than 0",
            ));
        }
        Some(n) => usize::try_from(n)
            .unwrap_or(usize::MAX)
            .min(SERVER_MAX_CHANGES),
        None => SERVER_MAX_CHANGES,
    };
    let since = parse_state(since).ok_or_else(MethodError::cannot_calculate_changes)?;
    Ok(ChangesArgs { since, max })
}

/// Reads the folded changes of `ty` since the client's state.
pub async fn read(
    ctx: &Ctx<'_>,
    acct: crate::store::model::AccountId,
    ty: DataType,
    c: &ChangesArgs,
) -> Result<ChangeSet, MethodError> {
    let (since, max) = (c.since, c.max);
    match ctx
        .jmap
        .store
        .read(move |r| r.changes(acct, ty, since, max))
        .await
    {
        Ok(Some(set)) => Ok(set),
        // Trimmed past the client's state, or a state this server never gave out.
        Ok(None) | Err(StoreError::StateTooOld) => Err(MethodError::cannot_calculate_changes()),
        Err(e) => Err(e.into()),
    }
}

/// The response object (§5.2), ids rendered with `kind`.
pub fn response(account_id: &str, since: u64, set: &ChangeSet, kind: IdKind) -> Value {
    let ids = |v: &[u32]| v.iter().map(|n| kind.encode(*n)).collect::<Vec<_>>();
    json!({
        "accountId": account_id,
        "oldState": state_string(since),
        "newState": state_string(set.new_modseq),
        "hasMoreChanges": set.has_more,
        "created": ids(&set.created),
        "updated": ids(&set.updated),
        "destroyed": ids(&set.destroyed),
    })
}

/// A complete standard `/changes` for a type whose ids are `kind`.
pub async fn changes(
    ctx: &mut Ctx<'_>,
    a: Args,
    ty: DataType,
    kind: IdKind,
) -> Result<Value, MethodError> {
    let (acct, access) = ctx.access(&a)?;
    // Only mail objects are filtered by the grants; a full member's other types are the
    // owner's own (access.rs).
    let access = match ty {
        DataType::Email | DataType::Thread => access,
        _ => super::access::Access::Own,
    };
    let c = parse(&a, &[])?;
    access.check_since(c.since)?;
    let set = read(ctx, acct, ty, &c).await?;
    let set = super::access::filter_changes(ctx, acct, &access, ty, set).await?;
    Ok(response(&ctx.account_id(), c.since, &set, kind))
}

/// Mailbox/changes (RFC 8621 §2.2): the standard response plus `updatedProperties`, which is
/// the four count properties when every update since the state only moved counts, else null.
pub async fn mailbox_changes(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let (acct, access) = ctx.access(&a)?;
    let c = parse(&a, &[])?;
    access.check_since(c.since)?;
    let set = read(ctx, acct, DataType::Mailbox, &c).await?;
    let set = super::access::filter_changes(ctx, acct, &access, DataType::Mailbox, set).await?;
    let mut v = response(&ctx.account_id(), c.since, &set, IdKind::Mailbox);
    v["updatedProperties"] = if set.only_counts {
        json!(MAILBOX_COUNT_PROPERTIES)
    } else {
        Value::Null
    };
    Ok(v)
}
