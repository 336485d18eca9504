//! The SMTP client (RFC 5321 §3-4) that hands queued mail to the next hop: a smarthost with
//! STARTTLS (RFC 3207) and AUTH PLAIN/LOGIN (RFC 4954, 4616), or a recipient's MX with
//! opportunistic STARTTLS. One call is one SMTP transaction for a set of recipients.
//!
//! The transport (timed, bounded line reading; writes with a deadline; STARTTLS; dot-stuffing)
//! is `src/wire/`, shared with the SMTP server.
//!
//! Every read has a timeout (RFC 5321 §4.5.3.2 gives per-command values; we use one bound for
//! commands and a longer one for the end of DATA), and replies are bounded in size, so a
//! misbehaving server can neither hang a queue worker nor make it buffer without end.

use crate::wire::{self, Conn, Overlong, ReadError, tls::TlsError};
use base64::Engine;
use futures_lite::FutureExt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// How TLS is used on a connection.
#[derive(Clone)]
pub enum TlsUse {
    /// Plain text only (tests, a relay on localhost).
    Never,
    /// STARTTLS when offered, without checking the certificate (RFC 3207 §4.1 / RFC 7435
    /// opportunistic security: MX delivery, where most certificates cannot be checked anyway).
    Opportunistic(Arc<rustls::ClientConfig>),
    /// STARTTLS required and the certificate checked (a smarthost with credentials).
    Required(Arc<rustls::ClientConfig>),
    /// TLS from the first byte (port 465, RFC 8314 §3.3), certificate checked.
    Implicit(Arc<rustls::ClientConfig>),
}

/// Where and how to connect.
#[derive(Clone)]
pub struct Hop {
    /// The host name (TLS server name and logs).
    pub host: String,
    pub addrs: Vec<SocketAddr>,
    pub tls: TlsUse,
    pub auth: Option<(String, String)>,
}

/// One SMTP reply: code and full text (continuation lines joined with a space).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub text: String,
}

impl Reply {
    fn local(code: u16, text: impl Into<String>) -> Reply {
        Reply {
            code,
            text: text.into(),
        }
    }
    pub fn is_positive(&self) -> bool {
        (200..400).contains(&self.code)
    }
    pub fn is_permanent(&self) -> bool {
        self.code >= 500
    }
    /// The reply as one line, as DSNs and deliveryStatus show it.
    pub fn line(&self) -> String {
        format!("{} {}", self.code, self.text)
    }
}

/// The outcome of one transaction: a reply per recipient (in the order given), or one reply
/// that applies to all of them (connection failed, MAIL FROM or DATA refused).
#[derive(Debug, Clone)]
pub enum Outcome {
    PerRecipient(Vec<Reply>),
    All(Reply),
}

/// The longest reply line we read; longer is a broken server.
const MAX_REPLY: usize = 16 * 1024;

/// Maps a read failure to the temporary reply that stands for it.
fn read_failed(e: ReadError) -> Reply {
    match e {
        ReadError::Eof => Reply::local(451, "4.4.2 connection closed by the server"),
        ReadError::Timeout => Reply::local(451, "4.4.2 timeout waiting for the server"),
        ReadError::Io(e) => Reply::local(451, format!("4.4.2 connection error: {e}")),
        ReadError::TooLong | ReadError::Flood => Reply::local(451, "4.5.0 reply line too long"),
    }
}

/// A connection to the next hop: the shared transport (`src/wire/`) plus the command timeout.
struct Client {
    conn: Conn,
    timeout: Duration,
}

impl Client {
    async fn read_reply(&mut self, timeout: Duration) -> Result<Reply, Reply> {
        let mut text = Vec::<String>::new();
        loop {
            let line = self
                .conn
                .read_line(MAX_REPLY, timeout, Overlong::Fail)
                .await
                .map_err(read_failed)?;
            let line = String::from_utf8_lossy(&line).trim_end().to_string();
            let code = line
                .get(..3)
                .and_then(|c| c.parse::<u16>().ok())
                .filter(|c| (200..600).contains(c))
                .ok_or_else(|| Reply::local(451, format!("4.5.0 bad reply from server: {line}")))?;
            let sep = line.as_bytes().get(3).copied().unwrap_or(b' ');
            text.push(line.get(4..).unwrap_or("").to_string());
            if sep != b'-' {
                return Ok(Reply {
                    code,
                    text: text.join(" "),
                });
            }
            if text.len() > 100 {
                return Err(Reply::local(451, "4.5.0 reply too long"));
            }
        }
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), Reply> {
        self.conn
            .send(bytes)
            .await
            .map_err(|e| Reply::local(451, format!("4.4.2 connection error: {e}")))
    }

    async fn command(&mut self, line: &str) -> Result<Reply, Reply> {
        self.send(format!("{line}\r\n").as_bytes()).await?;
        self.read_reply(self.timeout).await
    }

