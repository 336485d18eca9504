//! One SMTP session (RFC 5321 §4) for both ports: the state, the command loop and the rules
//! every command shares (error budget, activity record). What differs between the ports is
//! the [`Mode`]; the commands themselves are one file each under `cmd/`.
//!
//! The transport is `src/wire/`: replies are buffered while more pipelined commands are already
//! waiting and flushed when the input runs dry (RFC 2920 §3.1); after STARTTLS every byte
//! received before the handshake is thrown away (RFC 3207 §6) and the session starts over
//! without a HELO. A command line over [`MAX_COMMAND_LINE`] is read to its end, answered with
//! `500 5.5.2` and counted as an error; the session goes on (RFC 5321 §4.5.3.1.4, §4.5.3.1.6).

use super::SmtpContext;
use super::reply::{self, Reply};
use crate::ingest::receive::Rcpt;
use crate::outbound::Outbound;
use crate::store::model::AccountId;
use crate::wire::{Conn, Overlong, ReadError, printable};
use std::net::SocketAddr;
use std::time::Duration;

/// RFC 5321 §4.5.3.1.4 allows 512 octets per command line; extensions (SMTPUTF8 addresses,
/// many parameters) need more in practice.
pub const MAX_COMMAND_LINE: usize = 4096;

/// Which port the session serves.
#[derive(Clone)]
pub enum Mode {
    /// Port 25: mail from anywhere for local recipients (RFC 5321). Early-talker check,
    /// recipients must be local, after DATA the receive step (`ingest/receive.rs`).
    Mx,
    /// Message submission for the server's users (RFC 6409): STARTTLS, then AUTH, then any
    /// recipients from the user's own addresses, queued for sending (`submission.rs`).
    Submission(Outbound),
}

/// What the loop does after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Continue,
    /// QUIT was answered.
    Quit,
    /// Close without another word (I/O failed, too many errors, TLS failed).
    Close,
}

pub struct Session {
    pub ctx: SmtpContext,
    pub mode: Mode,
    pub peer: SocketAddr,
    pub conn: Conn,
    /// What the client said at HELO/EHLO (raw; `printable` when shown).
    pub helo: Option<String>,
    /// The client said EHLO (for the `with` clause of `Received:`).
    pub esmtp: bool,
    /// Submission: the authenticated account and its login name.
    pub user: Option<(AccountId, String)>,
    pub mail_from: Option<String>,
    /// Accepted recipients; on port 25 with the accounts each delivers to.
    pub rcpts: Vec<Rcpt>,
    /// Port 25: bounces to our SRS addresses (`smtp/cmd/rcpt_srs.rs`), as (the address
    /// given, the sender it stands for); they are forwarded, not delivered.
    pub forwards: Vec<(String, String)>,
    /// The SIZE= of MAIL FROM (RFC 1870), 0 if none: RCPT refuses an account it cannot fit.
    pub declared_size: u64,
    errors: u32,
    pub auth_failures: u32,
}

impl Session {
    pub fn new(ctx: SmtpContext, mode: Mode, peer: SocketAddr, conn: Conn) -> Session {
        Session {
            ctx,
            mode,
            peer,
            conn,
            helo: None,
            esmtp: false,
            user: None,
            mail_from: None,
            rcpts: Vec::new(),
            forwards: Vec::new(),
            declared_size: 0,
            errors: 0,
            auth_failures: 0,
        }
    }

    pub fn is_submission(&self) -> bool {
        matches!(self.mode, Mode::Submission(_))
    }

