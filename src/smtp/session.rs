//! One SMTP session (RFC 5321 §4): the state machine and its command loop.
//!
//! Replies are buffered while more pipelined commands are already waiting and flushed when the
//! input runs dry (RFC 2920 §3.1). After STARTTLS every byte received before the handshake is
//! thrown away (RFC 3207 §6) and the session starts over without a HELO.

use super::data::{DataReader, Feed};
use super::reply::{self, Reply};
use super::{Io, SmtpContext};
use crate::ingest::auth::{Action, Envelope};
use crate::ingest::{self, IngestError, Target};
use crate::store::Recipient;
use crate::store::model::AccountId;
use futures_lite::{AsyncReadExt, AsyncWriteExt, FutureExt};
use smtp_proto::{Error as ParseError, Request};
use std::net::SocketAddr;
use std::time::Duration;

/// RFC 5321 §4.5.3.1.4 allows 512 octets per command line; extensions (SMTPUTF8 addresses,
/// many parameters) need more in practice.
const MAX_COMMAND_LINE: usize = 4096;

enum ReadError {
    Eof,
    Timeout,
    Io,
    TooLong,
}

pub struct Session {
    ctx: SmtpContext,
    peer: SocketAddr,
    io: Option<Box<dyn Io>>,
    input: Vec<u8>,
    output: Vec<u8>,
    helo: Option<String>,
    esmtp: bool,
    tls: bool,
    mail_from: Option<String>,
    /// Accepted recipients and the accounts each delivers to (aliases fan out).
    rcpts: Vec<(String, Vec<AccountId>)>,
    errors: u32,
}

pub enum End {
    Quit,
    Closed,
}

impl Session {
    pub fn new(ctx: SmtpContext, peer: SocketAddr, io: Box<dyn Io>) -> Session {
        Session {
            ctx,
            peer,
            io: Some(io),
            input: Vec::with_capacity(1024),
            output: Vec::with_capacity(512),
            helo: None,
            esmtp: false,
            tls: false,
            mail_from: None,
            rcpts: Vec::new(),
            errors: 0,
        }
    }

    pub async fn run(mut self) -> End {
        if self.early_talker().await {
            return End::Closed;
        }
        let greeting = format!("220 {} ESMTP mailnook ready\r\n", self.ctx.config.hostname);
        if self.send_now(greeting.as_bytes()).await.is_err() {
            return End::Closed;
        }
        loop {
            let line = match self.read_line().await {
                Ok(l) => l,
                Err(ReadError::TooLong) => {
                    log::info!("smtp {}: command line too long", self.peer);
                    if self.error(&reply::LINE_TOO_LONG).await || self.flush().await.is_err() {
                        return End::Closed;
                    }
                    continue;
                }
                Err(ReadError::Timeout) => {
                    log::info!("smtp {}: idle timeout, closing", self.peer);
                    let rcpts = self.rcpt_list();
                    self.record(&reply::TIMEOUT.line(), rcpts, None);
                    let _ = self.send_now(reply::TIMEOUT.line().as_bytes()).await;
                    return End::Closed;
                }
                Err(ReadError::Eof | ReadError::Io) => return End::Closed,
            };
            match self.command(&line).await {
                Ok(true) => {}
                Ok(false) => return End::Quit,
                Err(()) => return End::Closed,
            }
            if !self.input.contains(&b'\n') && self.flush().await.is_err() {
                return End::Closed;
            }
        }
    }

    /// RFC 5321 §3.1: the client waits for the greeting. Spam software often does not; we wait
    /// `smtp_greeting_delay_ms` and refuse a client that spoke first. A client that waited once
    /// and trusted networks are not delayed (`greeting.rs`). True: the session is over.
    async fn early_talker(&mut self) -> bool {
        let delay = self.ctx.greeting.delay_for(self.peer.ip());
        if delay.is_zero() {
            return false;
        }
        let mut buf = Vec::new();
        match self.read_some(&mut buf, delay).await {
            Err(ReadError::Timeout) => {
                self.ctx.greeting.pass(self.peer.ip());
                false
            }
            Ok(()) => {
                log::info!(
                    "smtp {}: refused early talker ({} bytes before the greeting)",
                    self.peer,
                    buf.len()
                );
                let line = reply::EARLY_TALKER.line();
                self.record(&line, Vec::new(), None);
                let _ = self.send_now(line.as_bytes()).await;
                true
            }
            Err(_) => true,
        }
    }

