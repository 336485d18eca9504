//! Text of a body part: charset decoding (RFC 2045/2046), the plain text of HTML, the preview
//! (RFC 8621 §4.1.4) and truncation that never splits a code point or an HTML tag (§4.2).

use mail_parser::decoders::html::html_to_text;

/// RFC 8621 §4.1.4: the preview is at most 256 characters.
pub const PREVIEW_CHARS: usize = 256;

/// Decoded text of a part and whether decoding hit a problem (RFC 8621 §4.1.4
/// `isEncodingProblem`: malformed sections, or an unknown charset).
pub struct Decoded {
    pub text: String,
    pub problem: bool,
}

/// Decodes transfer-decoded bytes in `charset` to Unicode, CRLF turned into LF.
///
/// No charset, `us-ascii` and `utf-8` are read as UTF-8: 8-bit text labelled us-ascii is UTF-8
/// in practice, and a malformed sequence becomes U+FFFD with `problem` set. Other labels go
/// through encoding_rs (the WHATWG label table, which covers the legacy charsets mail uses:
/// ISO-8859-*, windows-*, KOI8-R, ISO-2022-JP, Shift_JIS, EUC-*, GB18030, Big5, UTF-16). An
/// unknown label is read as UTF-8 with `problem` set, as §4.1.4 asks.
pub fn decode(bytes: &[u8], charset: Option<&str>) -> Decoded {
    let label = charset.map(|c| c.trim().trim_matches('"').to_ascii_lowercase());
    let (text, problem) = match label.as_deref() {
        None | Some("" | "us-ascii" | "ascii" | "utf-8" | "utf8" | "unicode-1-1-utf-8") => {
            utf8_lossy(bytes)
        }
        Some(l) => match encoding_rs::Encoding::for_label(l.as_bytes()) {
            // The WHATWG "replacement" encoding (ISO-2022-KR, HZ, ...) decodes to one U+FFFD:
            // treat it as unknown instead, which keeps the ASCII readable.
            Some(enc) if enc != encoding_rs::REPLACEMENT => {
                let (text, errors) = enc.decode_without_bom_handling(bytes);
                (text.into_owned(), errors)
            }
            _ => (utf8_lossy(bytes).0, true),
        },
    };
    Decoded {
        text: crlf_to_lf(text),
        problem,
    }
}

fn utf8_lossy(bytes: &[u8]) -> (String, bool) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_string(), false),
        Err(_) => (String::from_utf8_lossy(bytes).into_owned(), true),
    }
}

fn crlf_to_lf(s: String) -> String {
    if s.contains('\r') {
        s.replace("\r\n", "\n")
    } else {
        s
    }
}

/// The readable text of an HTML document (no head, style, script or comments; entities
/// decoded).
pub fn html_text(html: &str) -> String {
    // Block-level boundaries separate words ("<li>one</li><li>two</li>" reads "one two").
    let mut spaced = String::with_capacity(html.len() + 64);
    let lower = html.to_ascii_lowercase();
    let mut last = 0;
    for (i, _) in lower.match_indices('<') {
        let tag = lower[i + 1..].trim_start_matches('/');
        let name_len = tag
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(tag.len());
        if BLOCK_TAGS.contains(&&tag[..name_len]) {
            spaced.push_str(&html[last..i]);
            spaced.push(' ');
            last = i;
        }
    }
    spaced.push_str(&html[last..]);
    html_to_text(&close_head(spaced))
}

/// A `<head>` that is never closed ends where a browser ends it (HTML "in head" insertion
/// mode): at the first thing that cannot be in a head. Without this the whole body was read as
/// head and a dozen real messages had an empty preview (issue #23).
fn close_head(html: String) -> String {
    let lower = html.to_ascii_lowercase();
    let Some(open) = lower.find("<head").filter(|&i| {
        lower[i + 5..]
            .chars()
            .next()
            .is_some_and(|c| c == '>' || c.is_ascii_whitespace())
    }) else {
        return html;
    };
    if lower[open..].contains("</head") {
        return html;
    }
    let Some(mut pos) = lower[open..].find('>').map(|i| open + i + 1) else {
        return html;
    };
    // Bounded: each step moves `pos` forward.
    loop {
        let rest = lower[pos..].trim_start();
        let at = lower.len() - rest.len();
        let skip_to = |end: &str| rest.find(end).map(|i| at + i + end.len());
        let raw_text_end = ["title", "style", "script"]
            .iter()
            .find(|t| rest.starts_with(&format!("<{t}")))
            .map(|t| format!("</{t}>"));
        let next = if let Some(end) = raw_text_end {
            // Unterminated title/style/script: it runs to the end, all of it head.
            match skip_to(&end) {
                Some(n) => Some(n),
                None => return html,
            }
        } else if rest.starts_with("<!--") {
            skip_to("-->")
        } else if ["<meta", "<link", "<base", "<!"]
            .iter()
            .any(|t| rest.starts_with(t))
        {
            skip_to(">")
        } else {
            None
        };
        match next {
            Some(n) if n > pos => pos = n,
            _ => {
                pos = at;
                break;
            }
        }
    }
    let mut out = String::with_capacity(html.len() + 7);
    out.push_str(&html[..pos]);
    out.push_str("</head>");
    out.push_str(&html[pos..]);
    out
}

