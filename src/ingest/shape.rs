//! Whether a blob is a message at all, for Email/import (`invalidEmail`) and Email/parse
//! (`notParsable`), RFC 8621 §4.8/§4.9. mail-parser reads anything, a PNG included, as a message
//! with a body and no headers, so the rule is ours:
//!
//! **A blob is a message when its first line is a header field**: one or more printable
//! US-ASCII characters other than `:` (the field name, RFC 5322 §3.6.8 `ftext`), optionally
//! followed by spaces or tabs (the obsolete syntax of §4.5.3, still seen), then `:`.
//!
//! So an empty blob, binary data (PNG, PDF, random bytes: the first line holds a byte outside
//! 33..=126 before any colon), plain text and a body without headers are refused, while any
//! message with a header section passes, however broken its later fields are (the parser is
//! lenient about those, as a mail client is). SMTP delivery does not apply this rule: a receiving
//! MTA takes what it is given (RFC 5321 §6.1).

/// Longest first line looked at (RFC 5322 §2.1.1: lines are at most 998 characters).
const MAX_LINE: usize = 998;

/// True when `raw` starts with a header field (see the module header).
pub fn looks_like_message(raw: &[u8]) -> bool {
    let line = &raw[..raw.len().min(MAX_LINE + 2)];
    let Some(colon) = line.iter().position(|b| *b == b':') else {
        return false;
    };
    let name = &line[..colon];
    let trimmed_len = name
        .iter()
        .rposition(|b| *b != b' ' && *b != b'\t')
        .map_or(0, |i| i + 1);
    let (field, gap) = name.split_at(trimmed_len);
    !field.is_empty()
        && field.iter().all(|b| (33..=126).contains(b))
        && gap.iter().all(|b| *b == b' ' || *b == b'\t')
}

#[cfg(test)]
mod tests {
    use super::looks_like_message as ok;

    #[test]
    fn messages_and_not_messages() {
        assert!(ok(b"From: a@example.org\r\n\r\nhi\r\n"));
        assert!(ok(
            b"Received: from x\r\n by y; Mon, 1 Jan 2024 00:00:00 +0000\r\n"
        ));
        assert!(ok(b"Subject : obsolete spacing\r\n\r\n"));
        assert!(ok(b"X-Only: header"));
        assert!(!ok(b""));
        assert!(!ok(b"\r\nbody without headers\r\n"));
        assert!(!ok(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"));
        assert!(!ok(b"hello world: not a field name\r\n"));
        assert!(!ok(b": empty name\r\n"));
        assert!(!ok(b" Folded: continuation first\r\n"));
        assert!(!ok(b"plain text\r\nFrom: later\r\n"));
        let mut long = vec![b'X'; 2000];
        long.extend_from_slice(b": v\r\n");
        assert!(
            !ok(&long),
            "the colon must be on a first line of legal length"
        );
    }

    #[test]
    fn random_bytes_are_refused() {
        // A fixed pseudo-random sequence (xorshift), so the test is repeatable.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200 {
            let blob: Vec<u8> = (0..512)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 24) as u8
                })
                .collect();
            assert!(!ok(&blob));
        }
    }
}
