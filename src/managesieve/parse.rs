//! Reading one ManageSieve command (RFC 5804 §4): an atom, then strings as `"quoted"`
//! (with `\"` and `\\`) or literals `{n+}` CRLF n octets (`{n}` is taken too: clients send
//! both), numbers, and CRLF. Lines are at most `MAX_LINE` bytes and a literal at most
//! `MAX_LITERAL`, so a client cannot make the server buffer without bound.

use crate::wire::{Conn, Overlong};
use std::time::Duration;

pub const MAX_LINE: usize = 8 * 1024;
/// A script is at most 64 KiB (`sieve::Limits`); a literal may be a little more so that an
/// over-long script gets the proper "too big" answer rather than a dropped connection.
pub const MAX_LITERAL: usize = 128 * 1024;
/// A larger literal is read and thrown away up to this size (its bytes must not be taken
/// for commands: RFC 5804 §4, `{n+}` does not wait for the server); beyond it the connection
/// is closed.
const MAX_DISCARD: usize = 4 * 1024 * 1024;
/// Arguments in one command.
const MAX_ARGS: usize = 8;

#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Str(Vec<u8>),
    Atom(String),
}

impl Arg {
    pub fn text(&self) -> Option<String> {
        match self {
            Arg::Str(b) => String::from_utf8(b.clone()).ok(),
            Arg::Atom(a) => Some(a.clone()),
        }
    }
}

#[derive(Debug)]
pub enum ReadError {
    /// The connection ended, failed or stayed silent past the deadline.
    Closed,
    /// The command was malformed or too long; the answer to give.
    Bad(String),
    /// A literal over `MAX_LITERAL` was read and dropped with the rest of its command: the
    /// answer is NO (QUOTA/MAXSIZE) (RFC 5804 §1.3).
    TooBig,
    /// A literal too large even to skip: the connection is closed after a BYE.
    Fatal(String),
}

impl From<crate::wire::ReadError> for ReadError {
    fn from(e: crate::wire::ReadError) -> ReadError {
        match e {
            // No client sends a command line this long, and its end might have announced a
            // literal whose bytes would then be read as commands: the session ends.
            crate::wire::ReadError::TooLong => ReadError::Fatal("line too long".into()),
            _ => ReadError::Closed,
        }
    }
}

/// Reads commands from a connection (`wire::Conn`: every read has a deadline, every line
/// and literal a size limit).
pub struct Reader {
    /// How long one read may wait (RFC 5804 §2 leaves the idle time to the server).
    pub timeout: Duration,
}

impl Reader {
    pub fn new(timeout: Duration) -> Reader {
        Reader { timeout }
    }

    /// One line without its CRLF.
    pub async fn line(&self, conn: &mut Conn) -> Result<Vec<u8>, ReadError> {
        let mut line = conn
            .read_line(MAX_LINE, self.timeout, Overlong::Fail)
            .await?;
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Ok(line)
    }

    /// One command: its name (upper-cased) and arguments. A refused command's literal, if its
    /// line announced one, is read and dropped first: the client sends it without waiting
    /// (`{n+}`, RFC 5804 §4), and its bytes must never be taken for commands.
    pub async fn command(&self, conn: &mut Conn) -> Result<(String, Vec<Arg>), ReadError> {
        let mut line = Vec::new();
        match self.parse(conn, &mut line).await {
            Err(ReadError::Bad(why)) => match literal_at_end(&line) {
                Some(n) => match self.skip(conn, n).await {
                    ReadError::TooBig => Err(ReadError::Bad(why)),
                    other => Err(other),
                },
                None => Err(ReadError::Bad(why)),
            },
            r => r,
        }
    }

