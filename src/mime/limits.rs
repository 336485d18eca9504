//! How much structure one message may make the server build (issue 13).
//!
//! A message is stored byte for byte whatever it holds, but the part tree built from it for the
//! summary, Email/get, Email/parse, search and snippets is bounded, so one message cannot make
//! the server recurse without end or allocate in proportion to its part count:
//!
//! - mail-parser walks multiparts with its own stack (no recursion), but it materialises every
//!   part it finds, and each nested `message/rfc822` becomes a nested `Message` whose drop
//!   recurses. So it is only shown the prefix of the message that holds at most
//!   [`MAX_DELIMITERS`] boundary delimiters, [`MAX_MESSAGE_TYPES`] `message/` media types,
//!   [`MAX_HEADER_FIELDS`] header fields and [`MAX_HEADER_BYTES`] of header blocks
//!   ([`parse_prefix`], one linear pass, no recursion). Parts after that point are not broken
//!   out: they stay in the message blob (downloadable, counted in `size`) but are not in
//!   bodyStructure, bodyValues, the preview or the search index.
//! - The part tree (`tree.rs`) keeps at most [`MAX_PARTS`] parts; a multipart nested deeper than
//!   [`MAX_DEPTH`] becomes one opaque `application/octet-stream` leaf whose blob is its raw body
//!   (RFC 8621 §4.1.4: only multipart/* parts have a null partId, so an opaque part must not
//!   claim a multipart type). Walks over the tree are then bounded by these constants, not by
//!   the input.
//!
//! RFC 2046 §5.1.1 allows any nesting depth; real mail rarely goes past 5 levels or 100 parts.

/// Multipart nesting kept in the part tree (the root is depth 0). Each level is two levels of
/// JSON in bodyStructure (object, subParts array), and common JSON parsers refuse more than
/// 128 (serde_json's default), so 32 levels keep a whole response within that.
pub const MAX_DEPTH: usize = 32;
/// Parts (containers included) kept in the part tree of one message.
pub const MAX_PARTS: usize = 1000;
/// Boundary delimiters mail-parser is shown: each can open one part.
pub const MAX_DELIMITERS: usize = MAX_PARTS;
/// `message/...` media types mail-parser is shown: each can nest one more message.
pub const MAX_MESSAGE_TYPES: usize = 256;
/// Header fields mail-parser is shown, all parts together: each becomes a parsed header in
/// mail-parser and a raw one in the tree (RFC 5322 sets no limit; real mail has tens).
pub const MAX_HEADER_FIELDS: usize = 10_000;
/// Bytes of header blocks mail-parser is shown, all parts together: it parses every field of a
/// part (a 1 MB To: is 50,000 parsed addresses). Exim refuses headers over 1 MB too.
pub const MAX_HEADER_BYTES: usize = 1024 * 1024;

/// Distinct boundary values looked up exactly; past this (or [`MAX_LENGTHS`] distinct lengths)
/// every `--` counts as a delimiter, which over-counts but stays linear.
const MAX_BOUNDARIES: usize = 4096;
/// Bytes of boundary lookups per message before every `--` counts (ordinary mail hashes a few
/// thousand; ~0.1-0.5 s of hashing at most).
const LOOKUP_BUDGET: usize = 64 * 1024 * 1024;
/// The longest boundary value read exactly (RFC 2046 §5.1.1: 70 characters).
const MAX_VALUE: usize = 70;
const MAX_LENGTHS: usize = 32;

