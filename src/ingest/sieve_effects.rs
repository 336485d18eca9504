//! What a Sieve run asks for after the copies are stored (`ingest/sieve.rs`): redirects,
//! vacation replies and DSNs for rejects go through the outbound queue; failures are reported
//! to the script's owner once. Runs as a detached task: the SMTP answer does not wait for it,
//! and nothing here can lose the stored message.

use crate::outbound::vacation as vacation_reply;
use crate::outbound::{NewMessage, Outbound};
use crate::sieve::interp::VacationReply;
use crate::store::Store;
use crate::store::model::AccountId;
use crate::wire::printable;
use std::sync::Arc;

/// Redirected copies carry `Delivered-To: <account>` on top; a message that already says it
/// was delivered to this account (it came back around a loop), or that has passed through
/// this many redirects, is not redirected again (RFC 5228 §4.2 asks implementations to
/// prevent loops).
pub const MAX_DELIVERED_TO: usize = 8;

pub enum Effect {
    Redirect {
        account: AccountId,
        login: String,
        to: String,
    },
    Vacation {
        account: AccountId,
        login: String,
        reply: VacationReply,
    },
    Dsn {
        account: AccountId,
        rcpt: String,
        reason: String,
    },
    Report {
        account: AccountId,
        text: String,
    },
}

pub fn spawn(
    store: Store,
    outbound: Option<Outbound>,
    mail_from: String,
    raw: Arc<Vec<u8>>,
    effects: Vec<Effect>,
) {
    if effects.is_empty() {
        return;
    }
    smol::spawn(async move {
        for e in effects {
            run(&store, outbound.as_ref(), &mail_from, &raw, e).await;
        }
    })
    .detach();
}

fn header_section(raw: &[u8]) -> &[u8] {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .unwrap_or(raw.len().min(64 * 1024));
    crate::mime::limits::bounded(&raw[..end])
}

/// The `Delivered-To` values of the message (lower-cased).
pub fn delivered_to(raw: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(header_section(raw));
    text.split("\r\n")
        .filter_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case("delivered-to")
                .then(|| v.trim().trim_matches(['<', '>']).to_ascii_lowercase())
        })
        .collect()
}

/// Whether redirecting a message from `login`'s account would loop.
pub fn redirect_loops(raw: &[u8], login: &str, to: &str) -> bool {
    let seen = delivered_to(raw);
    seen.len() >= MAX_DELIVERED_TO
        || seen.iter().any(|d| d.eq_ignore_ascii_case(login))
        || to.eq_ignore_ascii_case(login)
}

async fn report(store: &Store, account: AccountId, text: &str) {
    let what = crate::store::hex_sha256(text.as_bytes());
    let first = store
        .write(move |w| w.sieve_report_once(account, &what))
        .await
        .unwrap_or(false);
    if !first {
        return;
    }
    let now = crate::date::now();
    let msg = format!(
        "From: Mail system <postmaster@localhost>\r\nSubject: Your mail filter needs attention\r\nDate: {}\r\nAuto-Submitted: auto-generated\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}",
        crate::date::rfc5322(now)
    );
    if let Err(e) = super::deliver(
        store,
        msg.into_bytes(),
        vec![super::Target::inbox(account)],
        now,
    )
    .await
    {
        log::warn!("sieve: cannot report to account {account}: {e}");
    }
}

/// The envelope sender of a redirect to another server: the original one in SRS form at
/// the account's domain (`outbound/srs.rs`), so the next hop's SPF check sees our domain and
/// a bounce still finds its way back; the original one if the SRS key cannot be had.
async fn srs_sender(store: &Store, account: AccountId, mail_from: &str, login: &str) -> String {
    match crate::outbound::srs::key(store).await {
        Ok(key) => {
            let ours = login.rsplit_once('@').map_or(login, |(_, d)| d);
            crate::outbound::srs::forward(&key, mail_from, ours, crate::outbound::srs::today())
        }
        Err(e) => {
            log::warn!("sieve: account {account}: no SRS key ({e}): original sender kept");
            mail_from.to_string()
        }
    }
}

