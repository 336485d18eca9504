//! Message submission for mail clients (RFC 6409) on its own port: the session of
//! `session.rs` in [`Mode::Submission`]: STARTTLS (RFC 3207), then AUTH PLAIN (RFC 4616) or
//! LOGIN with an account's password (RFC 4954, `cmd/auth.rs`), then an ordinary transaction.
//! Authentication is offered only over TLS, so a password never crosses the network in clear.
//! The authenticated user may use only their own addresses, in MAIL FROM (`cmd/mail.rs`) and
//! in the From: and Sender: headers ([`submit`]; RFC 6409 §8.1 lets the MSA enforce this; the
//! rule is `outbound::headers::foreign_sender`, shared with JMAP). Accepted messages go to the
//! outbound queue (`src/outbound/`), which removes Bcc: and adds a missing Date:/Message-ID:
//! (RFC 6409 §8), delivers local recipients at once and relays the rest; 250 is sent only once
//! the message is durable in the queue.
//!
//! Admission, timeouts, the error budget and line limits are port 25's (the same settings:
//! `smtp_max_connections`, `smtp_max_connections_per_ip`, `smtp_connections_per_minute_per_ip`,
//! `smtp_timeout_secs`, `smtp_data_timeout_secs`, `smtp_max_errors`), with its own connection
//! counts, so a flood on one port does not lock users out of the other.

use super::SmtpContext;
use super::reply;
use super::session::{Mode, Session};
use crate::outbound::{NewMessage, Outbound};
use crate::wire::printable;

/// Accepts submission connections.
pub async fn serve(listener: smol::net::TcpListener, ctx: SmtpContext, outbound: Outbound) {
    let limits = super::limits::Limits::new(
        ctx.config.smtp_max_connections,
        ctx.config.smtp_max_connections_per_ip,
        ctx.config.smtp_connections_per_minute_per_ip,
    );
    super::accept(listener, ctx, limits, Mode::Submission(outbound)).await
}

/// After DATA: checks the sender headers and queues the message; returns the reply line.
pub async fn submit(s: &mut Session, outbound: &Outbound, raw: Vec<u8>) -> String {
    let Some((acct, login)) = s.user.clone() else {
        // MAIL needs AUTH, so there is no transaction without a user.
        return reply::BAD_SEQUENCE.line();
    };
    let from = s.mail_from.clone().unwrap_or_default();
    let rcpts = s.rcpt_list();
    // RFC 6409 §8.1 (and RFC 5322 §3.6.2 for Sender:): the From: and Sender: headers must be
    // the user's own addresses too; the same rule as JMAP's forbiddenFrom.
    let senders = crate::outbound::headers::senders(&raw);
    let foreign = s
        .ctx
        .store
        .read(move |r| crate::outbound::headers::foreign_sender(r, acct, &senders))
        .await;
    let refusal = match foreign {
        Ok(None) => None,
        Ok(Some(("Sender", address))) => Some((reply::FOREIGN_SENDER, "Sender", address)),
        Ok(Some((field, address))) => Some((reply::FOREIGN_FROM, field, address)),
        Err(e) => {
            log::error!("submission {}: cannot check the sender: {e}", s.peer);
            return reply::LOCAL_ERROR.line();
        }
    };
    if let Some((r, field, address)) = refusal {
        log::info!(
            "submission {}: refused message from {login}: {field}: {} is not theirs",
            s.peer,
            printable(address.as_deref().unwrap_or("(no address)"))
        );
        return r.line();
    }
    let size = raw.len();
    let msg = NewMessage {
        account: Some(acct),
        submission: None,
        mail_from: from.clone(),
        rcpts: rcpts.clone(),
        release_at: 0,
        size: size as u64,
    };
    match outbound.enqueue(msg, raw).await {
        Ok(id) => {
            log::info!(
                "submission {}: {login} queued {size} bytes from <{}> for {} recipients as q{id}",
                s.peer,
                printable(&from),
                rcpts.len()
            );
            reply::QUEUED.with(&format!("Message queued as q{id}"))
        }
        Err(e) => {
            log::error!("submission {}: cannot queue: {e}", s.peer);
            reply::LOCAL_ERROR.line()
        }
    }
}