    /// Handles one command line. Ok(false) ends the session (QUIT); Err closes it.
    async fn command(&mut self, line: &[u8]) -> Result<bool, ()> {
        let parsed = Request::parse(&mut line.iter()).map(|r| match r {
            Request::Ehlo { host } => Request::Ehlo {
                host: host.into_owned(),
            },
            Request::Helo { host } => Request::Helo {
                host: host.into_owned(),
            },
            Request::Lhlo { host } => Request::Lhlo {
                host: host.into_owned(),
            },
            Request::Mail { from } => Request::Mail {
                from: from.into_owned(),
            },
            Request::Rcpt { to } => Request::Rcpt {
                to: to.into_owned(),
            },
            Request::Vrfy { value } => Request::Vrfy {
                value: value.into_owned(),
            },
            Request::Noop { value } => Request::Noop {
                value: value.into_owned(),
            },
            Request::Help { value } => Request::Help {
                value: value.into_owned(),
            },
            Request::Data => Request::Data,
            Request::Rset => Request::Rset,
            Request::Quit => Request::Quit,
            Request::StartTls => Request::StartTls,
            other => Request::Expn {
                value: other.name().to_string(),
            },
        });
        let req = match parsed {
            Ok(r) => r,
            Err(e) => {
                let r = match e {
                    ParseError::UnknownCommand => reply::UNKNOWN_COMMAND.line(),
                    ParseError::InvalidSenderAddress => {
                        "501 5.1.7 Bad sender address syntax\r\n".into()
                    }
                    ParseError::InvalidRecipientAddress => {
                        "501 5.1.3 Bad recipient address syntax\r\n".into()
                    }
                    ParseError::SyntaxError { syntax } => {
                        reply::SYNTAX.with(&format!("Syntax: {syntax}"))
                    }
                    ParseError::InvalidParameter { param } => {
                        reply::SYNTAX.with(&format!("Invalid parameter {param}"))
                    }
                    ParseError::UnsupportedParameter { param } => reply::PARAM_NOT_IMPLEMENTED
                        .with(&format!("Unsupported parameter {}", printable(&param))),
                    _ => reply::SYNTAX.line(),
                };
                log::debug!("smtp {}: bad command: {}", self.peer, r.trim_end());
                return if self.error_text(&r).await {
                    Err(())
                } else {
                    Ok(true)
                };
            }
        };
        match req {
            Request::Ehlo { host } => {
                self.reset();
                self.helo = Some(host);
                self.esmtp = true;
                let h = &self.ctx.config.hostname;
                let mut r = format!("250-{h} greets {}\r\n", self.peer.ip());
                r.push_str(&format!(
                    "250-SIZE {}\r\n",
                    self.ctx.config.max_message_size
                ));
                r.push_str(
                    "250-8BITMIME\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n",
                );
                if !self.tls {
                    r.push_str("250-STARTTLS\r\n");
                }
                r.push_str("250 HELP\r\n");
                self.reply(r.as_bytes());
            }
            Request::Helo { host } => {
                self.reset();
                self.helo = Some(host);
                self.esmtp = false;
                let r = format!("250 {}\r\n", self.ctx.config.hostname);
                self.reply(r.as_bytes());
            }
            Request::Lhlo { .. } => return self.error_ok(&reply::UNKNOWN_COMMAND).await,
            Request::Mail { from } => {
                if self.helo.is_none() {
                    return self
                        .error_text_ok(&reply::BAD_SEQUENCE.with("Send EHLO or HELO first"))
                        .await;
                }
                if self.mail_from.is_some() {
                    return self
                        .error_text_ok(&reply::BAD_SEQUENCE.with("Sender already given"))
                        .await;
                }
                if let Some(p) = unsupported_mail_param(&from) {
                    return self
                        .error_text_ok(
                            &reply::PARAM_NOT_IMPLEMENTED
                                .with(&format!("Unsupported parameter {p}")),
                        )
                        .await;
                }
                if from.size > self.ctx.config.max_message_size {
                    log::info!(
                        "smtp {}: refused SIZE={} from <{}>",
                        self.peer,
                        from.size,
                        from.address
                    );
                    let sender = from.address.clone();
                    self.mail_from = Some(sender);
                    self.record(&reply::TOO_BIG.line(), Vec::new(), None);
                    self.mail_from = None;
                    self.reply(reply::TOO_BIG.line().as_bytes());
                    return Ok(true);
                }
                self.mail_from = Some(from.address);
                self.reply(reply::SENDER_OK.line().as_bytes());
            }
            Request::Rcpt { mut to } => {
                if to.address.is_empty() {
                    // smtp-proto reads both <> and <postmaster> as "": only the latter is valid
                    // (RFC 5321 §4.1.1.3).
                    if String::from_utf8_lossy(line)
                        .to_ascii_lowercase()
                        .contains("<postmaster>")
                    {
                        to.address = "postmaster".into();
                    } else {
                        return self
                            .error_text_ok("501 5.1.3 Bad recipient address syntax\r\n")
                            .await;
                    }
                }
                if self.mail_from.is_none() {
                    return self
                        .error_text_ok(&reply::BAD_SEQUENCE.with("Need MAIL before RCPT"))
                        .await;
                }
                if to.flags != 0 || to.orcpt.is_some() || to.rrvs != 0 {
                    // DSN (RFC 3461) and RRVS (RFC 7293) are not advertised (RFC 1869 §6).
                    return self
                        .error_text_ok(&reply::PARAM_NOT_IMPLEMENTED.with("Unsupported parameter"))
                        .await;
                }
                if self.rcpts.len() >= self.ctx.config.max_recipients {
                    log::info!(
                        "smtp {}: refused recipient <{}>: more than {} recipients",
                        self.peer,
                        printable(&to.address),
                        self.ctx.config.max_recipients
                    );
                    self.record(&reply::TOO_MANY_RECIPIENTS.line(), vec![to.address], None);
                    self.reply(reply::TOO_MANY_RECIPIENTS.line().as_bytes());
                    return Ok(true);
                }
                match super::resolve(&self.ctx.store, &to.address).await {
                    Ok(Recipient::Local(accts)) => {
                        if !self
                            .rcpts
                            .iter()
                            .any(|(r, _)| r.eq_ignore_ascii_case(&to.address))
                        {
                            self.rcpts.push((to.address, accts));
                        }
                        self.reply(reply::RECIPIENT_OK.line().as_bytes());
                    }
                    Ok(refused) => {
                        let (r, why) = match refused {
                            Recipient::NotLocal => (&reply::RELAY_DENIED, "relaying denied"),
                            _ => (&reply::NO_SUCH_USER, "no such user"),
                        };
                        log::info!(
                            "smtp {}: refused recipient <{}>: {why}",
                            self.peer,
                            printable(&to.address)
                        );
                        self.record(&r.line(), vec![to.address], None);
                        return self.error_ok(r).await;
                    }
                    Err(e) => {
                        log::warn!("smtp {}: recipient lookup failed: {e}", self.peer);
                        self.reply(reply::LOCAL_ERROR.line().as_bytes());
                    }
                }
            }
            Request::Data => {
                if self.mail_from.is_none() {
                    return self
                        .error_text_ok(&reply::BAD_SEQUENCE.with("Need MAIL before DATA"))
                        .await;
                }
                if self.rcpts.is_empty() {
                    return self.error_ok(&reply::NO_RECIPIENTS).await;
                }
                return self.data().await;
            }
            Request::Rset => {
                self.reset();
                self.reply(reply::RESET.line().as_bytes());
            }
            Request::Noop { .. } => self.reply(reply::OK.line().as_bytes()),
            Request::Vrfy { .. } => self.reply(reply::CANNOT_VRFY.line().as_bytes()),
            Request::Help { .. } => self.reply(b"214 2.0.0 See RFC 5321\r\n"),
            Request::Quit => {
                self.reply(reply::BYE.line().as_bytes());
                let _ = self.flush().await;
                return Ok(false);
            }
            Request::StartTls => {
                if self.tls {
                    return self
                        .error_text_ok(&reply::BAD_SEQUENCE.with("TLS already active"))
                        .await;
                }
                self.reply(reply::READY_TLS.line().as_bytes());
                self.flush().await.map_err(|_| ())?;
                self.start_tls().await?;
            }
            _ => return self.error_ok(&reply::NOT_IMPLEMENTED).await,
        }
        Ok(true)
    }

