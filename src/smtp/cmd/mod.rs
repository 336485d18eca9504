//! The command table: one SMTP command line is parsed (smtp-proto) and handed to the file
//! that implements it. A command a port does not take is `502` there, counted as an error.
//!
//! | command        | file          | port 25 | submission |
//! |----------------|---------------|---------|------------|
//! | EHLO, HELO     | `hello.rs`    | yes     | yes        |
//! | STARTTLS       | `starttls.rs` | yes     | yes        |
//! | AUTH           | `auth.rs`     | no      | after TLS  |
//! | MAIL           | `mail.rs`     | yes     | after AUTH |
//! | RCPT           | `rcpt.rs`     | local   | any        |
//! | RCPT (SRS)     | `rcpt_srs.rs` | bounces | no         |
//! | DATA           | `data.rs`     | yes     | yes        |
//! | RSET, NOOP, VRFY, HELP, QUIT | `simple.rs` | yes | yes |

mod auth;
mod data;
mod hello;
mod mail;
mod rcpt;
mod rcpt_srs;
mod simple;
mod starttls;

use super::reply;
use super::session::{Mode, Next, Session};
use crate::wire::printable;
use smtp_proto::{Error as ParseError, Request};

/// Handles one command line.
pub async fn run(s: &mut Session, line: &[u8]) -> Next {
    let req = match Request::parse(&mut line.iter()) {
        Ok(r) => r.into_owned(),
        Err(e) => {
            let r = parse_error(e);
            log::debug!("{} {}: bad command: {}", s.tag(), s.peer, r.trim_end());
            return s.error(&r).await;
        }
    };
    match req {
        Request::Ehlo { host } => hello::ehlo(s, host),
        Request::Helo { host } => hello::helo(s, host),
        Request::StartTls => starttls::run(s).await,
        Request::Auth {
            mechanism,
            initial_response,
        } if matches!(s.mode, Mode::Submission(_)) => {
            auth::run(s, mechanism, initial_response).await
        }
        Request::Mail { from } => mail::run(s, from).await,
        Request::Rcpt { to } => rcpt::run(s, to, line).await,
        Request::Data => data::run(s).await,
        Request::Rset => simple::rset(s),
        Request::Noop { .. } => simple::noop(s),
        Request::Vrfy { .. } => simple::vrfy(s),
        Request::Help { .. } => simple::help(s),
        Request::Quit => simple::quit(s).await,
        // LMTP's greeting on an SMTP port is an unknown command (RFC 2033 §4.1).
        Request::Lhlo { .. } => s.refuse(&reply::UNKNOWN_COMMAND).await,
        // EXPN, ETRN, ATRN, BDAT, BURL, and AUTH on port 25: not offered.
        _ => s.refuse(&reply::NOT_IMPLEMENTED).await,
    }
}

/// The reply to a line smtp-proto could not parse.
fn parse_error(e: ParseError) -> String {
    match e {
        ParseError::UnknownCommand => reply::UNKNOWN_COMMAND.line(),
        ParseError::InvalidSenderAddress => "501 5.1.7 Bad sender address syntax\r\n".into(),
        ParseError::InvalidRecipientAddress => "501 5.1.3 Bad recipient address syntax\r\n".into(),
        ParseError::SyntaxError { syntax } => reply::SYNTAX.with(&format!("Syntax: {syntax}")),
        ParseError::InvalidParameter { param } => {
            reply::SYNTAX.with(&format!("Invalid parameter {param}"))
        }
        ParseError::UnsupportedParameter { param } => reply::PARAM_NOT_IMPLEMENTED
            .with(&format!("Unsupported parameter {}", printable(&param))),
        _ => reply::SYNTAX.line(),
    }
}
