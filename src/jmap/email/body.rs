//! Body parts as JSON (RFC 8621 §4.1.4): EmailBodyPart objects with the requested
//! bodyProperties, bodyValues, and the blob ids of parts.
//!
//! A part's blob id names the message blob and the path to the part: `b<sha256>_<partId>`, with
//! the dots of the part id written as `-` (ids may only use `A-Za-z0-9_-`, RFC 8620 §1.2). A
//! part of a message attached inside another continues the path: `b<sha256>_2_1` is part 1 of
//! the message that is part 2. Nothing extra is stored: the download decodes the part from the
//! message, and the access check is the account's reference to the message blob.

use crate::jmap::blob;
use crate::mime::header::{HeaderProperty, raw_text};
use crate::mime::tree::Structure;
use serde_json::{Map, Value, json};

/// §4.2 Email/get: bodyProperties when the argument is omitted.
pub const DEFAULT_BODY_PROPERTIES: [&str; 10] = [
    "partId",
    "blobId",
    "size",
    "name",
    "type",
    "charset",
    "disposition",
    "cid",
    "language",
    "location",
];

const BODY_PROPERTIES: [&str; 12] = [
    "partId",
    "blobId",
    "size",
    "headers",
    "name",
    "type",
    "charset",
    "disposition",
    "cid",
    "language",
    "location",
    "subParts",
];

