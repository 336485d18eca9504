//! Port 25 after DATA: the message goes through the receive step (`ingest/receive.rs`: sender
//! authentication, filing, delivery, vacation), and its verdict becomes the one reply to the
//! final dot. SMTP adds only its trace header (RFC 5321 §4.4), the reply and the activity log.

use super::reply;
use super::session::Session;
use crate::ingest::receive::{self, Incoming, Receiver, Verdict};
use crate::wire::printable;

/// Hands the message to the receive step; returns the reply line.
pub async fn deliver(s: &mut Session, message: Vec<u8>) -> String {
    let from = s.mail_from.clone().unwrap_or_default();
    let rcpt_list = s.rcpt_list();
    let received = received_header(s);
    let outgoing = s.ctx.outbound.as_ref().map(|o| o as &dyn receive::Outgoing);
    let rx = Receiver {
        store: &s.ctx.store,
        hostname: &s.ctx.config.hostname,
        auth: s.ctx.auth.as_ref(),
        outgoing,
    };
    let incoming = Incoming {
        ip: s.peer.ip(),
        helo: s.helo.clone().unwrap_or_default(),
        mail_from: from.clone(),
        rcpts: s.rcpts.clone(),
        message,
    };
    let receipt = receive::receive(&rx, incoming, received).await;
    let line = match &receipt.verdict {
        Verdict::Accepted { id } => reply::QUEUED.with(&format!("Message accepted as {id}")),
        Verdict::Rejected { policy_domain } => {
            log::info!(
                "smtp {}: refused message from <{}> for {:?}: DMARC policy of {} is reject",
                s.peer,
                printable(&from),
                rcpt_list,
                printable(policy_domain)
            );
            reply::DMARC_REJECT.with(&format!(
                "Rejected by the DMARC policy of {}",
                printable(policy_domain)
            ))
        }
        Verdict::NoRecipients => reply::NO_RECIPIENTS.line(),
        Verdict::Failed(e) => {
            log::error!(
                "smtp {}: store failed, message from <{}> deferred: {e}",
                s.peer,
                printable(&from)
            );
            reply::LOCAL_ERROR.line()
        }
    };
    if let Verdict::Accepted { .. } = receipt.verdict {
        log::info!(
            "smtp {}: accepted {} bytes from <{}> for {:?}{}: {}",
            s.peer,
            receipt.size,
            printable(&from),
            rcpt_list,
            receipt
                .auth
                .as_ref()
                .map(|v| format!(
                    " spf={} dkim={} arc={} dmarc={} -> {}",
                    v.spf, v.dkim, v.arc, v.dmarc, v.disposition
                ))
                .unwrap_or_default(),
            line.trim_end()
        );
    }
    s.record(&line, rcpt_list, receipt.auth);
    line
}

/// RFC 5321 §4.4: the trace header we prepend, for the delivery time it is given.
fn received_header(s: &Session) -> impl FnOnce(i64) -> String + use<> {
    let helo = s.helo.as_deref().map(printable).unwrap_or_default();
    let with = match (s.esmtp, s.conn.is_tls()) {
        (true, true) => "ESMTPS",
        (true, false) => "ESMTP",
        (false, _) => "SMTP",
    };
    let for_clause = match s.rcpts.as_slice() {
        [one] => format!("\r\n\tfor <{}>", printable(&one.address)),
        _ => String::new(),
    };
    let ip = s.peer.ip();
    let host = s.ctx.config.hostname.clone();
    move |now| {
        format!(
            "Received: from {helo} ([{ip}])\r\n\tby {host} (mailnook) with {with}{for_clause};\r\n\t{}\r\n",
            crate::date::rfc5322(now)
        )
    }
}
