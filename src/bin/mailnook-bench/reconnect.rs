//! Ingest from senders that open a new connection for every message (issue #20: common for
//! MTAs, e.g. Postfix's smtp-source -s 16): each message is its own session (connect, greeting,
//! EHLO, MAIL, RCPT, DATA, QUIT) and 16 such sessions run at once. The client is on loopback,
//! a trusted network by default (`smtp_greeting_trusted`), so the greeting is never delayed.

use crate::corpus::Corpus;
use crate::load::{self, MAIL_FROM};
use crate::side::Side;
use crate::smtp_client::Smtp;
use crate::stats::Row;
use std::path::Path;

pub fn figure(tmp: &Path, count: usize, conns: usize) -> Result<Row, String> {
    eprintln!("bench: {count} messages, a new SMTP connection for each, {conns} in parallel ...");
    let side = Side::start(tmp, "reconnect", &[])?;
    let sent = load::parallel(count, conns, |c, tickets| {
        // The same corpus as the reused-connection ingest (seeded per thread).
        let mut corpus = Corpus::new(5000 + c as u64, crate::USER);
        let mut bytes = 0;
        while tickets.take().is_some() {
            let m = corpus.next(None);
            bytes += m.bytes.len() as u64;
            let mut smtp = Smtp::connect(side.srv.smtp)?;
            smtp.send(MAIL_FROM, crate::USER, &m.bytes)?;
            smtp.quit();
        }
        Ok(bytes)
    })?;
    let (mut http, acct) = side.jmap()?;
    let seen = side.emails(&mut http, &acct)?;
    side.stop();
    Ok(Row {
        figure: "SMTP ingest, reconnecting".into(),
        value: if seen == count as u64 {
            format!("{:.0} msg/s", sent.rate(count))
        } else {
            format!(
                "{:.0} msg/s (only {seen} of {count} visible!)",
                sent.rate(count)
            )
        },
        target: ">= 1500 msg/s".into(),
        how: format!(
            "{count} msgs ({:.0} MB), a new session per message (connect..QUIT), {conns} at once, durable (250) and visible over JMAP; fresh server; loopback is a trusted network: no greeting delay; per-IP connection rate limit off",
            sent.bytes as f64 / 1e6
        ),
    })
}
