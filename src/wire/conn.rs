//! One connection: the stream, what was read but not yet used, and the replies not yet sent.
//! See the module header of `wire/mod.rs` for how a protocol uses it.

use super::Io;
use super::dot::{DataReader, Feed};
use futures_lite::{AsyncReadExt, AsyncWriteExt, FutureExt};
use std::time::Duration;

/// Bytes asked of the stream per read.
const CHUNK: usize = 8192;

/// Why no line (or data) could be read.
#[derive(Debug)]
pub enum ReadError {
    /// The peer closed the connection.
    Eof,
    /// Nothing arrived within the deadline.
    Timeout,
    /// The stream failed (or was already given up after a failed TLS upgrade).
    Io(std::io::Error),
    /// A line longer than the limit (with `Overlong::Skip`: read to its end and dropped).
    TooLong,
    /// Dot-stuffed data went on far past its size limit (`read_dot_data`'s `give_up`).
    Flood,
}

/// What to do with a line longer than the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlong {
    /// Read it to its end without keeping it, then report `TooLong`; the next line is fine.
    Skip,
    /// Report `TooLong` as soon as the limit is passed.
    Fail,
}

/// The end of dot-stuffed data.
pub struct DotData {
    /// The unstuffed message (CRLF line ends), at most the limit.
    pub message: Vec<u8>,
    /// Content octets seen, including what was dropped past the limit.
    pub seen: u64,
    /// `seen` is over the limit: `message` is cut and must be refused.
    pub too_big: bool,
}

/// Replies kept queued while pipelined commands are waiting (and the most buffer capacity kept
/// between replies).
const MAX_QUEUED: usize = 64 * 1024;

pub struct Conn {
    /// None only after a failed TLS upgrade took the stream.
    pub(super) io: Option<Box<dyn Io>>,
    /// Received and not yet consumed.
    pub(super) input: Vec<u8>,
    /// Queued replies.
    output: Vec<u8>,
    pub(super) tls: bool,
    write_timeout: Option<Duration>,
}

impl Conn {
    pub fn new(io: Box<dyn Io>) -> Conn {
        Conn {
            io: Some(io),
            input: Vec::with_capacity(1024),
            output: Vec::with_capacity(512),
            tls: false,
            write_timeout: None,
        }
    }

    /// Writes that the peer does not take within `timeout` fail with `TimedOut`.
    pub fn with_write_timeout(mut self, timeout: Duration) -> Conn {
        self.write_timeout = Some(timeout);
        self
    }

    /// A stream that was TLS from the first byte (implicit TLS, RFC 8314).
    pub fn mark_tls(&mut self) {
        self.tls = true;
    }

    /// The stream is TLS (from the start or after STARTTLS).
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Octets received and not yet consumed.
    pub fn buffered(&self) -> usize {
        self.input.len()
    }

    /// A complete line is already waiting (the peer pipelined).
    pub fn line_waiting(&self) -> bool {
        self.input.contains(&b'\n')
    }

