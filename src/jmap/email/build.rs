//! Email/set create (RFC 8621 §4.6): a JMAP Email object becomes a real RFC 5322 message.
//!
//! The constraints of §4.6 are checked first (no `headers`, no field given twice, no forbidden
//! parsed form, no `Content-*` on the Email, bodyStructure xor textBody/htmlBody/attachments,
//! one text/plain textBody and one text/html htmlBody, partId xor blobId, partIds present in
//! bodyValues, no charset or size with a partId, no Content-Transfer-Encoding) and any
//! violation is `invalidProperties` naming the property. The message is then written by
//! mail-builder (1.0: the one version in the tree, shared with mail-auth), which picks transfer
//! encodings and RFC 2047/2231-encodes non-ASCII header text. An encoded display name is
//! written as a bare phrase, never inside a quoted string (RFC 2047 §5(3); 0.4 quoted it). Without textBody/htmlBody the shape is: one part; text+HTML as multipart/alternative;
//! with attachments, multipart/mixed around the body. A Message-ID and a Date are generated
//! when the client gives none (§4.6).

use crate::jmap::error::SetError;
use crate::mime::header::{Form, HeaderProperty};
use mail_builder::MessageBuilder;
use mail_builder::headers::HeaderType;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;
use mail_builder::headers::url::URL;
use mail_builder::mime::{BodyPart, MimePart};
use serde_json::{Map, Value};
use std::collections::HashMap;

type Obj = Map<String, Value>;

/// Email properties that are header fields in disguise (§4.1.3), with their field and form.
const CONVENIENCE: [(&str, &str, Form); 11] = [
    ("messageId", "Message-ID", Form::MessageIds),
    ("inReplyTo", "In-Reply-To", Form::MessageIds),
    ("references", "References", Form::MessageIds),
    ("sender", "Sender", Form::Addresses),
    ("from", "From", Form::Addresses),
    ("to", "To", Form::Addresses),
    ("cc", "Cc", Form::Addresses),
    ("bcc", "Bcc", Form::Addresses),
    ("replyTo", "Reply-To", Form::Addresses),
    ("subject", "Subject", Form::Text),
    ("sentAt", "Date", Form::Date),
];

/// Email properties a create may carry besides header fields and the body.
pub const CREATE_META: [&str; 3] = ["mailboxIds", "keywords", "receivedAt"];

const BODY_PROPS: [&str; 5] = [
    "bodyStructure",
    "textBody",
    "htmlBody",
    "attachments",
    "bodyValues",
];

fn bad(prop: &str, why: impl Into<String>) -> SetError {
    SetError::invalid_properties(&[prop], why)
}

