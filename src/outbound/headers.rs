//! What a message submission agent does to a message's header before it leaves (RFC 6409 §8),
//! and the header reads both submission paths (JMAP EmailSubmission and the SMTP submission
//! port) share, so the two cannot drift apart:
//!
//! - Bcc: fields are removed (RFC 6409 §8 and RFC 5322 §3.6.3: blind recipients must not be
//!   shown to the others). The stored draft (the sender's Sent copy) keeps them; every copy
//!   that goes out, to a relay or to a local recipient, is made from the stripped bytes.
//! - A missing Date: (§8.2) or Message-ID: (§8.3) is added. This happens before anything is
//!   queued, so the DKIM signature made at send time covers them (`dkim.rs` signs both).
//! - [`senders`] lists every From: and Sender: mailbox for the ownership check (RFC 6409 §8.1,
//!   RFC 5322 §3.6.2), reading all instances of each field, not only the first.
//!
//! Header fields are found on the raw bytes (a field starts at a line that does not begin with
//! white space; CRLF or bare LF; the header ends at the first empty line), so nothing else in
//! the message changes by a byte.

/// One header field: its name and its byte range in the message (with continuation lines and
/// the final line break).
struct Field<'a> {
    name: &'a [u8],
    start: usize,
    end: usize,
}