    async fn start_tls(&mut self) -> Result<(), ()> {
        // RFC 3207 §6: discard anything the client sent before the TLS handshake.
        self.input.clear();
        let io = self.io.take().ok_or(())?;
        let acceptor = futures_rustls::TlsAcceptor::from(self.ctx.tls.config());
        let handshake = async { acceptor.accept(io).await.map_err(|_| ()) };
        let timeout = async {
            smol::Timer::after(Duration::from_secs(30)).await;
            Err(())
        };
        match handshake.or(timeout).await {
            Ok(stream) => {
                self.io = Some(Box::new(stream));
                self.tls = true;
                self.helo = None;
                self.reset();
                Ok(())
            }
            Err(()) => {
                log::info!("smtp {}: TLS handshake failed", self.peer);
                Err(())
            }
        }
    }

    async fn data(&mut self) -> Result<bool, ()> {
        self.reply(reply::START_DATA.line().as_bytes());
        self.flush().await.map_err(|_| ())?;
        let limit = self.ctx.config.max_message_size;
        let data_timeout = Duration::from_secs(self.ctx.config.smtp_data_timeout_secs);
        let mut reader = DataReader::new(limit);
        let mut pending = std::mem::take(&mut self.input);
        loop {
            if let Feed::Done { consumed } = reader.feed(&pending) {
                self.input = pending.split_off(consumed);
                break;
            }
            pending.clear();
            // A client that keeps sending far past the limit is cut off rather than read forever.
            if reader.seen > (limit as u64).saturating_mul(2) + 1024 * 1024 {
                log::info!(
                    "smtp {}: message far over the size limit, closing",
                    self.peer
                );
                let rcpts = self.rcpt_list();
                self.record(&reply::TOO_BIG.line(), rcpts, None);
                let _ = self.send_now(reply::TOO_BIG.line().as_bytes()).await;
                return Err(());
            }
            match self.read_some(&mut pending, data_timeout).await {
                Ok(()) => {}
                Err(ReadError::Timeout) => {
                    log::info!("smtp {}: data timeout, closing", self.peer);
                    let rcpts = self.rcpt_list();
                    self.record(&reply::TIMEOUT.line(), rcpts, None);
                    let _ = self.send_now(reply::TIMEOUT.line().as_bytes()).await;
                    return Err(());
                }
                Err(_) => return Err(()),
            }
        }
        let from = self.mail_from.clone().unwrap_or_default();
        if reader.too_big() {
            log::info!(
                "smtp {}: refused message from <{}>: {} bytes over the limit {limit}",
                self.peer,
                printable(&from),
                reader.seen
            );
            let rcpts = self.rcpt_list();
            self.record(&reply::TOO_BIG.line(), rcpts, None);
            self.reset();
            self.reply(reply::TOO_BIG.line().as_bytes());
            return Ok(true);
        }
        let mut body = reader.into_message();
        let rcpt_list = self.rcpt_list();
        let (auth_header, verdicts, action) = match &self.ctx.auth {
            Some(auth) => {
                let env = Envelope {
                    ip: self.peer.ip(),
                    helo: self.helo.as_deref().unwrap_or(""),
                    mail_from: &from,
                };
                let shared = std::sync::Arc::new(body);
                let o = auth.check(&env, shared.clone()).await;
                // The checks are done with it (or timed out and still hold a copy).
                body = std::sync::Arc::try_unwrap(shared).unwrap_or_else(|a| (*a).clone());
                if o.action == Action::Reject {
                    log::info!(
                        "smtp {}: refused message from <{}> for {:?}: DMARC policy of {} is reject",
                        self.peer,
                        printable(&from),
                        rcpt_list,
                        printable(&o.policy_domain)
                    );
                    let line = reply::DMARC_REJECT.with(&format!(
                        "Rejected by the DMARC policy of {}",
                        printable(&o.policy_domain)
                    ));
                    self.record(&line, rcpt_list, Some(o.verdicts));
                    self.reset();
                    self.reply(line.as_bytes());
                    return Ok(true);
                }
                (o.header, Some(o.verdicts), o.action)
            }
            None => (String::new(), None, Action::Deliver),
        };
        let now = ingest::now();
        let mut raw = auth_header.into_bytes();
        raw.extend_from_slice(self.received_header(now).as_bytes());
        // RFC 8601 §5: results claiming our name that arrived with the message are forged; they
        // go even when we add none (sender_auth off), so a mail client never trusts them.
        let body =
            ingest::auth::strip_forged_results(&body, &self.ctx.config.hostname).unwrap_or(body);
        raw.extend_from_slice(&body);
        let mut accounts: Vec<AccountId> = Vec::new();
        for (_, accts) in &self.rcpts {
            for a in accts {
                if !accounts.contains(a) {
                    accounts.push(*a);
                }
            }
        }
        let targets: Vec<Target> = accounts
            .into_iter()
            .map(|a| {
                let mut t = Target::inbox(a);
                if action == Action::Junk {
                    t.role = Some("junk".into());
                }
                t
            })
            .collect();
        // The junk filter's verdict, then delivery: one step (src/ingest/junk_gate.rs).
        let screened = ingest::junk_gate::deliver_screened(
            &self.ctx.store,
            &self.ctx.config.junk,
            raw,
            targets,
            now,
            action == Action::Junk,
        )
        .await;
        let (result, junked) = match screened {
            ingest::junk_gate::Screened::Rejected { score } => {
                log::info!(
                    "smtp {}: refused message from <{}> for {:?}: junk score {score:.3}",
                    self.peer,
                    printable(&from),
                    rcpt_list
                );
                let line = reply::JUNK_REJECT.line();
                self.record(&line, rcpt_list, verdicts);
                self.reset();
                self.reply(line.as_bytes());
                return Ok(true);
            }
            ingest::junk_gate::Screened::Delivered { result, junked, .. } => (result, junked),
        };
        // Vacation replies need the header and the accounts (not for Junk, RFC 3834 §2).
        if let (Ok(done), Some(out), Action::Deliver) = (&result, &self.ctx.outbound, action) {
            let mut accounts: Vec<AccountId> = Vec::new();
            for d in done {
                if !junked.contains(&d.account) && !accounts.contains(&d.account) {
                    accounts.push(d.account);
                }
            }
            if !accounts.is_empty() {
                let (out, header, sender) = (out.clone(), header_section(&body), from.clone());
                smol::spawn(async move {
                    crate::outbound::vacation::on_delivery(&out, &sender, &header, &accounts).await;
                })
                .detach();
            }
        }
        let line = match &result {
            Ok(done) => {
                let id = done
                    .first()
                    .map(|d| d.blob[..12].to_string())
                    .unwrap_or_default();
                reply::QUEUED.with(&format!("Message accepted as {id}"))
            }
            Err(IngestError::NoRecipients) => reply::NO_RECIPIENTS.line(),
            Err(IngestError::Store(_)) => reply::LOCAL_ERROR.line(),
        };
        self.record(&line, rcpt_list.clone(), verdicts.clone());
        self.reset();
        match result {
            Ok(_) => {
                log::info!(
                    "smtp {}: accepted {} bytes from <{}> for {:?}{}: {}",
                    self.peer,
                    body.len(),
                    printable(&from),
                    rcpt_list,
                    verdicts
                        .map(|v| format!(
                            " spf={} dkim={} arc={} dmarc={} -> {}",
                            v.spf, v.dkim, v.arc, v.dmarc, v.disposition
                        ))
                        .unwrap_or_default(),
                    line.trim_end()
                );
            }
            Err(IngestError::NoRecipients) => {}
            Err(IngestError::Store(e)) => {
                log::error!(
                    "smtp {}: store failed, message from <{}> deferred: {e}",
                    self.peer,
                    printable(&from)
                );
            }
        }
        self.reply(line.as_bytes());
        Ok(true)
    }