    /// STARTTLS (or implicit TLS) with the certificate checked as `config` says.
    async fn tls(&mut self, config: Arc<rustls::ClientConfig>, host: &str) -> Result<(), Reply> {
        wire::tls::connect(&mut self.conn, config, host, self.timeout)
            .await
            .map_err(|e| match e {
                TlsError::BadName => Reply::local(451, format!("4.7.0 bad TLS server name {host}")),
                TlsError::Timeout => Reply::local(451, "4.7.0 TLS handshake timed out"),
                TlsError::Handshake(e) => {
                    Reply::local(451, format!("4.7.0 TLS handshake with {host} failed: {e}"))
                }
            })
    }
}

/// The message for one transaction, in the forms the next hop may need.
pub struct Payload<'a> {
    /// The message as queued, signed.
    pub message: &'a [u8],
    /// Its body holds 8-bit octets (RFC 6152).
    pub eight_bit: bool,
    /// The same message converted to 7-bit MIME and signed on its own (`downgrade.rs`), for a
    /// hop without 8BITMIME; None when the body is 7-bit already or cannot be converted.
    pub seven_bit: Option<&'a [u8]>,
}

impl<'a> Payload<'a> {
    /// RFC 6152 §3: what to send to a hop that does (or does not) offer 8BITMIME. A message
    /// that needs 8BITMIME and cannot be converted is refused permanently (RFC 3463 5.6.3).
    fn for_hop(&self, eightbitmime: bool) -> Result<&'a [u8], Reply> {
        match (self.eight_bit && !eightbitmime, self.seven_bit) {
            (false, _) => Ok(self.message),
            (true, Some(seven)) => Ok(seven),
            (true, None) => Err(Reply::local(
                554,
                "5.6.3 the next hop does not accept 8-bit mail (no 8BITMIME) and the message \
                 could not be converted to 7-bit",
            )),
        }
    }
}

/// EHLO keywords we act on.
#[derive(Default)]
struct Ehlo {
    starttls: bool,
    auth_plain: bool,
    auth_login: bool,
    size: Option<u64>,
    eightbit: bool,
    smtputf8: bool,
}

fn parse_ehlo(r: &Reply) -> Ehlo {
    let mut e = Ehlo::default();
    // `text` holds the lines joined with spaces; the keywords we act on are distinct words.
    let words: Vec<&str> = r.text.split(' ').collect();
    for (i, w) in words.iter().enumerate() {
        match w.to_ascii_uppercase().as_str() {
            "STARTTLS" => e.starttls = true,
            "8BITMIME" => e.eightbit = true,
            "SMTPUTF8" => e.smtputf8 = true,
            "PLAIN" => e.auth_plain = true,
            "LOGIN" => e.auth_login = true,
            "SIZE" => {
                e.size = words
                    .get(i + 1)
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n > 0)
            }
            _ => {}
        }
    }
    e
}

