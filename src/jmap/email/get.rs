//! Email/get (RFC 8621 §4.2). The list-view properties come from the summary stored at ingest;
//! anything that needs the message itself (headers, `header:` forms, body parts, bodyValues)
//! parses the stored blob on the store's blocking read thread.

use super::body::{self, BodyProperty, FetchValues};
use crate::jmap::args::{self, Args};
use crate::jmap::error::MethodError;
use crate::jmap::{Ctx, blob, get, response};
use crate::mime::header::HeaderProperty;
use crate::mime::tree::Structure;
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

/// Properties that need the parsed message.
pub const BODY_PROPERTIES: [&str; 6] = [
    "headers",
    "bodyStructure",
    "bodyValues",
    "textBody",
    "htmlBody",
    "attachments",
];

/// §4.2: the properties returned when `properties` is null (not "all" of them).
pub const DEFAULT_PROPERTIES: [&str; 24] = [
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
    "bodyValues",
    "textBody",
    "htmlBody",
    "attachments",
];

pub fn to_json(id: u32, st: &EmailState, meta: &EmailMeta) -> Map<String, Value> {
    let mailbox_ids: Map<String, Value> = st
        .mailbox_ids
        .iter()
        .map(|m| (IdKind::Mailbox.encode(*m), json!(true)))
        .collect();
    let mut m = meta_json(meta);
    m.insert("id".into(), json!(IdKind::Email.encode(id)));
    m.insert("blobId".into(), json!(blob::blob_id(&st.blob)));
    m.insert(
        "threadId".into(),
        json!(IdKind::Thread.encode(st.thread_id)),
    );
    m.insert("mailboxIds".into(), Value::Object(mailbox_ids));
    m.insert("keywords".into(), json!(st.keywords));
    m.insert("size".into(), json!(st.size));
    m.insert(
        "receivedAt".into(),
        json!(crate::date::rfc3339(st.received_at)),
    );
    m
}

