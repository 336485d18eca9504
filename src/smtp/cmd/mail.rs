//! MAIL FROM (RFC 5321 §4.1.1.2): starts a transaction. On the submission port only after AUTH
//! and only from the user's own addresses (RFC 6409 §8.1; the same rule as JMAP's,
//! `Reader::owns_address`).

use crate::smtp::reply;
use crate::smtp::session::{Next, Session};
use crate::store::model::AccountId;
use crate::wire::printable;
use smtp_proto::MailFrom;

pub async fn run(s: &mut Session, from: MailFrom<String>) -> Next {
    let user = match (s.is_submission(), &s.user) {
        (true, None) => return s.error("530 5.7.0 Authentication required\r\n").await,
        (true, Some((acct, _))) => Some(*acct),
        (false, _) => None,
    };
    // The submission port has never asked for HELO before MAIL (AUTH is the gate there).
    if !s.is_submission() && s.helo.is_none() {
        return s
            .error(&reply::BAD_SEQUENCE.with("Send EHLO or HELO first"))
            .await;
    }
    if s.mail_from.is_some() {
        return s
            .error(&reply::BAD_SEQUENCE.with("Sender already given"))
            .await;
    }
    if let Some(p) = unsupported_param(&from) {
        return s
            .error(&reply::PARAM_NOT_IMPLEMENTED.with(&format!("Unsupported parameter {p}")))
            .await;
    }
    if from.size > s.ctx.config.max_message_size {
        // RFC 1870 §6.1: refused before any data; not a protocol error.
        log::info!(
            "{} {}: refused SIZE={} from <{}>",
            s.tag(),
            s.peer,
            from.size,
            printable(&from.address)
        );
        s.mail_from = Some(from.address);
        s.record(&reply::TOO_BIG.line(), Vec::new(), None);
        s.mail_from = None;
        s.reply(&reply::TOO_BIG.line());
        return Next::Continue;
    }
    if let Some(acct) = user
        && !owns(s.ctx.store.clone(), acct, &from.address).await
    {
        log::info!(
            "submission {}: refused MAIL FROM <{}>: not an address of the user",
            s.peer,
            printable(&from.address)
        );
        return s.refuse(&reply::FOREIGN_MAIL_FROM).await;
    }
    s.mail_from = Some(from.address);
    s.declared_size = from.size as u64;
    s.reply(&reply::SENDER_OK.line());
    Next::Continue
}

/// Whether the user may send as `address`: the store's one ownership rule.
async fn owns(store: crate::store::Store, acct: AccountId, address: &str) -> bool {
    let address = address.to_string();
    matches!(
        store.read(move |r| r.owns_address(acct, &address)).await,
        Ok(true)
    )
}

/// A MAIL parameter of an extension we do not advertise (RFC 1869 §6: refuse with 555).
/// SIZE, BODY=7BIT/8BITMIME and SMTPUTF8 are ours; an AUTH= parameter is ignored as harmless.
fn unsupported_param(from: &MailFrom<String>) -> Option<&'static str> {
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
