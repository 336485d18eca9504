//! The index schema and how one stored message becomes one index document.
//!
//! One document per (account, email). `key` = account << 32 | email id is the document's
//! identity (deleted and re-added by term) and, as a fast field, how a search turns hits back
//! into email ids. `account` scopes every search and lets a deleted account leave in one delete.
//! Text fields keep positions (phrase search, RFC 8621 §4.4.1 quoted text) but no stored copy
//! and no field norms: results are sorted from redb, never by score, and snippets are built from
//! the stored message, so the index holds nothing it would not search on.

use super::tokenizer::{self, Mode};
use crate::mime::header;
use crate::mime::text::html_text;
use crate::mime::tree::Structure;
use crate::store::model::AccountId;
use tantivy::TantivyDocument;
use tantivy::schema::{
    Field, INDEXED, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::PreTokenizedString;

/// Bumped whenever the schema or the tokenizer changes; an index of another version is rebuilt.
pub const VERSION: u32 = 1;

/// The most body text indexed per message (characters); the rest of a huge body is not searched.
const MAX_BODY_CHARS: usize = 1 << 20;

/// Header fields whose values are not indexed: long signatures made of base64, unique per
/// message, that nobody searches for but that would swell the term dictionary. Their names are
/// still indexed, so `header: [name]` works for them.
pub const UNINDEXED_HEADER_VALUES: [&str; 4] = [
    "dkim-signature",
    "arc-seal",
    "arc-message-signature",
    "x-google-dkim-signature",
];

#[derive(Clone, Copy, Debug)]
pub struct Fields {
    pub key: Field,
    pub account: Field,
    pub subject: Field,
    pub from: Field,
    pub to: Field,
    pub cc: Field,
    pub bcc: Field,
    pub body: Field,
    pub attachments: Field,
    /// Lower-cased names of every header field present.
    pub header_names: Field,
    /// Header values, each token prefixed with the lower-cased header name and `:`.
    pub headers: Field,
}

/// Which text a search looks in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextField {
    Subject,
    From,
    To,
    Cc,
    Bcc,
    Body,
    Attachments,
}

impl Fields {
    pub fn text(&self, f: TextField) -> Field {
        match f {
            TextField::Subject => self.subject,
            TextField::From => self.from,
            TextField::To => self.to,
            TextField::Cc => self.cc,
            TextField::Bcc => self.bcc,
            TextField::Body => self.body,
            TextField::Attachments => self.attachments,
        }
    }
}

pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer::NAME)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions)
            .set_fieldnorms(false),
    );
    let key = b.add_u64_field("key", INDEXED | tantivy::schema::FAST);
    let account = b.add_u64_field("account", INDEXED);
    let subject = b.add_text_field("subject", text.clone());
    let from = b.add_text_field("from", text.clone());
    let to = b.add_text_field("to", text.clone());
    let cc = b.add_text_field("cc", text.clone());
    let bcc = b.add_text_field("bcc", text.clone());
    let body = b.add_text_field("body", text.clone());
    let attachments = b.add_text_field("attachments", text.clone());
    let header_names = b.add_text_field("header_names", STRING);
    let headers = b.add_text_field("headers", text);
    (
        b.build(),
        Fields {
            key,
            account,
            subject,
            from,
            to,
            cc,
            bcc,
            body,
            attachments,
            header_names,
            headers,
        },
    )
}

pub fn key(account: AccountId, email: u32) -> u64 {
    (u64::from(account) << 32) | u64::from(email)
}

/// The index document for one stored message. The message is read with the same MIME model
/// Email/get uses (`crate::mime`), so what is searched is what a client is shown.
pub fn document(f: &Fields, account: AccountId, email: u32, raw: &[u8]) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_u64(f.key, key(account, email));
    doc.add_u64(f.account, u64::from(account));
    let s = Structure::parse(raw);
    let meta = crate::ingest::parse::summary(&s);
    if let Some(subject) = &meta.subject {
        doc.add_text(f.subject, subject);
    }
    for (field, addrs) in [
        (f.from, &meta.from),
        (f.to, &meta.to),
        (f.cc, &meta.cc),
        (f.bcc, &meta.bcc),
    ] {
        for a in addrs.iter().flatten() {
            doc.add_text(
                field,
                format!("{} {}", a.name.as_deref().unwrap_or_default(), a.email),
            );
        }
    }
    let body = body_text(&s);
    if !body.is_empty() {
        doc.add_text(f.body, body);
    }
    for &i in &s.attachments {
        if let Some(name) = s.parts.get(i).and_then(|p| p.name.as_deref()) {
            doc.add_text(f.attachments, name);
        }
    }
    add_headers(f, &s, &mut doc);
    doc
}

/// The text a reader sees: the textBody parts of RFC 8621 §4.1.4 (HTML turned into its readable
/// text, without tags, `<head>`, styles or scripts), joined, cut at [`MAX_BODY_CHARS`].
pub fn body_text(s: &Structure<'_>) -> String {
    let mut out = String::new();
    for &i in &s.text_body {
        let Some(part) = s.parts.get(i) else { continue };
        let t = match part.ctype.as_str() {
            "text/html" => html_text(&s.text(i).text),
            c if c.starts_with("text/") => s.text(i).text,
            _ => continue,
        };
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&t);
        if out.len() > MAX_BODY_CHARS {
            let mut cut = MAX_BODY_CHARS;
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            out.truncate(cut);
            break;
        }
    }
    out
}

fn add_headers(f: &Fields, s: &Structure<'_>, doc: &mut TantivyDocument) {
    let mut names: Vec<String> = Vec::new();
    let mut tokens = Vec::new();
    let mut position = 0usize;
    for h in &s.headers {
        let name = h.name.to_ascii_lowercase();
        if !names.contains(&name) {
            names.push(name.clone());
        }
        if UNINDEXED_HEADER_VALUES.contains(&name.as_str()) {
            continue;
        }
        for value in header_values(&h.value) {
            for mut t in tokenizer::tokens(&value, Mode::Index) {
                t.text = format!("{name}:{}", t.text);
                t.position += position;
                t.offset_from = 0;
                t.offset_to = 0;
                tokens.push(t);
            }
            // A gap keeps phrases from matching across two header fields.
            position = tokens.last().map(|t| t.position + 2).unwrap_or(position);
        }
    }
    for n in names {
        doc.add_text(f.header_names, n);
    }
    if !tokens.is_empty() {
        doc.add_pre_tokenized_text(
            f.headers,
            PreTokenizedString {
                text: String::new(),
                tokens,
            },
        );
    }
}

/// The searchable forms of one header field value: as sent, and decoded (RFC 2047 encoded
/// words, RFC 8621 §4.4.1 "SHOULD be decoded") when that differs.
fn header_values(value: &[u8]) -> Vec<String> {
    let raw = header::raw_text(value);
    let decoded = header::text(value);
    if decoded.trim() == raw.trim() {
        vec![raw]
    } else {
        vec![raw, decoded]
    }
}
