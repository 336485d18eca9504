//! EHLO and HELO (RFC 5321 §4.1.1.1): start over (no transaction) and say what we offer.

use crate::smtp::session::{Mode, Next, Session};

/// EHLO: the extensions offered depend on the port and on TLS. Port 25 offers PIPELINING
/// (RFC 2920); the submission port offers AUTH only over TLS (RFC 4954 §4), so a password
/// never crosses the network in clear.
pub fn ehlo(s: &mut Session, host: String) -> Next {
    s.reset();
    s.helo = Some(host);
    s.esmtp = true;
    let c = &s.ctx.config;
    let mut r = format!(
        "250-{} greets {}\r\n250-SIZE {}\r\n250-8BITMIME\r\n",
        c.hostname,
        s.peer.ip(),
        c.max_message_size
    );
    if matches!(s.mode, Mode::Mx) {
        r.push_str("250-PIPELINING\r\n");
    }
    r.push_str("250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n");
    match (&s.mode, s.conn.is_tls()) {
        (_, false) => r.push_str("250-STARTTLS\r\n"),
        (Mode::Submission(_), true) => r.push_str("250-AUTH PLAIN LOGIN\r\n"),
        (Mode::Mx, true) => {}
    }
    r.push_str("250 HELP\r\n");
    s.reply(&r);
    Next::Continue
}

/// HELO: no extensions.
pub fn helo(s: &mut Session, host: String) -> Next {
    s.reset();
    s.helo = Some(host);
    s.esmtp = false;
    let r = format!("250 {}\r\n", s.ctx.config.hostname);
    s.reply(&r);
    Next::Continue
}
