//! Reading and writing mbox files (RFC 4155; the mboxrd and mboxo variants).
//!
//! **Splitting.** A message starts at a line beginning with `From ` that is the first line of
//! the file or follows an empty line; the empty line before it is the separator and not part of
//! the previous message, and so is an empty last line of the file. A `From ` line elsewhere (mboxo writers leave them unquoted) stays in
//! the message. Malformed separators (no date, no address) still separate.
//!
//! **Quoting.** Lines matching `>+From ` lose one `>` (mboxrd, the form we write). An mboxo file
//! also quotes `From ` as `>From ` but leaves `>From ` alone, so a message that really had a
//! `>From ` line loses its `>`: the ambiguity is mboxo's own (RFC 4155 §2 notes it).
//!
//! **Storage headers.** `Status`, `X-Status` and `X-Keywords` describe the mailbox file, not the
//! message (mutt, Thunderbird and Dovecot write them): they are read as keywords and removed
//! from the stored bytes, and the export writes them again, so a round trip is exact.
//! `X-Gmail-Labels` (Google Takeout) is read as the message's mailboxes and kept.
//!
//! Limits: a line is read in pieces of at most [`MAX_LINE`] bytes and a message may hold at most
//! [`MAX_MESSAGE`] bytes; a longer one is skipped to its end and reported.

use std::collections::BTreeSet;
use std::io::{BufRead, Read, Write};

pub const MAX_LINE: u64 = 64 * 1024;
pub const MAX_MESSAGE: usize = 128 * 1024 * 1024;

/// One message of an mbox file.
#[derive(Debug, Clone, Default)]
pub struct MboxMessage {
    /// The bytes without the separator, the quoting or the storage headers.
    pub raw: Vec<u8>,
    pub keywords: BTreeSet<String>,
    /// Labels from `X-Gmail-Labels`, when the header is present.
    pub labels: Option<Vec<String>>,
    /// From the `From ` line's date (asctime, UTC), when it has one.
    pub received_at: Option<i64>,
    /// 1-based position in the file, for reports.
    pub number: u64,
}

/// Iterates over the messages of an mbox stream. Items are `Err` for a message that could not
/// be read whole (too large); the iteration goes on after it.
pub struct Reader<R: BufRead> {
    input: R,
    /// The separator line that starts the next message, once seen.
    next_from: Option<Vec<u8>>,
    started: bool,
    count: u64,
    failed: bool,
}

impl<R: BufRead> Reader<R> {
    pub fn new(input: R) -> Self {
        Reader {
            input,
            next_from: None,
            started: false,
            count: 0,
            failed: false,
        }
    }

    fn line(&mut self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
        buf.clear();
        (&mut self.input).take(MAX_LINE).read_until(b'\n', buf)
    }
}

fn is_blank(line: &[u8]) -> bool {
    line == b"\n" || line == b"\r\n"
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<MboxMessage, String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let mut line = Vec::new();
        if !self.started {
            self.started = true;
            // Anything before the first separator (a file that does not start with one) is
            // taken as a message of its own if it is not blank.
            loop {
                match self.line(&mut line) {
                    Ok(0) => return None,
                    Ok(_) if line.starts_with(b"From ") => {
                        self.next_from = Some(line.clone());
                        break;
                    }
                    Ok(_) if is_blank(&line) => continue,
                    Ok(_) => {
                        self.next_from = Some(Vec::new());
                        return self.read_body(Some(line));
                    }
                    Err(e) => {
                        self.failed = true;
                        return Some(Err(format!("cannot read: {e}")));
                    }
                }
            }
        }
        self.next_from.as_ref()?;
        self.read_body(None)
    }
}

