//! Delivery Status Notifications (RFC 3464) for mail we could not deliver: a multipart/report
//! (RFC 6522) with a human-readable part, the machine-readable message/delivery-status, and
//! the original header (text/rfc822-headers, RFC 6522 §4 allows it instead of the whole
//! message, which keeps bounces of large mail small). Sent from the null sender so that a
//! bounce can never bounce again (RFC 5321 §4.5.5).

use crate::store::model_send::QueuedRecipient;

/// The enhanced status code (RFC 3463) in a reply like "550 5.1.1 No such user", or one made
/// from the basic code's class.
pub fn status_code(reply: &str) -> String {
    let mut words = reply.split_whitespace();
    let basic = words.next().unwrap_or("");
    if let Some(w) = words.next() {
        let parts: Vec<&str> = w.split('.').collect();
        if parts.len() == 3
            && matches!(parts[0], "2" | "4" | "5")
            && parts[1..]
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
        {
            return w.to_string();
        }
    }
    match basic.chars().next() {
        Some('2') => "2.0.0".into(),
        Some('4') => "4.0.0".into(),
        _ => "5.0.0".into(),
    }
}

/// The header section of `raw` (up to the empty line).
fn header_section(raw: &[u8]) -> &[u8] {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 2)
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| i + 1))
        .unwrap_or(raw.len());
    &raw[..end.min(64 * 1024)]
}

/// Builds the bounce for `failed` recipients of a message from `sender`.
pub fn bounce(
    hostname: &str,
    sender: &str,
    failed: &[QueuedRecipient],
    original: &[u8],
    arrival: i64,
    now: i64,
) -> Vec<u8> {
    let boundary = format!(
        "=_mailnook_dsn_{}",
        &crate::store::hex_sha256(format!("{now}{sender}{}", failed.len()).as_bytes())[..16]
    );
    let id = &crate::store::hex_sha256(&[original, sender.as_bytes()].concat())[..20];
    let mut human = String::from(
        "This is the mail system at the server that handled your message.\r\n\r\n\
         Your message could not be delivered to one or more recipients.\r\n\
         The reasons are given below.\r\n\r\n",
    );
    for r in failed {
        human.push_str(&format!(
            "<{}>: {}\r\n",
            crate::wire::printable(&r.address),
            crate::wire::printable(&r.reply)
        ));
    }
    let mut status = format!(
        "Reporting-MTA: dns; {hostname}\r\nArrival-Date: {}\r\n",
        crate::date::rfc5322(arrival)
    );
    for r in failed {
        // RFC 3464 §2.3: one block per recipient, separated by an empty line.
        status.push_str(&format!(
            "\r\nFinal-Recipient: rfc822; {}\r\nAction: failed\r\nStatus: {}\r\n",
            crate::wire::printable(&r.address),
            status_code(&r.reply)
        ));
        if r.reply.len() > 3 && r.reply.as_bytes()[..3].iter().all(u8::is_ascii_digit) {
            status.push_str(&format!(
                "Diagnostic-Code: smtp; {}\r\n",
                crate::wire::printable(&r.reply)
            ));
        }
    }
    let mut out = format!(
        "From: Mail Delivery System <MAILER-DAEMON@{hostname}>\r\n\
         To: <{}>\r\n\
         Subject: Undelivered Mail Returned to Sender\r\n\
         Date: {}\r\n\
         Message-ID: <dsn.{id}.{now}@{hostname}>\r\n\
         Auto-Submitted: auto-replied\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\"\r\n\
         \r\n\
         This is a MIME-encapsulated delivery status notification.\r\n\
         \r\n--{boundary}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         Content-Description: Notification\r\n\r\n\
         {human}\
         \r\n--{boundary}\r\n\
         Content-Type: message/delivery-status\r\n\
         Content-Description: Delivery report\r\n\r\n\
         {status}\
         \r\n--{boundary}\r\n\
         Content-Type: text/rfc822-headers\r\n\
         Content-Description: Undelivered message headers\r\n\r\n",
        crate::wire::printable(sender),
        crate::date::rfc5322(now),
    )
    .into_bytes();
    out.extend_from_slice(header_section(original));
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::model_send::RcptState;

    #[test]
    fn status_codes() {
        assert_eq!(status_code("550 5.1.1 No such user"), "5.1.1");
        assert_eq!(status_code("550 No such user"), "5.0.0");
        assert_eq!(status_code("451 4.4.1 timeout"), "4.4.1");
        assert_eq!(status_code(""), "5.0.0");
    }

    #[test]
    fn bounce_is_a_report() {
        let r = QueuedRecipient {
            address: "x@example.net".into(),
            state: RcptState::Failed,
            reply: "550 5.1.1 No such user".into(),
            local: false,
        };
        let b = bounce(
            "mx.example.org",
            "a@example.org",
            &[r],
            b"Subject: hi\r\n\r\nbody",
            0,
            1,
        );
        let text = String::from_utf8(b).unwrap();
        assert!(text.contains("report-type=delivery-status"));
        assert!(text.contains("Status: 5.1.1"));
        assert!(text.contains("Subject: hi"));
        assert!(!text.contains("body"));
    }
}
