//! Issue #21 step 1: port 25 and the submission port are one session (`src/smtp/session.rs`)
//! with a mode. Before, they were two state machines that had drifted apart: on an over-long
//! command line port 25 answered `500 5.5.2` and went on while the submission port answered
//! and hung up (RFC 5321 §4.5.3.1.4/§4.5.3.1.6 ask for the former), and an idle submission
//! client was dropped without the `421` port 25 sends (RFC 5321 §4.5.3.2), after a data
//! timeout of its own instead of `smtp_data_timeout_secs`. These tests drive both ports of
//! the real binary and expect the same answers from each.

use crate::common::{Transcript, code};
use crate::smtp_support;

/// A line far over the 4096-octet limit, longer than one read, so it arrives in pieces.
fn long_noop() -> String {
    format!("NOOP {}\r\n", "x".repeat(20_000))
}

#[test]
fn both_ports_answer_an_over_long_line_and_go_on() {
    let s = smtp_support::start(smtp_support::PLAIN, &[]);
    for (port, addr) in [("smtp", s.smtp), ("submission", s.submission)] {
        let mut t = Transcript::connect(addr);
        t.send(b"EHLO client.example\r\n");
        assert_eq!(code(&t.reply()), 250, "{port}");
        t.send(long_noop().as_bytes());
        assert_eq!(t.reply(), "500 5.5.2 Line too long\r\n", "{port}");
        // The session goes on: the next command is answered normally.
        assert_eq!(
            t.cmd("NOOP"),
            250,
            "{port}: the session survives the long line"
        );
        assert_eq!(t.cmd("QUIT"), 221, "{port}");
    }
}

#[test]
fn over_long_lines_count_against_smtp_max_errors_on_both_ports() {
    let s = smtp_support::start("smtp_greeting_delay_ms = 0\nsmtp_max_errors = 1\n", &[]);
    for (port, addr) in [("smtp", s.smtp), ("submission", s.submission)] {
        let mut t = Transcript::connect(addr);
        t.send(long_noop().as_bytes());
        assert_eq!(t.reply(), "500 5.5.2 Line too long\r\n", "{port}");
        t.send(long_noop().as_bytes());
        assert_eq!(
            t.reply(),
            "421 4.7.0 Too many errors, closing connection\r\n",
            "{port}"
        );
    }
}

#[test]
fn both_ports_say_421_when_a_client_goes_quiet() {
    let s = smtp_support::start("smtp_greeting_delay_ms = 0\nsmtp_timeout_secs = 1\n", &[]);
    for (port, addr) in [("smtp", s.smtp), ("submission", s.submission)] {
        let mut t = Transcript::connect(addr);
        assert_eq!(
            t.reply(),
            "421 4.4.2 Timeout, closing connection\r\n",
            "{port}: an idle client is told why it is dropped"
        );
    }
}
