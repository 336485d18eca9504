//! Email/get (RFC 8621 §4.2): the metadata properties, answered from the stored summary.

use crate::jmap::args::Args;
use crate::jmap::error::MethodError;
use crate::jmap::{Ctx, blob, get};
use crate::store::model::{DataType, EmailMeta, EmailState, IdKind};
use serde_json::{Map, Value, json};

/// Properties answered from the stored metadata.
pub const META_PROPERTIES: [&str; 20] = [
    "id",
    "blobId",
    "threadId",
    "mailboxIds",
    "keywords",
    "size",
    "receivedAt",
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
];

pub fn to_json(id: u32, st: &EmailState, meta: &EmailMeta) -> Map<String, Value> {
    let mailbox_ids: Map<String, Value> = st
        .mailbox_ids
        .iter()
        .map(|m| (IdKind::Mailbox.encode(*m), json!(true)))
        .collect();
    let v = json!({
        "id": IdKind::Email.encode(id),
        "blobId": blob::blob_id(&st.blob),
        "threadId": IdKind::Thread.encode(st.thread_id),
        "mailboxIds": mailbox_ids,
        "keywords": st.keywords,
        "size": st.size,
        "receivedAt": crate::date::rfc3339(st.received_at),
        "messageId": meta.message_id,
        "inReplyTo": meta.in_reply_to,
        "references": meta.references,
        "sender": meta.sender,
        "from": meta.from,
        "to": meta.to,
        "cc": meta.cc,
        "bcc": meta.bcc,
        "replyTo": meta.reply_to,
        "subject": meta.subject,
        "sentAt": meta.sent_at,
        "hasAttachment": meta.has_attachment,
        "preview": meta.preview,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub async fn get(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let acct = ctx.account(&a)?;
    let g = get::parse(
        ctx,
        &a,
        &[
            "bodyProperties",
            "fetchTextBodyValues",
            "fetchHTMLBodyValues",
            "fetchAllBodyValues",
            "maxBodyValueBytes",
        ],
        &META_PROPERTIES,
    )?;
    let ids = match g.ids {
        Some(ids) => ids,
        None => {
            // ids: null means all (RFC 8620 §5.1), bounded by maxObjectsInGet.
            let max = ctx.jmap.limits.max_objects_in_get;
            let all = ctx.jmap.store.read(move |r| r.all_emails(acct)).await?;
            if all.len() > max {
                return Err(MethodError::request_too_large(format!(
                    "the account has more than {max} emails"
                )));
            }
            all.into_iter()
                .map(|(_, id)| IdKind::Email.encode(id))
                .collect()
        }
    };
    let (state, found) = ctx
        .jmap
        .store
        .read(move |r| {
            let mut out = Vec::with_capacity(ids.len());
            for s in ids {
                let rec = match IdKind::Email.decode(&s) {
                    Some(n) => match (r.email_state(acct, n)?, r.email_meta(acct, n)?) {
                        (Some(st), Some(meta)) => Some((n, st, meta)),
                        _ => None,
                    },
                    None => None,
                };
                out.push((s, rec));
            }
            Ok((r.state(acct, DataType::Email)?, out))
        })
        .await?;
    let mut list = Vec::new();
    let mut not_found = Vec::new();
    for (s, rec) in found {
        match rec {
            Some((n, st, meta)) => {
                list.push(get::select(to_json(n, &st, &meta), g.properties.as_deref()))
            }
            None => not_found.push(s),
        }
    }
    Ok(get::response(&ctx.account_id(), state, list, not_found))
}
