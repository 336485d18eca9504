//! 8-bit to 7-bit conversion for a next hop that does not offer 8BITMIME (RFC 6152 §3: a
//! sender must then convert the message to 7-bit MIME, or return it as undeliverable).
//!
//! The MIME tree is walked on the raw bytes (RFC 2045, RFC 2046): every leaf part whose body
//! holds 8-bit octets gets a new transfer encoding (text/* quoted-printable, anything else
//! base64, RFC 2045 §6) and its `Content-Transfer-Encoding` field replaced; multipart and
//! message/rfc822 parts are recursed into (they may not be encoded themselves, RFC 2045 §6.4)
//! and labelled 7bit; multipart preambles and epilogues, which no reader shows, have 8-bit
//! octets replaced by `?`. Header fields are left alone: 8-bit text there (RFC 6532) is a
//! matter for SMTPUTF8, not 8BITMIME. A part that already claims base64 or quoted-printable
//! but carries raw 8-bit octets is malformed; its octets are written as `=XX` (QP, what a
//! lenient decoder would have read) or dropped (base64 decoders skip them, RFC 2045 §6.8).
//!
//! Nesting deeper than [`MAX_DEPTH`] is not converted: the caller then refuses the hop with
//! 5.6.3 (conversion required but not supported, RFC 3463) instead of sending 8-bit octets.

use super::headers::split;
use mail_builder::encoders::{Base64Encoder, QuotedPrintableEncoder};
use mail_parser::MimeHeaders;

/// How deep multiparts and attached messages are followed.
pub const MAX_DEPTH: usize = 32;

/// Whether the message body (after the header) holds any 8-bit octet.
pub fn body_is_8bit(raw: &[u8]) -> bool {
    let (_, body) = split(raw);
    body.iter().any(|b| *b >= 0x80)
}

/// `raw` with every 8-bit body part re-encoded to 7-bit; None if the structure is too deep.
pub fn to_seven_bit(raw: &[u8]) -> Option<Vec<u8>> {
    entity(raw, 0)
}

/// The part's header with its Content-Transfer-Encoding replaced by `cte` (the field is added
/// just before the empty line), and MIME-Version added at the top level where it is missing.
fn with_encoding(header: &[u8], cte: &str, top: bool) -> Vec<u8> {
    let mut fields = super::headers::strip(header, "Content-Transfer-Encoding");
    // Keep the empty line apart to insert before it.
    let blank = if fields.ends_with(b"\r\n\r\n") {
        2
    } else if fields.ends_with(b"\n\n") {
        1
    } else {
        0
    };
    let mut tail = fields.split_off(fields.len() - blank);
    if !fields.is_empty() && !fields.ends_with(b"\n") {
        fields.extend_from_slice(b"\r\n");
    }
    if top && super::headers::count(header, "MIME-Version") == 0 {
        fields.extend_from_slice(b"MIME-Version: 1.0\r\n");
    }
    fields.extend_from_slice(format!("Content-Transfer-Encoding: {cte}\r\n").as_bytes());
    if tail.is_empty() {
        tail.extend_from_slice(b"\r\n");
    }
    fields.extend_from_slice(&tail);
    fields
}

fn entity(raw: &[u8], depth: usize) -> Option<Vec<u8>> {
    let (header, body) = split(raw);
    if !body.iter().any(|b| *b >= 0x80) {
        return Some(raw.to_vec());
    }
    if depth > MAX_DEPTH {
        return None;
    }
    let parsed = mail_parser::MessageParser::new().parse_headers(header);
    let (ctype, subtype, boundary, cte) = match &parsed {
        Some(m) => {
            let ct = m.content_type();
            (
                ct.map(|c| c.ctype().to_ascii_lowercase()),
                ct.and_then(|c| c.subtype()).map(str::to_ascii_lowercase),
                ct.and_then(|c| c.attribute("boundary")).map(str::to_string),
                m.header_raw("Content-Transfer-Encoding")
                    .map(|v| v.trim().to_ascii_lowercase()),
            )
        }
        None => (None, None, None, None),
    };
    let top = depth == 0;
    match (ctype.as_deref(), subtype.as_deref(), boundary) {
        (Some("multipart"), _, Some(b)) if !b.is_empty() => {
            let body = multipart(body, &b, depth)?;
            Some([with_encoding(header, "7bit", top), body].concat())
        }
        (Some("message"), Some("rfc822"), _) => {
            let inner = entity(body, depth + 1)?;
            Some([with_encoding(header, "7bit", top), inner].concat())
        }
        (ctype, _, _) => {
            let (cte, encoded) = match cte.as_deref() {
                Some("quoted-printable") => ("quoted-printable", escape_8bit(body)),
                Some("base64") => (
                    "base64",
                    body.iter().copied().filter(|b| *b < 0x80).collect(),
                ),
                // No Content-Type means text/plain (RFC 2045 §5.2).
                _ if matches!(ctype, None | Some("text")) => (
                    "quoted-printable",
                    QuotedPrintableEncoder::new()
                        .preserve_line_breaks()
                        .encode(body)
                        .ok()?,
                ),
                _ => (
                    "base64",
                    Base64Encoder::new().wrap_lines().encode(body).ok()?,
                ),
            };
            // No line break is added at the end: in a multipart the one before the next
            // delimiter is the delimiter's (RFC 2046 §5.1.1), and it is kept as it was.
            Some([with_encoding(header, cte, top), encoded].concat())
        }
    }
}