impl<R: BufRead> Reader<R> {
    fn read_body(&mut self, first: Option<Vec<u8>>) -> Option<Result<MboxMessage, String>> {
        let from_line = self.next_from.take()?;
        self.count += 1;
        let mut raw: Vec<u8> = Vec::new();
        let mut too_large = false;
        let mut prev_blank = false;
        let mut line = Vec::new();
        let push = |raw: &mut Vec<u8>, l: &[u8], too_large: &mut bool| {
            if raw.len() + l.len() > MAX_MESSAGE {
                *too_large = true;
            } else if !*too_large {
                raw.extend_from_slice(unquote(l));
            }
        };
        if let Some(f) = first {
            push(&mut raw, &f, &mut too_large);
        }
        loop {
            match self.line(&mut line) {
                Ok(n) if n == 0 || (prev_blank && line.starts_with(b"From ")) => {
                    if n > 0 {
                        self.next_from = Some(line.clone());
                    }
                    // The blank line before the separator (and the one a writer leaves after
                    // the last message) belongs to the file, not to the message.
                    if prev_blank {
                        if raw.ends_with(b"\r\n") {
                            raw.truncate(raw.len() - 2);
                        } else if raw.ends_with(b"\n") {
                            raw.truncate(raw.len() - 1);
                        }
                    }
                    break;
                }
                Ok(_) => {
                    // A line cut at MAX_LINE does not end in a newline and is never blank.
                    prev_blank = is_blank(&line);
                    push(&mut raw, &line, &mut too_large);
                }
                Err(e) => {
                    self.failed = true;
                    return Some(Err(format!("message {}: cannot read: {e}", self.count)));
                }
            }
        }
        if too_large {
            return Some(Err(format!(
                "message {}: larger than {} MB, skipped",
                self.count,
                MAX_MESSAGE / (1024 * 1024)
            )));
        }
        let mut m = split_storage_headers(raw);
        m.received_at = from_line_date(&from_line);
        m.number = self.count;
        Some(Ok(m))
    }
}

/// `>From ` -> `From `, `>>From ` -> `>From ` (mboxrd).
fn unquote(line: &[u8]) -> &[u8] {
    let n = line.iter().take_while(|b| **b == b'>').count();
    if n > 0 && line[n..].starts_with(b"From ") {
        &line[1..]
    } else {
        line
    }
}

const STORAGE_HEADERS: [&str; 3] = ["status", "x-status", "x-keywords"];

/// Reads and removes the storage headers of the header section, reads `X-Gmail-Labels`.
fn split_storage_headers(raw: Vec<u8>) -> MboxMessage {
    let mut out = Vec::with_capacity(raw.len());
    let mut m = MboxMessage::default();
    let mut pos = 0;
    let mut dropping = false;
    let mut in_headers = true;
    while pos < raw.len() {
        let end = raw[pos..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(raw.len(), |i| pos + i + 1);
        let line = &raw[pos..end];
        pos = end;
        if !in_headers {
            out.extend_from_slice(line);
            continue;
        }
        if is_blank(line) {
            in_headers = false;
            out.extend_from_slice(line);
            continue;
        }
        let continuation = matches!(line.first(), Some(b' ' | b'\t'));
        if continuation {
            if !dropping {
                out.extend_from_slice(line);
            }
            continue;
        }
        let text = String::from_utf8_lossy(line);
        let (name, value) = text.split_once(':').unwrap_or((text.as_ref(), ""));
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim();
        dropping = STORAGE_HEADERS.contains(&name.as_str());
        match name.as_str() {
            "status" if value.contains('R') => {
                m.keywords.insert("$seen".into());
            }
            "x-status" => {
                for (c, k) in [('A', "$answered"), ('F', "$flagged"), ('T', "$draft")] {
                    if value.contains(c) {
                        m.keywords.insert(k.into());
                    }
                }
            }
            "x-keywords" => {
                for k in value.split([',', ' ']).filter(|k| !k.is_empty()) {
                    if let Some(k) = super::flags::keyword(k) {
                        m.keywords.insert(k);
                    }
                }
            }
            "x-gmail-labels" => m.labels = Some(split_labels(value)),
            _ => {}
        }
        if !dropping {
            out.extend_from_slice(line);
        }
    }
    m.raw = out;
    m
}

/// `Inbox,"Work, old",Opened` -> [Inbox, Work, old, Opened] (labels with commas are quoted).
fn split_labels(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in v.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(cur.trim().to_string());
                cur.clear();
            }
            c => cur.push(c),
        }
    }
    out.push(cur.trim().to_string());
    out.retain(|l| !l.is_empty());
    out
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The asctime date of a `From sender Tue Nov 14 22:13:20 2023` line (UTC), if any.
fn from_line_date(line: &[u8]) -> Option<i64> {
    let text = String::from_utf8_lossy(line);
    let words: Vec<&str> = text.split_whitespace().collect();
    let m = words.iter().position(|w| MONTHS.contains(w))?;
    let month = MONTHS.iter().position(|x| x == &words[m])? + 1;
    let day: u32 = words.get(m + 1)?.parse().ok()?;
    let time = words.get(m + 2)?;
    let year = words
        .get(m + 3..)?
        .iter()
        .find_map(|w| w.parse::<u32>().ok().filter(|y| *y > 1900 && *y < 10000))?;
    let time = if time.len() == 5 {
        format!("{time}:00")
    } else {
        time.to_string()
    };
    crate::date::parse_rfc3339(&format!("{year:04}-{month:02}-{day:02}T{time}Z"))
}

