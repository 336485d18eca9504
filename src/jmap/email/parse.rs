//! Email/parse (RFC 8621 §4.9): blobs parsed as messages without storing anything. Attached
//! messages (part blob ids from Email/get) parse like any other blob; their parts get blob ids
//! that continue the path, so they download too.

use super::get::{Wanted, meta_json};
use crate::jmap::args::{self, Args};
use crate::jmap::error::MethodError;
use crate::jmap::{Ctx, blob, response};
use crate::mime::tree::Structure;
use serde_json::{Map, Value, json};

/// §4.9: the properties returned when `properties` is omitted.
pub const DEFAULT_PROPERTIES: [&str; 17] = [
    "messageId",
    "inReplyTo",
    "references",
    "sender",
    "from",
    "to",
    "cc",
    "bcc",
    "replyTo",
    "subject",
    "sentAt",
    "hasAttachment",
    "preview",
    "bodyValues",
    "textBody",
    "htmlBody",
    "attachments",
];

pub async fn parse(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    args::only(
        &a,
        &[
            "accountId",
            "blobIds",
            "properties",
            "bodyProperties",
            "fetchTextBodyValues",
            "fetchHTMLBodyValues",
            "fetchAllBodyValues",
            "maxBodyValueBytes",
        ],
    )?;
    let acct = ctx.account(&a)?;
    let ids = args::opt_str_list(&a, "blobIds")?
        .ok_or_else(|| MethodError::invalid_arguments("'blobIds' is required"))?;
    if ids.len() > ctx.jmap.limits.max_objects_in_get {
        return Err(MethodError::request_too_large(format!(
            "at most {} blobs per Email/parse",
            ctx.jmap.limits.max_objects_in_get
        )));
    }
    let wanted = Wanted::parse(
        &a,
        args::opt_str_list(&a, "properties")?,
        &DEFAULT_PROPERTIES,
    )?;
    // A blob named twice is parsed once (its answer is one map entry anyway).
    let mut seen = std::collections::HashSet::with_capacity(ids.len());
    let ids: Vec<String> = ids
        .into_iter()
        .filter(|id| seen.insert(id.clone()))
        .collect();
    // The response cap (jmap/response.rs), spent as each message is rendered.
    let mut budget = ctx.budget.remaining();
    let mut parsed = Map::new();
    let mut not_parsable = Vec::new();
    let mut not_found = Vec::new();
    for id in ids {
        let Some(bytes) = blob::download(&ctx.jmap.store, acct, &id).await? else {
            not_found.push(id);
            continue;
        };
        let w = wanted.clone();
        let id2 = id.clone();
        let one = crate::pool::unblock(move || {
            let s = Structure::parse(&bytes);
            // The same rule as Email/import's invalidEmail (`ingest/shape.rs`).
            if !s.is_message() || !crate::ingest::shape::looks_like_message(&bytes) {
                return Ok(None);
            }
            let meta = crate::ingest::parse::summary(&s);
            let mut full = meta_json(&meta);
            for k in ["id", "mailboxIds", "keywords", "receivedAt", "threadId"] {
                full.insert(k.into(), Value::Null);
            }
            full.insert("blobId".into(), json!(id2));
            full.insert("size".into(), json!(bytes.len()));
            // A scratch copy: the whole object is charged below.
            let mut scratch = budget;
            if !w.render_message(&s, &id2, &mut full, &mut scratch) {
                return Err(());
            }
            let mut out = w.select(full);
            // `id` is only returned when asked for (it is null here).
            if !w.properties.iter().any(|p| p == "id") {
                out.remove("id");
            }
            let out = Value::Object(out);
            budget = budget.checked_sub(response::cost(&out)).ok_or(())?;
            Ok(Some((out, budget)))
        })
        .await;
        let Ok(one) = one else {
            return Err(ctx.budget.exceeded());
        };
        match one {
            Some((e, left)) => {
                budget = left;
                parsed.insert(id, e);
            }
            None => not_parsable.push(id),
        }
    }
    let or_null = |v: Vec<String>| if v.is_empty() { Value::Null } else { json!(v) };
    Ok(json!({
        "accountId": ctx.account_id(),
        "parsed": if parsed.is_empty() { Value::Null } else { Value::Object(parsed) },
        "notParsable": or_null(not_parsable),
        "notFound": or_null(not_found),
    }))
}