/// 8-bit octets in an already quoted-printable body, written as `=XX`.
fn escape_8bit(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 16);
    for &b in body {
        if b >= 0x80 {
            out.extend_from_slice(format!("={b:02X}").as_bytes());
        } else {
            out.push(b);
        }
    }
    out
}

/// A multipart body with each part converted (RFC 2046 §5.1.1): the delimiter lines and the
/// line breaks before them are kept byte for byte.
fn multipart(body: &[u8], boundary: &str, depth: usize) -> Option<Vec<u8>> {
    let delimiter = format!("--{boundary}");
    let mut out = Vec::with_capacity(body.len() * 4 / 3 + 64);
    // Byte ranges of the delimiter lines (with their line break).
    let mut delimiters: Vec<(usize, usize, bool)> = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        let end = body[pos..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(body.len(), |i| pos + i + 1);
        let line = body[pos..end].trim_ascii_end();
        if let Some(rest) = line.strip_prefix(delimiter.as_bytes()) {
            let rest = rest.trim_ascii_end();
            if rest.is_empty() || rest == b"--" {
                delimiters.push((pos, end, rest == b"--"));
                if rest == b"--" {
                    break;
                }
            }
        }
        pos = end;
    }
    let Some(&(first, _, _)) = delimiters.first() else {
        // No delimiter at all: nothing to recurse into; keep it readable and 7-bit.
        return Some(question_marks(body));
    };
    out.extend_from_slice(&question_marks(&body[..first]));
    for (i, &(start, end, close)) in delimiters.iter().enumerate() {
        out.extend_from_slice(&body[start..end]);
        if close {
            out.extend_from_slice(&question_marks(&body[end..]));
            return Some(out);
        }
        let next = delimiters.get(i + 1).map_or(body.len(), |d| d.0);
        let part = &body[end..next];
        // The line break before the next delimiter belongs to it (RFC 2046 §5.1.1).
        let eol = if part.ends_with(b"\r\n") {
            2
        } else if part.ends_with(b"\n") {
            1
        } else {
            0
        };
        let (content, crlf) = part.split_at(part.len() - eol);
        let converted = entity(content, depth + 1)?;
        out.extend_from_slice(&converted);
        out.extend_from_slice(crlf);
    }
    Some(out)
}

fn question_marks(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .map(|b| if *b >= 0x80 { b'?' } else { *b })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded_text(raw: &[u8]) -> Vec<String> {
        let m = mail_parser::MessageParser::new().parse(raw).unwrap();
        (0..m.text_body_count())
            .filter_map(|i| m.body_text(i).map(|t| t.into_owned()))
            .collect()
    }

    #[test]
    fn plain_8bit_text_becomes_quoted_printable() {
        let raw = "From: a@x.org\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße aus Köln\r\n= zwei\r\n".as_bytes();
        assert!(body_is_8bit(raw));
        let out = to_seven_bit(raw).unwrap();
        assert!(out.is_ascii(), "{}", String::from_utf8_lossy(&out));
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.contains("Content-Transfer-Encoding: quoted-printable\r\n\r\n"));
        assert!(text.contains("MIME-Version: 1.0\r\n"));
        assert!(!text.contains("8bit"));
        assert_eq!(decoded_text(&out), decoded_text(raw));
        // Already 7-bit: unchanged.
        assert_eq!(to_seven_bit(&out).unwrap(), out);
    }

    #[test]
    fn multipart_parts_are_converted_and_delimiters_kept() {
        let raw = "From: a@x.org\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\npréamble\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nnaïve\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n\u{00ff}\u{00fe}\r\n--b1\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nInnen: Straße\r\n--b1--\r\nepilögue\r\n".as_bytes();
        let out = to_seven_bit(raw).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(out.is_ascii(), "{text}");
        assert_eq!(text.matches("\r\n--b1\r\n").count(), 3, "{text}");
        assert!(text.contains("\r\n--b1--\r\n"), "{text}");
        let before = mail_parser::MessageParser::new().parse(raw).unwrap();
        let after = mail_parser::MessageParser::new().parse(&out).unwrap();
        assert_eq!(before.parts.len(), after.parts.len(), "{text}");
        assert_eq!(decoded_text(&out), decoded_text(raw));
        let bin = |m: &mail_parser::Message| m.attachment(0).map(|a| a.contents().to_vec());
        assert_eq!(bin(&before), bin(&after));
        assert!(text.contains("Innen: Stra=C3=9Fe"), "{text}");
    }

    #[test]
    fn too_deep_is_refused() {
        let mut raw = String::from("Content-Type: text/plain\r\n\r\nä\r\n");
        for _ in 0..=MAX_DEPTH + 1 {
            raw = format!("Content-Type: message/rfc822\r\n\r\n{raw}");
        }
        assert!(to_seven_bit(raw.as_bytes()).is_none());
    }
}
