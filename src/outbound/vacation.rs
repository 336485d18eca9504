//! Vacation replies (RFC 8621 §8 VacationResponse, sent by the rules of RFC 3834).
//!
//! After a message from outside is delivered to an account whose VacationResponse is enabled
//! and within its dates, the sender gets one reply per period: the time of the last reply to
//! each sender is kept (`VACATION_REPLIES`) and a new one goes only if the last was before the
//! period began (`fromDate`, or 7 days ago when there is none, RFC 3834 §2 "not more than once
//! per period of days"). No reply to the null sender, to mailer daemons and list addresses, to
//! anything Auto-Submitted, Precedence bulk/list/junk or carrying List-* headers (§2). The
//! reply itself comes from the null sender and says Auto-Submitted: auto-replied (§3.1.7,
//! §3.3), so it can never start a loop.

use super::{NewMessage, Outbound};
use crate::store::model::AccountId;

const DEFAULT_PERIOD: i64 = 7 * 86_400;

/// Whether the message's header says it must not get an automatic reply (RFC 3834 §2).
pub(crate) fn must_not_reply(sender: &str, header: &[u8]) -> bool {
    let s = sender.to_ascii_lowercase();
    let local = s.split('@').next().unwrap_or("");
    if s.is_empty()
        || local == "mailer-daemon"
        || local == "postmaster"
        || local.starts_with("owner-")
        || local.ends_with("-request")
        || local.contains("noreply")
        || local.contains("no-reply")
    {
        return true;
    }
    let Some(m) = mail_parser::MessageParser::new().parse_headers(header) else {
        return true;
    };
    for h in m.headers() {
        let name = h.name().to_ascii_lowercase();
        let value = h
            .value()
            .as_text()
            .map(|t| t.trim().to_ascii_lowercase())
            .unwrap_or_default();
        match name.as_str() {
            "auto-submitted" if value != "no" => return true,
            "precedence" if matches!(value.as_str(), "bulk" | "list" | "junk") => return true,
            n if n.starts_with("list-") => return true,
            "x-auto-response-suppress" | "x-autoreply" | "x-autorespond" => return true,
            _ => {}
        }
    }
    false
}

/// Called after a message from `sender` was delivered to `accounts`; `header` is the message's
/// header section. Never fails the delivery: problems are logged.
/// The receive step (`ingest/receive.rs`) calls this after a delivery committed.
impl crate::ingest::receive::Outgoing for Outbound {
    fn delivered(&self, sender: &str, header: Vec<u8>, accounts: Vec<AccountId>) {
        let out = self.clone();
        let sender = sender.to_string();
        smol::spawn(async move {
            on_delivery(&out, &sender, &header, &accounts).await;
        })
        .detach();
    }
    fn outbound(&self) -> Option<Outbound> {
        Some(self.clone())
    }
}

pub async fn on_delivery(out: &Outbound, sender: &str, header: &[u8], accounts: &[AccountId]) {
    // A header section of any size comes in by SMTP: parse at most what mime/limits.rs allows.
    let header = crate::mime::limits::bounded(header);
    if must_not_reply(sender, header) {
        return;
    }
    let parsed = mail_parser::MessageParser::new().parse_headers(header);
    let subject = parsed
        .as_ref()
        .and_then(|m| m.subject().map(str::to_string))
        .unwrap_or_default();
    let message_id = parsed
        .as_ref()
        .and_then(|m| m.message_id().map(str::to_string));
    let store = out.store().clone();
    let now = crate::date::now();
    for &acct in accounts {
        let who = sender.to_ascii_lowercase();
        // Decide and record in one transaction: two deliveries at once send one reply.
        let decision = store
            .write(move |w| {
                let v = w.vacation(acct)?;
                let active = v.is_enabled
                    && v.from_date.is_none_or(|f| f <= now)
                    && v.to_date.is_none_or(|t| now < t);
                if !active {
                    return Ok(None);
                }
                let period_start = v
                    .from_date
                    .unwrap_or(now - DEFAULT_PERIOD)
                    .max(now - DEFAULT_PERIOD);
                if w.vacation_replied(acct, &who)?
                    .is_some_and(|t| t >= period_start)
                {
                    return Ok(None);
                }
                w.set_vacation_replied(acct, &who, now)?;
                Ok(Some(v))
            })
            .await;
        let v = match decision {
            Ok(Some(v)) => v,
            Ok(None) => continue,
            Err(e) => {
                log::warn!("vacation: cannot check account {acct}: {e}");
                continue;
            }
        };
        let from = match store.read(move |r| r.account(acct)).await {
            Ok(Some(a)) => a.name,
            _ => continue,
        };
        let reply_subject = v
            .subject
            .clone()
            .unwrap_or_else(|| format!("Auto: {subject}"));
        let body = v
            .text_body
            .clone()
            .unwrap_or_else(|| "I am away and will read your message when I am back.".into());
        let mut raw = format!(
            "From: <{from}>\r\nTo: <{}>\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <vacation.{now}.{acct}@{}>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n",
            crate::wire::printable(sender),
            crate::wire::printable(&reply_subject),
            crate::date::rfc5322(now),
            out.inner.config.hostname
        );
        push_in_reply_to(&mut raw, message_id.as_deref());
        raw.push_str("\r\n");
        raw.push_str(&crlf(&body));
        raw.push_str("\r\n");
        queue_auto_reply(out, acct, sender, raw, "vacation").await;
    }
}

/// The threading headers of a reply to `message_id` (RFC 5322 §3.6.4).
pub fn push_in_reply_to(raw: &mut String, message_id: Option<&str>) {
    if let Some(id) = message_id {
        let id = crate::wire::printable(id);
        raw.push_str(&format!("In-Reply-To: <{id}>\r\nReferences: <{id}>\r\n"));
    }
}

/// Text with bare LF line ends made CRLF (RFC 5322 §2.3).
pub fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// Queues an auto-reply of `acct` to `sender` (VacationResponse and Sieve's vacation). RFC 3834
/// §3.3 / RFC 5230 §5.1: from the null sender, so it cannot loop. `what` names it in the log.
pub async fn queue_auto_reply(
    out: &Outbound,
    acct: AccountId,
    sender: &str,
    raw: String,
    what: &str,
) {
    let msg = NewMessage::null_sender(Some(acct), vec![sender.to_string()]);
    match out.enqueue(msg, raw.into_bytes()).await {
        Ok(id) => log::info!(
            "{what}: account {acct}: reply to <{}> queued as q{id}",
            crate::wire::printable(sender)
        ),
        Err(e) => log::warn!("{what}: cannot queue a reply: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn rfc3834_exclusions() {
        let plain = b"From: a@x.example\r\nSubject: hi\r\n\r\n";
        assert!(!must_not_reply("a@x.example", plain));
        assert!(must_not_reply("", plain));
        assert!(must_not_reply("MAILER-DAEMON@x.example", plain));
        assert!(must_not_reply("list-request@x.example", plain));
        assert!(must_not_reply(
            "a@x.example",
            b"Auto-Submitted: auto-replied\r\n\r\n"
        ));
        assert!(!must_not_reply(
            "a@x.example",
            b"Auto-Submitted: no\r\n\r\n"
        ));
        assert!(must_not_reply("a@x.example", b"Precedence: bulk\r\n\r\n"));
        assert!(must_not_reply(
            "a@x.example",
            b"List-Id: <l.x.example>\r\n\r\n"
        ));
    }
}