/// Connects to the first address that answers within the timeout.
async fn connect(addrs: &[SocketAddr], timeout: Duration) -> Result<smol::net::TcpStream, Reply> {
    let mut last = Reply::local(451, "4.4.1 no address to connect to");
    for addr in addrs {
        let attempt = async {
            smol::net::TcpStream::connect(*addr)
                .await
                .map_err(|e| Reply::local(451, format!("4.4.1 cannot connect to {addr}: {e}")))
        };
        let timer = async {
            smol::Timer::after(timeout).await;
            Err(Reply::local(
                451,
                format!("4.4.1 timeout connecting to {addr}"),
            ))
        };
        match attempt.or(timer).await {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Runs one SMTP transaction: `message` from `mail_from` to each of `rcpts` through `hop`.
/// `helo` is our host name. Never panics on anything the server sends.
pub async fn send(
    hop: &Hop,
    helo: &str,
    mail_from: &str,
    rcpts: &[String],
    message: &Payload<'_>,
    timeout: Duration,
) -> Outcome {
    match transaction(hop, helo, mail_from, rcpts, message, timeout).await {
        Ok(o) => o,
        Err(r) => Outcome::All(r),
    }
}

async fn transaction(
    hop: &Hop,
    helo: &str,
    mail_from: &str,
    rcpts: &[String],
    payload: &Payload<'_>,
    timeout: Duration,
) -> Result<Outcome, Reply> {
    let tcp = connect(&hop.addrs, timeout).await?;
    let _ = tcp.set_nodelay(true);
    let mut c = Client {
        conn: Conn::new(Box::new(tcp)).with_write_timeout(timeout),
        timeout,
    };
    if let TlsUse::Implicit(cfg) = &hop.tls {
        c.tls(cfg.clone(), &hop.host).await?;
    }
    let greeting = c.read_reply(timeout).await?;
    if greeting.code != 220 {
        return Err(greeting);
    }
    let mut ehlo = ehlo(&mut c, helo).await?;
    let starttls_config = match &hop.tls {
        TlsUse::Opportunistic(cfg) if ehlo.starttls => Some(cfg.clone()),
        TlsUse::Required(cfg) => {
            if !ehlo.starttls {
                return Err(Reply::local(
                    451,
                    format!(
                        "4.7.10 {} does not offer STARTTLS, which is required",
                        hop.host
                    ),
                ));
            }
            Some(cfg.clone())
        }
        _ => None,
    };
    if let Some(cfg) = starttls_config {
        let r = c.command("STARTTLS").await?;
        if r.code != 220 {
            return Err(Reply::local(
                451,
                format!("4.7.0 STARTTLS refused: {}", r.line()),
            ));
        }
        // RFC 3207 §4.2: forget everything learnt before TLS and say EHLO again.
        c.tls(cfg, &hop.host).await?;
        ehlo = self::ehlo(&mut c, helo).await?;
    }
    if let Some((user, pass)) = &hop.auth {
        // Credentials never travel in clear text.
        if !c.conn.is_tls() {
            return Err(Reply::local(
                451,
                "4.7.0 will not send credentials without TLS",
            ));
        }
        auth(&mut c, &ehlo, user, pass).await?;
    }
    let message = payload.for_hop(ehlo.eightbit)?;
    if let Some(max) = ehlo.size
        && message.len() as u64 > max
    {
        return Err(Reply::local(
            552,
            format!("5.3.4 message too big for the server (limit {max} bytes)"),
        ));
    }
    let mut mail = format!("MAIL FROM:<{mail_from}>");
    if ehlo.size.is_some() {
        mail.push_str(&format!(" SIZE={}", message.len()));
    }
    if ehlo.eightbit && message.iter().any(|b| *b >= 0x80) {
        mail.push_str(" BODY=8BITMIME");
    }
    if ehlo.smtputf8 && (!mail_from.is_ascii() || rcpts.iter().any(|r| !r.is_ascii())) {
        mail.push_str(" SMTPUTF8");
    }
    let r = c.command(&mail).await?;
    if !r.is_positive() {
        let _ = c.command("QUIT").await;
        return Err(r);
    }
    let mut replies = Vec::with_capacity(rcpts.len());
    for rcpt in rcpts {
        replies.push(c.command(&format!("RCPT TO:<{rcpt}>")).await?);
    }
    if !replies.iter().any(Reply::is_positive) {
        let _ = c.command("QUIT").await;
        return Ok(Outcome::PerRecipient(replies));
    }
    let r = c.command("DATA").await?;
    if r.code != 354 {
        let _ = c.command("QUIT").await;
        return Err(r);
    }
    c.send(&wire::dot::stuff(message)).await?;
    // RFC 5321 §4.5.3.2.6: up to 10 minutes for the reply to the final dot.
    let done = c.read_reply(timeout.max(Duration::from_secs(600))).await?;
    let _ = c.command("QUIT").await;
    Ok(Outcome::PerRecipient(
        replies
            .into_iter()
            .map(|r| if r.is_positive() { done.clone() } else { r })
            .collect(),
    ))
}

async fn ehlo(c: &mut Client, helo: &str) -> Result<Ehlo, Reply> {
    let r = c.command(&format!("EHLO {helo}")).await?;
    if r.code == 250 {
        return Ok(parse_ehlo(&r));
    }
    // RFC 5321 §3.2: fall back to HELO for an old server.
    let r = c.command(&format!("HELO {helo}")).await?;
    if r.code == 250 {
        Ok(Ehlo::default())
    } else {
        Err(r)
    }
}

async fn auth(c: &mut Client, ehlo: &Ehlo, user: &str, pass: &str) -> Result<(), Reply> {
    let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    let fail = |r: Reply| {
        // A refused login will not get better by retrying soon, but the credentials may be
        // fixed: keep it temporary so the message waits rather than bounces at once.
        Reply::local(451, format!("4.7.8 authentication failed: {}", r.line()))
    };
    if ehlo.auth_plain || !ehlo.auth_login {
        // RFC 4616: authzid NUL authcid NUL passwd.
        let token = b64(format!("\0{user}\0{pass}").as_bytes());
        let r = c.command(&format!("AUTH PLAIN {token}")).await?;
        if r.code == 235 {
            return Ok(());
        }
        return Err(fail(r));
    }
    let r = c.command("AUTH LOGIN").await?;
    if r.code != 334 {
        return Err(fail(r));
    }
    let r = c.command(&b64(user.as_bytes())).await?;
    if r.code != 334 {
        return Err(fail(r));
    }
    let r = c.command(&b64(pass.as_bytes())).await?;
    if r.code != 235 {
        return Err(fail(r));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn ehlo_keywords() {
        let r = Reply {
            code: 250,
            text: "mx.example greets you SIZE 1000 STARTTLS AUTH LOGIN PLAIN 8BITMIME".into(),
        };
        let e = parse_ehlo(&r);
        assert!(e.starttls && e.auth_plain && e.auth_login && e.eightbit);
        assert_eq!(e.size, Some(1000));
    }
}
