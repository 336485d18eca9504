//! Message submission for mail clients (RFC 6409) on its own port: STARTTLS (RFC 3207), then
//! AUTH PLAIN (RFC 4616) or LOGIN with an account's password (RFC 4954), then an ordinary
//! transaction. Authentication is offered only over TLS, so a password never crosses the
//! network in clear. The authenticated user may use only their own addresses, in MAIL FROM
//! and in the From: and Sender: headers (RFC 6409 §8.1 lets the MSA enforce this; the rule is
//! `outbound::headers::foreign_sender`, shared with JMAP). Accepted messages go to the outbound
//! queue (`src/outbound/`), which removes Bcc: and adds a missing Date:/Message-ID: (RFC 6409
//! §8), delivers local recipients at once and relays the rest; 250 is sent only once the
//! message is durable in the queue.

use super::data::{DataReader, Feed};
use super::reply;
use super::{Io, SmtpContext};
use crate::login::Outcome;
use crate::outbound::{NewMessage, Outbound};
use crate::store::model::AccountId;
use base64::Engine;
use futures_lite::{AsyncReadExt, AsyncWriteExt, FutureExt};
use smtp_proto::{AUTH_LOGIN, AUTH_PLAIN, Request};
use std::net::SocketAddr;
use std::time::Duration;

const MAX_LINE: usize = 4096;
/// Failed logins before the connection is closed (RFC 4954 §4 lets a server limit them).
/// Across connections, the login door (`src/login.rs`) limits failures per client and account.
const MAX_AUTH_FAILURES: u32 = 3;

/// Accepts submission connections. Admission is port 25's (`limits.rs`: total, per client,
/// per-client rate, from the same settings) but with its own counts, so a flood on one port
/// does not lock users out of the other; a refused connection gets one 421 line.
pub async fn serve(listener: smol::net::TcpListener, ctx: SmtpContext, outbound: Outbound) {
    let limits = super::limits::Limits::new(
        ctx.config.smtp_max_connections,
        ctx.config.smtp_max_connections_per_ip,
        ctx.config.smtp_connections_per_minute_per_ip,
    );
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let permit = match limits.admit(peer.ip()) {
                    Ok(p) => p,
                    Err(refusal) => {
                        log::info!(
                            "submission {peer}: refused connection: {}",
                            refusal.reason()
                        );
                        smol::spawn(super::refuse(stream, refusal)).detach();
                        continue;
                    }
                };
                let s = Submission {
                    ctx: ctx.clone(),
                    outbound: outbound.clone(),
                    peer,
                    io: Some(Box::new(stream)),
                    input: Vec::new(),
                    tls: false,
                    helo: None,
                    user: None,
                    mail_from: None,
                    rcpts: Vec::new(),
                    auth_failures: 0,
                    errors: 0,
                };
                smol::spawn(async move {
                    s.run().await;
                    drop(permit);
                })
                .detach();
            }
            Err(e) => {
                log::warn!("submission accept failed: {e}");
                smol::Timer::after(Duration::from_millis(100)).await;
            }
        }
    }
}

struct Submission {
    ctx: SmtpContext,
    outbound: Outbound,
    peer: SocketAddr,
    io: Option<Box<dyn Io>>,
    input: Vec<u8>,
    tls: bool,
    helo: Option<String>,
    /// The authenticated account and its login name.
    user: Option<(AccountId, String)>,
    mail_from: Option<String>,
    rcpts: Vec<String>,
    auth_failures: u32,
    errors: u32,
}

fn b64d(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
}

impl Submission {
    async fn run(mut self) {
        let greeting = format!(
            "220 {} ESMTP mailnook submission ready\r\n",
            self.ctx.config.hostname
        );
        if self.send(&greeting).await.is_err() {
            return;
        }
        loop {
            let Ok(line) = self.read_line().await else {
                return;
            };
            match self.command(&line).await {
                Ok(true) => {}
                _ => return,
            }
        }
    }

