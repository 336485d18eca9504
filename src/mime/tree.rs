//! The MIME structure of a message as RFC 8621 §4.1.4 sees it: a tree of body parts with their
//! decoded metadata, the textBody/htmlBody/attachments lists by the algorithm of §4.1.4, and
//! the decoded content of every part.
//!
//! Part ids follow IMAP section numbers (RFC 3501 §6.4.5): a single-part message has one part
//! "1"; the children of a multipart are numbered from 1 under their parent ("2.1"). Multipart
//! containers have no part id (§4.1.4: partId is null iff multipart/*). The structure does not
//! descend into message/rfc822 parts (§4.1.4 bodyStructure); an attached message is one leaf,
//! whose content is the encapsulated message.
//!
//! Broken MIME: a multipart without a boundary, or whose boundary never occurs, cannot be split;
//! it becomes one text/plain leaf (RFC 2045 §5.2: the default for an invalid Content-Type)
//! flagged as an encoding problem, so the text is still readable.
//!
//! Bounded (`limits.rs`): at most 1,000 parts and 32 multipart levels; deeper multiparts are
//! opaque `application/octet-stream` leaves, later parts are left out ([`Structure::truncated`]).

use super::header::{self, RawHeader};
use super::limits;
use super::text::{self, Decoded};
use mail_parser::decoders::base64::base64_decode;
use mail_parser::decoders::quoted_printable::quoted_printable_decode;
use mail_parser::parsers::MessageStream;
use mail_parser::{
    ContentType, GetHeader, HeaderName, Message, MessageParser, MessagePart, PartType,
};
use std::borrow::Cow;

/// One body part (RFC 8621 §4.1.4 EmailBodyPart), without its content.
#[derive(Debug, Clone)]
pub struct Part {
    /// None for multipart/* containers.
    pub part_id: Option<String>,
    pub headers: Vec<RawHeader>,
    /// Lower-case `type/subtype`, parameters stripped.
    pub ctype: String,
    pub charset: Option<String>,
    pub name: Option<String>,
    pub disposition: Option<String>,
    pub cid: Option<String>,
    pub language: Option<Vec<String>>,
    pub location: Option<String>,
    /// Octets after transfer decoding.
    pub size: usize,
    /// Indexes into [`Structure::parts`] of the children of a multipart.
    pub sub_parts: Option<Vec<usize>>,
    /// The part could not be decoded cleanly (bad transfer encoding, unknown
    /// Content-Transfer-Encoding, a multipart that could not be split).
    pub problem: bool,
    /// Where the part is in mail-parser's list; None for a message mail-parser gave up on.
    source: Option<usize>,
}

impl Part {
    pub fn is_multipart(&self) -> bool {
        self.sub_parts.is_some()
    }
    pub fn is_text(&self) -> bool {
        self.ctype.starts_with("text/")
    }
}

/// A parsed message: the part tree (index 0 is the root) and the §4.1.4 body lists.
pub struct Structure<'a> {
    raw: &'a [u8],
    /// How much of `raw` mail-parser parsed ([`limits::parse_prefix`]).
    parsed_len: usize,
    /// Some parts are not in the tree (limits.rs): the message has more than the tree keeps.
    pub truncated: bool,
    msg: Option<Message<'a>>,
    pub headers: Vec<RawHeader>,
    pub parts: Vec<Part>,
    pub text_body: Vec<usize>,
    pub html_body: Vec<usize>,
    pub attachments: Vec<usize>,
}

/// mail-parser's `Message` drops its nested messages recursively; a message that nests
/// `message/rfc822` deeply would overflow the stack when the structure is dropped. Drop them
/// from a work list instead (found in review; `limits.rs` also caps the nesting it shows).
impl Drop for Structure<'_> {
    fn drop(&mut self) {
        let Some(first) = self.msg.take() else {
            return;
        };
        let mut pending = vec![first];
        while let Some(mut m) = pending.pop() {
            for part in &mut m.parts {
                if let PartType::Message(inner) = &mut part.body {
                    pending.push(std::mem::take(inner));
                }
            }
        }
    }
}