/// One requested EmailBodyPart property.
#[derive(Debug, Clone)]
pub enum BodyProperty {
    Named(&'static str),
    Header(String, HeaderProperty),
}

/// Validates `bodyProperties` (§4.2); `Err` names the bad one (invalidArguments).
pub fn parse_body_properties(list: Option<Vec<String>>) -> Result<Vec<BodyProperty>, String> {
    let Some(list) = list else {
        return Ok(DEFAULT_BODY_PROPERTIES
            .iter()
            .map(|p| BodyProperty::Named(p))
            .collect());
    };
    list.into_iter()
        .map(|p| {
            if let Some(named) = BODY_PROPERTIES.iter().find(|n| **n == p) {
                return Ok(BodyProperty::Named(named));
            }
            match HeaderProperty::parse(&p)? {
                Some(h) => Ok(BodyProperty::Header(p, h)),
                None => Err(format!("unknown body property '{p}'")),
            }
        })
        .collect()
}

/// The blob id of a leaf part under the message whose blob id is `message_blob`.
pub fn part_blob_id(message_blob: &str, part_id: &str) -> String {
    format!("{message_blob}_{}", part_id.replace('.', "-"))
}

/// Splits a part blob id into the message blob's hash and the part ids along the path.
pub fn split_part_blob_id(blob_id: &str) -> Option<(&str, Vec<String>)> {
    let mut segs = blob_id.split('_');
    let hash = blob::hash_of(segs.next()?)?;
    let path: Vec<String> = segs
        .map(|s| {
            let ok = !s.is_empty()
                && s.split('-')
                    .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            ok.then(|| s.replace('-', "."))
        })
        .collect::<Option<_>>()?;
    (!path.is_empty()).then_some((hash, path))
}

/// Follows a part path from message bytes to the decoded bytes of the part it names. A loop,
/// not recursion: the path comes from the client's blob id, and at most
/// [`limits::MAX_DEPTH`](crate::mime::limits::MAX_DEPTH) attached messages deep.
pub fn resolve_part(message: &[u8], path: &[String]) -> Option<Vec<u8>> {
    if path.is_empty() || path.len() > crate::mime::limits::MAX_DEPTH {
        return None;
    }
    let mut bytes: Option<Vec<u8>> = None;
    for (n, part_id) in path.iter().enumerate() {
        let current = bytes.as_deref().unwrap_or(message);
        let s = Structure::parse(current);
        let i = s.find(part_id)?;
        // Only an attached message has parts of its own.
        if n + 1 < path.len()
            && !matches!(
                s.parts[i].ctype.as_str(),
                "message/rfc822" | "message/global"
            )
        {
            return None;
        }
        let next = s.content(i).into_owned();
        drop(s);
        bytes = Some(next);
    }
    bytes
}

/// The EmailBodyPart object of part `i` with the requested properties.
pub fn part_json(s: &Structure<'_>, i: usize, message_blob: &str, props: &[BodyProperty]) -> Value {
    let p = &s.parts[i];
    let mut out = Map::new();
    for prop in props {
        let (key, v) = match prop {
            BodyProperty::Named(name) => (
                name.to_string(),
                match *name {
                    "partId" => json!(p.part_id),
                    "blobId" => json!(
                        p.part_id
                            .as_deref()
                            .map(|id| part_blob_id(message_blob, id))
                    ),
                    "size" => json!(p.size),
                    "headers" => headers_json(&p.headers),
                    "name" => json!(p.name),
                    "type" => json!(p.ctype),
                    "charset" => json!(p.charset),
                    "disposition" => json!(p.disposition),
                    "cid" => json!(p.cid),
                    "language" => json!(p.language),
                    "location" => json!(p.location),
                    "subParts" => match &p.sub_parts {
                        Some(subs) => Value::Array(
                            subs.iter()
                                .map(|&c| part_json(s, c, message_blob, props))
                                .collect(),
                        ),
                        None => Value::Null,
                    },
                    _ => Value::Null,
                },
            ),
            BodyProperty::Header(key, h) => (key.clone(), h.value(&p.headers)),
        };
        out.insert(key, v);
    }
    Value::Object(out)
}

/// EmailHeader objects (§4.1.3 `headers`): names as written, values in Raw form.
pub fn headers_json(headers: &[crate::mime::header::RawHeader]) -> Value {
    Value::Array(
        headers
            .iter()
            .map(|h| json!({ "name": h.name, "value": raw_text(&h.value) }))
            .collect(),
    )
}

/// Which text parts get a bodyValue (§4.2 fetchTextBodyValues / fetchHTMLBodyValues /
/// fetchAllBodyValues).
#[derive(Debug, Clone, Copy, Default)]
pub struct FetchValues {
    pub text: bool,
    pub html: bool,
    pub all: bool,
    /// maxBodyValueBytes; 0 means no limit.
    pub max_bytes: usize,
}

/// The bodyValues map: partId -> EmailBodyValue, for the text/* parts `f` selects. None when
/// the text values alone would pass `budget` bytes (the response cap, jmap/response.rs): the
/// check runs before each value is put in JSON.
pub fn body_values(s: &Structure<'_>, f: FetchValues, budget: usize) -> Option<Value> {
    let mut wanted: Vec<usize> = Vec::new();
    if f.all {
        wanted.extend((0..s.parts.len()).filter(|&i| !s.parts[i].is_multipart()));
    }
    if f.text {
        wanted.extend(&s.text_body);
    }
    if f.html {
        wanted.extend(&s.html_body);
    }
    let mut out = Map::new();
    let mut size = 0usize;
    for i in wanted {
        let p = &s.parts[i];
        let Some(id) = &p.part_id else { continue };
        if !p.is_text() || out.contains_key(id) {
            continue;
        }
        let mut d = s.text(i);
        let truncated =
            crate::mime::text::truncate(&mut d.text, f.max_bytes, p.ctype == "text/html");
        size = size.saturating_add(d.text.len() + id.len());
        if size > budget {
            return None;
        }
        out.insert(
            id.clone(),
            json!({
                "value": d.text,
                "isEncodingProblem": d.problem,
                "isTruncated": truncated,
            }),
        );
    }
    Some(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_blob_ids_round_trip() {
        let msg = format!("b{}", "a".repeat(64));
        let id = part_blob_id(&msg, "2.1");
        assert_eq!(id, format!("{msg}_2-1"));
        let nested = format!("{id}_3");
        let (hash, path) = split_part_blob_id(&nested).unwrap();
        assert_eq!(hash, "a".repeat(64));
        assert_eq!(path, vec!["2.1".to_string(), "3".to_string()]);
        assert!(split_part_blob_id(&msg).is_none());
        assert!(split_part_blob_id(&format!("{msg}_")).is_none());
        assert!(split_part_blob_id(&format!("{msg}_1--2")).is_none());
        assert!(split_part_blob_id(&format!("{msg}_x")).is_none());
    }
}
