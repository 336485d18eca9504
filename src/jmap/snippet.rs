//! SearchSnippet/get (RFC 8621 §5): for each email, its subject and a section of its body with
//! the words that match the filter's text conditions wrapped in `<mark>`, HTML-escaped. Terms
//! come from the positive (not negated) `text`, `subject` and `body` conditions; matching uses
//! the index tokenizer, so whatever the search matched is what gets marked.

use super::Ctx;
use super::args::{self, Args};
use super::email::query_filter;
use super::error::MethodError;
use crate::index::highlight;
use crate::index::query::{Target, highlight_terms};
use crate::index::schema::{TextField, body_text};
use crate::store::model::IdKind;
use serde_json::{Value, json};
use std::collections::HashSet;

/// RFC 8621 §5: the preview "MUST NOT be bigger than 255 octets".
const PREVIEW_BYTES: usize = 255;

pub async fn get(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let (acct, access) = ctx.access(&a)?;
    args::only(&a, &["accountId", "filter", "emailIds"])?;
    let parsed = query_filter::parse(ctx, a.get("filter"))?;
    let ids = args::opt_str_list(&a, "emailIds")?
        .ok_or_else(|| MethodError::invalid_arguments("'emailIds' is required"))?;
    if ids.len() > ctx.jmap.limits.max_objects_in_get {
        return Err(MethodError::request_too_large(format!(
            "at most {} emailIds per call",
            ctx.jmap.limits.max_objects_in_get
        )));
    }
    let mut positive = Vec::new();
    if let Some(f) = &parsed.filter {
        query_filter::positive_texts(f, false, &mut positive);
    }
    let mut subject_terms: HashSet<String> = HashSet::new();
    let mut body_terms: HashSet<String> = HashSet::new();
    for i in positive {
        let Some(t) = parsed.texts.get(i) else {
            continue;
        };
        let Some(text) = &t.text else { continue };
        let terms = highlight_terms(text);
        match &t.target {
            Target::Anywhere => {
                subject_terms.extend(terms.iter().cloned());
                body_terms.extend(terms);
            }
            Target::Field(TextField::Subject) => subject_terms.extend(terms),
            Target::Field(TextField::Body) => body_terms.extend(terms),
            _ => {}
        }
    }
    // An id named twice is answered once (as /get does, RFC 8620 §5.1): each costs a parse.
    let mut seen = HashSet::with_capacity(ids.len());
    let wanted: Vec<(String, Option<u32>)> = ids
        .iter()
        .map(|s| ctx.resolve_id(s))
        .filter(|s| seen.insert(s.clone()))
        .map(|s| {
            let n = IdKind::Email.decode(&s);
            (s, n)
        })
        .collect();
    let (list, not_found) = ctx
        .jmap
        .store
        .read(move |r| {
            let mut list = Vec::new();
            let mut not_found = Vec::new();
            for (wire, id) in wanted {
                let found = match id {
                    // A grantee gets snippets of readable messages only (access.rs).
                    Some(id) => r
                        .email_state(acct, id)?
                        .filter(|st| access.reads(st))
                        .map(|st| (id, st)),
                    None => None,
                };
                let Some((id, st)) = found else {
                    not_found.push(wire);
                    continue;
                };
                let subject = match r.email_meta(acct, id)?.and_then(|m| m.subject) {
                    Some(s) if !subject_terms.is_empty() => {
                        highlight::highlight(&s, &subject_terms)
                    }
                    _ => None,
                };
                let mut preview = None;
                if !body_terms.is_empty()
                    && let Some(raw) = r.blob(acct, &st.blob)?
                {
                    let s = crate::mime::tree::Structure::parse(&raw);
                    preview = highlight::excerpt(&body_text(&s), &body_terms, PREVIEW_BYTES);
                }
                list.push(json!({
                    "emailId": IdKind::Email.encode(id),
                    "subject": subject,
                    "preview": preview,
                }));
            }
            Ok((list, not_found))
        })
        .await?;
    Ok(json!({
        "accountId": ctx.account_id(),
        "list": list,
        "notFound": if not_found.is_empty() { Value::Null } else { json!(not_found) },
    }))
}
