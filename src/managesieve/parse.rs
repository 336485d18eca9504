//! Reading one ManageSieve command (RFC 5804 §4): an atom, then strings as `"quoted"`
//! (with `\"` and `\\`) or literals `{n+}` CRLF n octets (`{n}` is taken too: clients send
//! both), numbers, and CRLF. Lines are at most `MAX_LINE` bytes and a literal at most
//! `MAX_LITERAL`, so a client cannot make the server buffer without bound.

use futures_lite::{AsyncRead, AsyncReadExt};

pub const MAX_LINE: usize = 8 * 1024;
/// A script is at most 64 KiB (`sieve::Limits`); a literal may be a little more so that an
/// over-long script gets the proper "too big" answer rather than a dropped connection.
pub const MAX_LITERAL: usize = 128 * 1024;
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
    /// The connection ended or failed.
    Closed,
    /// The command was malformed or too long; the answer to give.
    Bad(String),
}

/// A buffered reader over the connection.
#[derive(Default)]
pub struct Reader {
    pub buf: Vec<u8>,
}

impl Reader {
    pub fn new() -> Reader {
        Reader::default()
    }

    async fn fill<R: AsyncRead + Unpin + ?Sized>(&mut self, io: &mut R) -> Result<(), ReadError> {
        let mut chunk = [0u8; 4096];
        let n = io.read(&mut chunk).await.map_err(|_| ReadError::Closed)?;
        if n == 0 {
            return Err(ReadError::Closed);
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// One line without its CRLF.
    pub async fn line<R: AsyncRead + Unpin + ?Sized>(
        &mut self,
        io: &mut R,
    ) -> Result<Vec<u8>, ReadError> {
        loop {
            if let Some(p) = self.buf.iter().position(|b| *b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=p).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            if self.buf.len() > MAX_LINE {
                self.buf.clear();
                return Err(ReadError::Bad("line too long".into()));
            }
            self.fill(io).await?;
        }
    }

    async fn exact<R: AsyncRead + Unpin + ?Sized>(
        &mut self,
        io: &mut R,
        n: usize,
    ) -> Result<Vec<u8>, ReadError> {
        while self.buf.len() < n {
            self.fill(io).await?;
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// One command: its name (upper-cased) and arguments.
    pub async fn command<R: AsyncRead + Unpin + ?Sized>(
        &mut self,
        io: &mut R,
    ) -> Result<(String, Vec<Arg>), ReadError> {
        let mut line = self.line(io).await?;
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
                            return Err(ReadError::Bad("literal too large".into()));
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
                    let bytes = self.exact(io, n).await?;
                    args.push(Arg::Str(bytes));
                    line = self.line(io).await?;
                }
            }
        }
        match name {
            Some(n) => Ok((n, args)),
            None => Err(ReadError::Bad("empty command".into())),
        }
    }
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

    #[test]
    fn commands() {
        smol::block_on(async {
            let mut input: &[u8] = b"PUTSCRIPT \"a \\\"b\" {9+}\r\nkeep;\r\nx \r\nauthenticate \"PLAIN\" \"AGEAYg==\"\r\n";
            let mut r = Reader::new();
            let (n, a) = r.command(&mut input).await.unwrap();
            assert_eq!(n, "PUTSCRIPT");
            assert_eq!(
                a,
                vec![
                    Arg::Str(b"a \"b".to_vec()),
                    Arg::Str(b"keep;\r\nx ".to_vec())
                ]
            );
            let (n, a) = r.command(&mut input).await.unwrap();
            assert_eq!(n, "AUTHENTICATE");
            assert_eq!(a.len(), 2);
            let mut big: &[u8] = b"PUTSCRIPT \"x\" {999999999+}\r\n";
            assert!(matches!(
                Reader::new().command(&mut big).await,
                Err(ReadError::Bad(_))
            ));
        });
    }
}
