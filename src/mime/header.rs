//! Header fields of a message or body part and their parsed forms (RFC 8621 §4.1.2):
//! Raw, Text, Addresses, GroupedAddresses, MessageIds, Date and URLs, plus the
//! `header:{name}[:as{form}][:all]` property syntax (§4.1.3) with its rules on which form may be
//! asked of which field.
//!
//! The parsing itself is mail-parser's, run on the raw bytes of each field value, so a value is
//! parsed the same way whether it is asked for as a convenience property (`from`) or as
//! `header:From:asAddresses`.

use mail_parser::parsers::MessageStream;
use mail_parser::{Address, HeaderValue, MessagePart};
use serde_json::{Value, json};
use unicode_normalization::UnicodeNormalization;

/// One header field: its name as written and its raw value bytes (after the colon, without the
/// terminating CRLF).
#[derive(Debug, Clone)]
pub struct RawHeader {
    pub name: String,
    pub value: Vec<u8>,
}

/// The header fields of `part`, in message order. `raw` is the buffer the part was parsed from.
pub fn raw_headers(raw: &[u8], part: &MessagePart<'_>) -> Vec<RawHeader> {
    part.headers
        .iter()
        .filter_map(|h| {
            let field = raw.get(h.offset_field as usize..h.offset_start as usize)?;
            let colon = field.iter().position(|b| *b == b':').unwrap_or(field.len());
            let name = String::from_utf8_lossy(&field[..colon]).trim().to_string();
            let mut value = raw
                .get(h.offset_start as usize..h.offset_end as usize)?
                .to_vec();
            if value.ends_with(b"\n") {
                value.pop();
                if value.ends_with(b"\r") {
                    value.pop();
                }
            }
            Some(RawHeader { name, value })
        })
        .collect()
}

/// The parsed forms of §4.1.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Raw,
    Text,
    Addresses,
    GroupedAddresses,
    MessageIds,
    Date,
    Urls,
}

/// A `header:` property: the field name as requested, the form and whether all instances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderProperty {
    pub name: String,
    pub form: Form,
    pub all: bool,
}

/// Fields defined by RFC 5322 and RFC 2369; the forms they may be fetched in are restricted.
const RFC5322_2369: [&str; 28] = [
    "date",
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "bcc",
    "message-id",
    "in-reply-to",
    "references",
    "subject",
    "comments",
    "keywords",
    "resent-date",
    "resent-from",
    "resent-sender",
    "resent-to",
    "resent-cc",
    "resent-bcc",
    "resent-message-id",
    "return-path",
    "received",
    "list-help",
    "list-unsubscribe",
    "list-subscribe",
    "list-post",
    "list-owner",
    "list-archive",
];

impl HeaderProperty {
    /// Parses a property name. `Ok(None)` when it is not a `header:` property; `Err` when it
    /// is one but malformed or asks a form the field may not take (§4.2: invalidArguments).
    pub fn parse(prop: &str) -> Result<Option<HeaderProperty>, String> {
        let Some(rest) = prop.strip_prefix("header:") else {
            return Ok(None);
        };
        let mut it = rest.split(':');
        let name = it.next().unwrap_or_default();
        if name.is_empty() || !name.bytes().all(|b| (33..=126).contains(&b)) {
            return Err(format!("'{prop}': bad header field name"));
        }
        let mut form = Form::Raw;
        let mut all = false;
        let mut next = it.next();
        if let Some(f) = next
            && let Some(form_name) = f.strip_prefix("as")
        {
            form = match form_name {
                "Raw" => Form::Raw,
                "Text" => Form::Text,
                "Addresses" => Form::Addresses,
                "GroupedAddresses" => Form::GroupedAddresses,
                "MessageIds" => Form::MessageIds,
                "Date" => Form::Date,
                "URLs" => Form::Urls,
                _ => return Err(format!("'{prop}': unknown header form")),
            };
            next = it.next();
        }
        if next == Some("all") {
            all = true;
            next = it.next();
        }
        if next.is_some() {
            return Err(format!("'{prop}': unknown suffix"));
        }
        let lc = name.to_ascii_lowercase();
        if !allowed(&lc, form) {
            return Err(format!(
                "'{prop}': the field {name} cannot be fetched in that form"
            ));
        }
        Ok(Some(HeaderProperty {
            name: name.to_string(),
            form,
            all,
        }))
    }