    /// RFC 5321 §4.4: the trace header we prepend.
    fn received_header(&self, now: i64) -> String {
        let helo = self.helo.as_deref().map(printable).unwrap_or_default();
        let with = match (self.esmtp, self.tls) {
            (true, true) => "ESMTPS",
            (true, false) => "ESMTP",
            (false, _) => "SMTP",
        };
        let for_clause = match self.rcpts.as_slice() {
            [(one, _)] => format!("\r\n\tfor <{}>", printable(one)),
            _ => String::new(),
        };
        format!(
            "Received: from {helo} ([{}])\r\n\tby {} (mailnook) with {with}{for_clause};\r\n\t{}\r\n",
            self.peer.ip(),
            self.ctx.config.hostname,
            crate::date::rfc5322(now)
        )
    }

    fn rcpt_list(&self) -> Vec<String> {
        self.rcpts.iter().map(|(r, _)| r.clone()).collect()
    }

    /// Records the end of a transaction or a refusal for the admin page (`activity.rs`).
    fn record(
        &self,
        reply_line: &str,
        recipients: Vec<String>,
        auth: Option<crate::activity::AuthVerdicts>,
    ) {
        let line = reply_line.trim_end();
        let code = line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
        self.ctx.activity.record(crate::activity::Transaction {
            time: ingest::now(),
            client_ip: self.peer.ip(),
            helo: self.helo.as_deref().map(printable),
            sender: self.mail_from.as_deref().map(printable),
            recipients: recipients.iter().map(|r| printable(r)).collect(),
            code,
            text: line.get(4..).unwrap_or_default().to_string(),
            auth,
        });
    }