impl<'a> Structure<'a> {
    /// Parses raw message bytes. Never fails: bytes without any header field become a message
    /// with no headers and one text/plain part holding all of them. The tree is bounded by
    /// [`limits`]: mail-parser sees at most [`limits::parse_prefix`] bytes, the tree holds at most
    /// [`limits::MAX_PARTS`] parts, and multiparts deeper than [`limits::MAX_DEPTH`] are opaque.
    pub fn parse(raw: &'a [u8]) -> Structure<'a> {
        let parsed_len = limits::parse_prefix(raw);
        let prefix = &raw[..parsed_len];
        // mail-parser 0.11 has debug assertions that some broken MIME trips ("Invalid part ID,
        // could not find multipart", found by tests/it/mime_fuzz.rs); in a debug build that panic
        // would take the thread down. Such a message is read as unparsable instead. (Release
        // builds compile the assertions out and abort on panic, so this only matters there if
        // mail-parser grows a real panic; then this is the one place to look.)
        let msg = std::panic::catch_unwind(|| MessageParser::default().parse(prefix))
            .ok()
            .flatten();
        let mut s = Structure {
            raw,
            parsed_len,
            truncated: parsed_len < raw.len(),
            headers: Vec::new(),
            parts: Vec::new(),
            text_body: Vec::new(),
            html_body: Vec::new(),
            attachments: Vec::new(),
            msg: None,
        };
        match &msg {
            Some(m) if !m.parts.is_empty() => {
                s.headers = header::raw_headers(raw, &m.parts[0]);
                s.build(m);
            }
            _ => s.parts.push(Part {
                part_id: Some("1".into()),
                headers: Vec::new(),
                ctype: "text/plain".into(),
                charset: Some("us-ascii".into()),
                name: None,
                disposition: None,
                cid: None,
                language: None,
                location: None,
                size: raw.len(),
                sub_parts: None,
                problem: true,
                source: None,
            }),
        }
        s.msg = msg;
        let (mut text, mut html, mut att) = (Vec::new(), Vec::new(), Vec::new());
        s.classify(
            &[0],
            "mixed",
            false,
            Some(&mut html),
            Some(&mut text),
            &mut att,
            0,
        );
        s.text_body = text;
        s.html_body = html;
        s.attachments = att;
        s
    }

    /// Builds the part tree from mail-parser's flat part list, depth first in document order
    /// (index 0 is the root), with an explicit stack: the input decides the shape, so no
    /// recursion may follow it.
    fn build(&mut self, m: &Message<'_>) {
        struct Pending {
            src: usize,
            id: String,
            in_digest: bool,
            parent: Option<usize>,
            depth: usize,
        }
        let mut stack = vec![Pending {
            src: 0,
            id: String::new(),
            in_digest: false,
            parent: None,
            depth: 0,
        }];
        while let Some(w) = stack.pop() {
            if self.parts.len() >= limits::MAX_PARTS {
                // The rest is in the blob, not in the tree (limits.rs).
                self.truncated = true;
                break;
            }
            let Some((idx, children)) = self.add(m, w.src, &w.id, w.in_digest, w.depth) else {
                continue;
            };
            if let Some(parent) = w.parent
                && let Some(subs) = self.parts[parent].sub_parts.as_mut()
            {
                subs.push(idx);
            }
            let digest = self.parts[idx].ctype == "multipart/digest";
            for (n, child) in children.iter().enumerate().rev() {
                let id = if w.id.is_empty() {
                    (n + 1).to_string()
                } else {
                    format!("{}.{}", w.id, n + 1)
                };
                stack.push(Pending {
                    src: *child as usize,
                    id,
                    in_digest: digest,
                    parent: Some(idx),
                    depth: w.depth + 1,
                });
            }
        }
    }

    /// Adds mail-parser part `src` at `depth`; returns its index and the mail-parser ids of the
    /// children still to add (none for a leaf).
    fn add(
        &mut self,
        m: &Message<'_>,
        src: usize,
        id: &str,
        in_digest: bool,
        depth: usize,
    ) -> Option<(usize, Vec<u32>)> {
        let p = m.parts.get(src)?;
        let headers = header::raw_headers(self.raw, p);
        let ct = content_type(p);
        let declared = ct.map(|c| {
            let sub = c.c_subtype.as_deref().unwrap_or_default();
            format!("{}/{}", c.c_type, sub).to_ascii_lowercase()
        });
        let mut children = match &p.body {
            PartType::Multipart(ids)
                if declared
                    .as_deref()
                    .is_some_and(|t| t.starts_with("multipart/")) =>
            {
                Some(ids.clone())
            }
            _ => None,
        };
        let mut problem = p.is_encoding_problem || unknown_transfer_encoding(p);
        let mut ctype = match (&declared, &children) {
            (Some(t), None) if t.starts_with("multipart/") || !valid_type(t) => {
                // Broken multipart or unparsable type: RFC 2045 §5.2 default.
                problem |= t.starts_with("multipart/");
                "text/plain".to_string()
            }
            (Some(t), _) => t.clone(),
            (None, _) if in_digest => "message/rfc822".into(),
            (None, _) => "text/plain".into(),
        };
        if children.is_some() && depth >= limits::MAX_DEPTH {
            // Too deep to break out (limits.rs): one opaque leaf holding the raw body.
            children = None;
            ctype = "application/octet-stream".into();
            problem = true;
        }
        let charset = match ct.and_then(|c| c.attribute("charset")) {
            Some(c) if !c.trim().is_empty() && ctype != "application/octet-stream" => {
                Some(c.trim().to_string())
            }
            _ if ctype.starts_with("text/") => Some("us-ascii".to_string()),
            _ => None,
        };
        let cd = p
            .headers
            .header_value(&HeaderName::ContentDisposition)
            .and_then(|v| v.as_content_type());
        let name = cd
            .and_then(|c| c.attribute("filename"))
            .or_else(|| ct.and_then(|c| c.attribute("name")))
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty());
        let last = |field: &str| {
            headers
                .iter()
                .rev()
                .find(|h| h.name.eq_ignore_ascii_case(field))
                .map(|h| h.value.clone())
        };
        let cid = last("Content-ID").map(|v| {
            let mut input = v.clone();
            input.extend_from_slice(b"\r\n");
            header::message_ids(&input)
                .and_then(|ids| ids.into_iter().next())
                .unwrap_or_else(|| {
                    header::raw_text(&v)
                        .trim()
                        .trim_start_matches('<')
                        .trim_end_matches('>')
                        .to_string()
                })
        });
        let language = last("Content-Language").map(|v| language_tags(&header::raw_text(&v)));
        let location = last("Content-Location").map(|v| {
            let mut input = v;
            input.extend_from_slice(b"\r\n");
            header::text(&input).trim().to_string()
        });
        let idx = self.parts.len();
        self.parts.push(Part {
            part_id: None,
            headers,
            ctype,
            charset,
            name,
            disposition: cd.map(|c| c.c_type.to_ascii_lowercase()),
            cid,
            language,
            location,
            size: 0,
            sub_parts: None,
            problem,
            source: Some(src),
        });
        match children {
            Some(ids) => {
                self.parts[idx].sub_parts = Some(Vec::with_capacity(ids.len()));
                // A multipart has no blob; its size is that of its raw body.
                self.parts[idx].size =
                    (p.offset_end as usize).saturating_sub(p.offset_body as usize);
                Some((idx, ids))
            }
            None => {
                self.parts[idx].part_id = Some(if id.is_empty() { "1".into() } else { id.into() });
                self.parts[idx].size = decoded(self.raw, self.parsed_len, p).len();
                if self.parts[idx].size == 0 {
                    // Nothing to decode is no decoding problem (mail-parser flags a message
                    // that ends after its header).
                    self.parts[idx].problem = unknown_transfer_encoding(p);
                }
                Some((idx, Vec::new()))
            }
        }
    }

