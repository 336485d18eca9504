//! Modified UTF-7 (RFC 3501 §5.1.3): how IMAP, and Dovecot's Maildir++ folder names, spell
//! non-ASCII mailbox names. `&` starts a run of base64 (alphabet with `,` for `/`) of UTF-16,
//! `-` ends it; `&-` is `&`.

use base64::Engine;
use base64::alphabet::Alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

fn engine() -> Option<GeneralPurpose> {
    let alphabet =
        Alphabet::new("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,").ok()?;
    let config = GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true);
    Some(GeneralPurpose::new(&alphabet, config))
}

/// Decodes a name; None when it is not valid modified UTF-7.
pub fn decode(s: &str) -> Option<String> {
    let engine = engine()?;
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find('-')?;
        let b64 = &after[..end];
        if b64.is_empty() {
            out.push('&');
        } else {
            let bytes = engine.decode(b64).ok()?;
            let units: Vec<u16> = bytes
                .chunks(2)
                .filter(|c| c.len() == 2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            out.push_str(&String::from_utf16(&units).ok()?);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

/// Encodes a name; characters in `also` (e.g. the hierarchy separator) are encoded too.
pub fn encode(s: &str, also: &[char]) -> String {
    let Some(engine) = engine() else {
        return s.to_string();
    };
    let mut out = String::new();
    let mut run: Vec<u16> = Vec::new();
    let flush = |run: &mut Vec<u16>, out: &mut String| {
        if !run.is_empty() {
            let bytes: Vec<u8> = run.iter().flat_map(|u| u.to_be_bytes()).collect();
            out.push('&');
            out.push_str(&engine.encode(bytes));
            out.push('-');
            run.clear();
        }
    };
    for c in s.chars() {
        if (' '..='~').contains(&c) && !also.contains(&c) {
            flush(&mut run, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            run.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3501_examples() {
        assert_eq!(
            super::decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-").as_deref(),
            Some("~peter/mail/台北/日本語")
        );
        assert_eq!(super::encode("台北 & co.", &['.']), "&U,BTFw- &- co&AC4-");
        assert_eq!(
            super::decode("&U,BTFw- &- co&AC4-").as_deref(),
            Some("台北 & co.")
        );
        assert_eq!(super::decode("&broken"), None);
    }
}