    /// [`Reader::command`]'s parse; `line` holds the line being parsed (on an error, the one
    /// refused).
    async fn parse(
        &self,
        conn: &mut Conn,
        line: &mut Vec<u8>,
    ) -> Result<(String, Vec<Arg>), ReadError> {
        *line = self.line(conn).await?;
        let mut args: Vec<Arg> = Vec::new();
        let mut name: Option<String> = None;
        loop {
            let mut i = 0;
            let mut literal: Option<usize> = None;
            while i < line.len() {
                match line[i] {
                    b' ' | b'\t' => i += 1,
                    b'"' => {
                        let mut s = Vec::new();
                        i += 1;
                        loop {
                            match line.get(i) {
                                None => return Err(ReadError::Bad("unterminated string".into())),
                                Some(b'"') => {
                                    i += 1;
                                    break;
                                }
                                Some(b'\\') => {
                                    s.push(
                                        *line
                                            .get(i + 1)
                                            .ok_or_else(|| ReadError::Bad("bad escape".into()))?,
                                    );
                                    i += 2;
                                }
                                Some(c) => {
                                    s.push(*c);
                                    i += 1;
                                }
                            }
                        }
                        args.push(Arg::Str(s));
                    }
                    b'{' => {
                        let end = line[i..]
                            .iter()
                            .position(|b| *b == b'}')
                            .ok_or_else(|| ReadError::Bad("bad literal".into()))?;
                        let spec = std::str::from_utf8(&line[i + 1..i + end]).unwrap_or("");
                        let n: usize = spec
                            .trim_end_matches('+')
                            .parse()
                            .map_err(|_| ReadError::Bad("bad literal length".into()))?;
                        if i + end + 1 != line.len() {
                            return Err(ReadError::Bad("a literal must end the line".into()));
                        }
                        if n > MAX_LITERAL {
                            return Err(self.skip(conn, n).await);
                        }
                        literal = Some(n);
                        i = line.len();
                    }
                    _ => {
                        let start = i;
                        while i < line.len() && !matches!(line[i], b' ' | b'\t' | b'"' | b'{') {
                            i += 1;
                        }
                        let atom = String::from_utf8_lossy(&line[start..i]).into_owned();
                        if name.is_none() {
                            name = Some(atom.to_ascii_uppercase());
                        } else {
                            args.push(Arg::Atom(atom));
                        }
                    }
                }
                if args.len() > MAX_ARGS {
                    return Err(ReadError::Bad("too many arguments".into()));
                }
            }
            match literal {
                None => break,
                Some(n) => {
                    let bytes = conn.read_exact(n, self.timeout).await?;
                    args.push(Arg::Str(bytes));
                    *line = self.line(conn).await?;
                    // RFC 5804 §4: a literal is followed by SP and more, or by the CRLF.
                    if !line.is_empty() && !line.starts_with(b" ") {
                        return Err(ReadError::Bad(
                            "a literal must be followed by a space".into(),
                        ));
                    }
                }
            }
        }
        match name {
            Some(n) => Ok((n, args)),
            None => Err(ReadError::Bad("empty command".into())),
        }
    }

    /// A SASL client response after the server's challenge (RFC 5804 §2.1): a quoted string or
    /// a literal (at most `MAX_LINE` octets; a longer one is `Fatal`), on its own line.
    pub async fn sasl_response(&self, conn: &mut Conn) -> Result<Vec<u8>, ReadError> {
        let line = self.line(conn).await?;
        let text = line.trim_ascii();
        match literal_at_end(text) {
            Some(n) if text.starts_with(b"{") => {
                if n > MAX_LINE {
                    return Err(ReadError::Fatal("response too long".into()));
                }
                let bytes = conn.read_exact(n, self.timeout).await?;
                self.line(conn).await?;
                Ok(bytes)
            }
            _ => Ok(text
                .strip_prefix(b"\"")
                .and_then(|t| t.strip_suffix(b"\""))
                .unwrap_or(text)
                .to_vec()),
        }
    }

    /// Reads a literal of `first` octets too large to keep, and the rest of its command (which
    /// may hold more literals, all counted against `MAX_DISCARD`), and drops them; returns what
    /// the caller answers.
    async fn skip(&self, conn: &mut Conn, first: usize) -> ReadError {
        let (mut n, mut total) = (first, 0usize);
        loop {
            total = total.saturating_add(n);
            if total > MAX_DISCARD {
                return ReadError::Fatal("literal too large".into());
            }
            let mut left = n;
            while left > 0 {
                let chunk = left.min(64 * 1024);
                if conn.read_exact(chunk, self.timeout).await.is_err() {
                    return ReadError::Closed;
                }
                left -= chunk;
            }
            match self.line(conn).await {
                Ok(rest) => match literal_at_end(&rest) {
                    Some(m) => n = m,
                    None => return ReadError::TooBig,
                },
                Err(e) => return e,
            }
        }
    }
}