const BLOCK_TAGS: [&str; 18] = [
    "p",
    "br",
    "div",
    "li",
    "ul",
    "ol",
    "tr",
    "td",
    "th",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "hr",
];

/// A preview from body texts: white space collapsed to single spaces, at most 256 characters.
pub fn preview<'a>(texts: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    let mut n = 0;
    for text in texts {
        for word in text.split_whitespace() {
            if n >= PREVIEW_CHARS {
                return out;
            }
            if !out.is_empty() {
                out.push(' ');
                n += 1;
            }
            for c in word.chars() {
                if n >= PREVIEW_CHARS {
                    return out;
                }
                out.push(c);
                n += 1;
            }
        }
    }
    out
}

/// Cuts `text` to at most `max` bytes on a code point boundary (RFC 8621 §4.2
/// maxBodyValueBytes). For HTML the cut moves back before a tag it would split.
/// Returns whether anything was cut.
pub fn truncate(text: &mut String, max: usize, html: bool) -> bool {
    if max == 0 || text.len() <= max {
        return false;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if html
        && let Some(open) = text[..end].rfind('<')
        && !text[open..end].contains('>')
    {
        end = open;
    }
    text.truncate(end);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real mail: `<html><head><title>..</title>` and then the body, with no `</head>`.
    #[test]
    fn unclosed_head() {
        let t = html_text(
            "<html><head><meta charset=x><title>Offer</title><style>p{}</style>\
             <p>Dear friend, read this</p></html>",
        );
        assert!(t.contains("Dear friend, read this"), "{t:?}");
        assert!(!t.contains("Offer") && !t.contains("p{}"), "{t:?}");
        let t = html_text("<HTML><HEAD><TITLE>x</TITLE>\r\nHello there<BR>more");
        assert!(t.contains("Hello there") && t.contains("more"), "{t:?}");
        let t = html_text("<html><head><title>t</title></head><body>closed</body></html>");
        assert_eq!(t.trim(), "closed");
        // A head that never ends in anything: nothing to show, and no panic.
        let t = html_text("<head><title>only");
        assert!(!t.contains("only"), "{t:?}");
    }

    #[test]
    fn charsets() {
        let d = decode(b"caf\xe9\r\nx", Some("ISO-8859-1"));
        assert_eq!(d.text, "café\nx");
        assert!(!d.problem);
        let d = decode(b"\x80", Some("windows-1252"));
        assert_eq!(d.text, "€");
        let d = decode(b"ok \xff", Some("utf-8"));
        assert_eq!(d.text, "ok \u{fffd}");
        assert!(d.problem);
        let d = decode(b"plain", Some("x-unknown"));
        assert_eq!(d.text, "plain");
        assert!(d.problem);
    }

    #[test]
    fn truncation() {
        let mut s = "aé".to_string();
        assert!(truncate(&mut s, 2, false));
        assert_eq!(s, "a");
        let mut h = "<p>hi</p><a href=\"x\">".to_string();
        assert!(truncate(&mut h, 15, true));
        assert_eq!(h, "<p>hi</p>");
        let mut n = "abc".to_string();
        assert!(!truncate(&mut n, 0, false));
        assert!(!truncate(&mut n, 3, false));
    }

    #[test]
    fn html_words_stay_apart() {
        let t = html_text("<ul><li>one</li><li>two</li></ul><p>x<b>y</b></p>");
        assert_eq!(preview([t.as_str()]), "one two xy");
    }

    #[test]
    fn previews() {
        assert_eq!(preview(["  a\n\n b\t", "c"]), "a b c");
        let long = "x".repeat(300);
        assert_eq!(preview([long.as_str()]).chars().count(), 256);
    }
}