    fn reset(&mut self) {
        self.mail_from = None;
        self.rcpts.clear();
    }

    fn reply(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }

    /// Counts an error reply; true when the session must end (too many errors).
    async fn error(&mut self, r: &Reply) -> bool {
        self.error_text(&r.line()).await
    }

    async fn error_text(&mut self, text: &str) -> bool {
        self.errors += 1;
        if self.errors > self.ctx.config.smtp_max_errors {
            log::info!("smtp {}: too many errors, closing", self.peer);
            let rcpts = self.rcpt_list();
            self.record(&reply::TOO_MANY_ERRORS.line(), rcpts, None);
            self.reply(reply::TOO_MANY_ERRORS.line().as_bytes());
            let _ = self.flush().await;
            return true;
        }
        self.reply(text.as_bytes());
        false
    }

    async fn error_ok(&mut self, r: &Reply) -> Result<bool, ()> {
        if self.error(r).await {
            Err(())
        } else {
            Ok(true)
        }
    }

    async fn error_text_ok(&mut self, text: &str) -> Result<bool, ()> {
        if self.error_text(text).await {
            Err(())
        } else {
            Ok(true)
        }
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        if self.output.is_empty() {
            return Ok(());
        }
        let out = std::mem::take(&mut self.output);
        let r = self.send_now(&out).await;
        self.output = out;
        self.output.clear();
        r
    }