    /// The log prefix: which port.
    pub fn tag(&self) -> &'static str {
        match self.mode {
            Mode::Mx => "smtp",
            Mode::Submission(_) => "submission",
        }
    }

    pub async fn run(mut self) {
        self.serve().await;
        // After STARTTLS the client then sees a close_notify, not a cut connection.
        self.conn.close().await;
    }

    async fn serve(&mut self) {
        if matches!(self.mode, Mode::Mx) && self.early_talker().await {
            return;
        }
        let greeting = match self.mode {
            Mode::Mx => format!("220 {} ESMTP mailnook ready\r\n", self.ctx.config.hostname),
            Mode::Submission(_) => format!(
                "220 {} ESMTP mailnook submission ready\r\n",
                self.ctx.config.hostname
            ),
        };
        if self.conn.send(greeting.as_bytes()).await.is_err() {
            return;
        }
        loop {
            let line = match self.read_line().await {
                Ok(l) => l,
                Err(ReadError::TooLong) => {
                    log::info!("{} {}: command line too long", self.tag(), self.peer);
                    if self.error(&reply::LINE_TOO_LONG.line()).await == Next::Close
                        || self.conn.flush().await.is_err()
                    {
                        return;
                    }
                    continue;
                }
                Err(ReadError::Timeout) => {
                    log::info!("{} {}: idle timeout, closing", self.tag(), self.peer);
                    self.close_with(&reply::TIMEOUT.line()).await;
                    return;
                }
                Err(_) => return,
            };
            if super::cmd::run(self, &line).await != Next::Continue {
                return;
            }
            if self.conn.flush_if_idle().await.is_err() {
                return;
            }
        }
    }

    /// The next command line (or line of an AUTH exchange), within `smtp_timeout_secs`.
    pub async fn read_line(&mut self) -> Result<Vec<u8>, ReadError> {
        let timeout = Duration::from_secs(self.ctx.config.smtp_timeout_secs);
        self.conn
            .read_line(MAX_COMMAND_LINE, timeout, Overlong::Skip)
            .await
    }

    /// RFC 5321 §3.1: the client waits for the greeting. Spam software often does not; we wait
    /// `smtp_greeting_delay_ms` and refuse a client that spoke first. A client that waited once
    /// and trusted networks are not delayed (`greeting.rs`). True: the session is over.
    async fn early_talker(&mut self) -> bool {
        let delay = self.ctx.greeting.delay_for(self.peer.ip());
        if delay.is_zero() {
            return false;
        }
        match self.conn.read_some(delay).await {
            Err(ReadError::Timeout) => {
                self.ctx.greeting.pass(self.peer.ip());
                false
            }
            Ok(()) => {
                log::info!(
                    "smtp {}: refused early talker ({} bytes before the greeting)",
                    self.peer,
                    self.conn.buffered()
                );
                let line = reply::EARLY_TALKER.line();
                self.record(&line, Vec::new(), None);
                let _ = self.conn.send(line.as_bytes()).await;
                true
            }
            Err(_) => true,
        }
    }

    /// Records the reply in the activity log and sends it as the last line.
    pub async fn close_with(&mut self, line: &str) {
        let rcpts = self.rcpt_list();
        self.record(line, rcpts, None);
        let _ = self.conn.send(line.as_bytes()).await;
    }

    pub fn rcpt_list(&self) -> Vec<String> {
        let forwards = self.forwards.iter().map(|(a, _)| a.clone());
        self.rcpts
            .iter()
            .map(|r| r.address.clone())
            .chain(forwards)
            .collect()
    }

    /// Records the end of a transaction or a refusal on port 25 for the admin page
    /// (`activity.rs`). The submission port's users see their mail in the outbound queue.
    pub fn record(
        &self,
        reply_line: &str,
        recipients: Vec<String>,
        auth: Option<crate::activity::AuthVerdicts>,
    ) {
        if self.is_submission() {
            return;
        }
        let line = reply_line.trim_end();
        let code = line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
        self.ctx.activity.record(crate::activity::Transaction {
            time: crate::date::now(),
            client_ip: self.peer.ip(),
            helo: self.helo.as_deref().map(printable),
            sender: self.mail_from.as_deref().map(printable),
            recipients: recipients.iter().map(|r| printable(r)).collect(),
            code,
            text: line.get(4..).unwrap_or_default().to_string(),
            auth,
        });
    }

    /// Ends the mail transaction (RSET, HELO, after DATA; RFC 5321 §4.1.1.5).
    pub fn reset(&mut self) {
        self.mail_from = None;
        self.rcpts.clear();
        self.forwards.clear();
        self.declared_size = 0;
    }

    /// Queues a reply.
    pub fn reply(&mut self, line: &str) {
        self.conn.queue(line.as_bytes());
    }

    /// Queues an error reply and counts it against `smtp_max_errors`; past the budget the
    /// client gets `421` and the session ends (RFC 5321 §4.2.2 lets a server close on abuse).
    pub async fn error(&mut self, line: &str) -> Next {
        self.errors += 1;
        if self.errors > self.ctx.config.smtp_max_errors {
            log::info!("{} {}: too many errors, closing", self.tag(), self.peer);
            let rcpts = self.rcpt_list();
            self.record(&reply::TOO_MANY_ERRORS.line(), rcpts, None);
            self.reply(&reply::TOO_MANY_ERRORS.line());
            let _ = self.conn.flush().await;
            return Next::Close;
        }
        self.reply(line);
        Next::Continue
    }

    /// [`Session::error`] with a named reply.
    pub async fn refuse(&mut self, r: &Reply) -> Next {
        self.error(&r.line()).await
    }
}
