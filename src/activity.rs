//! Recent SMTP activity, in memory only: the last [`CAPACITY`] transactions and refusals plus a
//! few counters, for the admin page. The SMTP session records one [`Transaction`] at the end of
//! every transaction (accepted or not) and for every refusal (recipient, sender, connection).
//!
//! Nothing here is persisted: after a restart the list starts empty and the "today" counters
//! start at zero (the store remains the truth for what was delivered). The lock is held only to
//! push or copy, so recording never waits on anything slow.

use serde::Serialize;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Mutex;

/// How many transactions are kept (oldest dropped first).
pub const CAPACITY: usize = 100;

/// The sender-authentication verdicts of one message (RFC 8601 result words such as "pass",
/// "fail", "softfail", "none", "temperror"), when authentication ran.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct AuthVerdicts {
    pub spf: String,
    pub dkim: String,
    pub arc: String,
    pub dmarc: String,
    /// Where the message went because of them: "inbox", "junk" or "rejected".
    pub disposition: String,
}

/// One SMTP transaction or refusal, as the admin sees it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Transaction {
    /// Unix time (seconds) when it ended.
    pub time: i64,
    pub client_ip: IpAddr,
    /// The HELO/EHLO name, when one was given.
    pub helo: Option<String>,
    /// The MAIL FROM address ("" is the null sender); None when refused before MAIL.
    pub sender: Option<String>,
    pub recipients: Vec<String>,
    /// The final reply code and text (e.g. 250 "2.6.0 Message accepted as ...").
    pub code: u16,
    pub text: String,
    pub auth: Option<AuthVerdicts>,
}

impl Transaction {
    /// A 2xx reply: the message was accepted.
    pub fn accepted(&self) -> bool {
        (200..300).contains(&self.code)
    }
}

/// What the admin page reads: newest transaction first.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub transactions: Vec<Transaction>,
    /// Messages accepted since midnight UTC (since start, if the server started today).
    pub received_today: u64,
    /// Refusals (any 4xx/5xx that refused a connection, sender, recipient or message) today.
    pub refused_today: u64,
    pub received_total: u64,
    pub refused_total: u64,
}

#[derive(Default)]
struct Inner {
    ring: VecDeque<Transaction>,
    /// Days since the epoch (UTC) the "today" counters refer to.
    day: i64,
    received_today: u64,
    refused_today: u64,
    received_total: u64,
    refused_total: u64,
}

/// Shared by the SMTP listener and the HTTP state (behind an `Arc`).
#[derive(Default)]
pub struct Activity {
    inner: Mutex<Inner>,
}

impl Activity {
    pub fn new() -> Activity {
        Activity::default()
    }

    /// Records one ended transaction or refusal.
    pub fn record(&self, t: Transaction) {
        let day = t.time.div_euclid(86_400);
        let accepted = t.accepted();
        // A poisoned lock only means another thread panicked mid-push; the data is still usable.
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if g.day != day {
            g.day = day;
            g.received_today = 0;
            g.refused_today = 0;
        }
        if accepted {
            g.received_today += 1;
            g.received_total += 1;
        } else {
            g.refused_today += 1;
            g.refused_total += 1;
        }
        if g.ring.len() >= CAPACITY {
            g.ring.pop_front();
        }
        g.ring.push_back(t);
    }

    /// A copy of the current state, newest transaction first.
    pub fn snapshot(&self) -> Snapshot {
        let today = crate::date::now().div_euclid(86_400);
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let same_day = g.day == today;
        Snapshot {
            transactions: g.ring.iter().rev().cloned().collect(),
            received_today: if same_day { g.received_today } else { 0 },
            refused_today: if same_day { g.refused_today } else { 0 },
            received_total: g.received_total,
            refused_total: g.refused_total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(time: i64, code: u16) -> Transaction {
        Transaction {
            time,
            client_ip: IpAddr::from([127, 0, 0, 1]),
            helo: Some("client".into()),
            sender: Some("a@b".into()),
            recipients: vec!["c@d".into()],
            code,
            text: String::new(),
            auth: None,
        }
    }

    #[test]
    fn ring_is_bounded_and_newest_first() {
        let a = Activity::new();
        let now = crate::date::now();
        for i in 0..(CAPACITY as i64 + 20) {
            a.record(t(now + i, if i % 2 == 0 { 250 } else { 550 }));
        }
        let s = a.snapshot();
        assert_eq!(s.transactions.len(), CAPACITY);
        assert_eq!(s.transactions[0].time, now + CAPACITY as i64 + 19);
        assert_eq!(s.received_total + s.refused_total, CAPACITY as u64 + 20);
        assert_eq!(s.received_total, 60);
    }

    #[test]
    fn counters_reset_on_a_new_day() {
        let a = Activity::new();
        a.record(t(10, 250));
        a.record(t(86_400 + 10, 250));
        a.record(t(86_400 + 11, 550));
        let g = a.inner.lock().unwrap();
        assert_eq!((g.received_today, g.refused_today), (1, 1));
        assert_eq!(g.received_total, 2);
    }
}