/// The properties derived from the message's header and body summary.
pub fn meta_json(meta: &EmailMeta) -> Map<String, Value> {
    let v = json!({
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

/// What the caller asked for, validated: shared by Email/get and Email/parse.
#[derive(Debug, Clone)]
pub struct Wanted {
    pub properties: Vec<String>,
    pub headers: Vec<(String, HeaderProperty)>,
    pub body_properties: Vec<BodyProperty>,
    pub fetch: FetchValues,
}

impl Wanted {
    pub fn parse(
        a: &Args,
        properties: Option<Vec<String>>,
        default: &[&str],
    ) -> Result<Wanted, MethodError> {
        let properties: Vec<String> =
            properties.unwrap_or_else(|| default.iter().map(|s| s.to_string()).collect());
        let mut headers = Vec::new();
        for p in &properties {
            match HeaderProperty::parse(p).map_err(MethodError::invalid_arguments)? {
                Some(h) => headers.push((p.clone(), h)),
                None if META_PROPERTIES.contains(&p.as_str())
                    || BODY_PROPERTIES.contains(&p.as_str()) => {}
                None => {
                    return Err(MethodError::invalid_arguments(format!(
                        "unknown property '{p}'"
                    )));
                }
            }
        }
        let body_properties = body::parse_body_properties(args::opt_str_list(a, "bodyProperties")?)
            .map_err(MethodError::invalid_arguments)?;
        let max = args::opt_uint(a, "maxBodyValueBytes")?.unwrap_or(0);
        let fetch = FetchValues {
            text: args::opt_bool(a, "fetchTextBodyValues", false)?,
            html: args::opt_bool(a, "fetchHTMLBodyValues", false)?,
            all: args::opt_bool(a, "fetchAllBodyValues", false)?,
            max_bytes: usize::try_from(max).unwrap_or(usize::MAX),
        };
        Ok(Wanted {
            properties,
            headers,
            body_properties,
            fetch,
        })
    }

    /// True when some property needs the message itself, not just the stored summary.
    pub fn needs_message(&self) -> bool {
        !self.headers.is_empty()
            || self
                .properties
                .iter()
                .any(|p| BODY_PROPERTIES.contains(&p.as_str()))
    }

    /// Adds the message-derived properties (headers, `header:*`, body parts) to `out`. Each
    /// property's JSON size is taken from `budget`; false (and `out` incomplete) as soon as it
    /// runs out, so an answer over the response cap (jmap/response.rs) stops growing after at
    /// most one property.
    pub fn render_message(
        &self,
        s: &Structure<'_>,
        blob_id: &str,
        out: &mut Map<String, Value>,
        budget: &mut usize,
    ) -> bool {
        let parts = |list: &[usize]| {
            Value::Array(
                list.iter()
                    .map(|&i| body::part_json(s, i, blob_id, &self.body_properties))
                    .collect(),
            )
        };
        let take = |budget: &mut usize, v: &Value| match budget.checked_sub(response::cost(v)) {
            Some(left) => {
                *budget = left;
                true
            }
            None => false,
        };
        for p in &self.properties {
            let v = match p.as_str() {
                "headers" => body::headers_json(&s.headers),
                "bodyStructure" => body::part_json(s, 0, blob_id, &self.body_properties),
                "bodyValues" => match body::body_values(s, self.fetch, *budget) {
                    Some(v) => v,
                    None => return false,
                },
                "textBody" => parts(&s.text_body),
                "htmlBody" => parts(&s.html_body),
                "attachments" => parts(&s.attachments),
                _ => continue,
            };
            if !take(budget, &v) {
                return false;
            }
            out.insert(p.clone(), v);
        }
        for (name, h) in &self.headers {
            let v = h.value(&s.headers);
            if !take(budget, &v) {
                return false;
            }
            out.insert(name.clone(), v);
        }
        true
    }

    /// Keeps the requested properties of `full` (and `id` when present).
    pub fn select(&self, mut full: Map<String, Value>) -> Map<String, Value> {
        let mut out = Map::new();
        if let Some(id) = full.remove("id") {
            out.insert("id".into(), id);
        }
        for p in &self.properties {
            if let Some(v) = full.remove(p) {
                out.insert(p.clone(), v);
            }
        }
        out
    }
}

pub async fn get(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let (acct, access) = ctx.access(&a)?;
    let mut known: Vec<&str> = META_PROPERTIES.to_vec();
    known.extend_from_slice(&BODY_PROPERTIES);
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
        &known,
    )?;
    let wanted = Wanted::parse(&a, g.properties, &DEFAULT_PROPERTIES)?;
    let ids = match g.ids {
        Some(ids) => ids,
        None => {
            // ids: null means all (RFC 8620 §5.1), bounded by maxObjectsInGet.
            let max = ctx.jmap.limits.max_objects_in_get;
            let a2 = access.clone();
            let all = ctx
                .jmap
                .store
                .read(move |r| {
                    let mut all = r.all_emails(acct)?;
                    if !a2.reads_all() {
                        let mut keep = Vec::new();
                        for (at, id) in all {
                            if r.email_state(acct, id)?.is_some_and(|st| a2.reads(&st)) {
                                keep.push((at, id));
                            }
                        }
                        all = keep;
                    }
                    Ok(all)
                })
                .await?;
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
    // The response cap (jmap/response.rs), spent as the list is built: an answer that would
    // not fit is abandoned as soon as it is known not to.
    let mut budget = ctx.budget.remaining();
    let over = ctx.budget.exceeded();
    let found = ctx
        .jmap
        .store
        .read(move |r| {
            let mut list = Vec::with_capacity(ids.len().min(64));
            let mut not_found = Vec::new();
            for s in ids {
                let found = match IdKind::Email.decode(&s) {
                    Some(n) => match (r.email_state(acct, n)?, r.email_meta(acct, n)?) {
                        // A grantee sees messages of readable mailboxes only (access.rs), and
                        // only the mailbox ids it can see.
                        (Some(mut st), Some(meta)) if access.reads(&st) => {
                            st.mailbox_ids.retain(|m| access.sees_mailbox(*m));
                            Some((n, st, meta))
                        }
                        _ => None,
                    },
                    None => None,
                };
                let Some((n, st, meta)) = found else {
                    not_found.push(s);
                    continue;
                };
                let mut full = to_json(n, &st, &meta);
                if wanted.needs_message() {
                    let raw = r.blob(acct, &st.blob)?.unwrap_or_default();
                    let parsed = Structure::parse(&raw);
                    // A scratch copy: the whole object is charged below.
                    let mut scratch = budget;
                    if !wanted.render_message(
                        &parsed,
                        &blob::blob_id(&st.blob),
                        &mut full,
                        &mut scratch,
                    ) {
                        return Ok(None);
                    }
                }
                let v = Value::Object(wanted.select(full));
                match budget.checked_sub(response::cost(&v)) {
                    Some(left) => budget = left,
                    None => return Ok(None),
                }
                list.push(v);
            }
            Ok(Some((
                access.state(r.state(acct, DataType::Email)?),
                list,
                not_found,
            )))
        })
        .await?;
    let Some((state, list, not_found)) = found else {
        return Err(over);
    };
    Ok(get::response(&ctx.account_id(), state, list, not_found))
}
