//! Exact transcripts for every command path (RFC 5321 §4.1, §4.3.2 sequencing): each line sent
//! and the exact reply expected. Limits have their own file (smtp_limits.rs).

use crate::common;
use crate::smtp_support as support;

use support::start;

const USER: &str = "alice@example.org";

/// Sends each line and checks the exact reply.
fn script(t: &mut common::Transcript, steps: &[(&str, &str)]) {
    for (send, expect) in steps {
        t.send(format!("{send}\r\n").as_bytes());
        let got = t.reply();
        if got != *expect {
            println!("MISMATCH after {send:?}: got {got:?}");
        }
        assert_eq!(got, *expect, "after {send:?}");
    }
}

#[test]
fn every_command_path() {
    let s = start(
        "smtp_greeting_delay_ms = 0\nhostname = \"mx.example.org\"\nmax_message_size = 10000\nsmtp_max_errors = 100\n",
        &[],
    );
    s.add_user(USER, "alice password 1");
    let mut t = s.transcript();
    script(
        &mut t,
        &[
            (
                "MAIL FROM:<b@example.net>",
                "503 5.5.1 Send EHLO or HELO first\r\n",
            ),
            ("NOOP", "250 2.0.0 OK\r\n"),
            ("NOOP anything", "250 2.0.0 OK\r\n"),
            ("HELP", "214 2.0.0 See RFC 5321\r\n"),
            (
                "VRFY alice",
                "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery\r\n",
            ),
            ("EXPN staff", "502 5.5.1 Command not implemented\r\n"),
            (
                "AUTH PLAIN AGFsaWNlAHg=",
                "502 5.5.1 Command not implemented\r\n",
            ),
            ("BDAT 10 LAST", "502 5.5.1 Command not implemented\r\n"),
            ("LHLO client.example", "500 5.5.1 Command unrecognized\r\n"),
            ("HELO client.example", "250 mx.example.org\r\n"),
            (
                "RCPT TO:<alice@example.org>",
                "503 5.5.1 Need MAIL before RCPT\r\n",
            ),
            ("DATA", "503 5.5.1 Need MAIL before DATA\r\n"),
            ("MAIL FROM:<b@example.net>", "250 2.1.0 Sender OK\r\n"),
            (
                "MAIL FROM:<c@example.net>",
                "503 5.5.1 Sender already given\r\n",
            ),
            ("DATA", "554 5.5.1 No valid recipients\r\n"),
            ("RCPT TO:<alice@example.org>", "250 2.1.5 Recipient OK\r\n"),
            ("RSET", "250 2.0.0 Reset\r\n"),
            (
                "RCPT TO:<alice@example.org>",
                "503 5.5.1 Need MAIL before RCPT\r\n",
            ),
            (
                "MAIL FROM:<b@example.net> BODY=8BITMIME SIZE=100",
                "250 2.1.0 Sender OK\r\n",
            ),
            (
                "RCPT TO:<alice@example.org> NOTIFY=NEVER",
                "555 5.5.4 Unsupported parameter\r\n",
            ),
            (
                "MAIL FROM:<b@example.net> RET=HDRS",
                "503 5.5.1 Sender already given\r\n",
            ),
            (
                "RCPT TO:alice@example.org",
                "501 5.5.4 Syntax: RCPT TO:<forward-path> [parameters]\r\n",
            ),
            ("RCPT TO:<alice@example.org>", "250 2.1.5 Recipient OK\r\n"),
            ("RCPT TO:<ALICE@example.org>", "250 2.1.5 Recipient OK\r\n"),
            ("DATA", "354 Start mail input; end with <CRLF>.<CRLF>\r\n"),
        ],
    );
    t.send(b"Subject: t\r\n\r\nbody\r\n.\r\n");
    let r = t.reply();
    assert!(r.starts_with("250 2.6.0 Message accepted as "), "{r}");
    // HELO/EHLO in the middle of a transaction resets it (RFC 5321 §4.1.4).
    script(
        &mut t,
        &[
            ("MAIL FROM:<b@example.net>", "250 2.1.0 Sender OK\r\n"),
            (
                "MAIL FROM b@example.net",
                "501 5.5.4 Syntax: MAIL FROM:<reverse-path> [parameters]\r\n",
            ),
        ],
    );
    t.send(b"EHLO client.example\r\n");
    assert_eq!(
        t.reply(),
        "250-mx.example.org greets 127.0.0.1\r\n250-SIZE 10000\r\n250-8BITMIME\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250-SMTPUTF8\r\n250-STARTTLS\r\n250 HELP\r\n"
    );
    script(
        &mut t,
        &[
            (
                "RCPT TO:<alice@example.org>",
                "503 5.5.1 Need MAIL before RCPT\r\n",
            ),
            (
                "MAIL FROM:<b@example.net> SIZE=10001",
                "552 5.3.4 Message size exceeds fixed maximum message size\r\n",
            ),
            (
                "MAIL FROM:<> ENVID=x",
                "555 5.5.4 Unsupported parameter ENVID\r\n",
            ),
            (
                "MAIL FROM:<> REQUIRETLS",
                "555 5.5.4 Unsupported parameter (BODY, RET, REQUIRETLS, CONPERM or BY)\r\n",
            ),
            (
                "MAIL FROM:<> SMTPUTF8 BODY=8BITMIME",
                "250 2.1.0 Sender OK\r\n",
            ),
            (
                "RCPT TO:<nobody@example.org>",
                "550 5.1.1 No such user here\r\n",
            ),
            (
                "RCPT TO:<someone@example.com>",
                "550 5.7.1 Relaying denied\r\n",
            ),
            (
                "RCPT TO:<postmaster@example.org",
                "501 5.5.4 Syntax: RCPT TO:<forward-path> [parameters]\r\n",
            ),
            // RFC 5321 §4.5.1: postmaster of a local domain is always accepted (admins get it).
            (
                "RCPT TO:<PostMaster@example.org>",
                "250 2.1.5 Recipient OK\r\n",
            ),
            ("RCPT TO:<postmaster>", "250 2.1.5 Recipient OK\r\n"),
            ("RCPT TO:<>", "501 5.1.3 Bad recipient address syntax\r\n"),
            (
                "RCPT TO:<postmaster@example.com>",
                "550 5.7.1 Relaying denied\r\n",
            ),
            ("QUIT", "221 2.0.0 Bye\r\n"),
        ],
    );
    assert_eq!(t.reply(), "", "closed after QUIT");
}