    async fn send_now(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let io = self.io.as_mut().ok_or(std::io::ErrorKind::NotConnected)?;
        io.write_all(bytes).await?;
        io.flush().await
    }

    async fn read_some(&mut self, into: &mut Vec<u8>, timeout: Duration) -> Result<(), ReadError> {
        let io = self.io.as_mut().ok_or(ReadError::Io)?;
        let mut chunk = [0u8; 8192];
        let read = async { io.read(&mut chunk).await.map_err(|_| ReadError::Io) };
        let timer = async {
            smol::Timer::after(timeout).await;
            Err(ReadError::Timeout)
        };
        let n = read.or(timer).await?;
        if n == 0 {
            return Err(ReadError::Eof);
        }
        into.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    /// The next command line, LF included. An over-long line is skipped up to its end.
    async fn read_line(&mut self) -> Result<Vec<u8>, ReadError> {
        let timeout = Duration::from_secs(self.ctx.config.smtp_timeout_secs);
        let mut skipping = false;
        loop {
            if let Some(i) = self.input.iter().position(|b| *b == b'\n') {
                let rest = self.input.split_off(i + 1);
                let line = std::mem::replace(&mut self.input, rest);
                if skipping || line.len() > MAX_COMMAND_LINE {
                    return Err(ReadError::TooLong);
                }
                return Ok(line);
            }
            if self.input.len() > MAX_COMMAND_LINE {
                self.input.clear();
                skipping = true;
            }
            let mut buf = std::mem::take(&mut self.input);
            let r = self.read_some(&mut buf, timeout).await;
            self.input = buf;
            r?;
        }
    }
}

/// A MAIL parameter of an extension we do not advertise (RFC 1869 §6: refuse with 555).
/// SIZE, BODY=7BIT/8BITMIME and SMTPUTF8 are ours; an AUTH= parameter is ignored as harmless.
fn unsupported_mail_param(from: &smtp_proto::MailFrom<String>) -> Option<&'static str> {
    use smtp_proto::{MAIL_BODY_7BIT, MAIL_BODY_8BITMIME, MAIL_SMTPUTF8};
    let ours = MAIL_BODY_7BIT | MAIL_BODY_8BITMIME | MAIL_SMTPUTF8;
    if from.flags & !ours != 0 {
        return Some("(BODY, RET, REQUIRETLS, CONPERM or BY)");
    }
    if from.env_id.is_some() {
        return Some("ENVID");
    }
    if from.trans_id.is_some() || from.solicit.is_some() || from.mtrk.is_some() {
        return Some("(TRANSID, SOLICIT or MTRK)");
    }
    if from.by != 0 || from.hold_for != 0 || from.hold_until != 0 || from.mt_priority != 0 {
        return Some("(BY, HOLDFOR, HOLDUNTIL or MT-PRIORITY)");
    }
    None
}

/// Makes client-controlled text safe for logs and headers: control characters become '?'.
pub fn printable(s: &str) -> String {
    s.chars()
        .take(256)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// The header section of a message (up to and including the empty line).
fn header_section(raw: &[u8]) -> Vec<u8> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .unwrap_or(raw.len().min(64 * 1024));
    raw[..end].to_vec()
}