    /// The property's value for a list of header fields (§4.1.3): the last instance, or null;
    /// with `:all` an array of every instance.
    pub fn value(&self, headers: &[RawHeader]) -> Value {
        let mut values = headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(&self.name))
            .map(|h| form_value(&h.value, self.form));
        if self.all {
            Value::Array(values.collect())
        } else {
            values.next_back().unwrap_or(Value::Null)
        }
    }
}

/// §4.1.2: which forms each field may take. Fields outside RFC 5322/2369 take every form.
fn allowed(lc: &str, form: Form) -> bool {
    if !RFC5322_2369.contains(&lc) {
        return true;
    }
    match form {
        Form::Raw => true,
        Form::Text => matches!(lc, "subject" | "comments" | "keywords" | "list-id"),
        Form::Addresses | Form::GroupedAddresses => matches!(
            lc,
            "from"
                | "sender"
                | "reply-to"
                | "to"
                | "cc"
                | "bcc"
                | "resent-from"
                | "resent-sender"
                | "resent-to"
                | "resent-cc"
                | "resent-bcc"
        ),
        Form::MessageIds => matches!(
            lc,
            "message-id" | "in-reply-to" | "references" | "resent-message-id"
        ),
        Form::Date => matches!(lc, "date" | "resent-date"),
        Form::Urls => matches!(
            lc,
            "list-help"
                | "list-unsubscribe"
                | "list-subscribe"
                | "list-post"
                | "list-owner"
                | "list-archive"
        ),
    }
}

/// The Raw form (§4.1.2.1): invalid UTF-8 becomes U+FFFD, NUL octets are dropped.
pub fn raw_text(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    if s.contains('\0') {
        s.replace('\0', "")
    } else {
        s.into_owned()
    }
}

/// mail-parser's field parsers stop at the CRLF that ends the field, so give them one.
fn stream_input(bytes: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(bytes.len() + 2);
    v.extend_from_slice(bytes);
    v.extend_from_slice(b"\r\n");
    v
}

fn nfc(s: &str) -> String {
    s.nfc().filter(|c| !c.is_control() || *c == '\t').collect()
}

/// One field value in one form, as JSON.
pub fn form_value(bytes: &[u8], form: Form) -> Value {
    let input = stream_input(bytes);
    match form {
        Form::Raw => json!(raw_text(bytes)),
        Form::Text => json!(text(&input)),
        Form::Addresses => json!(addresses(&input)),
        Form::GroupedAddresses => grouped(&input),
        Form::MessageIds => match message_ids(&input) {
            Some(ids) => json!(ids),
            None => Value::Null,
        },
        Form::Date => match date(&input) {
            Some(d) => json!(d),
            None => Value::Null,
        },
        Form::Urls => match urls(&input) {
            Some(u) => json!(u),
            None => Value::Null,
        },
    }
}

/// The Text form (§4.1.2.2): unfolded, leading space removed, RFC 2047 encoded words decoded,
/// NFC. Only syntactically correct encoded words that stand alone as a whitespace-separated
/// word and name a known charset are decoded (RFC 2047 §5(1), §6.1); anything else stays as
/// written. Adjacent encoded words in the same charset have their octets joined before the
/// charset is applied, so a character split across two words (a common encoder bug) survives.
pub fn text(input: &[u8]) -> String {
    let raw = raw_text(input);
    let unfolded = raw.replace("\r\n", "").replace('\n', "");
    let unfolded = unfolded.trim_start_matches(' ').trim_end();
    nfc(&decode_words(unfolded))
}

