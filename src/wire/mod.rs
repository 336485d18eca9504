//! The wire: transport plumbing for the line-based protocols we speak, as a server and as a
//! client (SMTP on port 25 and on the submission port, the outbound SMTP client; ManageSieve,
//! RFC 5804, is meant to use it too). It knows no protocol's commands or replies: a protocol
//! module parses the lines it gets from here and queues the bytes it answers with.
//!
//! How to use it:
//!
//! - Wrap an accepted or connected stream: `let mut conn = Conn::new(Box::new(tcp))`. A client
//!   that must not hang on a peer that stops reading sets `with_write_timeout`.
//! - Read one line (LF included) with `conn.read_line(max, timeout, Overlong::Skip)`: every
//!   read has a deadline (`ReadError::Timeout`), and at most `max` bytes are buffered. With
//!   `Overlong::Skip` an over-long line is read to its end and thrown away, then reported as
//!   `ReadError::TooLong`, so a server can answer it and go on (RFC 5321 §4.5.3.1.4/§4.5.3.1.6);
//!   with `Overlong::Fail` it is an error at once (a client reading a server's replies).
//! - Answer with `conn.queue(bytes)` and call `conn.flush_if_idle()` after each command: while
//!   the client has already sent the next complete line the replies stay buffered and go out in
//!   one write when the input runs dry (RFC 2920 §3.1 pipelining; harmless without it). Use
//!   `conn.send(bytes)` for a reply that must go now (a greeting, `334` continuations, a
//!   `220` before STARTTLS, a last line before closing).
//! - Upgrade with STARTTLS: `tls::accept(&mut conn, config, timeout)` as a server,
//!   `tls::connect(&mut conn, config, host, timeout)` as a client. Bytes received before the
//!   handshake are discarded (RFC 3207 §6: a client may not pipeline past STARTTLS; §4.2: the
//!   client forgets what it learnt), and `conn.is_tls()` is true afterwards.
//! - Dot-stuffed data (SMTP DATA, RFC 5321 §4.5.2): `conn.read_dot_data(limit, expect, give_up, timeout)`
//!   streams through [`dot::DataReader`] and never buffers past `limit`; [`dot::stuff`] encodes
//!   for sending.
//! - [`printable`]: text a peer controls, made safe for logs, headers and reports.

pub mod conn;
pub mod dot;
pub mod tls;

pub use conn::{Conn, DotData, Overlong, ReadError};

use futures_lite::{AsyncRead, AsyncWrite};

/// A byte stream a protocol runs over: TCP, or TLS over TCP after an upgrade.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Makes peer-controlled text safe for logs and headers: control characters become '?', and
/// at most 256 characters are kept.
pub fn printable(s: &str) -> String {
    s.chars()
        .take(256)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn printable_masks_controls_and_bounds_length() {
        assert_eq!(super::printable("a\r\nb\x00c"), "a??b?c");
        assert_eq!(super::printable(&"x".repeat(1000)).len(), 256);
    }
}