/// The length of the prefix of `raw` that mail-parser may parse: all of it, unless the message
/// has more delimiters or nested message types than the limits above, in which case the
/// prefix ends just before the first one over the limit.
///
/// mail-parser recognises a delimiter as `--` followed by the boundary *anywhere* in the body
/// (not only at a line start, and as a prefix of longer text), so the count here does the
/// same, for every `boundary=` value declared anywhere in the message: an over-count at worst.
pub fn parse_prefix(raw: &[u8]) -> usize {
    let mut boundaries = Boundaries::collect(raw);
    let mut delimiters = 0usize;
    let mut messages = 0usize;
    let mut fields = 0usize;
    let mut header_bytes = 0usize;
    let mut headers = HeaderBlocks::new();
    // A line at a time, jumping between the only bytes that matter inside a line (`-` and
    // `/`) with memchr: this runs twice per delivered message (at parse and in the indexer)
    // over every byte of its attachments, and a byte-by-byte loop was the top frame of the
    // ingest profile (issue #20). Header bytes are counted per run of bytes between events,
    // with the same result as counting each byte: a header block only starts at an event
    // (a delimiter) or at a line end.
    let mut line_start = 0usize;
    while line_start < raw.len() {
        // A header field starts this line (RFC 5322 §2.2: name, then ':').
        if headers.in_header && starts_field(&raw[line_start..]) {
            fields += 1;
            if fields > MAX_HEADER_FIELDS {
                return line_start;
            }
        }
        let line_end =
            memchr::memchr(b'\n', &raw[line_start..]).map_or(raw.len(), |p| line_start + p + 1);
        // Bytes from `counted` on are not yet in `header_bytes`.
        let mut counted = line_start;
        for at in memchr::memchr2_iter(b'-', b'/', &raw[line_start..line_end]) {
            let i = line_start + at;
            let delimiter =
                raw[i] == b'-' && i > 0 && raw[i - 1] == b'-' && boundaries.matches(&raw[i + 1..]);
            let message = !delimiter && raw[i] == b'/' && names_message(raw, i);
            if !delimiter && !message {
                continue;
            }
            if headers.in_header {
                header_bytes += i + 1 - counted;
                if header_bytes > MAX_HEADER_BYTES {
                    // Cut before the field this byte belongs to.
                    return last_field_start(raw, line_start);
                }
            }
            counted = i + 1;
            if delimiter {
                delimiters += 1;
                if delimiters > MAX_DELIMITERS {
                    return i - 1;
                }
                headers.delimiter();
            } else {
                messages += 1;
                if messages > MAX_MESSAGE_TYPES {
                    // Cut at the start of the line naming it.
                    return line_start;
                }
                headers.nested_message();
            }
        }
        if headers.in_header {
            header_bytes += line_end - counted;
            if header_bytes > MAX_HEADER_BYTES {
                return last_field_start(raw, line_start);
            }
        }
        if raw[line_end - 1] == b'\n' {
            headers.line_end(&raw[line_start..line_end - 1]);
        }
        line_start = line_end;
    }
    raw.len()
}

/// Whether the `/` at `slash` ends a `message` type name as mail-parser reads it: white
/// space, line folds, quotes and a comment may stand between (`message /rfc822`,
/// `"message"/rfc822`, `message(x)/rfc822`, RFC 2045 §5.1 CFWS). Looks back at most
/// [`LOOKBACK`] bytes, so the scan stays linear.
fn names_message(raw: &[u8], slash: usize) -> bool {
    const LOOKBACK: usize = 64;
    let floor = slash.saturating_sub(LOOKBACK);
    let mut j = slash;
    loop {
        while j > floor && matches!(raw[j - 1], b' ' | b'\t' | b'\r' | b'\n' | b'"') {
            j -= 1;
        }
        if j > floor && raw[j - 1] == b')' {
            match raw[floor..j - 1].iter().rposition(|&c| c == b'(') {
                Some(p) => {
                    j = floor + p;
                    continue;
                }
                None => return false,
            }
        }
        break;
    }
    j >= 7 && raw[j - 7..j].eq_ignore_ascii_case(b"message")
}

/// `raw` cut to [`parse_prefix`]: what any mail-parser call on message bytes should be given.
pub fn bounded(raw: &[u8]) -> &[u8] {
    &raw[..parse_prefix(raw)]
}

