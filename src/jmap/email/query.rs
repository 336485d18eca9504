//! Email/query (RFC 8621 §4.4, RFC 8620 §5.5): inMailbox filter, receivedAt sort, position,
//! anchor, limit, total, collapseThreads. Answered from the store's date-ordered indexes.

use crate::jmap::args::{self, Args};
use crate::jmap::error::MethodError;
use crate::jmap::{Ctx, state_string};
use crate::store::model::{DataType, IdKind};
use serde_json::{Value, json};

/// The default page when the client gives no limit; also the ceiling.
const MAX_LIMIT: u64 = 1000;

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
    let mut in_mailbox: Option<Option<u32>> = None;
    match a.get("filter") {
        None | Some(Value::Null) => {}
        Some(Value::Object(f)) => {
            for (k, v) in f {
                match (k.as_str(), v) {
                    ("inMailbox", Value::String(id)) => {
                        in_mailbox = Some(IdKind::Mailbox.decode(&ctx.resolve_id(id)))
                    }
                    ("inMailbox", _) => {
                        return Err(MethodError::invalid_arguments("inMailbox must be a string"));
                    }
                    (other, _) => {
                        return Err(MethodError::unsupported_filter(format!(
                            "filter condition '{other}' is not supported"
                        )));
                    }
                }
            }
        }
        Some(_) => return Err(MethodError::invalid_arguments("filter must be an object")),
    }
    let mut ascending = false;
    match a.get("sort") {
        None | Some(Value::Null) => {}
        Some(Value::Array(list)) => {
            for c in list {
                let prop = c.get("property").and_then(Value::as_str).ok_or_else(|| {
                    MethodError::invalid_arguments("each Comparator needs a property")
                })?;
                if prop != "receivedAt" {
                    return Err(MethodError::unsupported_sort(format!(
                        "sorting by '{prop}' is not supported"
                    )));
                }
                ascending = match c.get("isAscending") {
                    None | Some(Value::Null) => true,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => {
                        return Err(MethodError::invalid_arguments(
                            "isAscending must be a boolean",
                        ));
                    }
                };
            }
        }
        Some(_) => return Err(MethodError::invalid_arguments("sort must be an array")),
    }
    let position = args::opt_int(&a, "position")?.unwrap_or(0);
    let anchor = args::opt_str(&a, "anchor")?.map(str::to_string);
    let anchor_offset = args::opt_int(&a, "anchorOffset")?.unwrap_or(0);
    let limit = args::opt_uint(&a, "limit")?
        .unwrap_or(MAX_LIMIT)
        .min(MAX_LIMIT) as usize;
    let calculate_total = args::opt_bool(&a, "calculateTotal", false)?;
    let collapse = args::opt_bool(&a, "collapseThreads", false)?;

    let (state, rows) = ctx
        .jmap
        .store
        .read(move |r| {
            let rows = match in_mailbox {
                None => r.all_emails(acct)?,
                Some(None) => Vec::new(),
                Some(Some(m)) => r.mailbox_emails(acct, m)?,
            };
            let mut with_threads = Vec::with_capacity(rows.len());
            if collapse {
                for (_, id) in &rows {
                    if let Some(st) = r.email_state(acct, *id)? {
                        with_threads.push((*id, st.thread_id));
                    }
                }
            } else {
                with_threads = rows.iter().map(|(_, id)| (*id, 0)).collect();
            }
            Ok((r.state(acct, DataType::Email)?, with_threads))
        })
        .await?;
    let mut ids: Vec<(u32, u32)> = rows;
    if !ascending {
        ids.reverse();
    }
    if collapse {
        let mut seen = std::collections::HashSet::new();
        ids.retain(|(_, t)| seen.insert(*t));
    }
    let total = ids.len();
    let start = if let Some(anchor) = &anchor {
        let Some(at) = IdKind::Email
            .decode(anchor)
            .and_then(|n| ids.iter().position(|(id, _)| *id == n))
        else {
            return Err(MethodError::new(
                "anchorNotFound",
                "the anchor is not in the results",
            ));
        };
        (at as i64 + anchor_offset).max(0) as usize
    } else if position < 0 {
        (total as i64 + position).max(0) as usize
    } else {
        position as usize
    };
    let start = start.min(total);
    let page: Vec<String> = ids[start..]
        .iter()
        .take(limit)
        .map(|(id, _)| IdKind::Email.encode(*id))
        .collect();
    let mut out = json!({
        "accountId": ctx.account_id(),
        "queryState": state_string(state),
        "canCalculateChanges": false,
        "position": start,
        "ids": page,
    });
    if calculate_total {
        out["total"] = json!(total);
    }
    if a.contains_key("limit") {
        out["limit"] = json!(limit);
    }
    Ok(out)
}