    async fn command(&mut self, line: &[u8]) -> Result<bool, ()> {
        let req = match Request::parse(&mut line.iter()) {
            Ok(r) => r,
            Err(_) => return self.error(&reply::SYNTAX.line()).await,
        };
        match req {
            Request::Ehlo { host } => {
                self.helo = Some(super::session::printable(&host));
                self.reset();
                let mut r = format!(
                    "250-{} greets {}\r\n250-SIZE {}\r\n250-8BITMIME\r\n250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n",
                    self.ctx.config.hostname,
                    self.peer.ip(),
                    self.ctx.config.max_message_size
                );
                if self.tls {
                    // RFC 4954 §4: offer AUTH only where it is safe to use.
                    r.push_str("250-AUTH PLAIN LOGIN\r\n");
                } else {
                    r.push_str("250-STARTTLS\r\n");
                }
                r.push_str("250 HELP\r\n");
                self.send(&r).await?;
            }
            Request::Helo { host } => {
                self.helo = Some(super::session::printable(&host));
                self.reset();
                let r = format!("250 {}\r\n", self.ctx.config.hostname);
                self.send(&r).await?;
            }
            Request::StartTls => {
                if self.tls {
                    return self.error(&reply::TLS_UNAVAILABLE.line()).await;
                }
                self.send(&reply::READY_TLS.line()).await?;
                self.input.clear();
                let io = self.io.take().ok_or(())?;
                let acceptor = futures_rustls::TlsAcceptor::from(self.ctx.tls.config());
                let handshake = async { acceptor.accept(io).await.map_err(|_| ()) };
                let timeout = async {
                    smol::Timer::after(Duration::from_secs(30)).await;
                    Err(())
                };
                let stream = handshake.or(timeout).await?;
                self.io = Some(Box::new(stream));
                self.tls = true;
                self.helo = None;
                self.reset();
            }
            Request::Auth {
                mechanism,
                initial_response,
            } => {
                if !self.tls {
                    return self.error(&reply::NEED_TLS.line()).await;
                }
                if self.user.is_some() || self.mail_from.is_some() {
                    return self
                        .error(&reply::BAD_SEQUENCE.with("Already authenticated"))
                        .await;
                }
                let creds = match mechanism {
                    AUTH_PLAIN => self.plain(&initial_response).await?,
                    AUTH_LOGIN => self.login(&initial_response).await?,
                    _ => {
                        return self
                            .error("504 5.5.4 Unrecognized authentication type\r\n")
                            .await;
                    }
                };
                let Some((user, pass)) = creds else {
                    return self.error("501 5.5.2 Cannot decode the response\r\n").await;
                };
                let outcome = self
                    .ctx
                    .login
                    .check_password(&self.ctx.store, Some(self.peer.ip()), &user, &pass)
                    .await;
                match outcome {
                    Outcome::Ok(acct) => {
                        log::info!("submission {}: {} logged in", self.peer, user);
                        self.user = Some((acct.id, user.to_lowercase()));
                        self.send("235 2.7.0 Authentication successful\r\n").await?;
                    }
                    Outcome::Throttled(wait) => {
                        // RFC 4954 §6: 454 4.7.0 is a temporary authentication failure (here:
                        // too many failed logins, or too many checks at once). The connection
                        // is closed: retrying on it would only be refused again.
                        log::info!(
                            "submission {}: login for {} refused for {} s (limiter)",
                            self.peer,
                            super::session::printable(&user),
                            wait.as_secs().max(1)
                        );
                        let _ = self
                            .send(&format!(
                                "454 4.7.0 Temporary authentication failure: too many \
                                 attempts, try again in {} seconds\r\n",
                                wait.as_secs().max(1)
                            ))
                            .await;
                        return Err(());
                    }
                    Outcome::Denied => {
                        self.auth_failures += 1;
                        log::info!(
                            "submission {}: failed login for {}",
                            self.peer,
                            super::session::printable(&user)
                        );
                        // Slow down guessing: each failure costs the client a second.
                        smol::Timer::after(Duration::from_secs(1)).await;
                        self.send("535 5.7.8 Authentication credentials invalid\r\n")
                            .await?;
                        if self.auth_failures >= MAX_AUTH_FAILURES {
                            let _ = self.send(&reply::TOO_MANY_ERRORS.line()).await;
                            return Err(());
                        }
                    }
                }
            }
            Request::Mail { from } => {
                let Some((acct, _)) = self.user.clone() else {
                    return self.error("530 5.7.0 Authentication required\r\n").await;
                };
                if self.mail_from.is_some() {
                    return self
                        .error(&reply::BAD_SEQUENCE.with("Sender already given"))
                        .await;
                }
                if from.size > self.ctx.config.max_message_size {
                    return self.error(&reply::TOO_BIG.line()).await;
                }
                let address = from.address.to_string();
                if !self.owns(acct, &address).await {
                    log::info!(
                        "submission {}: refused MAIL FROM <{}>: not an address of the user",
                        self.peer,
                        super::session::printable(&address)
                    );
                    return self.error(&reply::FOREIGN_MAIL_FROM.line()).await;
                }
                self.mail_from = Some(address);
                self.send(&reply::SENDER_OK.line()).await?;
            }
            Request::Rcpt { to } => {
                if self.mail_from.is_none() {
                    return self
                        .error(&reply::BAD_SEQUENCE.with("Need MAIL before RCPT"))
                        .await;
                }
                if self.rcpts.len() >= self.ctx.config.max_recipients {
                    return self.error(&reply::TOO_MANY_RECIPIENTS.line()).await;
                }
                let addr = to.address.to_string();
                if !addr.contains('@') {
                    return self
                        .error("501 5.1.3 Bad recipient address syntax\r\n")
                        .await;
                }
                self.rcpts.push(addr);
                self.send(&reply::RECIPIENT_OK.line()).await?;
            }
            Request::Data => {
                if self.mail_from.is_none() || self.rcpts.is_empty() {
                    return self.error(&reply::NO_RECIPIENTS.line()).await;
                }
                return self.data().await;
            }
            Request::Rset => {
                self.reset();
                self.send(&reply::RESET.line()).await?;
            }
            Request::Noop { .. } => self.send(&reply::OK.line()).await?,
            Request::Quit => {
                let _ = self.send(&reply::BYE.line()).await;
                return Ok(false);
            }
            _ => return self.error(&reply::NOT_IMPLEMENTED.line()).await,
        }
        Ok(true)
    }

