//! Sieve lexical tokens (RFC 5228 §8.1): identifiers, tags, numbers with K/M/G quantifiers,
//! quoted strings, `text:` multi-line strings (dot-stuffed), comments and punctuation.
//! Every token carries the line and column where it starts, so errors can point at it.

use super::SieveError;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    /// `:name` (the colon dropped, lower-cased: tags are case-insensitive, §2.6.2).
    Tag(String),
    Number(u64),
    Str(String),
    LBracket,
    RBracket,
    LParen,
    RParen,
    LBrace,
    RBrace,
    Comma,
    Semi,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub line: u32,
    pub col: u32,
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
    line: u32,
    col: u32,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn peek2(&self) -> Option<u8> {
        self.b.get(self.i + 1).copied()
    }
    fn bump(&mut self) -> Option<u8> {
        let c = self.b.get(self.i).copied()?;
        self.i += 1;
        if c == b'\n' {
            self.line += 1;
            self.col = 1;
        } else if c & 0xC0 != 0x80 {
            // Columns count characters, not UTF-8 continuation bytes.
            self.col += 1;
        }
        Some(c)
    }
    fn err(&self, msg: impl Into<String>) -> SieveError {
        SieveError::at(self.line, self.col, msg)
    }
}

/// Splits a script into tokens. The caller has already bounded the script's size.
pub fn tokenize(src: &str) -> Result<Vec<Token>, SieveError> {
    let mut c = Cursor {
        b: src.as_bytes(),
        i: 0,
        line: 1,
        col: 1,
    };
    let mut out = Vec::new();
    while let Some(ch) = c.peek() {
        let (line, col) = (c.line, c.col);
        let tok = match ch {
            b' ' | b'\t' | b'\r' | b'\n' => {
                c.bump();
                continue;
            }
            b'#' => {
                while let Some(x) = c.bump() {
                    if x == b'\n' {
                        break;
                    }
                }
                continue;
            }
            b'/' if c.peek2() == Some(b'*') => {
                c.bump();
                c.bump();
                loop {
                    match c.bump() {
                        None => return Err(SieveError::at(line, col, "unterminated comment")),
                        Some(b'*') if c.peek() == Some(b'/') => {
                            c.bump();
                            break;
                        }
                        _ => {}
                    }
                }
                continue;
            }
            b'[' | b']' | b'(' | b')' | b'{' | b'}' | b',' | b';' => {
                c.bump();
                match ch {
                    b'[' => Tok::LBracket,
                    b']' => Tok::RBracket,
                    b'(' => Tok::LParen,
                    b')' => Tok::RParen,
                    b'{' => Tok::LBrace,
                    b'}' => Tok::RBrace,
                    b',' => Tok::Comma,
                    _ => Tok::Semi,
                }
            }
            b'"' => {
                c.bump();
                Tok::Str(quoted(&mut c, line, col)?)
            }
            b':' => {
                c.bump();
                let name = ident(&mut c);
                if name.is_empty() {
                    return Err(SieveError::at(line, col, "a tag needs a name after ':'"));
                }
                Tok::Tag(name.to_ascii_lowercase())
            }
            b'0'..=b'9' => {
                let mut n: u64 = 0;
                while let Some(d @ b'0'..=b'9') = c.peek() {
                    c.bump();
                    n = n
                        .checked_mul(10)
                        .and_then(|n| n.checked_add(u64::from(d - b'0')))
                        .ok_or_else(|| SieveError::at(line, col, "number too large"))?;
                }
                let mul: u64 = match c.peek() {
                    Some(b'K' | b'k') => 1 << 10,
                    Some(b'M' | b'm') => 1 << 20,
                    Some(b'G' | b'g') => 1 << 30,
                    _ => 1,
                };
                if mul > 1 {
                    c.bump();
                }
                // RFC 5228 §2.4.1: implementations must support at least 2^31-1; larger
                // numbers are an error rather than a silent wrap.
                Tok::Number(
                    n.checked_mul(mul)
                        .filter(|n| *n <= u64::from(u32::MAX))
                        .ok_or_else(|| SieveError::at(line, col, "number too large"))?,
                )
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let name = ident(&mut c);
                if name.eq_ignore_ascii_case("text") && c.peek() == Some(b':') {
                    c.bump();
                    Tok::Str(multiline(&mut c, line, col)?)
                } else {
                    Tok::Ident(name.to_ascii_lowercase())
                }
            }
            _ => {
                let what = src.get(c.i..).and_then(|s| s.chars().next()).unwrap_or('?');
                return Err(c.err(format!("unexpected character {what:?}")));
            }
        };
        out.push(Token { tok, line, col });
    }
    Ok(out)
}

