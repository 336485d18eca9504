//! RCPT TO (RFC 5321 §4.1.1.3). Port 25 takes only local recipients (anything else is
//! relaying, refused); the submission port takes any address of an authenticated user.

use crate::ingest::receive::Rcpt;
use crate::smtp::reply;
use crate::smtp::session::{Next, Session};
use crate::store::Recipient;
use crate::wire::printable;
use smtp_proto::RcptTo;

pub async fn run(s: &mut Session, mut to: RcptTo<String>, line: &[u8]) -> Next {
    if s.is_submission() {
        return submission(s, to).await;
    }
    if to.address.is_empty() {
        // smtp-proto reads both <> and <postmaster> as "": only the latter is valid
        // (RFC 5321 §4.1.1.3).
        if String::from_utf8_lossy(line)
            .to_ascii_lowercase()
            .contains("<postmaster>")
        {
            to.address = "postmaster".into();
        } else {
            return s.error("501 5.1.3 Bad recipient address syntax\r\n").await;
        }
    }
    if s.mail_from.is_none() {
        return s
            .error(&reply::BAD_SEQUENCE.with("Need MAIL before RCPT"))
            .await;
    }
    if to.flags != 0 || to.orcpt.is_some() || to.rrvs != 0 {
        // DSN (RFC 3461) and RRVS (RFC 7293) are not advertised (RFC 1869 §6).
        return s
            .error(&reply::PARAM_NOT_IMPLEMENTED.with("Unsupported parameter"))
            .await;
    }
    if s.rcpts.len() + s.forwards.len() >= s.ctx.config.max_recipients {
        // RFC 5321 §4.5.3.1.10: a temporary refusal, not a protocol error.
        log::info!(
            "smtp {}: refused recipient <{}>: more than {} recipients",
            s.peer,
            printable(&to.address),
            s.ctx.config.max_recipients
        );
        s.record(&reply::TOO_MANY_RECIPIENTS.line(), vec![to.address], None);
        s.reply(&reply::TOO_MANY_RECIPIENTS.line());
        return Next::Continue;
    }
    if let Some(next) = super::rcpt_srs::run(s, &to.address).await {
        return next;
    }
    if !s.forwards.is_empty() {
        // Bounces to SRS addresses travel alone (`rcpt_srs.rs`): this one next time.
        s.reply(&reply::TOO_MANY_RECIPIENTS.line());
        return Next::Continue;
    }
    match crate::ingest::resolve(&s.ctx.store, &to.address).await {
        Ok(Recipient::Local(accounts)) => {
            // RFC 5321 §4.5.3.1.10 / RFC 3463 X.2.2: a full mailbox, or one the declared SIZE
            // (RFC 1870 §6.2) cannot fit, is refused here, before the sender transmits a
            // message that could not be stored (quota/check.rs).
            if let Ok(Some(why)) =
                crate::quota::check::full(&s.ctx.store, &accounts, s.declared_size).await
            {
                log::info!(
                    "smtp {}: refused recipient <{}>: over quota ({why})",
                    s.peer,
                    printable(&to.address)
                );
                s.record(&reply::OVER_QUOTA.line(), vec![to.address], None);
                s.reply(&reply::OVER_QUOTA.line());
                return Next::Continue;
            }
            if !s
                .rcpts
                .iter()
                .any(|r| r.address.eq_ignore_ascii_case(&to.address))
            {
                s.rcpts.push(Rcpt {
                    address: to.address,
                    accounts,
                });
            }
            s.reply(&reply::RECIPIENT_OK.line());
            Next::Continue
        }
        Ok(refused) => {
            let (r, why) = match refused {
                Recipient::NotLocal => (&reply::RELAY_DENIED, "relaying denied"),
                _ => (&reply::NO_SUCH_USER, "no such user"),
            };
            log::info!(
                "smtp {}: refused recipient <{}>: {why}",
                s.peer,
                printable(&to.address)
            );
            s.record(&r.line(), vec![to.address], None);
            s.refuse(r).await
        }
        Err(e) => {
            log::warn!("smtp {}: recipient lookup failed: {e}", s.peer);
            s.reply(&crate::smtp::store_reply::reply_for(&e).line());
            Next::Continue
        }
    }
}

/// The submission port relays for its user: any syntactically complete address.
async fn submission(s: &mut Session, to: RcptTo<String>) -> Next {
    if s.mail_from.is_none() {
        return s
            .error(&reply::BAD_SEQUENCE.with("Need MAIL before RCPT"))
            .await;
    }
    if s.rcpts.len() >= s.ctx.config.max_recipients {
        return s.refuse(&reply::TOO_MANY_RECIPIENTS).await;
    }
    if !to.address.contains('@') {
        return s.error("501 5.1.3 Bad recipient address syntax\r\n").await;
    }
    // The account's sending limits (quota/send.rs), before the client sends the message.
    if let Some((acct, _)) = s.user.clone() {
        let n = u32::try_from(s.rcpts.len() + 1).unwrap_or(u32::MAX);
        if let Ok(Some(e)) =
            crate::quota::send::refuse(&s.ctx.store, acct, n, &s.ctx.config.send_limits).await
        {
            log::info!("submission {}: refused recipient: {e}", s.peer);
            s.reply(&crate::smtp::store_reply::reply_for(&e).line());
            return Next::Continue;
        }
    }
    s.rcpts.push(Rcpt {
        address: to.address,
        accounts: Vec::new(),
    });
    s.reply(&reply::RECIPIENT_OK.line());
    Next::Continue
}