/// Every blobId an Email create refers to (so the caller can fetch them first).
pub fn blob_ids(obj: &Obj) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>, depth: usize) {
        if depth > 32 {
            return;
        }
        match v {
            Value::Object(m) => {
                if let Some(Value::String(b)) = m.get("blobId") {
                    out.push(b.clone());
                }
                if let Some(Value::Array(s)) = m.get("subParts") {
                    s.iter().for_each(|p| walk(p, out, depth + 1));
                }
            }
            Value::Array(a) => a.iter().for_each(|p| walk(p, out, depth + 1)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for p in ["bodyStructure", "textBody", "htmlBody", "attachments"] {
        if let Some(v) = obj.get(p) {
            walk(v, &mut out, 0);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Builds the message. `blobs` holds the bytes of every blob id from [`blob_ids`] that exists.
/// `now` is the server time for a missing Date.
pub fn build(obj: &Obj, blobs: &HashMap<String, Vec<u8>>, now: i64) -> Result<Vec<u8>, SetError> {
    if obj.contains_key("headers") {
        return Err(bad("headers", "set each header field as its own property"));
    }
    let missing: Vec<String> = blob_ids(obj)
        .into_iter()
        .filter(|b| !blobs.contains_key(b))
        .collect();
    if !missing.is_empty() {
        return Err(SetError::new("blobNotFound", "unknown blob ids")
            .with("notFound", serde_json::json!(missing)));
    }
    let mut b = MessageBuilder::new();
    let mut seen_fields: Vec<String> = Vec::new();
    let mut has_date = false;
    for (prop, field, form) in CONVENIENCE {
        if let Some(v) = obj.get(prop) {
            seen_fields.push(field.to_ascii_lowercase());
            if v.is_null() {
                continue;
            }
            has_date |= field == "Date";
            b = b.header(field, header_value(prop, form, v)?);
        }
    }
    for (prop, v) in obj {
        let Some(h) = HeaderProperty::parse(prop).map_err(|e| bad(prop, e))? else {
            if !CONVENIENCE.iter().any(|(p, _, _)| p == prop)
                && !CREATE_META.contains(&prop.as_str())
                && !BODY_PROPS.contains(&prop.as_str())
                && prop != "id"
            {
                return Err(bad(prop, format!("'{prop}' cannot be set on create")));
            }
            continue;
        };
        let lc = h.name.to_ascii_lowercase();
        if lc.starts_with("content-") {
            return Err(bad(prop, "Content-* fields belong on body parts"));
        }
        if seen_fields.contains(&lc) {
            return Err(bad(prop, "this header field is given twice"));
        }
        seen_fields.push(lc.clone());
        has_date |= lc == "date";
        b = add_header(b, prop, &h, v)?;
    }
    if !has_date {
        b = b.header("Date", Raw::new(crate::date::rfc5322(now)));
    }
    if !seen_fields.iter().any(|f| f == "message-id") {
        b = b.header("Message-ID", MessageId::new(generate_message_id(obj, now)));
    }
    let values = body_values(obj)?;
    let body = match obj.get("bodyStructure") {
        Some(s) if !s.is_null() => {
            for p in ["textBody", "htmlBody", "attachments"] {
                if obj.get(p).is_some_and(|v| !v.is_null()) {
                    return Err(bad(p, "not allowed together with bodyStructure"));
                }
            }
            part(s, "bodyStructure", &values, blobs, &seen_fields, 0)?
        }
        _ => simple_body(obj, &values, blobs)?,
    };
    b = b.body(body);
    b.write_to_vec()
        .map_err(|e| SetError::new("invalidProperties", format!("cannot build: {e}")))
}

/// A Message-ID unique enough for a draft: time, a content hash and the sender's domain.
fn generate_message_id(obj: &Obj, now: i64) -> String {
    let domain = obj
        .get("from")
        .and_then(|f| f.get(0))
        .and_then(|a| a.get("email"))
        .and_then(Value::as_str)
        .and_then(|e| e.rsplit_once('@'))
        .map(|(_, d)| d.to_string())
        .filter(|d| !d.is_empty() && d.bytes().all(|c| c.is_ascii_graphic() && c != b'>'))
        .unwrap_or_else(|| "mailnook.invalid".into());
    let nonce = crate::store::hex_sha256(
        format!(
            "{now}{}{:?}",
            Value::Object(obj.clone()),
            std::time::SystemTime::now()
        )
        .as_bytes(),
    );
    format!("{now}.{}@{domain}", &nonce[..20])
}

fn body_values(obj: &Obj) -> Result<HashMap<String, String>, SetError> {
    let mut out = HashMap::new();
    match obj.get("bodyValues") {
        None | Some(Value::Null) => {}
        Some(Value::Object(m)) => {
            for (id, v) in m {
                let Value::Object(v) = v else {
                    return Err(bad("bodyValues", "an EmailBodyValue is an object"));
                };
                for flag in ["isEncodingProblem", "isTruncated"] {
                    if !matches!(
                        v.get(flag),
                        None | Some(Value::Bool(false)) | Some(Value::Null)
                    ) {
                        return Err(bad("bodyValues", format!("{flag} must be false")));
                    }
                }
                let Some(Value::String(text)) = v.get("value") else {
                    return Err(bad("bodyValues", "value must be a string"));
                };
                out.insert(id.clone(), text.clone());
            }
        }
        Some(_) => return Err(bad("bodyValues", "bodyValues must be an object")),
    }
    Ok(out)
}

fn simple_body(
    obj: &Obj,
    values: &HashMap<String, String>,
    blobs: &HashMap<String, Vec<u8>>,
) -> Result<MimePart<'static>, SetError> {
    let one = |prop: &str, ty: &str| -> Result<Option<MimePart<'static>>, SetError> {
        match obj.get(prop) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) if a.len() == 1 => {
                let t = a[0].get("type").and_then(Value::as_str).unwrap_or(ty);
                if !t.eq_ignore_ascii_case(ty) {
                    return Err(bad(prop, format!("{prop} must be of type {ty}")));
                }
                let mut p = a[0].clone();
                if let Value::Object(m) = &mut p {
                    m.insert("type".into(), Value::String(ty.into()));
                }
                part(&p, prop, values, blobs, &[], 0).map(Some)
            }
            Some(_) => Err(bad(prop, format!("{prop} must hold exactly one part"))),
        }
    };
    let text = one("textBody", "text/plain")?;
    let html = one("htmlBody", "text/html")?;
    let mut attachments = Vec::new();
    match obj.get("attachments") {
        None | Some(Value::Null) => {}
        Some(Value::Array(a)) => {
            for p in a {
                attachments.push(part(p, "attachments", values, blobs, &[], 0)?);
            }
        }
        Some(_) => return Err(bad("attachments", "attachments must be an array")),
    }
    let main = match (text, html) {
        (Some(t), Some(h)) => MimePart::new("multipart/alternative", vec![t, h]),
        (Some(t), None) => t,
        (None, Some(h)) => h,
        (None, None) => MimePart::new("text/plain", BodyPart::Text(String::new().into())),
    };
    Ok(if attachments.is_empty() {
        main
    } else {
        let mut all = vec![main];
        all.extend(attachments);
        MimePart::new("multipart/mixed", all)
    })
}

/// One EmailBodyPart (§4.1.4) for creation.
fn part(
    v: &Value,
    prop: &str,
    values: &HashMap<String, String>,
    blobs: &HashMap<String, Vec<u8>>,
    email_fields: &[String],
    depth: usize,
) -> Result<MimePart<'static>, SetError> {
    if depth > 16 {
        return Err(bad(prop, "body parts nest too deep"));
    }
    let Value::Object(p) = v else {
        return Err(bad(prop, "an EmailBodyPart is an object"));
    };
    if p.contains_key("headers") {
        return Err(bad(prop, "set each header field as its own property"));
    }
    let s = |k: &str| -> Result<Option<String>, SetError> {
        match p.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad(prop, format!("{k} must be a string"))),
        }
    };
    let ty = s("type")?.map(|t| t.to_ascii_lowercase());
    let mut mime = if let Some(Value::Array(subs)) = p.get("subParts") {
        let ty = ty.unwrap_or_else(|| "multipart/mixed".into());
        if !ty.starts_with("multipart/") {
            return Err(bad(prop, "only a multipart/* part has subParts"));
        }
        let kids = subs
            .iter()
            .map(|c| part(c, prop, values, blobs, email_fields, depth + 1))
            .collect::<Result<Vec<_>, _>>()?;
        MimePart::new(ContentType::new(ty), kids)
    } else {
        let (part_id, blob_id) = (s("partId")?, s("blobId")?);
        match (part_id, blob_id) {
            (Some(id), None) => {
                if p.get("charset").is_some_and(|c| !c.is_null())
                    || p.get("size").is_some_and(|c| !c.is_null())
                {
                    return Err(bad(prop, "charset and size are not given with a partId"));
                }
                let text = values
                    .get(&id)
                    .ok_or_else(|| bad(prop, format!("partId {id} is not in bodyValues")))?;
                let ty = ty.unwrap_or_else(|| "text/plain".into());
                if !ty.starts_with("text/") {
                    return Err(bad(prop, "a part with a partId must be text/*"));
                }
                let ct = ContentType::new(ty).attribute("charset", "utf-8");
                MimePart::new(
                    ct,
                    BodyPart::Text(text.replace("\r\n", "\n").replace('\n', "\r\n").into()),
                )
            }
            (None, Some(blob)) => {
                let bytes = blobs.get(&blob).cloned().unwrap_or_default();
                let ty = ty.unwrap_or_else(|| "application/octet-stream".into());
                let mut ct = ContentType::new(ty.clone());
                if let Some(c) = s("charset")? {
                    ct = ct.attribute("charset", c);
                } else if ty.starts_with("text/") {
                    ct = ct.attribute("charset", "utf-8");
                }
                if let Some(n) = s("name")? {
                    ct = ct.attribute("name", n);
                }
                MimePart::new(ct, BodyPart::Binary(bytes.into()))
            }
            _ => return Err(bad(prop, "a body part has a partId or a blobId, not both")),
        }
    };
    let disposition = s("disposition")?;
    let name = s("name")?;
    if disposition.is_some() || name.is_some() {
        let mut cd = ContentType::new(disposition.unwrap_or_else(|| "attachment".into()));
        if let Some(n) = name {
            cd = cd.attribute("filename", n);
        }
        mime = mime.header("Content-Disposition", cd);
    }
    if let Some(cid) = s("cid")? {
        mime = mime.cid(
            cid.trim_start_matches('<')
                .trim_end_matches('>')
                .to_string(),
        );
    }
    if let Some(loc) = s("location")? {
        mime = mime.location(loc);
    }
    match p.get("language") {
        None | Some(Value::Null) => {}
        Some(Value::Array(l)) => {
            let tags: Vec<String> = l
                .iter()
                .filter_map(|t| t.as_str().map(String::from))
                .collect();
            mime = mime.language(tags.join(", "));
        }
        Some(_) => return Err(bad(prop, "language must be an array of strings")),
    }
    let mut fields: Vec<String> = Vec::new();
    for (k, v) in p {
        let Some(h) = HeaderProperty::parse(k).map_err(|e| bad(prop, e))? else {
            if !matches!(
                k.as_str(),
                "partId"
                    | "blobId"
                    | "size"
                    | "name"
                    | "type"
                    | "charset"
                    | "disposition"
                    | "cid"
                    | "language"
                    | "location"
                    | "subParts"
            ) {
                return Err(bad(prop, format!("unknown body part property '{k}'")));
            }
            continue;
        };
        let lc = h.name.to_ascii_lowercase();
        if lc == "content-transfer-encoding"
            || fields.contains(&lc)
            || email_fields.contains(&lc)
            || matches!(
                lc.as_str(),
                "content-type"
                    | "content-disposition"
                    | "content-id"
                    | "content-location"
                    | "content-language"
            ) && part_sets(p, &lc)
        {
            return Err(bad(
                prop,
                format!("the field {} cannot be given here", h.name),
            ));
        }
        fields.push(lc);
        let value = header_value(k, h.form, v)?;
        if lc_is_replacing(&h.name) {
            mime.headers
                .retain(|(n, _)| !n.eq_ignore_ascii_case(&h.name));
        }
        mime = mime.header(h.name.clone(), value);
    }
    Ok(mime)
}

