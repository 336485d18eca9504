//! mail-parser -> EmailMeta: the immutable facts about a message that list views need.

use crate::store::model::{EmailAddress, EmailMeta};
use mail_parser::{Address, HeaderValue, Message, MessageParser};

/// RFC 8621 §4.1.4: the preview is at most 256 characters.
pub const PREVIEW_CHARS: usize = 256;

/// Parses raw bytes. mail-parser is lenient: any byte string yields a message (possibly with no
/// headers), so a broken message is still stored as received.
pub fn parse(raw: &[u8]) -> Option<Message<'_>> {
    MessageParser::default().parse(raw)
}

pub fn meta(msg: &Message<'_>) -> EmailMeta {
    let subject = msg.subject().map(str::to_string);
    EmailMeta {
        message_id: msg.message_id().map(|id| vec![id.to_string()]),
        in_reply_to: ids(msg.in_reply_to()),
        references: ids(msg.references()),
        sender: addresses(msg.sender()),
        from: addresses(msg.from()),
        to: addresses(msg.to()),
        cc: addresses(msg.cc()),
        bcc: addresses(msg.bcc()),
        reply_to: addresses(msg.reply_to()),
        subject,
        sent_at: msg.date().filter(|d| d.is_valid()).map(|d| d.to_rfc3339()),
        preview: preview(msg),
        has_attachment: msg.attachment_count() > 0,
        base_subject: base_subject(msg),
    }
}

/// The thread key's subject part: RFC 5256 §2.1 base subject, lower-cased.
pub fn base_subject(msg: &Message<'_>) -> String {
    msg.thread_name().unwrap_or_default().trim().to_lowercase()
}

pub fn ids(v: &HeaderValue<'_>) -> Option<Vec<String>> {
    match v {
        HeaderValue::Text(t) => Some(vec![t.to_string()]),
        HeaderValue::TextList(l) => Some(l.iter().map(|t| t.to_string()).collect()),
        _ => None,
    }
}

pub fn addresses(a: Option<&Address<'_>>) -> Option<Vec<EmailAddress>> {
    let a = a?;
    Some(
        a.iter()
            .map(|x| EmailAddress {
                name: x
                    .name
                    .as_ref()
                    .map(|n| n.to_string())
                    .filter(|n| !n.is_empty()),
                email: x
                    .address
                    .as_ref()
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
            })
            .collect(),
    )
}

/// Collapses runs of white space to one space and cuts at 256 characters.
pub fn preview(msg: &Message<'_>) -> String {
    let Some(text) = msg.body_preview(PREVIEW_CHARS * 4) else {
        return String::new();
    };
    let mut out = String::new();
    let mut n = 0;
    for word in text.split_whitespace() {
        if n >= PREVIEW_CHARS {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
            n += 1;
        }
        for c in word.chars() {
            if n >= PREVIEW_CHARS {
                break;
            }
            out.push(c);
            n += 1;
        }
    }
    out
}