/// The length of a `{n}` or `{n+}` literal that ends `line`, if one does.
pub fn literal_at_end(line: &[u8]) -> Option<usize> {
    let open = line.iter().rposition(|b| *b == b'{')?;
    let spec = std::str::from_utf8(line.get(open + 1..line.len().checked_sub(1)?)?).ok()?;
    if line.last() != Some(&b'}') {
        return None;
    }
    spec.trim_end_matches('+').parse().ok()
}

/// A string for the wire: quoted when short and plain, else a literal (RFC 5804 §4).
pub fn string(s: &str) -> String {
    if s.len() < 1024 && !s.contains(['"', '\\', '\r', '\n']) {
        format!("\"{s}\"")
    } else {
        format!("{{{}}}\r\n{s}", s.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(input: &[u8]) -> Conn {
        Conn::new(Box::new(futures_lite::io::Cursor::new(input.to_vec())))
    }

    #[test]
    fn commands() {
        smol::block_on(async {
            let r = Reader::new(Duration::from_secs(5));
            let mut c = conn(b"PUTSCRIPT \"a \\\"b\" {9+}\r\nkeep;\r\nx \r\nauthenticate \"PLAIN\" \"AGEAYg==\"\r\n");
            let (n, a) = r.command(&mut c).await.unwrap();
            assert_eq!(n, "PUTSCRIPT");
            assert_eq!(
                a,
                vec![
                    Arg::Str(b"a \"b".to_vec()),
                    Arg::Str(b"keep;\r\nx ".to_vec())
                ]
            );
            let (n, a) = r.command(&mut c).await.unwrap();
            assert_eq!(n, "AUTHENTICATE");
            assert_eq!(a.len(), 2);
            let mut big = conn(b"PUTSCRIPT \"x\" {999999999+}\r\n");
            assert!(matches!(
                r.command(&mut big).await,
                Err(ReadError::Fatal(_))
            ));
            // Over the limit but small enough to skip: read to its end, with a second literal
            // on the same command, and the next command is read as one.
            let mut over = b"PUTSCRIPT {3+}\r\nabc {".to_vec();
            over.extend_from_slice(format!("{}+}}\r\n", MAX_LITERAL + 1).as_bytes());
            over.extend(std::iter::repeat_n(b'z', MAX_LITERAL + 1));
            over.extend_from_slice(b"\r\nNOOP\r\n");
            let mut c = conn(&over);
            assert!(matches!(r.command(&mut c).await, Err(ReadError::TooBig)));
            assert_eq!(r.command(&mut c).await.unwrap().0, "NOOP");
            let mut c = conn(b"PUTSCRIPT \"y\" {5+}\r\nkeep;NOOP\r\nLOGOUT\r\n");
            assert!(matches!(r.command(&mut c).await, Err(ReadError::Bad(_))));
            assert_eq!(r.command(&mut c).await.unwrap().0, "LOGOUT");
            assert_eq!(literal_at_end(b"X {12+}"), Some(12));
            assert_eq!(literal_at_end(b"X {12}"), Some(12));
            assert_eq!(literal_at_end(b"X \"{12}\""), None);
            // An over-long line ends the session (its end could announce a literal).
            let mut long = b"NOOP ".to_vec();
            long.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
            long.extend_from_slice(b" {5+}\r\nLOGOUT\r\n");
            let mut c = conn(&long);
            assert!(matches!(r.command(&mut c).await, Err(ReadError::Fatal(_))));
            // A refused line's literal is dropped, not read as the next command.
            let mut c = conn(b"PUTSCRIPT a b c d e f g h i {14+}\r\nDELETESCRIPT x\r\nNOOP\r\n");
            assert!(matches!(r.command(&mut c).await, Err(ReadError::Bad(_))));
            assert_eq!(r.command(&mut c).await.unwrap().0, "NOOP");
            let mut c = conn(b"X {abc} {14+}\r\nDELETESCRIPT x\r\nNOOP\r\n");
            assert!(matches!(r.command(&mut c).await, Err(ReadError::Bad(_))));
            assert_eq!(r.command(&mut c).await.unwrap().0, "NOOP");
            // A literal cut short by the end of the connection.
            let mut cut = conn(b"PUTSCRIPT \"x\" {10+}\r\nkeep");
            assert!(matches!(r.command(&mut cut).await, Err(ReadError::Closed)));
        });
    }
}