/// True when the part's own properties already produce this MIME field.
fn part_sets(p: &Obj, lc: &str) -> bool {
    let has = |k: &str| p.get(k).is_some_and(|v| !v.is_null());
    match lc {
        "content-type" => has("type") || has("charset"),
        "content-disposition" => has("disposition") || has("name"),
        "content-id" => has("cid"),
        "content-location" => has("location"),
        "content-language" => has("language"),
        _ => false,
    }
}

/// A header property for Content-Type replaces the one mail-builder wrote from `type`.
fn lc_is_replacing(name: &str) -> bool {
    name.eq_ignore_ascii_case("Content-Type")
}

fn add_header(
    b: MessageBuilder<'static>,
    prop: &str,
    h: &HeaderProperty,
    v: &Value,
) -> Result<MessageBuilder<'static>, SetError> {
    if h.all {
        let Value::Array(items) = v else {
            return Err(bad(prop, "an :all property takes an array"));
        };
        let mut b = b;
        for item in items {
            b = b.header(h.name.clone(), header_value(prop, h.form, item)?);
        }
        Ok(b)
    } else if v.is_null() {
        Ok(b)
    } else {
        Ok(b.header(h.name.clone(), header_value(prop, h.form, v)?))
    }
}

fn strings(prop: &str, v: &Value) -> Result<Vec<String>, SetError> {
    match v {
        Value::Array(a) => a
            .iter()
            .map(|s| {
                s.as_str()
                    .map(String::from)
                    .ok_or_else(|| bad(prop, "expected an array of strings"))
            })
            .collect(),
        _ => Err(bad(prop, "expected an array of strings")),
    }
}