    /// AUTH PLAIN: the response is "authzid NUL authcid NUL password" (RFC 4616 §2).
    async fn plain(&mut self, initial: &str) -> Result<Option<(String, String)>, ()> {
        let response = if initial.is_empty() {
            self.send("334 \r\n").await?;
            self.read_text().await?
        } else {
            initial.to_string()
        };
        let Some(bytes) = b64d(&response) else {
            return Ok(None);
        };
        let parts: Vec<&[u8]> = bytes.split(|b| *b == 0).collect();
        let [authz, user, pass] = parts.as_slice() else {
            return Ok(None);
        };
        let (Ok(authz), Ok(user), Ok(pass)) = (
            std::str::from_utf8(authz),
            std::str::from_utf8(user),
            std::str::from_utf8(pass),
        ) else {
            return Ok(None);
        };
        // Acting for another user is not offered.
        if !authz.is_empty() && !authz.eq_ignore_ascii_case(user) {
            return Ok(None);
        }
        Ok(Some((user.to_string(), pass.to_string())))
    }

    /// AUTH LOGIN: user name and password in two base64 round trips.
    async fn login(&mut self, initial: &str) -> Result<Option<(String, String)>, ()> {
        let user = if initial.is_empty() {
            self.send("334 VXNlcm5hbWU6\r\n").await?;
            self.read_text().await?
        } else {
            initial.to_string()
        };
        self.send("334 UGFzc3dvcmQ6\r\n").await?;
        let pass = self.read_text().await?;
        let decode = |s: &str| b64d(s).and_then(|b| String::from_utf8(b).ok());
        Ok(decode(&user).zip(decode(&pass)))
    }

    async fn read_text(&mut self) -> Result<String, ()> {
        let line = self.read_line().await?;
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        if text == "*" {
            // RFC 4954 §4: the client canceled.
            let _ = self.send("501 5.7.0 Authentication canceled\r\n").await;
            return Err(());
        }
        Ok(text)
    }

    /// Whether the user may send as `address`: the store's one ownership rule, the same as
    /// JMAP's (`Reader::owns_address`).
    async fn owns(&mut self, acct: AccountId, address: &str) -> bool {
        let address = address.to_string();
        matches!(
            self.ctx
                .store
                .read(move |r| r.owns_address(acct, &address))
                .await,
            Ok(true)
        )
    }

