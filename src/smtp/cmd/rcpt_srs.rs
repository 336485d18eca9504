//! RCPT TO an SRS address of ours (`outbound/srs.rs`): a bounce of a message a Sieve
//! `redirect` sent on. Port 25 takes it only from the null sender (RFC 5321 §4.5.5: DSNs and
//! RFC 3834 auto-replies use it) and only with a valid, unexpired hash; the message is then
//! forwarded to the sender the address stands for (`smtp/mx.rs`), not delivered here.
//! Checked before the address lookup, so a catch-all does not swallow bounces.

use crate::smtp::reply;
use crate::smtp::session::{Next, Session};
use crate::store::Recipient;
use crate::wire::printable;

/// Some(next) when `address` is in SRS form at one of our domains; None: not ours to handle.
pub async fn run(s: &mut Session, address: &str) -> Option<Next> {
    if !crate::outbound::srs::looks_like(address) {
        return None;
    }
    match crate::ingest::resolve(&s.ctx.store, address).await {
        Ok(Recipient::NotLocal) | Err(_) => return None,
        Ok(_) => {}
    }
    if s.mail_from.as_deref() != Some("") {
        let line = reply::RELAY_DENIED.with("This address takes only bounces (MAIL FROM:<>)");
        return Some(refuse(s, address, "not from the null sender", &line).await);
    }
    if !s.rcpts.is_empty() {
        // RFC 5321 §3.3: 452 asks the client to send this recipient in another transaction;
        // a bounce forwarded and a local delivery then never share one reply.
        s.reply(&reply::TOO_MANY_RECIPIENTS.line());
        return Some(Next::Continue);
    }
    let no_such_user = reply::NO_SUCH_USER.line();
    let key = match crate::outbound::srs::stored_key(&s.ctx.store).await {
        Ok(Some(k)) => k,
        // Never made one: we never rewrote a sender, so this is not our address.
        Ok(None) => return Some(refuse(s, address, "no SRS key", &no_such_user).await),
        Err(e) => {
            log::warn!("smtp {}: SRS key lookup failed: {e}", s.peer);
            s.reply(&crate::smtp::store_reply::reply_for(&e).line());
            return Some(Next::Continue);
        }
    };
    match crate::outbound::srs::reverse(&key, address, crate::outbound::srs::today()) {
        Ok(to) => {
            if !s
                .forwards
                .iter()
                .any(|(a, _)| a.eq_ignore_ascii_case(address))
            {
                s.forwards.push((address.to_string(), to));
            }
            s.reply(&reply::RECIPIENT_OK.line());
            Some(Next::Continue)
        }
        Err(e) => Some(refuse(s, address, &e.to_string(), &no_such_user).await),
    }
}

/// Refuses the recipient with `line` (logged with `why`, recorded for the admin page),
/// counted as an error like every refusal.
async fn refuse(s: &mut Session, address: &str, why: &str, line: &str) -> Next {
    log::info!(
        "smtp {}: refused recipient <{}>: {why}",
        s.peer,
        printable(address)
    );
    s.record(line, vec![address.to_string()], None);
    s.error(line).await
}