fn address(prop: &str, v: &Value) -> Result<Address<'static>, SetError> {
    let email = v
        .get("email")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(prop, "an EmailAddress needs an email"))?;
    if email.contains(['\r', '\n', '<', '>']) {
        return Err(bad(prop, "invalid email address"));
    }
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty());
    Ok(Address::new_address(
        name.map(String::from),
        email.to_string(),
    ))
}

/// One header value in a parsed form, validated, as mail-builder's header type.
fn header_value(prop: &str, form: Form, v: &Value) -> Result<HeaderType<'static>, SetError> {
    let no_breaks = |s: &str| -> Result<String, SetError> {
        if s.contains(['\r', '\n']) {
            Err(bad(prop, "header values cannot contain line breaks"))
        } else {
            Ok(s.to_string())
        }
    };
    Ok(match form {
        Form::Raw => {
            let s = v.as_str().ok_or_else(|| bad(prop, "expected a string"))?;
            // Raw keeps folding the client wrote, but every line break must be a fold.
            let ok = s.split("\r\n").skip(1).all(|l| l.starts_with([' ', '\t']))
                && !s.replace("\r\n", "").contains(['\r', '\n']);
            if !ok {
                return Err(bad(prop, "a raw value may only contain folded line breaks"));
            }
            HeaderType::Raw(Raw::new(s.trim_start().to_string()))
        }
        Form::Text => {
            let s = v.as_str().ok_or_else(|| bad(prop, "expected a string"))?;
            HeaderType::Text(Text::new(no_breaks(s)?))
        }
        Form::Addresses => {
            let Value::Array(a) = v else {
                return Err(bad(prop, "expected an array of EmailAddress"));
            };
            let list = a
                .iter()
                .map(|x| address(prop, x))
                .collect::<Result<Vec<_>, _>>()?;
            HeaderType::Address(Address::new_list(list))
        }
        Form::GroupedAddresses => {
            let Value::Array(a) = v else {
                return Err(bad(prop, "expected an array of EmailAddressGroup"));
            };
            let mut items = Vec::new();
            for g in a {
                let Some(Value::Array(members)) = g.get("addresses") else {
                    return Err(bad(prop, "a group needs addresses"));
                };
                let list = members
                    .iter()
                    .map(|x| address(prop, x))
                    .collect::<Result<Vec<_>, _>>()?;
                match g.get("name").and_then(Value::as_str) {
                    Some(n) => items.push(Address::new_group(Some(n.to_string()), list)),
                    None => items.extend(list),
                }
            }
            HeaderType::Address(Address::new_list(items))
        }
        Form::MessageIds => {
            let ids = strings(prop, v)?;
            if ids.is_empty()
                || ids.iter().any(|i| {
                    i.is_empty() || i.contains(['<', '>', ' ', '\r', '\n']) || !i.contains('@')
                })
            {
                return Err(bad(prop, "message ids look like left@right, without <>"));
            }
            HeaderType::MessageId(MessageId {
                id: ids.into_iter().map(Into::into).collect(),
            })
        }
        Form::Date => {
            let s = v.as_str().ok_or_else(|| bad(prop, "expected a Date"))?;
            HeaderType::Raw(Raw::new(
                rfc5322_with_offset(s).ok_or_else(|| bad(prop, "not an RFC 3339 date-time"))?,
            ))
        }
        Form::Urls => {
            let urls = strings(prop, v)?;
            for u in &urls {
                no_breaks(u)?;
            }
            HeaderType::URL(URL {
                url: urls.into_iter().map(Into::into).collect(),
            })
        }
    })
}