    /// RFC 8621 §4.1.4's suggested algorithm, as given there in JavaScript. `html`/`text` are
    /// None once an alternative has settled which list a part belongs to. It recurses once per
    /// multipart level, which [`Structure::build`] bounds by [`limits::MAX_DEPTH`].
    #[allow(clippy::too_many_arguments)]
    fn classify(
        &self,
        parts: &[usize],
        multipart_type: &str,
        in_alternative: bool,
        mut html: Option<&mut Vec<usize>>,
        mut text: Option<&mut Vec<usize>>,
        attachments: &mut Vec<usize>,
        depth: usize,
    ) {
        if depth > limits::MAX_DEPTH {
            return;
        }
        let text_len = text.as_ref().map(|t| t.len());
        let html_len = html.as_ref().map(|h| h.len());
        for (i, &pi) in parts.iter().enumerate() {
            let part = &self.parts[pi];
            let t = part.ctype.as_str();
            let is_inline = part.disposition.as_deref() != Some("attachment")
                && (t == "text/plain" || t == "text/html" || inline_media(t))
                && (i == 0
                    || (multipart_type != "related" && (inline_media(t) || part.name.is_none())));
            if let Some(subs) = &part.sub_parts {
                let sub_type = t.split_once('/').map(|(_, s)| s).unwrap_or_default();
                self.classify(
                    subs,
                    sub_type,
                    in_alternative || sub_type == "alternative",
                    html.as_deref_mut(),
                    text.as_deref_mut(),
                    attachments,
                    depth + 1,
                );
            } else if is_inline {
                if multipart_type == "alternative" {
                    match t {
                        "text/plain" => text.as_deref_mut().into_iter().for_each(|v| v.push(pi)),
                        "text/html" => html.as_deref_mut().into_iter().for_each(|v| v.push(pi)),
                        _ => attachments.push(pi),
                    }
                    continue;
                } else if in_alternative {
                    if t == "text/plain" {
                        html = None;
                    }
                    if t == "text/html" {
                        text = None;
                    }
                }
                if let Some(v) = text.as_deref_mut() {
                    v.push(pi);
                }
                if let Some(v) = html.as_deref_mut() {
                    v.push(pi);
                }
                if (text.is_none() || html.is_none()) && inline_media(t) {
                    attachments.push(pi);
                }
            } else {
                attachments.push(pi);
            }
        }
        if multipart_type == "alternative"
            && let (Some(text), Some(html)) = (text, html)
        {
            let (tl, hl) = (text_len.unwrap_or(0), html_len.unwrap_or(0));
            // Found HTML part only: it serves as the text body too.
            if tl == text.len() && hl != html.len() {
                text.extend_from_slice(&html[hl..]);
            }
            // Found plain text part only.
            if hl == html.len() && tl != text.len() {
                html.extend_from_slice(&text[tl..]);
            }
        }
    }