/// The header fields of `raw`, and the offset where the header ends (the empty line, or the
/// end of the message when it has no body).
fn fields(raw: &[u8]) -> (Vec<Field<'_>>, usize) {
    let mut out: Vec<Field<'_>> = Vec::new();
    let mut pos = 0;
    while pos < raw.len() {
        let end = raw[pos..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(raw.len(), |i| pos + i + 1);
        let line = &raw[pos..end];
        if line == b"\r\n" || line == b"\n" {
            return (out, pos);
        }
        match (line.first(), out.last_mut()) {
            // A continuation line (RFC 5322 §2.2.3) belongs to the field before it.
            (Some(b' ' | b'\t'), Some(last)) => last.end = end,
            _ => {
                let name_end = line.iter().position(|b| *b == b':').unwrap_or(line.len());
                out.push(Field {
                    name: trim(&line[..name_end]),
                    start: pos,
                    end,
                });
            }
        }
        pos = end;
    }
    (out, raw.len())
}

fn trim(s: &[u8]) -> &[u8] {
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let end = s
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &s[start..end.max(start)]
}

/// The header (its fields and the empty line) and the body. A message without an empty line
/// is all header.
pub fn split(raw: &[u8]) -> (&[u8], &[u8]) {
    let (_, end) = fields(raw);
    let blank = if raw[end..].starts_with(b"\r\n") {
        2
    } else if raw[end..].starts_with(b"\n") {
        1
    } else {
        0
    };
    raw.split_at(end + blank)
}

/// How many header fields named `name` (case-insensitive) the message has.
pub fn count(raw: &[u8], name: &str) -> usize {
    fields(raw)
        .0
        .iter()
        .filter(|f| f.name.eq_ignore_ascii_case(name.as_bytes()))
        .count()
}

/// The message without its header fields named `name` (and their continuation lines).
pub fn strip(raw: &[u8], name: &str) -> Vec<u8> {
    let (list, _) = fields(raw);
    let mut out = Vec::with_capacity(raw.len());
    let mut pos = 0;
    for f in list
        .iter()
        .filter(|f| f.name.eq_ignore_ascii_case(name.as_bytes()))
    {
        out.extend_from_slice(&raw[pos..f.start]);
        pos = f.end;
    }
    out.extend_from_slice(&raw[pos..]);
    out
}

/// The message without its Bcc: and Resent-Bcc: fields (RFC 5322 §3.6.3 and §3.6.6; RFC 8621
/// §7.5 and RFC 6409 §8): blind recipients of a resend are as blind as any others.
pub fn strip_bcc(raw: &[u8]) -> Vec<u8> {
    strip(&strip(raw, "Bcc"), "Resent-Bcc")
}

/// Whether every Date: field holds a date that can be read (RFC 5322 §3.3, with the obsolete
/// forms `mime::date` accepts). An empty or unreadable one counts as missing (§8.2): receivers
/// penalise it as they do a missing one, and it would be signed as it is.
fn dates_readable(raw: &[u8], list: &[Field<'_>]) -> bool {
    list.iter()
        .filter(|f| f.name.eq_ignore_ascii_case(b"Date"))
        .all(|f| {
            let field = &raw[f.start..f.end];
            let value = field
                .iter()
                .position(|b| *b == b':')
                .map_or(&field[field.len()..], |i| &field[i + 1..]);
            crate::mime::header::date(value).is_some()
        })
}

/// A new Message-ID (RFC 5322 §3.6.4): time and 96 random bits, at our host name.
pub fn new_message_id(hostname: &str, now: i64) -> String {
    let mut b = [0u8; 12];
    // A failing system RNG still leaves the time and the counter below to keep ids apart.
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    let host = hostname.trim_end_matches('.');
    let host = if host.is_empty() { "localhost" } else { host };
    format!("<{now:x}.{n:x}.{hex}@{host}>")
}

/// The submission port's fixes (RFC 6409 §8): Bcc: removed, Date: and Message-ID: added when
/// missing. Added fields go at the end of the header, in the message's own line-break style.
pub fn complete_for_sending(raw: &[u8], hostname: &str, now: i64) -> Vec<u8> {
    let mut stripped = strip_bcc(raw);
    {
        let (list, _) = fields(&stripped);
        if !dates_readable(&stripped, &list) {
            stripped = strip(&stripped, "Date");
        }
    }
    let (list, end) = fields(&stripped);
    let has = |n: &str| {
        list.iter()
            .any(|f| f.name.eq_ignore_ascii_case(n.as_bytes()))
    };
    let crlf = !stripped
        .iter()
        .position(|b| *b == b'\n')
        .is_some_and(|i| i == 0 || stripped[i - 1] != b'\r');
    let eol = if crlf { "\r\n" } else { "\n" };
    let mut added = String::new();
    if !has("Date") {
        added.push_str(&format!("Date: {}{eol}", crate::date::rfc5322(now)));
    }
    if !has("Message-ID") {
        added.push_str(&format!(
            "Message-ID: {}{eol}",
            new_message_id(hostname, now)
        ));
    }
    if added.is_empty() {
        return stripped;
    }
    // At the end of the header, so trace fields (Received:) stay a block at the top
    // (RFC 5322 §3.6.7).
    let (head, rest) = stripped.split_at(end);
    let mut out = Vec::with_capacity(stripped.len() + added.len() + 2);
    out.extend_from_slice(head);
    if !head.is_empty() && !head.ends_with(b"\n") {
        out.extend_from_slice(eol.as_bytes());
    }
    out.extend_from_slice(added.as_bytes());
    out.extend_from_slice(rest);
    out
}

/// Every address of every From: and Sender: field, and whether each field yielded one.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Senders {
    pub from: Vec<String>,
    pub sender: Vec<String>,
    /// A From: or Sender: field exists without a mailbox we could read: the message cannot be
    /// checked and must not be sent (a forged name could hide in it).
    pub unreadable: Vec<&'static str>,
}

/// The mailboxes of all From: and Sender: fields (RFC 5322 §3.6.2).
pub fn senders(raw: &[u8]) -> Senders {
    let (list, _) = fields(raw);
    let mut s = Senders::default();
    for (name, label) in [("From", "From"), ("Sender", "Sender")] {
        for f in list
            .iter()
            .filter(|f| f.name.eq_ignore_ascii_case(name.as_bytes()))
        {
            // Parse each field alone, so every instance is read (a parser keeps one).
            let one = [&raw[f.start..f.end], b"\r\n"].concat();
            let found: Vec<String> = mail_parser::MessageParser::new()
                .parse_headers(&one[..])
                .and_then(|m| {
                    let a = if name == "From" { m.from() } else { m.sender() }?;
                    Some(
                        a.iter()
                            .filter_map(|x| x.address().map(|a| a.trim().to_string()))
                            .filter(|a| !a.is_empty())
                            .collect(),
                    )
                })
                .unwrap_or_default();
            if found.is_empty() {
                s.unreadable.push(label);
            }
            if name == "From" {
                s.from.extend(found);
            } else {
                s.sender.extend(found);
            }
        }
    }
    s
}

/// The first From:/Sender: problem that forbids sending `s` as `acct`: the field's name and
/// the address (None when the field has no readable mailbox, or the message has no From:).
/// The one rule both submission paths apply (RFC 6409 §8.1, RFC 5322 §3.6.2), with ownership
/// as the store defines it ([`crate::store::Reader::owns_address`]).
pub fn foreign_sender(
    r: &crate::store::Reader,
    acct: crate::store::model::AccountId,
    s: &Senders,
) -> crate::store::Result<Option<(&'static str, Option<String>)>> {
    if s.from.is_empty() {
        return Ok(Some(("From", None)));
    }
    if let Some(field) = s.unreadable.first() {
        return Ok(Some((field, None)));
    }
    for (field, list) in [("From", &s.from), ("Sender", &s.sender)] {
        for a in list {
            if !r.owns_address(acct, a)? {
                return Ok(Some((field, Some(a.clone()))));
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcc_fields_are_removed_with_their_continuations() {
        let raw = b"From: a@x.org\r\nBcc: secret@y.org,\r\n other@y.org\r\nTo: b@x.org\r\nBCC: z@y.org\r\n\r\nBcc: in the body stays\r\n";
        assert_eq!(
            strip_bcc(raw),
            b"From: a@x.org\r\nTo: b@x.org\r\n\r\nBcc: in the body stays\r\n".to_vec()
        );
        assert_eq!(strip_bcc(b"Subject: x\r\n"), b"Subject: x\r\n".to_vec());
        assert_eq!(strip_bcc(b"Bcc : a@b.c\nX: y\n\nz"), b"X: y\n\nz".to_vec());
    }

    /// Found by trying it: Resent-Bcc went out, and an empty Date: was kept as it was.
    #[test]
    fn resent_bcc_goes_and_an_unreadable_date_is_replaced() {
        let raw = b"From: a@x.org\r\nResent-Bcc: hidden@y.org\r\nTo: b@x.org\r\n\r\nbody\r\n";
        assert_eq!(
            strip_bcc(raw),
            b"From: a@x.org\r\nTo: b@x.org\r\n\r\nbody\r\n".to_vec()
        );
        for bad in [&b"Date: \r\n"[..], b"Date: yesterday\r\n"] {
            let mut raw = b"From: a@x.org\r\n".to_vec();
            raw.extend_from_slice(bad);
            raw.extend_from_slice(b"Message-ID: <m@x.org>\r\n\r\nbody\r\n");
            let out = String::from_utf8(complete_for_sending(&raw, "mx.x.org", 1_790_000_000))
                .expect("utf-8");
            assert_eq!(out.matches("Date:").count(), 1, "{out}");
            assert!(
                !out.contains("yesterday") && !out.contains("Date: \r\n"),
                "{out}"
            );
        }
        let good = b"From: a@x.org\r\nDate: Mon, 2 Sep 2002 10:11:12 +0000\r\nMessage-ID: <m@x.org>\r\n\r\nb\r\n";
        assert_eq!(complete_for_sending(good, "mx.x.org", 1), good.to_vec());
    }

    #[test]
    fn date_and_message_id_are_added_once() {
        let raw = b"From: a@x.org\r\nBcc: b@y.org\r\n\r\nbody\r\n";
        let out = complete_for_sending(raw, "mail.x.org", 1_790_000_000);
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.starts_with("From: a@x.org\r\nDate: "), "{text}");
        assert!(text.contains("\r\nMessage-ID: <"), "{text}");
        assert!(text.contains("@mail.x.org>\r\n"), "{text}");
        assert!(!text.contains("Bcc"), "{text}");
        assert!(text.ends_with("\r\n\r\nbody\r\n"), "{text}");
        // Already complete: only Bcc goes.
        let again = complete_for_sending(&out, "mail.x.org", 1);
        assert_eq!(again, out);
        let lf = complete_for_sending(b"From: a@x.org\n\nbody\n", "h.x", 0);
        assert!(!lf.contains(&b'\r'));
        // No body, no final line break: the header still ends cleanly.
        let bare = complete_for_sending(b"Received: x\r\nFrom: a@x.org", "h.x", 0);
        let bare = String::from_utf8(bare).unwrap();
        assert!(
            bare.starts_with("Received: x\r\nFrom: a@x.org\r\nDate: "),
            "{bare}"
        );
        assert!(bare.ends_with(">\r\n"), "{bare}");
        assert_ne!(new_message_id("h", 0), new_message_id("h", 0));
    }

    #[test]
    fn every_from_and_sender_is_read() {
        let s = senders(
            b"From: \"A\" <a@x.org>, b@x.org\r\nSender: c@x.org\r\nSender:\r\n  =?utf-8?q?D?= <d@y.org>\r\n\r\nSender: e@z.org\r\n",
        );
        assert_eq!(s.from, vec!["a@x.org", "b@x.org"]);
        assert_eq!(s.sender, vec!["c@x.org", "d@y.org"]);
        assert!(s.unreadable.is_empty());
        let s = senders(b"From: a@x.org\r\nSender: nobody\r\n\r\n");
        assert_eq!(s.unreadable, vec!["Sender"]);
        assert_eq!(count(b"From: a\r\nfrom: b\r\n\r\nFrom: c", "From"), 2);
    }
}
