//! Email/import (RFC 8621 §4.8): messages from blobs (uploads, or any blob the account can read,
//! including a part of a stored message) enter through the same path as SMTP delivery. The
//! blobs are read and parsed before the write transaction; the import itself runs on the /set
//! machinery (ifInState, oldState/newState, atomic per email, created ids for back-references).
//! receivedAt defaults to the date of the most recent Received field, else the import time.

use super::set::{PREPARED_KEY, store_prepared, take_prepared};
use crate::ingest::{self, Prepared};
use crate::jmap::args::{self, Args};
use crate::jmap::error::{MethodError, SetError};
use crate::jmap::set::{self, Created, Obj, SetCx, SetHandler};
use crate::jmap::{Ctx, blob};
use crate::mime::header;
use crate::mime::tree::Structure;
use crate::store::Writer;
use crate::store::model::DataType;
use serde_json::{Map, Value, json};
use std::sync::Arc;

struct Import {
    prepared: Arc<Vec<Result<(Prepared, i64), SetError>>>,
}

impl SetHandler for Import {
    fn data_type(&self) -> Option<DataType> {
        Some(DataType::Email)
    }
    fn create(
        &self,
        w: &mut Writer<'_>,
        cx: &mut SetCx,
        mut obj: Obj,
    ) -> Result<Created, SetError> {
        let (p, received) = take_prepared(&mut obj, &self.prepared)?;
        set::only_props(&obj, &["blobId", "mailboxIds", "keywords", "receivedAt"])?;
        store_prepared(w, cx, &obj, &p, received)
    }
}

/// The date of the most recent (topmost) Received field (RFC 5321 §4.4: `; date-time`).
pub fn last_received(s: &Structure<'_>) -> Option<i64> {
    let h = s
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("Received"))?;
    let text = header::raw_text(&h.value);
    let (_, date) = text.rsplit_once(';')?;
    let mut line = date.trim().as_bytes().to_vec();
    line.extend_from_slice(b"\r\n");
    crate::date::parse_rfc3339(&header::date(&line)?)
}

pub async fn import(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    args::only(&a, &["accountId", "ifInState", "emails"])?;
    // In a shared account the rights apply as for Email/set (share_set.rs): mayAddItems on
    // every mailbox, maySetSeen/maySetKeywords for the keywords (issue #16).
    let (acct, access) = ctx.access(&a)?;
    let emails = match a.get("emails") {
        Some(Value::Object(m)) => m.clone(),
        _ => {
            return Err(MethodError::invalid_arguments(
                "'emails' must be an object of EmailImport",
            ));
        }
    };
    if emails.len() > ctx.jmap.limits.max_objects_in_set {
        return Err(MethodError::request_too_large(format!(
            "at most {} emails per Email/import",
            ctx.jmap.limits.max_objects_in_set
        )));
    }
    let mut prepared = Vec::with_capacity(emails.len());
    let mut create = Map::new();
    for (cid, e) in emails {
        let Value::Object(mut e) = e else {
            return Err(MethodError::invalid_arguments(
                "an EmailImport must be an object",
            ));
        };
        e.remove(PREPARED_KEY);
        let r = match e.get("blobId") {
            Some(Value::String(b)) => match blob::download(&ctx.jmap.store, acct, b).await? {
                // A PNG or random bytes would otherwise "parse" as a body without headers.
                Some(bytes) if !ingest::shape::looks_like_message(&bytes) => Err(SetError::new(
                    "invalidEmail",
                    "the blob is not a message: it does not start with a header field \
                     (RFC 5322 §2.2)",
                )),
                Some(bytes) => {
                    let now = crate::date::now();
                    Ok(crate::pool::unblock(move || {
                        let received = last_received(&Structure::parse(&bytes)).unwrap_or(now);
                        (ingest::prepare(bytes), received)
                    })
                    .await)
                }
                None => Err(SetError::invalid_properties(&["blobId"], "no such blob")),
            },
            _ => Err(SetError::invalid_properties(
                &["blobId"],
                "blobId is required",
            )),
        };
        e.insert(PREPARED_KEY.into(), json!(prepared.len()));
        prepared.push(r);
        create.insert(cid, Value::Object(e));
    }
    let mut set_args = Map::new();
    if let Some(id) = a.get("accountId") {
        set_args.insert("accountId".into(), id.clone());
    }
    if let Some(s) = a.get("ifInState") {
        set_args.insert("ifInState".into(), s.clone());
    }
    set_args.insert("create".into(), Value::Object(create));
    let handler = Import {
        prepared: Arc::new(prepared),
    };
    let out = match access {
        crate::jmap::access::Access::Own => set::set(ctx, set_args, handler).await?,
        access => {
            let (state, grantee) = (access.clone(), ctx.user.id);
            let mut out = set::set(
                ctx,
                set_args,
                crate::jmap::share_set::Guarded {
                    inner: handler,
                    access,
                    kind: crate::jmap::share_set::Kind::Email,
                    grantee,
                },
            )
            .await?;
            crate::jmap::share_set::shared_states(&mut out.response, &state);
            out
        }
    };
    let r = out.response;
    Ok(json!({
        "accountId": r["accountId"],
        "oldState": r["oldState"],
        "newState": r["newState"],
        "created": r["created"],
        "notCreated": r["notCreated"],
    }))
}