/// `Tue Nov 14 22:13:20 2023` for a `From ` line.
pub fn asctime(secs: i64) -> String {
    // rfc5322 gives "Tue, 14 Nov 2023 22:13:20 +0000".
    let s = crate::date::rfc5322(secs);
    let w: Vec<&str> = s.split_whitespace().collect();
    match w.as_slice() {
        [wd, d, mo, y, t, _] => format!("{} {mo} {d:>2} {t} {y}", wd.trim_end_matches(',')),
        _ => s,
    }
}

/// Writes one message in mboxrd form: separator, storage headers for `keywords`, the quoted
/// bytes, a newline if the message lacks one, and the blank line.
pub fn write_message(
    out: &mut impl Write,
    raw: &[u8],
    keywords: &BTreeSet<String>,
    received_at: i64,
) -> std::io::Result<()> {
    writeln!(out, "From MAILER-DAEMON {}", asctime(received_at))?;
    let (status, xstatus, rest) = super::flags::to_mbox(keywords);
    if !status.is_empty() {
        writeln!(out, "Status: {status}")?;
    }
    if !xstatus.is_empty() {
        writeln!(out, "X-Status: {xstatus}")?;
    }
    if !rest.is_empty() {
        writeln!(out, "X-Keywords: {}", rest.join(" "))?;
    }
    for line in raw.split_inclusive(|b| *b == b'\n') {
        let n = line.iter().take_while(|b| **b == b'>').count();
        if line[n..].starts_with(b"From ") {
            out.write_all(b">")?;
        }
        out.write_all(line)?;
    }
    if !raw.ends_with(b"\n") {
        out.write_all(b"\n")?;
    }
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &[u8]) -> Vec<Result<MboxMessage, String>> {
        Reader::new(s).collect()
    }

    #[test]
    fn splits_unquotes_and_reads_flags() {
        let f = b"From a@b Tue Nov 14 22:13:20 2023\nStatus: RO\nX-Status: AF\nSubject: one\n\n\
                  >From the start\n>>From quoted\nFrom in the middle stays\n\n\
                  From malformed\nSubject: two\r\nX-Keywords: work $label1\r\n\r\nbody\r\n\r\n";
        let got = read(f);
        assert_eq!(got.len(), 2);
        let one = got[0].as_ref().unwrap();
        assert_eq!(
            one.raw,
            b"Subject: one\n\nFrom the start\n>From quoted\nFrom in the middle stays\n"
        );
        assert_eq!(one.received_at, Some(1_700_000_000));
        let kw: Vec<_> = one.keywords.iter().cloned().collect();
        assert_eq!(kw, ["$answered", "$flagged", "$seen"]);
        let two = got[1].as_ref().unwrap();
        assert_eq!(two.raw, b"Subject: two\r\n\r\nbody\r\n");
        assert_eq!(two.received_at, None);
        assert!(two.keywords.contains("work") && two.keywords.contains("$label1"));
    }

    #[test]
    fn round_trip_is_exact() {
        let msgs: [&[u8]; 3] = [
            b"Subject: a\n\nFrom here\n>From there\n",
            b"Subject: b\r\n\r\nbare\rcr\r\n",
            b"Subject: c\n\nno newline at the end\n",
        ];
        let mut file = Vec::new();
        let kw: BTreeSet<String> = ["$seen".to_string(), "$flagged".into(), "work".into()].into();
        for m in msgs {
            write_message(&mut file, m, &kw, 1_700_000_000).unwrap();
        }
        let got = read(&file);
        assert_eq!(got.len(), 3);
        for (m, g) in msgs.iter().zip(got) {
            let g = g.unwrap();
            assert_eq!(g.raw, *m);
            assert_eq!(g.keywords, kw);
            assert_eq!(g.received_at, Some(1_700_000_000));
        }
    }

    #[test]
    fn gmail_labels() {
        assert_eq!(
            split_labels(r#"Inbox,"Work, old",Opened,Category Updates"#),
            ["Inbox", "Work, old", "Opened", "Category Updates"]
        );
        assert_eq!(asctime(1_700_000_000), "Tue Nov 14 22:13:20 2023");
    }
}
