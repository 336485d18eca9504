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
    if !s.forwards.is_empty() {
        // A transaction holds either bounces to our SRS addresses or local recipients, never
        // both (`smtp/cmd/rcpt_srs.rs`), so this one reply is the bounce's alone.
        if message.len() > crate::outbound::srs::MAX_BOUNCE {
            let line = reply::TOO_BIG.with(&format!(
                "Bounces are passed on up to {} KiB",
                crate::outbound::srs::MAX_BOUNCE / 1024
            ));
            s.record(&line, rcpt_list, None);
            return line;
        }
        let line = match forward_bounces(s, &message).await {
            Ok(id) => reply::QUEUED.with(&format!("Bounce forwarded as q{id}")),
            Err(line) => line,
        };
        s.record(&line, rcpt_list, None);
        return line;
    }
    let received = received_header(s);
    let outgoing = s.ctx.outbound.as_ref().map(|o| o as &dyn receive::Outgoing);
    let rx = Receiver {
        store: &s.ctx.store,
        hostname: &s.ctx.config.hostname,
        auth: s.ctx.auth.as_ref(),
        outgoing,
        junk: Some(&s.ctx.config.junk),
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
        // No id when no copy was stored (a Sieve redirect or discard took it).
        Verdict::Accepted { id } if id.is_empty() => reply::QUEUED.with("Message accepted"),
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
        Verdict::SieveRejected { reason } => {
            log::info!(
                "smtp {}: message from <{}> for {:?} rejected by Sieve",
                s.peer,
                printable(&from),
                rcpt_list
            );
            reply::SIEVE_REJECT.with(&printable(reason).replace(['\r', '\n'], " "))
        }
        Verdict::JunkRejected { score } => {
            log::info!(
                "smtp {}: refused message from <{}>: junk score {score:.3}",
                s.peer,
                printable(&from)
            );
            reply::JUNK_REJECT.line()
        }
        Verdict::NoRecipients => reply::NO_RECIPIENTS.line(),
        Verdict::Failed(e) => {
            log::error!(
                "smtp {}: store failed, message from <{}> deferred: {e}",
                s.peer,
                printable(&from)
            );
            super::store_reply::reply_for(e).line()
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

/// Queues the message, with our trace header, for the senders the session's SRS recipients
/// stand for (`smtp/cmd/rcpt_srs.rs`), from the null sender it came with: the queue id, or
/// the reply line of the failure.
async fn forward_bounces(s: &mut Session, message: &[u8]) -> Result<u64, String> {
    let Some(out) = s.ctx.outbound.as_ref() else {
        return Err(reply::LOCAL_ERROR.with("Cannot forward bounces now"));
    };
    let mut raw = received_header(s)(crate::date::now()).into_bytes();
    raw.extend_from_slice(message);
    let rcpts: Vec<String> = s.forwards.iter().map(|(_, to)| to.clone()).collect();
    let msg = crate::outbound::NewMessage::null_sender(None, rcpts.clone());
    match out.enqueue_relayed(msg, raw).await {
        Ok(id) => {
            log::info!(
                "smtp {}: bounce for an SRS address forwarded to {:?} as q{id}",
                s.peer,
                rcpts.iter().map(|r| printable(r)).collect::<Vec<_>>()
            );
            Ok(id)
        }
        Err(e) => {
            log::warn!("smtp {}: cannot forward a bounce: {e}", s.peer);
            Err(super::store_reply::reply_for(&e).line())
        }
    }
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