/// Which lines are header fields, as far as a byte scan can tell: the top of the message, the
/// block after each delimiter, and the block after a header block that names a `message/`
/// type (or any part block of a multipart/digest, whose parts default to message/rfc822,
/// RFC 2046 §5.1.5). Over-counting only cuts earlier.
#[derive(Default)]
struct HeaderBlocks {
    /// The current line is in a header block.
    in_header: bool,
    /// The block after this header block is a header block too (a nested message).
    then_header: bool,
    digest: bool,
}

impl HeaderBlocks {
    fn line_end(&mut self, line: &[u8]) {
        let blank = line.iter().all(|&c| c == b'\r');
        if self.in_header {
            if blank {
                self.in_header = self.then_header;
                self.then_header = false;
            } else if contains_ci(line, b"digest") {
                self.digest = true;
            }
        }
    }
    fn delimiter(&mut self) {
        self.in_header = true;
        self.then_header = self.digest;
    }
    fn nested_message(&mut self) {
        if self.in_header {
            self.then_header = true;
        }
    }
}

impl HeaderBlocks {
    /// A message starts with its header block.
    fn new() -> HeaderBlocks {
        HeaderBlocks {
            in_header: true,
            ..Default::default()
        }
    }
}

fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// The start of the header field the line at `line_start` belongs to (folded lines start with
/// white space, RFC 5322 §2.2.3). Runs once, over at most [`MAX_HEADER_BYTES`].
fn last_field_start(raw: &[u8], line_start: usize) -> usize {
    let mut start = line_start;
    while start > 0 && matches!(raw.get(start), Some(b' ' | b'\t')) {
        start = raw[..start - 1]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(0, |p| p + 1);
    }
    start
}

/// Whether `rest` starts with `name:` (printable, no space or colon in the name).
fn starts_field(rest: &[u8]) -> bool {
    for (n, &c) in rest.iter().take(80).enumerate() {
        match c {
            b':' => return n > 0,
            33..=126 => {}
            _ => return false,
        }
    }
    false
}

/// The boundary values declared in a message, found by a plain byte scan for `boundary=`.
struct Boundaries<'a> {
    /// Every `--` is a delimiter (too many boundaries, or one we cannot read exactly).
    any: bool,
    set: std::collections::HashSet<&'a [u8]>,
    lengths: Vec<usize>,
    /// Bytes hashed by lookups so far.
    hashed: usize,
}