    /// Reads at least one byte into the input buffer within `timeout`.
    pub async fn read_some(&mut self, timeout: Duration) -> Result<(), ReadError> {
        let io = self.io.as_mut().ok_or_else(not_connected)?;
        let mut chunk = [0u8; CHUNK];
        let read = async { io.read(&mut chunk).await.map_err(ReadError::Io) };
        let timer = async {
            smol::Timer::after(timeout).await;
            Err(ReadError::Timeout)
        };
        let n = read.or(timer).await?;
        if n == 0 {
            return Err(ReadError::Eof);
        }
        self.input.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// The next line, LF included. Each read waits at most `timeout`; at most `max` bytes of
    /// a line are buffered (see [`Overlong`]).
    pub async fn read_line(
        &mut self,
        max: usize,
        timeout: Duration,
        overlong: Overlong,
    ) -> Result<Vec<u8>, ReadError> {
        let mut skipping = false;
        loop {
            if let Some(i) = self.input.iter().position(|b| *b == b'\n') {
                let rest = self.input.split_off(i + 1);
                let line = std::mem::replace(&mut self.input, rest);
                if skipping || line.len() > max {
                    return Err(ReadError::TooLong);
                }
                return Ok(line);
            }
            if self.input.len() > max {
                self.input.clear();
                match overlong {
                    Overlong::Skip => skipping = true,
                    Overlong::Fail => return Err(ReadError::TooLong),
                }
            }
            self.read_some(timeout).await?;
        }
    }

    /// The next `n` octets (a counted literal, e.g. ManageSieve's `{n+}`, RFC 5804 §4). Each
    /// read waits at most `timeout`; the caller bounds `n`.
    pub async fn read_exact(&mut self, n: usize, timeout: Duration) -> Result<Vec<u8>, ReadError> {
        while self.input.len() < n {
            self.read_some(timeout).await?;
        }
        let rest = self.input.split_off(n);
        Ok(std::mem::replace(&mut self.input, rest))
    }

    /// Reads dot-stuffed data up to its `<CRLF>.<CRLF>` (RFC 5321 §4.5.2), keeping at most
    /// `limit` octets. Past `give_up` octets the peer is sending far more than it may, and
    /// reading stops with `ReadError::Flood`. What follows the terminator stays buffered.
    /// `expect` is the size the client announced (RFC 1870 SIZE=, 0 if none): room for that
    /// much is made at once, up to [`DataReader::MAX_RESERVE`].
    pub async fn read_dot_data(
        &mut self,
        limit: usize,
        expect: u64,
        give_up: u64,
        timeout: Duration,
    ) -> Result<DotData, ReadError> {
        let mut reader = DataReader::new(limit);
        reader.expect(expect);
        loop {
            if let Feed::Done { consumed } = reader.feed(&self.input) {
                self.input.drain(..consumed);
                break;
            }
            self.input.clear();
            if reader.seen > give_up {
                return Err(ReadError::Flood);
            }
            self.read_some(timeout).await?;
        }
        let (seen, too_big) = (reader.seen, reader.too_big());
        Ok(DotData {
            message: reader.into_message(),
            seen,
            too_big,
        })
    }

    /// Queues bytes to send with the next flush.
    pub fn queue(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }

    /// Sends what is queued, unless another complete line is already waiting: then the replies
    /// go out together once the input runs dry (RFC 2920 §3.1). Past `MAX_QUEUED` they go out
    /// at once anyway, so a client that pipelines many large answers (and reads none) cannot
    /// make them pile up here.
    pub async fn flush_if_idle(&mut self) -> std::io::Result<()> {
        if self.line_waiting() && self.output.len() < MAX_QUEUED {
            return Ok(());
        }
        self.flush().await
    }

    /// Sends what is queued.
    pub async fn flush(&mut self) -> std::io::Result<()> {
        if self.output.is_empty() {
            return Ok(());
        }
        let out = std::mem::take(&mut self.output);
        let r = self.write(&out).await;
        // Keep the buffer's capacity for the next replies, unless one large answer grew it.
        if out.capacity() <= MAX_QUEUED {
            self.output = out;
            self.output.clear();
        }
        r
    }

    /// Ends the connection politely: what is queued is sent, then the stream is closed (over
    /// TLS with a close_notify, RFC 8446 §6.1, so the peer can tell an end from a cut). A peer
    /// that does not read gets at most two seconds.
    pub async fn close(&mut self) {
        let Some(io) = self.io.as_mut() else { return };
        let out = std::mem::take(&mut self.output);
        let close = async {
            let _ = io.write_all(&out).await;
            let _ = io.close().await;
        };
        close
            .or(async {
                smol::Timer::after(Duration::from_secs(2)).await;
            })
            .await;
    }

    /// Queues `bytes` and sends everything queued now.
    pub async fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.queue(bytes);
        self.flush().await
    }

    async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let io = self.io.as_mut().ok_or(std::io::ErrorKind::NotConnected)?;
        let write = async {
            io.write_all(bytes).await?;
            io.flush().await
        };
        match self.write_timeout {
            None => write.await,
            Some(t) => {
                let timer = async {
                    smol::Timer::after(t).await;
                    Err(std::io::Error::from(std::io::ErrorKind::TimedOut))
                };
                write.or(timer).await
            }
        }
    }
}

fn not_connected() -> ReadError {
    ReadError::Io(std::io::ErrorKind::NotConnected.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(bytes: &[u8]) -> Conn {
        Conn::new(Box::new(futures_lite::io::Cursor::new(bytes.to_vec())))
    }

    const T: Duration = Duration::from_secs(5);

    #[test]
    fn lines_overlong_skip_and_fail() {
        smol::block_on(async {
            let long = format!("{}\r\nNOOP\r\n", "x".repeat(100));
            let mut c = conn(long.as_bytes());
            assert!(matches!(
                c.read_line(10, T, Overlong::Skip).await,
                Err(ReadError::TooLong)
            ));
            assert_eq!(
                c.read_line(10, T, Overlong::Skip).await.unwrap(),
                b"NOOP\r\n"
            );
            assert!(matches!(
                c.read_line(10, T, Overlong::Skip).await,
                Err(ReadError::Eof)
            ));
            let mut c = conn(long.as_bytes());
            assert!(matches!(
                c.read_line(10, T, Overlong::Fail).await,
                Err(ReadError::TooLong)
            ));
        });
    }

    #[test]
    fn dot_data_leaves_the_next_command_buffered() {
        smol::block_on(async {
            let mut c = conn(b"a\r\n..b\r\n.\r\nQUIT\r\n");
            let d = c.read_dot_data(100, 0, 1000, T).await.unwrap();
            assert_eq!(d.message, b"a\r\n.b\r\n");
            assert!(!d.too_big);
            assert!(c.line_waiting());
            assert_eq!(
                c.read_line(10, T, Overlong::Skip).await.unwrap(),
                b"QUIT\r\n"
            );
            let mut c = conn(&b"yyyyyyyy\r\n".repeat(500));
            assert!(matches!(
                c.read_dot_data(10, 0, 100, T).await,
                Err(ReadError::Flood)
            ));
        });
    }
}