/// Decodes the encoded words of unstructured text (RFC 2047 §6.2).
pub fn decode_words(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    // The previous word was encoded: (charset, its octets not yet decoded, the whitespace
    // after it, held back in case the next word is encoded too).
    let mut pending: Option<(&'static encoding_rs::Encoding, Vec<u8>)> = None;
    let mut held_space = String::new();
    let mut rest = s;
    while !rest.is_empty() {
        let ws_len = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        if ws_len > 0 {
            held_space.push_str(&rest[..ws_len]);
            rest = &rest[ws_len..];
            continue;
        }
        let word_len = rest.find([' ', '\t']).unwrap_or(rest.len());
        let word = &rest[..word_len];
        rest = &rest[word_len..];
        match encoded_word(word) {
            Some((enc, bytes)) => {
                match &mut pending {
                    // Stateful charsets (ISO-2022-JP) are decoded word by word: each word
                    // ends with its own escape back to ASCII, and joining the octets puts that
                    // escape right before the next word's escape, which the decoder flags as
                    // an error (a U+FFFD in Japanese subjects seen on real mail, issue #23).
                    Some((penc, pbytes)) if *penc == enc && !stateful(enc) => {
                        pbytes.extend_from_slice(&bytes)
                    }
                    Some(_) => {
                        flush(&mut out, &mut pending);
                        pending = Some((enc, bytes));
                    }
                    None => {
                        out.push_str(&held_space);
                        pending = Some((enc, bytes));
                    }
                }
                held_space.clear();
            }
            None => {
                flush(&mut out, &mut pending);
                out.push_str(&held_space);
                held_space.clear();
                out.push_str(word);
            }
        }
    }
    flush(&mut out, &mut pending);
    out.push_str(&held_space);
    out
}

/// Charsets whose octets carry shift state across characters (RFC 1468 ISO-2022-JP): an
/// encoded word must end in the initial (ASCII) state, so each word decodes on its own.
fn stateful(enc: &'static encoding_rs::Encoding) -> bool {
    enc == encoding_rs::ISO_2022_JP
}

fn flush(out: &mut String, pending: &mut Option<(&'static encoding_rs::Encoding, Vec<u8>)>) {
    if let Some((enc, bytes)) = pending.take() {
        let (text, _) = enc.decode_without_bom_handling(&bytes);
        // RFC 8621 §4.1.2.2: NUL and control characters from encoded words are dropped.
        out.extend(text.chars().filter(|c| !c.is_control()));
    }
}

/// `=?charset[*lang]?B|Q?text?=` (RFC 2047 §2, RFC 2231 §5) with a known charset and valid
/// encoded text -> the charset and the octets.
fn encoded_word(w: &str) -> Option<(&'static encoding_rs::Encoding, Vec<u8>)> {
    let inner = w.strip_prefix("=?")?.strip_suffix("?=")?;
    let mut it = inner.splitn(3, '?');
    let (charset, enc, text) = (it.next()?, it.next()?, it.next()?);
    if text.contains('?') || text.contains(' ') {
        return None;
    }
    let charset = charset.split('*').next().unwrap_or_default();
    let encoding = match charset.to_ascii_lowercase().as_str() {
        "us-ascii" | "ascii" | "utf-8" | "utf8" => encoding_rs::UTF_8,
        l => encoding_rs::Encoding::for_label(l.as_bytes())
            .filter(|e| *e != encoding_rs::REPLACEMENT)?,
    };
    let bytes = match enc {
        "B" | "b" => {
            use base64::Engine;
            let t = text.trim_end_matches('=');
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(t)
                .ok()
                .or_else(|| {
                    base64::engine::general_purpose::GeneralPurpose::new(
                        &base64::alphabet::STANDARD,
                        base64::engine::GeneralPurposeConfig::new()
                            .with_decode_allow_trailing_bits(true)
                            .with_decode_padding_mode(
                                base64::engine::DecodePaddingMode::Indifferent,
                            ),
                    )
                    .decode(t)
                    .ok()
                })?
        }
        "Q" | "q" => {
            let b = text.as_bytes();
            let mut out = Vec::with_capacity(b.len());
            let mut i = 0;
            while i < b.len() {
                match b[i] {
                    b'_' => out.push(b' '),
                    b'=' => {
                        let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                        out.push(u8::from_str_radix(hex, 16).ok()?);
                        i += 2;
                    }
                    c if c.is_ascii_graphic() => out.push(c),
                    _ => return None,
                }
                i += 1;
            }
            out
        }
        _ => return None,
    };
    Some((encoding, bytes))
}

/// Addresses kept from one field, groups together (issue 13): the summary of every list view
/// carries them, so a 1 MB To: of 50,000 addresses must not become 50,000 JSON objects.
/// RFC 5322 sets no limit; the rest stays in the raw field.
pub const MAX_ADDRESSES: usize = 1000;

/// `input` is the field as text, made once per field (a quoted local part is looked up in it).
/// `cursor`: where in `input` the previous address's quoted local part ended; addresses come in
/// order, so each search starts there and one field is scanned once, not once per address
/// (found in review: 1,000 such addresses in a 1 MB field cost seconds per parse).
fn address_json(
    input: &str,
    cursor: &std::cell::Cell<usize>,
    name: Option<&str>,
    email: Option<&str>,
) -> Value {
    let mut name = name.map(|n| nfc(n.trim())).filter(|n| !n.is_empty());
    let mut email = email.unwrap_or_default().trim().to_string();
    // mail-parser reads a quoted local part (`"john.q.public"@example.com`, RFC 5322 §3.4.1)
    // as a display name; put it back into the addr-spec (with what followed it in the name,
    // e.g. a trailing `(comment)`, kept as the name).
    if email.starts_with('@')
        && let Some(n) = &name
    {
        match quoted_local_part(input, cursor.get(), n, &email[1..]) {
            Some((local, rest, end)) => {
                cursor.set(end);
                email = format!("{local}{email}");
                name = Some(rest).filter(|r| !r.is_empty());
            }
            // Not found after the cursor: later ones will not be either; stop searching so a
            // field of such addresses is still scanned once.
            None => cursor.set(input.len()),
        }
    }
    json!({ "name": name, "email": email })
}

/// Finds, in the raw field, the quoted-string local part that mail-parser took for a name:
/// a quoted string whose text starts `name`, followed (CFWS allowed, RFC 5322 §4.4) by `@` and
/// `domain`. Returns the quoted string as written and what is left of the name after it,
/// without a comment's parentheses. Found on real mail: `"joko@rs.128.ne.jp"@FreeBSD.ORG`.
fn quoted_local_part(
    text: &str,
    from: usize,
    name: &str,
    domain: &str,
) -> Option<(String, String, usize)> {
    let bytes = text.as_bytes();
    let mut i = from;
    while i < bytes.len() {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        // One quoted string: its raw form and its text (RFC 5322 §3.2.4 quoted-pair).
        let start = i;
        let mut inner = Vec::new();
        i += 1;
        while i < bytes.len() && bytes[i] != b'"' {
            if bytes[i] == b'\\' && i + 1 < bytes.len() {
                i += 1;
            }
            if bytes[i] != b'\r' && bytes[i] != b'\n' {
                inner.push(bytes[i]);
            }
            i += 1;
        }
        if i >= bytes.len() {
            return None;
        }
        i += 1;
        let quoted = &text[start..i];
        let after = text[i..].trim_start_matches([' ', '\t', '\r', '\n']);
        let Some(after) = after.strip_prefix('@') else {
            continue;
        };
        let after = after.trim_start_matches([' ', '\t', '\r', '\n']);
        let inner = String::from_utf8_lossy(&inner);
        if after.len() >= domain.len()
            && after.as_bytes()[..domain.len()].eq_ignore_ascii_case(domain.as_bytes())
            && let Some(rest) = name.strip_prefix(inner.trim())
        {
            let rest = rest.trim();
            let rest = rest
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .unwrap_or(rest)
                .trim();
            return Some((quoted.to_string(), rest.to_string(), i));
        }
    }
    None
}

/// The Addresses form (§4.1.2.3): every mailbox, groups flattened; at most [`MAX_ADDRESSES`].
pub fn addresses(input: &[u8]) -> Vec<Value> {
    let text = String::from_utf8_lossy(input);
    let cursor = std::cell::Cell::new(0);
    match MessageStream::new(input).parse_address() {
        HeaderValue::Address(Address::List(list)) => list
            .iter()
            .take(MAX_ADDRESSES)
            .map(|a| address_json(&text, &cursor, a.name.as_deref(), a.address.as_deref()))
            .collect(),
        HeaderValue::Address(Address::Group(groups)) => groups
            .iter()
            .flat_map(|g| g.addresses.iter())
            .take(MAX_ADDRESSES)
            .map(|a| address_json(&text, &cursor, a.name.as_deref(), a.address.as_deref()))
            .collect(),
        _ => Vec::new(),
    }
}

/// The GroupedAddresses form (§4.1.2.4): mailboxes outside a group are collected under a
/// group with a null name; at most [`MAX_ADDRESSES`] addresses (and groups) in all.
fn grouped(input: &[u8]) -> Value {
    let text = String::from_utf8_lossy(input);
    let cursor = std::cell::Cell::new(0);
    let mut left = MAX_ADDRESSES;
    let mut take = |list: &[mail_parser::Addr<'_>]| -> Vec<Value> {
        let n = list.len().min(left);
        left -= n;
        list[..n]
            .iter()
            .map(|a| address_json(&text, &cursor, a.name.as_deref(), a.address.as_deref()))
            .collect()
    };
    let groups: Vec<Value> = match MessageStream::new(input).parse_address() {
        HeaderValue::Address(Address::List(list)) => vec![json!({
            "name": null,
            "addresses": take(&list),
        })],
        HeaderValue::Address(Address::Group(groups)) => groups
            .iter()
            .take(MAX_ADDRESSES)
            .map(|g| {
                json!({
                    "name": g.name.as_deref().map(|n| nfc(n.trim())).filter(|n| !n.is_empty()),
                    "addresses": take(&g.addresses),
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    Value::Array(groups)
}

/// The MessageIds form (§4.1.2.5): ids without CFWS and angle brackets; None if none parse.
pub fn message_ids(input: &[u8]) -> Option<Vec<String>> {
    match MessageStream::new(input).parse_id() {
        HeaderValue::Text(t) if !t.trim().is_empty() => Some(vec![t.trim().to_string()]),
        HeaderValue::TextList(l) => {
            let ids: Vec<String> = l
                .iter()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect();
            (!ids.is_empty()).then_some(ids)
        }
        _ => None,
    }
}

/// The Date form (§4.1.2.6) as an RFC 3339 date-time with the sender's offset. RFC 5322
/// dates, obsolete forms included, are read by `mime::date` (real mail's year and zone bugs);
/// any other shape by mail-parser.
pub fn date(input: &[u8]) -> Option<String> {
    let text = raw_text(input).replace(['\r', '\n'], " ");
    let parsed = match super::date::read(&text) {
        super::date::Reading::Date(d) => d,
        super::date::Reading::Invalid => return None,
        super::date::Reading::Unknown => match MessageStream::new(input).parse_date() {
            HeaderValue::DateTime(d) => d,
            _ => return None,
        },
    };
    parsed.is_valid().then(|| parsed.to_rfc3339())
}

/// The URLs form (§4.1.2.7): the URLs in angle brackets of an RFC 2369 field, without
/// comments; None if there are none (e.g. `List-Post: NO`).
pub fn urls(input: &[u8]) -> Option<Vec<String>> {
    let text = String::from_utf8_lossy(input);
    let mut out = Vec::new();
    let mut depth = 0usize;
    // RFC 2369 §2: a list of <url>, separated by commas, with optional comments in ( ).
    let mut start = None;
    for (i, c) in text.char_indices() {
        match c {
            '(' if start.is_none() => depth += 1,
            ')' if start.is_none() && depth > 0 => depth -= 1,
            '<' if depth == 0 && start.is_none() => start = Some(i + 1),
            '>' if depth == 0 => {
                if let Some(s) = start.take() {
                    let url: String = text[s..i].chars().filter(|c| !c.is_whitespace()).collect();
                    if !url.is_empty() {
                        out.push(url);
                    }
                }
            }
            _ => {}
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_names() {
        let p = HeaderProperty::parse("header:List-Post:asURLs:all")
            .unwrap()
            .unwrap();
        assert_eq!(p.form, Form::Urls);
        assert!(p.all);
        assert_eq!(HeaderProperty::parse("subject").unwrap(), None);
        assert!(HeaderProperty::parse("header:From:asDate").is_err());
        assert!(HeaderProperty::parse("header:Subject:asAddresses").is_err());
        assert!(HeaderProperty::parse("header:X-Foo:asDate").is_ok());
        assert!(HeaderProperty::parse("header:X-Foo:all:asRaw").is_err());
        assert!(HeaderProperty::parse("header::asRaw").is_err());
        assert!(HeaderProperty::parse("header:From:asText").is_err());
        assert!(HeaderProperty::parse("header:List-Id:asText").is_ok());
    }

    #[test]
    fn forms() {
        assert_eq!(
            urls(b" <mailto:a@b> (comment <x>), <https://x/y>\r\n"),
            Some(vec!["mailto:a@b".into(), "https://x/y".into()])
        );
        assert_eq!(urls(b" NO (posting not allowed)\r\n"), None);
        assert_eq!(
            message_ids(b" <a@b> (c) <c@d>\r\n"),
            Some(vec!["a@b".into(), "c@d".into()])
        );
        assert_eq!(text(b" =?utf-8?q?caf=C3=A9?= ok\r\n"), "café ok");
        assert_eq!(text(b" =?UTF-8?B?4oK=?= =?UTF-8?B?rA==?="), "€");
        assert_eq!(
            text(b" a =?x-bogus?Q?hi?= foo=?UTF-8?Q?bar?=baz =?utf-8?q?un"),
            "a =?x-bogus?Q?hi?= foo=?UTF-8?Q?bar?=baz =?utf-8?q?un"
        );
        assert_eq!(
            text(b" =?UTF-8?Q?a?=\r\n =?ISO-8859-1?Q?_caf=E9?= x  =?utf-8?q?y?="),
            "a café x  y"
        );
    }
}

#[cfg(test)]
mod real_world_tests {
    //! Defects seen on a public corpus of real 2002-era mail (issue #23).
    use super::*;

    fn one(input: &[u8]) -> (Value, Value) {
        let list = addresses(input);
        assert_eq!(list.len(), 1, "{list:?}");
        (list[0]["name"].clone(), list[0]["email"].clone())
    }

    /// RFC 5322 §3.4.1: a quoted local part may hold "@"; the address is the whole thing.
    #[test]
    fn quoted_local_part_with_at() {
        let joko = json!("\"joko@rs.128.ne.jp\"@FreeBSD.ORG");
        assert_eq!(
            one(b"\"joko@rs.128.ne.jp\"@FreeBSD.ORG\r\n"),
            (Value::Null, joko.clone())
        );
        assert_eq!(
            one(b"Joko <\"joko@rs.128.ne.jp\"@FreeBSD.ORG>\r\n"),
            (json!("Joko"), joko.clone())
        );
        assert_eq!(
            one(b" \"joko@rs.128.ne.jp\"@FreeBSD.ORG (Joko)\r\n"),
            (json!("Joko"), joko.clone())
        );
        assert_eq!(
            one(b" \"joko@rs.128.ne.jp\" @FreeBSD.ORG\r\n"),
            (Value::Null, joko)
        );
        let two = addresses(b" \"a@b\"@example.org,\r\n \"x\\\"y\"@example.org\r\n");
        assert_eq!(two[0]["email"], json!("\"a@b\"@example.org"));
        assert_eq!(two[1]["email"], json!("\"x\\\"y\"@example.org"));
    }

    /// RFC 2047 §6.2: two adjacent ISO-2022-JP words ("テスト" twice) decode without a U+FFFD.
    #[test]
    fn adjacent_iso_2022_jp_words() {
        let t = text(b" =?iso-2022-jp?B?GyRCJUYlOSVIGyhC?= =?iso-2022-jp?B?GyRCJUYlOSVIGyhC?=\r\n");
        assert_eq!(t, "テストテスト");
        // A character split across two UTF-8 words still joins (stateless charsets).
        assert_eq!(text(b" =?utf-8?B?w6k=?= =?utf-8?B?w6k=?=\r\n"), "éé");
    }

    #[test]
    fn dates_from_real_mailers() {
        assert_eq!(
            date(b" Mon, 2 Sep 0102 10:11:12 +0900").as_deref(),
            Some("2002-09-02T10:11:12+09:00")
        );
        assert_eq!(
            date(b" Mon, 2 Sep 2002 10:11:12").as_deref(),
            Some("2002-09-02T10:11:12Z")
        );
        assert_eq!(date(b" Mon, 2 Sep 2002 10:11:12 01800"), None);
        assert_eq!(
            date(b" Mon,\r\n 2 Sep 2002 10:11:12 -0700").as_deref(),
            Some("2002-09-02T10:11:12-07:00")
        );
    }
}