impl<'a> Boundaries<'a> {
    fn collect(raw: &'a [u8]) -> Boundaries<'a> {
        let mut b = Boundaries {
            any: false,
            set: std::collections::HashSet::new(),
            lengths: Vec::new(),
            hashed: 0,
        };
        const KEY: &[u8] = b"boundary";
        let mut i = 0;
        while i + KEY.len() <= raw.len() {
            // Jump to the next 'b' or 'B' (memchr: this scan covers every byte of the message).
            match memchr::memchr2(b'b', b'B', &raw[i..raw.len() - KEY.len() + 1]) {
                Some(p) => i += p,
                None => break,
            }
            if !raw[i..i + KEY.len()].eq_ignore_ascii_case(KEY) {
                i += 1;
                continue;
            }
            i += KEY.len();
            let mut j = i;
            while j < raw.len() && matches!(raw[j], b' ' | b'\t') {
                j += 1;
            }
            match raw.get(j) {
                // RFC 2231 parameter continuations or charsets: not read here.
                Some(b'*') => b.any = true,
                Some(b'=') => {
                    j += 1;
                    while j < raw.len() && matches!(raw[j], b' ' | b'\t') {
                        j += 1;
                    }
                    // A value is read over at most MAX_VALUE + 1 bytes (RFC 2046 §5.1.1: a
                    // boundary is 1 to 70 characters), so `boundary=boundary=...` cannot make
                    // the scan quadratic. Anything longer, or a form mail-parser rewrites
                    // (quoted-pair, encoded word, comment), is not read exactly: every `--`
                    // counts then.
                    let (start, quoted) = if raw.get(j) == Some(&b'"') {
                        (j + 1, true)
                    } else {
                        (j, false)
                    };
                    let window = &raw[start..raw.len().min(start + MAX_VALUE + 1)];
                    let end = window.iter().position(|&c| {
                        if quoted {
                            c == b'"' || c == b'\n'
                        } else {
                            matches!(c, b';' | b' ' | b'\t' | b'\r' | b'\n')
                        }
                    });
                    let value = match end {
                        Some(e) => &window[..e],
                        None if window.len() <= MAX_VALUE => window,
                        None => {
                            b.any = true;
                            &window[..0]
                        }
                    };
                    if value.contains(&b'\\')
                        || value.starts_with(b"(")
                        || value.windows(2).any(|w| w == b"=?")
                    {
                        b.any = true;
                    }
                    b.add(value);
                }
                _ => {}
            }
        }
        b
    }

    fn add(&mut self, value: &'a [u8]) {
        if value.is_empty() || self.any {
            return;
        }
        // mail-parser trims nothing but its header parser drops surrounding white space.
        let value = value.trim_ascii();
        if value.is_empty() {
            return;
        }
        self.set.insert(value);
        if !self.lengths.contains(&value.len()) {
            self.lengths.push(value.len());
        }
        if self.set.len() > MAX_BOUNDARIES || self.lengths.len() > MAX_LENGTHS {
            self.any = true;
        }
    }

    /// Whether `rest` (what follows a `--`) starts with a declared boundary. Each lookup hashes
    /// up to one prefix per distinct length; past [`LOOKUP_BUDGET`] bytes hashed in one message
    /// (a body of dashes against many long boundaries, found in review) every `--` counts, so
    /// the work stays linear in the message size.
    fn matches(&mut self, rest: &[u8]) -> bool {
        if self.any {
            return true;
        }
        self.hashed += self.lengths.iter().sum::<usize>();
        if self.hashed > LOOKUP_BUDGET {
            self.any = true;
            return true;
        }
        self.lengths
            .iter()
            .any(|&n| rest.get(..n).is_some_and(|v| self.set.contains(v)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(levels: usize) -> Vec<u8> {
        let mut m = b"Subject: deep\r\n".to_vec();
        for l in 0..levels {
            m.extend_from_slice(
                format!("Content-Type: multipart/mixed; boundary=\"b{l}\"\r\n\r\n--b{l}\r\n")
                    .as_bytes(),
            );
        }
        m.extend_from_slice(b"Content-Type: text/plain\r\n\r\nbottom\r\n");
        for l in (0..levels).rev() {
            m.extend_from_slice(format!("--b{l}--\r\n").as_bytes());
        }
        m
    }

    /// Found in review: forms of `message/` that mail-parser reads but a plain match missed,
    /// and boundary values that made the scan quadratic or that mail-parser rewrites.
    #[test]
    fn disguised_types_and_hostile_boundaries() {
        for ty in [
            "message /rfc822",
            "\"message\"/rfc822",
            "message(x)/rfc822",
            "message\r\n /rfc822",
        ] {
            let mut m = Vec::new();
            for _ in 0..(MAX_MESSAGE_TYPES + 50) {
                m.extend_from_slice(format!("Content-Type: {ty}\r\n\r\n").as_bytes());
            }
            assert!(parse_prefix(&m) < m.len(), "{ty:?} nesting is cut");
        }
        // `boundary=boundary=...` without separators: linear now (quadratic before: this
        // 1.8 MB would have taken hours; no timing is asserted, a hang is the failure).
        let mut m = b"Content-Type: multipart/mixed; ".to_vec();
        m.extend(std::iter::repeat_n(b"boundary=".as_slice(), 200_000).flatten());
        let _ = parse_prefix(&m);
        // Values mail-parser rewrites: every `--` counts, so the delimiter cap applies.
        for decl in [
            "boundary=a\\b",
            "boundary= =?us-ascii?q?x?=",
            "boundary=(c)x",
        ] {
            let mut m = format!("Content-Type: multipart/mixed; {decl}\r\n\r\n").into_bytes();
            for _ in 0..(MAX_DELIMITERS + 10) {
                m.extend_from_slice(b"--x\r\n\r\n");
            }
            assert!(
                parse_prefix(&m) < m.len(),
                "{decl:?}: delimiters are counted"
            );
        }
    }

    #[test]
    fn ordinary_messages_are_parsed_whole() {
        let m = nested(10);
        assert_eq!(parse_prefix(&m), m.len());
        // Dashes in text are no delimiters.
        let mut t = b"Content-Type: text/plain\r\n\r\n".to_vec();
        for _ in 0..5000 {
            t.extend_from_slice(b"------------------------------ <!-- x -->\r\n");
        }
        assert_eq!(parse_prefix(&t), t.len());
    }

    #[test]
    fn too_many_delimiters_cut_the_prefix() {
        let m = nested(5000);
        let cut = parse_prefix(&m);
        assert!(cut < m.len());
        assert!(m[cut..].starts_with(b"--b"));
        let mut flat = b"Content-Type: multipart/mixed; boundary=x\r\n\r\n".to_vec();
        for _ in 0..100_000 {
            flat.extend_from_slice(b"--x\r\n\r\n");
        }
        let cut = parse_prefix(&flat);
        assert!(cut < 20_000, "cut at {cut}");
        // Mid-line delimiters count too (mail-parser finds them anywhere).
        let mut mid = b"Content-Type: multipart/mixed; boundary=x\r\n\r\n".to_vec();
        for _ in 0..2000 {
            mid.extend_from_slice(b"a--x");
        }
        assert!(parse_prefix(&mid) < mid.len());
    }

    /// DKIM/ARC/DMARC (ingest/auth.rs) read the message with mail-auth, which parses header
    /// fields and hashes the body as bytes: no MIME walk, so no depth to bound.
    #[test]
    fn mail_auth_reads_deep_messages_flat() {
        let m = nested(100_000);
        let parsed = mail_auth::AuthenticatedMessage::parse(&m).expect("headers");
        assert!(parsed.body_offset > 0);
    }

    #[test]
    fn header_fields_are_bounded() {
        let mut m = b"Subject: many\r\n".to_vec();
        for _ in 0..20_000 {
            m.extend_from_slice(b"X-F: 1\r\n");
        }
        m.extend_from_slice(b"\r\nbody\r\n");
        let cut = parse_prefix(&m);
        assert_eq!(cut, 15 + (MAX_HEADER_FIELDS - 1) * 8);
        // Field-like lines in a body are no header fields.
        let mut body = b"Subject: log\r\n\r\n".to_vec();
        for _ in 0..20_000 {
            body.extend_from_slice(b"ERROR: x\r\n");
        }
        assert_eq!(parse_prefix(&body), body.len());
        // A part's header block after a delimiter counts.
        let mut part = b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n".to_vec();
        for _ in 0..20_000 {
            part.extend_from_slice(b"X-F: 1\r\n");
        }
        assert!(parse_prefix(&part) < part.len());
    }

    #[test]
    fn header_bytes_are_bounded() {
        let mut m = b"Subject: wide\r\nTo: ".to_vec();
        for n in 0..100_000 {
            m.extend_from_slice(format!("u{n}@example.org,\r\n ").as_bytes());
        }
        m.extend_from_slice(b"z@example.org\r\n\r\nbody\r\n");
        // The whole To: field is left out: the prefix ends before it.
        assert_eq!(parse_prefix(&m), 15);
    }

    #[test]
    fn nested_messages_cut_the_prefix() {
        let mut m = Vec::new();
        for _ in 0..1000 {
            m.extend_from_slice(b"Content-Type: message/rfc822\r\n\r\n");
        }
        m.extend_from_slice(b"Subject: x\r\n\r\nbody\r\n");
        let cut = parse_prefix(&m);
        assert_eq!(cut, MAX_MESSAGE_TYPES * 32);
    }
}
