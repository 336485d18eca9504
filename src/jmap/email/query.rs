//! Email/query (RFC 8621 §4.4, RFC 8620 §5.5): every filter condition of §4.4.1 with nested
//! AND/OR/NOT, every sort property of §4.4.2, collapseThreads, position (negative too), anchor
//! and anchorOffset, limit, calculateTotal. Text conditions are answered by the search index,
//! the rest by the store (`query_run.rs`).

use super::query_filter;
use super::query_run::{self, Plan};
use super::query_sort;
use crate::jmap::args::{self, Args};
use crate::jmap::error::MethodError;
use crate::jmap::{Ctx, state_string};
use crate::store::model::IdKind;
use serde_json::{Value, json};

/// The most ids one Email/query returns (also the page when the client gives no limit).
pub const MAX_LIMIT: u64 = 1000;

/// Parses the arguments Email/query and Email/queryChanges share.
pub fn plan(ctx: &Ctx<'_>, a: &Args) -> Result<Plan, MethodError> {
    Ok(Plan {
        parsed: query_filter::parse(ctx, a.get("filter"))?,
        sort: query_sort::parse(a.get("sort"))?,
        collapse: args::opt_bool(a, "collapseThreads", false)?,
    })
}

pub async fn query(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let acct = ctx.account(&a)?;
    args::only(
        &a,
        &[
            "accountId",
            "filter",
            "sort",
            "position",
            "anchor",
            "anchorOffset",
            "limit",
            "calculateTotal",
            "collapseThreads",
        ],
    )?;
    let plan = plan(ctx, &a)?;
    let position = args::opt_int(&a, "position")?.unwrap_or(0);
    let anchor = match args::opt_str(&a, "anchor")? {
        // An id that cannot name an email is not in the results either.
        Some(s) => Some(
            IdKind::Email
                .decode(&ctx.resolve_id(s))
                .ok_or_else(anchor_not_found)?,
        ),
        None => None,
    };
    let anchor_offset = args::opt_int(&a, "anchorOffset")?.unwrap_or(0);
    let asked = args::opt_uint(&a, "limit")?;
    let limit = asked.unwrap_or(MAX_LIMIT).min(MAX_LIMIT) as usize;
    let calculate_total = args::opt_bool(&a, "calculateTotal", false)?;
    // Without a total, an anchor or a position from the end, only the page itself is needed.
    let stop_after = (!calculate_total && anchor.is_none() && position >= 0)
        .then(|| (position as usize).saturating_add(limit).saturating_add(1));

    let snap = query_run::snapshot(ctx, acct, &plan).await?;
    let (state, ids) = ctx
        .jmap
        .store
        .read(move |r| {
            Ok((|| {
                let state = query_run::query_state(r, &snap, acct, &plan)?;
                let ids = query_run::run(r, &snap, acct, &plan, stop_after)?;
                Ok::<_, MethodError>((state, ids))
            })())
        })
        .await??;

    let total = ids.len();
    let start = if let Some(anchor) = anchor {
        let at = ids
            .iter()
            .position(|id| *id == anchor)
            .ok_or_else(anchor_not_found)?;
        (at as i64).saturating_add(anchor_offset).max(0) as usize
    } else if position < 0 {
        (total as i64).saturating_add(position).max(0) as usize
    } else {
        position as usize
    };
    let start = start.min(total);
    let page: Vec<String> = ids[start..]
        .iter()
        .take(limit)
        .map(|id| IdKind::Email.encode(*id))
        .collect();
    let mut out = json!({
        "accountId": ctx.account_id(),
        "queryState": state_string(state),
        "canCalculateChanges": true,
        "position": start,
        "ids": page,
    });
    if calculate_total {
        out["total"] = json!(total);
    }
    // RFC 8620 §5.5: `limit` is returned only when the server used a different one.
    let capped = asked.is_some_and(|l| l > MAX_LIMIT)
        || (asked.is_none() && total.saturating_sub(start) > limit);
    if capped {
        out["limit"] = json!(limit);
    }
    Ok(out)
}

fn anchor_not_found() -> MethodError {
    MethodError::new("anchorNotFound", "the anchor is not in the results")
}