/// An RFC 3339 date-time as an RFC 5322 date keeping the sender's offset.
fn rfc5322_with_offset(s: &str) -> Option<String> {
    let secs = crate::date::parse_rfc3339(s)?;
    let tail = &s[19..];
    let tail = tail
        .strip_prefix('.')
        .map(|f| f.trim_start_matches(|c: char| c.is_ascii_digit()))
        .unwrap_or(tail);
    let offset = match tail {
        "Z" | "z" => 0,
        o => {
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (o.get(1..3)?.parse::<i64>().ok()? * 3600
                + o.get(4..6)?.parse::<i64>().ok()? * 60)
        }
    };
    let local = crate::date::rfc5322(secs + offset);
    let sign = if offset < 0 { '-' } else { '+' };
    let abs = offset.abs();
    Some(format!(
        "{} {sign}{:02}{:02}",
        local.strip_suffix(" +0000")?,
        abs / 3600,
        (abs % 3600) / 60
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn o(v: Value) -> Obj {
        match v {
            Value::Object(m) => m,
            _ => Obj::new(),
        }
    }

    #[test]
    fn dates_keep_their_offset() {
        assert_eq!(
            rfc5322_with_offset("2026-11-23T11:54:06+01:00").as_deref(),
            Some("Mon, 23 Nov 2026 11:54:06 +0100")
        );
        assert_eq!(
            rfc5322_with_offset("2026-11-23T10:54:06Z").as_deref(),
            Some("Mon, 23 Nov 2026 10:54:06 +0000")
        );
    }

    #[test]
    fn a_draft_round_trips_through_the_parser() {
        let obj = o(json!({
            "from": [{"name": "Zoë", "email": "zoe@example.org"}],
            "to": [{"email": "bob@example.net"}],
            "subject": "Café ☕",
            "header:X-Tracking:asText": "yes",
            "textBody": [{"partId": "t", "type": "text/plain"}],
            "htmlBody": [{"partId": "h", "type": "text/html"}],
            "bodyValues": {"t": {"value": "Hi Bob\nbye"}, "h": {"value": "<p>Hi</p>"}},
        }));
        let raw = build(&obj, &HashMap::new(), 0).unwrap();
        let s = crate::mime::tree::Structure::parse(&raw);
        let m = crate::ingest::parse::summary(&s);
        assert_eq!(m.subject.as_deref(), Some("Café ☕"));
        assert_eq!(m.from.unwrap()[0].name.as_deref(), Some("Zoë"));
        assert!(m.message_id.is_some());
        assert_eq!(s.parts[0].ctype, "multipart/alternative");
        assert_eq!(s.text(s.text_body[0]).text, "Hi Bob\nbye");
    }

    #[test]
    fn constraints() {
        let cases = [
            json!({"headers": []}),
            json!({"from": [], "header:From:asAddresses": []}),
            json!({"header:Content-Type": "text/plain"}),
            json!({"header:From:asDate": "x"}),
            json!({"textBody": [{"partId": "a"}], "bodyStructure": {"partId": "a"}, "bodyValues": {"a": {"value": ""}}}),
            json!({"textBody": [{"partId": "a", "type": "text/html"}], "bodyValues": {"a": {"value": ""}}}),
            json!({"textBody": [{"partId": "missing"}]}),
            json!({"textBody": [{"partId": "a", "blobId": "b"}], "bodyValues": {"a": {"value": ""}}}),
            json!({"textBody": [{"partId": "a", "charset": "latin1"}], "bodyValues": {"a": {"value": ""}}}),
            json!({"textBody": [{"partId": "a", "header:Content-Transfer-Encoding": "base64"}], "bodyValues": {"a": {"value": ""}}}),
            json!({"textBody": [{"partId": "a"}], "bodyValues": {"a": {"value": "", "isTruncated": true}}}),
            json!({"subject": "two\r\nlines"}),
            json!({"id": "x", "threadId": "t"}),
        ];
        let blobs = HashMap::from([("b".to_string(), b"x".to_vec())]);
        for c in cases {
            let e = build(&o(c.clone()), &blobs, 0).unwrap_err();
            assert_eq!(e.kind, "invalidProperties", "{c}");
        }
        let e = build(
            &o(json!({"attachments": [{"blobId": "bnope"}]})),
            &HashMap::new(),
            0,
        )
        .unwrap_err();
        assert_eq!(e.kind, "blobNotFound");
        assert_eq!(e.to_value()["notFound"], json!(["bnope"]));
    }
}