    async fn data(&mut self) -> Result<bool, ()> {
        self.send(&reply::START_DATA.line()).await?;
        let limit = self.ctx.config.max_message_size;
        let mut reader = DataReader::new(limit);
        let mut pending = std::mem::take(&mut self.input);
        loop {
            if let Feed::Done { consumed } = reader.feed(&pending) {
                self.input = pending.split_off(consumed);
                break;
            }
            pending.clear();
            if reader.seen > (limit as u64).saturating_mul(2) {
                let _ = self.send(&reply::TOO_BIG.line()).await;
                return Err(());
            }
            self.read_some(&mut pending, Duration::from_secs(180))
                .await?;
        }
        if reader.too_big() {
            self.reset();
            self.send(&reply::TOO_BIG.line()).await?;
            return Ok(true);
        }
        let raw = reader.into_message();
        let Some((acct, login)) = self.user.clone() else {
            return Err(());
        };
        let from = self.mail_from.clone().unwrap_or_default();
        let rcpts = std::mem::take(&mut self.rcpts);
        // RFC 6409 §8.1 (and RFC 5322 §3.6.2 for Sender:): the From: and Sender: headers
        // must be the user's own addresses too; the same rule as JMAP's forbiddenFrom.
        let senders = crate::outbound::headers::senders(&raw);
        let foreign = self
            .ctx
            .store
            .read(move |r| crate::outbound::headers::foreign_sender(r, acct, &senders))
            .await;
        let refusal = match foreign {
            Ok(None) => None,
            Ok(Some(("Sender", address))) => Some((reply::FOREIGN_SENDER, "Sender", address)),
            Ok(Some((field, address))) => Some((reply::FOREIGN_FROM, field, address)),
            Err(e) => {
                log::error!("submission {}: cannot check the sender: {e}", self.peer);
                self.reset();
                self.send(&super::store_reply::reply_for(&e).line()).await?;
                return Ok(true);
            }
        };
        if let Some((r, field, address)) = refusal {
            self.reset();
            log::info!(
                "submission {}: refused message from {login}: {field}: {} is not theirs",
                self.peer,
                super::session::printable(address.as_deref().unwrap_or("(no address)"))
            );
            self.send(&r.line()).await?;
            return Ok(true);
        }
        let msg = NewMessage {
            account: Some(acct),
            submission: None,
            mail_from: from.clone(),
            rcpts: rcpts.clone(),
            release_at: 0,
            size: raw.len() as u64,
        };
        let size = raw.len();
        let result = self.outbound.enqueue(msg, raw).await;
        self.reset();
        match result {
            Ok(id) => {
                log::info!(
                    "submission {}: {login} queued {size} bytes from <{}> for {} recipients as q{id}",
                    self.peer,
                    super::session::printable(&from),
                    rcpts.len()
                );
                self.send(&reply::QUEUED.with(&format!("Message queued as q{id}")))
                    .await?;
            }
            Err(e) => {
                log::error!("submission {}: cannot queue: {e}", self.peer);
                self.send(&super::store_reply::reply_for(&e).line()).await?;
            }
        }
        Ok(true)
    }

    fn reset(&mut self) {
        self.mail_from = None;
        self.rcpts.clear();
    }

    async fn error(&mut self, text: &str) -> Result<bool, ()> {
        self.errors += 1;
        // The same error budget as port 25 (`smtp_max_errors`).
        if self.errors > self.ctx.config.smtp_max_errors {
            let _ = self.send(&reply::TOO_MANY_ERRORS.line()).await;
            return Err(());
        }
        self.send(text).await?;
        Ok(true)
    }

    async fn send(&mut self, text: &str) -> Result<(), ()> {
        let io = self.io.as_mut().ok_or(())?;
        io.write_all(text.as_bytes()).await.map_err(|_| ())?;
        io.flush().await.map_err(|_| ())
    }

    async fn read_some(&mut self, into: &mut Vec<u8>, timeout: Duration) -> Result<(), ()> {
        let io = self.io.as_mut().ok_or(())?;
        let mut chunk = [0u8; 8192];
        let read = async { io.read(&mut chunk).await.map_err(|_| ()) };
        let timer = async {
            smol::Timer::after(timeout).await;
            Err(())
        };
        let n = read.or(timer).await?;
        if n == 0 {
            return Err(());
        }
        into.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    async fn read_line(&mut self) -> Result<Vec<u8>, ()> {
        let timeout = Duration::from_secs(self.ctx.config.smtp_timeout_secs);
        loop {
            if let Some(i) = self.input.iter().position(|b| *b == b'\n') {
                let rest = self.input.split_off(i + 1);
                return Ok(std::mem::replace(&mut self.input, rest));
            }
            if self.input.len() > MAX_LINE {
                let _ = self.send(&reply::LINE_TOO_LONG.line()).await;
                return Err(());
            }
            let mut buf = std::mem::take(&mut self.input);
            let r = self.read_some(&mut buf, timeout).await;
            self.input = buf;
            r?;
        }
    }
}