    /// False when the bytes had no header field at all (not a message; Email/parse
    /// notParsable).
    pub fn is_message(&self) -> bool {
        self.msg.is_some()
    }

    /// The part with this part id.
    pub fn find(&self, part_id: &str) -> Option<usize> {
        self.parts
            .iter()
            .position(|p| p.part_id.as_deref() == Some(part_id))
    }

    /// The octets of a leaf part after transfer decoding (what its blob holds).
    pub fn content(&self, i: usize) -> Cow<'_, [u8]> {
        let part = &self.parts[i];
        match (part.source, &self.msg) {
            (Some(src), Some(m)) => match m.parts.get(src) {
                Some(p) => decoded(self.raw, self.parsed_len, p),
                None => Cow::Borrowed(&[][..]),
            },
            _ => Cow::Borrowed(self.raw),
        }
    }

    /// The Unicode text of a text/* part (RFC 8621 §4.1.4 bodyValues), with its problems.
    pub fn text(&self, i: usize) -> Decoded {
        let part = &self.parts[i];
        let mut d = text::decode(&self.content(i), part.charset.as_deref());
        d.problem |= part.problem;
        d
    }

    /// RFC 8621 §4.1.4 preview: the text of the textBody parts, white space collapsed.
    pub fn preview(&self) -> String {
        let texts: Vec<String> = self
            .text_body
            .iter()
            .filter_map(|&i| match self.parts[i].ctype.as_str() {
                "text/plain" => Some(self.text(i).text),
                "text/html" => Some(text::html_text(&self.text(i).text)),
                _ => None,
            })
            .collect();
        text::preview(texts.iter().map(String::as_str))
    }

    /// RFC 8621 §4.1.4 hasAttachment ("SHOULD be true if the message has an attachment that
    /// the user would want to see"). A part of the attachments list counts unless it is only
    /// decoration: marked `Content-Disposition: inline` and either nameless, or a named
    /// image/audio/video with a Content-ID (embedded in the HTML, like a signature logo). So an
    /// inline patch file with a filename counts (issue #23), and so does a named inline photo
    /// without a Content-ID. docs/ARCHITECTURE.md states the rule.
    pub fn has_attachment(&self) -> bool {
        self.attachments.iter().any(|&i| {
            let p = &self.parts[i];
            p.disposition.as_deref() != Some("inline")
                || (p.name.is_some() && !(inline_media(&p.ctype) && p.cid.is_some()))
        })
    }
}