fn ident(c: &mut Cursor<'_>) -> String {
    let start = c.i;
    while let Some(b'a'..=b'z' | b'A'..=b'Z' | b'_' | b'0'..=b'9') = c.peek() {
        c.bump();
    }
    String::from_utf8_lossy(&c.b[start..c.i]).into_owned()
}

/// A quoted string (§2.4.2): `\"` and `\\` are escapes; any other `\x` is `x`.
fn quoted(c: &mut Cursor<'_>, line: u32, col: u32) -> Result<String, SieveError> {
    let mut bytes = Vec::new();
    loop {
        match c.bump() {
            None => return Err(SieveError::at(line, col, "unterminated string")),
            Some(b'"') => break,
            Some(b'\\') => match c.bump() {
                None => return Err(SieveError::at(line, col, "unterminated string")),
                Some(x) => bytes.push(x),
            },
            Some(x) => bytes.push(x),
        }
    }
    String::from_utf8(bytes).map_err(|_| SieveError::at(line, col, "string is not UTF-8"))
}

/// `text:` [comment] CRLF lines... `.` CRLF (§2.4.2, §8.1): a line starting with `..` loses
/// one dot.
fn multiline(c: &mut Cursor<'_>, line: u32, col: u32) -> Result<String, SieveError> {
    // Rest of the `text:` line: white space and an optional hash comment.
    loop {
        match c.bump() {
            None => return Err(SieveError::at(line, col, "unterminated text: block")),
            Some(b'\n') => break,
            Some(b' ' | b'\t' | b'\r') => {}
            Some(b'#') => {
                while let Some(x) = c.bump() {
                    if x == b'\n' {
                        break;
                    }
                }
                break;
            }
            Some(_) => return Err(c.err("text: must be followed by the end of the line")),
        }
    }
    let mut out = Vec::new();
    loop {
        let start = c.i;
        let mut end = None;
        while let Some(x) = c.bump() {
            if x == b'\n' {
                end = Some(c.i);
                break;
            }
        }
        let Some(end) = end else {
            return Err(SieveError::at(line, col, "unterminated text: block"));
        };
        let mut l = &c.b[start..end];
        let content = l.strip_suffix(b"\n").unwrap_or(l);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content == b"." {
            break;
        }
        if l.starts_with(b"..") {
            l = &l[1..];
        }
        // Lines are kept with CRLF endings, as a message body wants them.
        let body = l.strip_suffix(b"\n").unwrap_or(l);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n");
    }
    String::from_utf8(out).map_err(|_| SieveError::at(line, col, "text: block is not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_positions() {
        let t = tokenize("if size :over 1K {\n  discard; # x\n}").unwrap();
        assert_eq!(t[0].tok, Tok::Ident("if".into()));
        assert_eq!(t[2].tok, Tok::Tag("over".into()));
        assert_eq!(t[3].tok, Tok::Number(1024));
        assert_eq!((t[5].line, t[5].col), (2, 3));
    }

    #[test]
    fn strings() {
        let t = tokenize(r#""a\"b\\c\d""#).unwrap();
        assert_eq!(t[0].tok, Tok::Str("a\"b\\cd".into()));
        let t = tokenize("text: # c\r\nline\r\n..dot\r\n.\r\n;").unwrap();
        assert_eq!(t[0].tok, Tok::Str("line\r\n.dot\r\n".into()));
        assert_eq!(t[1].tok, Tok::Semi);
        let e = tokenize("\n  \"open").unwrap_err();
        assert_eq!((e.line, e.col), (2, 3));
        assert!(tokenize("99999999999G").is_err());
    }
}