async fn run(store: &Store, out: Option<&Outbound>, mail_from: &str, raw: &[u8], e: Effect) {
    match e {
        Effect::Report { account, text } => report(store, account, &text).await,
        Effect::Redirect { account, login, to } => {
            let Some(out) = out else {
                log::warn!(
                    "sieve: account {account}: redirect to <{}> impossible: no outbound queue",
                    printable(&to)
                );
                return;
            };
            let mut bytes = format!("Delivered-To: {login}\r\n").into_bytes();
            bytes.extend_from_slice(raw);
            // RFC 5228 §4.2 keeps the original envelope sender: as it is for one of our own
            // addresses (no SPF check follows, and replies such as vacation must reach the
            // real sender), in SRS form for another server (`srs_sender`).
            let local = matches!(
                super::resolve(store, &to).await,
                Ok(crate::store::Recipient::Local(_))
            );
            let sender = if local {
                mail_from.to_string()
            } else {
                srs_sender(store, account, mail_from, &login).await
            };
            let msg = NewMessage {
                account: Some(account),
                submission: None,
                mail_from: sender,
                rcpts: vec![to.clone()],
                release_at: 0,
                size: bytes.len() as u64,
            };
            match out.enqueue(msg, bytes).await {
                Ok(id) => log::info!(
                    "sieve: account {account}: redirected to <{}> as q{id}",
                    printable(&to)
                ),
                Err(e) => log::warn!("sieve: account {account}: cannot queue a redirect: {e}"),
            }
        }
        Effect::Vacation {
            account,
            login,
            reply,
        } => {
            let Some(out) = out else { return };
            vacation(store, out, mail_from, raw, account, &login, reply).await;
        }
        Effect::Dsn {
            account,
            rcpt,
            reason,
        } => {
            let Some(out) = out else { return };
            // RFC 5429 §2.1: never a DSN to the null sender (or to a daemon).
            if mail_from.is_empty() {
                return;
            }
            let now = crate::date::now();
            let host = out.config().hostname.clone();
            let mut text = format!(
                "From: Mail Delivery System <MAILER-DAEMON@{host}>\r\nTo: <{}>\r\nSubject: Message rejected\r\nDate: {}\r\nAuto-Submitted: auto-replied\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYour message to <{}> was rejected by the recipient's filter:\r\n\r\n  {}\r\n\r\n--- Header of the message ---\r\n\r\n",
                printable(mail_from),
                crate::date::rfc5322(now),
                printable(&rcpt),
                reason.replace(['\r', '\n'], " ")
            )
            .into_bytes();
            text.extend_from_slice(header_section(raw));
            let msg = NewMessage::null_sender(Some(account), vec![mail_from.to_string()]);
            if let Err(e) = out.enqueue(msg, text).await {
                log::warn!("sieve: account {account}: cannot queue a rejection notice: {e}");
            }
        }
    }
}

/// A Sieve vacation reply (RFC 5230). It shares the once-per-sender memory
/// (`VACATION_REPLIES`, keyed by account and sender) with VacationResponse: whichever replies
/// first, the other stays quiet for its period.
async fn vacation(
    store: &Store,
    out: &Outbound,
    sender: &str,
    raw: &[u8],
    account: AccountId,
    login: &str,
    v: VacationReply,
) {
    let header = header_section(raw);
    if crate::outbound::vacation::must_not_reply(sender, header)
        || sender.eq_ignore_ascii_case(login)
    {
        return;
    }
    let who = sender.to_ascii_lowercase();
    let now = crate::date::now();
    let period = i64::try_from(v.period).unwrap_or(i64::MAX);
    let decided = store
        .write(move |w| {
            if w.vacation_replied(account, &who)?
                .is_some_and(|t| t > now.saturating_sub(period))
            {
                return Ok(false);
            }
            w.set_vacation_replied(account, &who, now)?;
            Ok(true)
        })
        .await;
    if !matches!(decided, Ok(true)) {
        return;
    }
    let parsed = mail_parser::MessageParser::new().parse_headers(header);
    let orig_subject = parsed
        .as_ref()
        .and_then(|m| m.subject().map(str::to_string))
        .unwrap_or_default();
    let message_id = parsed
        .as_ref()
        .and_then(|m| m.message_id().map(str::to_string));
    // RFC 5230 §5.6: the default subject is "Auto: " and the original subject.
    let subject = v
        .subject
        .clone()
        .unwrap_or_else(|| format!("Auto: {orig_subject}"));
    // :from (RFC 5230 §4.3) must be one of the account's own addresses: a script may not
    // send auto-replies in someone else's name (the rule submission enforces, RFC 6409 §8.1).
    let own = store
        .read(move |r| r.addresses_of(account))
        .await
        .unwrap_or_default();
    let from = match &v.from {
        Some(f) => {
            let addr = f
                .rsplit_once('<')
                .map_or(f.as_str(), |(_, a)| a.trim_end_matches('>'))
                .trim()
                .to_ascii_lowercase();
            if own.iter().any(|o| o.eq_ignore_ascii_case(&addr)) || addr == login {
                f.clone()
            } else {
                log::info!(
                    "sieve: account {account}: vacation :from <{}> is not the account's; using its own",
                    printable(&addr)
                );
                login.to_string()
            }
        }
        None => login.to_string(),
    };
    let host = out.config().hostname.clone();
    let mut text = format!(
        "From: {}\r\nTo: <{}>\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <sieve-vacation.{now}.{account}@{host}>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n",
        printable(&from),
        printable(sender),
        printable(&subject),
        crate::date::rfc5322(now),
    );
    vacation_reply::push_in_reply_to(&mut text, message_id.as_deref());
    // With :mime the reason is a MIME entity with its own headers (§4.6); else plain text.
    if !v.mime {
        text.push_str(
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
        );
    }
    text.push_str(&vacation_reply::crlf(&v.reason));
    text.push_str("\r\n");
    vacation_reply::queue_auto_reply(out, account, sender, text, "sieve vacation").await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loops() {
        let raw = b"Delivered-To: a@x.example\r\nSubject: s\r\n\r\nbody";
        assert!(redirect_loops(raw, "a@x.example", "b@y.example"));
        assert!(!redirect_loops(raw, "b@x.example", "c@y.example"));
        assert!(redirect_loops(b"\r\n", "a@x.example", "A@x.example"));
        let many = "Delivered-To: z@z.example\r\n".repeat(MAX_DELIVERED_TO) + "\r\n";
        assert!(redirect_loops(
            many.as_bytes(),
            "a@x.example",
            "b@y.example"
        ));
    }
}