fn inline_media(t: &str) -> bool {
    t.starts_with("image/") || t.starts_with("audio/") || t.starts_with("video/")
}

fn valid_type(t: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b))
    };
    t.split_once('/').is_some_and(|(a, b)| token(a) && token(b))
}

fn content_type<'p>(p: &'p MessagePart<'_>) -> Option<&'p ContentType<'p>> {
    p.headers
        .header_value(&HeaderName::ContentType)
        .and_then(|v| v.as_content_type())
}

fn unknown_transfer_encoding(p: &MessagePart<'_>) -> bool {
    match p
        .headers
        .header_value(&HeaderName::ContentTransferEncoding)
        .and_then(|v| v.as_text())
    {
        None => false,
        Some(cte) => !matches!(
            cte.trim().to_ascii_lowercase().as_str(),
            "7bit" | "8bit" | "binary" | "base64" | "quoted-printable" | ""
        ),
    }
}

/// RFC 3282 Content-Language: comma-separated tags, comments dropped.
fn language_tags(v: &str) -> Vec<String> {
    let mut clean = String::new();
    let mut depth = 0usize;
    for c in v.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => clean.push(c),
            _ => {}
        }
    }
    clean
        .split(',')
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// A part's octets after transfer decoding. mail-parser already holds them for binary parts;
/// text parts it converted to Unicode, and parts it could not decode (a base64 part cut short
/// by a missing closing boundary) it kept raw, so those are decoded here from the raw bytes by
/// their declared Content-Transfer-Encoding, leniently. Undecodable content stays raw.
///
/// A multipart made opaque (too deep) whose end mail-parser never found runs to the end of what
/// it parsed (`parsed_len`).
fn decoded<'r>(raw: &'r [u8], parsed_len: usize, p: &'r MessagePart<'_>) -> Cow<'r, [u8]> {
    if let PartType::Binary(b) | PartType::InlineBinary(b) = &p.body
        && !p.is_encoding_problem
    {
        return Cow::Borrowed(b.as_ref());
    }
    let start = p.offset_body as usize;
    let end = match p.offset_end as usize {
        e if e < start && matches!(p.body, PartType::Multipart(_)) => parsed_len,
        e => e,
    };
    let Some(body) = raw.get(start..end) else {
        return Cow::Borrowed(&[][..]);
    };
    let cte = p
        .headers
        .header_value(&HeaderName::ContentTransferEncoding)
        .and_then(|v| v.as_text())
        .map(|t| t.trim().to_ascii_lowercase());
    match cte.as_deref() {
        Some("base64") => match MessageStream::new(body).decode_base64_mime(b"") {
            (end, bytes) if end != usize::MAX => Cow::Owned(bytes.into_owned()),
            _ => base64_decode(body)
                .map(Cow::Owned)
                .unwrap_or(Cow::Borrowed(body)),
        },
        Some("quoted-printable") => {
            match MessageStream::new(body).decode_quoted_printable_mime(b"") {
                (end, bytes) if end != usize::MAX => Cow::Owned(bytes.into_owned()),
                _ => quoted_printable_decode(body)
                    .map(Cow::Owned)
                    .unwrap_or(Cow::Borrowed(body)),
            }
        }
        _ => Cow::Borrowed(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// hasAttachment for named inline parts (issue #23): a patch file counts, an HTML logo
    /// with a Content-ID does not.
    #[test]
    fn named_inline_parts_and_has_attachment() {
        let patch = b"From: a@example.org\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nHere is the fix.\r\n\
--b\r\nContent-Type: text/x-diff\r\nContent-Disposition: inline; filename=fix.patch\r\n\r\n\
--- a\r\n+++ b\r\n--b--\r\n";
        assert!(Structure::parse(patch).has_attachment());
        let logo = b"From: a@example.org\r\nContent-Type: multipart/related; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/html\r\n\r\n<img src=cid:logo@x>\r\n\
--b\r\nContent-Type: image/png\r\nContent-ID: <logo@x>\r\n\
Content-Disposition: inline; filename=logo.png\r\n\r\nPNG\r\n--b--\r\n";
        assert!(!Structure::parse(logo).has_attachment());
    }

    /// The example of RFC 8621 §4.1.4: a list manager wrapped a text+HTML message.
    #[test]
    fn rfc8621_example_decomposition() {
        let raw = b"Content-Type: multipart/mixed; boundary=a\r\n\r\n\
--a\r\nContent-Type: text/plain\r\nContent-Disposition: inline\r\n\r\nA\r\n\
--a\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
--b\r\nContent-Type: multipart/alternative; boundary=c\r\n\r\n\
--c\r\nContent-Type: multipart/mixed; boundary=d\r\n\r\n\
--d\r\nContent-Type: text/plain\r\nContent-Disposition: inline\r\n\r\nB\r\n\
--d\r\nContent-Type: image/jpeg\r\nContent-Disposition: inline\r\n\r\nC\r\n\
--d\r\nContent-Type: text/plain\r\nContent-Disposition: inline\r\n\r\nD\r\n\
--d--\r\n\
--c\r\nContent-Type: multipart/related; boundary=e\r\n\r\n\
--e\r\nContent-Type: text/html\r\n\r\nE\r\n\
--e\r\nContent-Type: image/jpeg\r\n\r\nF\r\n\
--e--\r\n\
--c--\r\n\
--b\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment\r\n\r\nG\r\n\
--b\r\nContent-Type: application/x-excel\r\n\r\nH\r\n\
--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: J\r\n\r\nJ\r\n\
--b--\r\n\
--a\r\nContent-Type: text/plain\r\nContent-Disposition: inline\r\n\r\nK\r\n\
--a--\r\n";
        let s = Structure::parse(raw);
        let names = |list: &[usize]| -> String {
            list.iter()
                .map(|&i| {
                    let c = s.content(i);
                    let t = String::from_utf8_lossy(&c);
                    t.lines().last().unwrap_or_default().to_string()
                })
                .collect::<Vec<_>>()
                .join("")
        };
        assert_eq!(names(&s.text_body), "ABCDK");
        assert_eq!(names(&s.html_body), "AEK");
        assert_eq!(names(&s.attachments), "CFGHJ");
        assert_eq!(s.parts[s.text_body[1]].part_id.as_deref(), Some("2.1.1.1"));
    }

    #[test]
    fn garbage_is_one_text_part() {
        let s = Structure::parse(b"\x00\x01 not a message");
        assert_eq!(s.parts.len(), 1);
        assert_eq!(s.text_body, vec![0]);
    }
}
