//! Raw message -> EmailMeta: the immutable facts about a message that list views need, computed
//! once at ingest with the same header forms and body analysis that Email/get uses
//! (`crate::mime`), so the stored summary and a full fetch always agree (RFC 8621 §4.1.3:
//! `from` is `header:From:asAddresses`, `subject` is `header:Subject:asText`, and so on, each
//! from the *last* instance of the field).

use super::thread;
use crate::mime::header::{self, Form, RawHeader};
use crate::mime::tree::Structure;
use crate::store::model::{EmailAddress, EmailMeta};

pub use crate::mime::text::PREVIEW_CHARS;

/// The summary of raw message bytes. Never fails: broken input gives a summary of what could be
/// read (mail is stored as received).
pub fn meta(raw: &[u8]) -> EmailMeta {
    let s = Structure::parse(raw);
    summary(&s)
}

pub fn summary(s: &Structure<'_>) -> EmailMeta {
    let h = &s.headers;
    let subject = last(h, "Subject").map(|v| header::text(&line(v)));
    EmailMeta {
        message_id: last(h, "Message-ID").and_then(|v| header::message_ids(&line(v))),
        in_reply_to: last(h, "In-Reply-To").and_then(|v| header::message_ids(&line(v))),
        references: last(h, "References").and_then(|v| header::message_ids(&line(v))),
        sender: addresses(h, "Sender"),
        from: addresses(h, "From"),
        to: addresses(h, "To"),
        cc: addresses(h, "Cc"),
        bcc: addresses(h, "Bcc"),
        reply_to: addresses(h, "Reply-To"),
        base_subject: thread::base_subject(subject.as_deref().unwrap_or_default()),
        subject,
        sent_at: last(h, "Date").and_then(|v| header::date(&line(v))),
        preview: s.preview(),
        has_attachment: s.has_attachment(),
    }
}

fn last<'h>(headers: &'h [RawHeader], name: &str) -> Option<&'h [u8]> {
    headers
        .iter()
        .rev()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value.as_slice())
}

fn line(v: &[u8]) -> Vec<u8> {
    let mut l = v.to_vec();
    l.extend_from_slice(b"\r\n");
    l
}

fn addresses(h: &[RawHeader], name: &str) -> Option<Vec<EmailAddress>> {
    let v = last(h, name)?;
    serde_json::from_value(header::form_value(v, Form::Addresses)).ok()
}
