//! Issue #21 step 1: port 25 and the submission port are one session (`src/smtp/session.rs`)
//! with a mode. Before, they were two state machines that had drifted apart: on an over-long
//! command line port 25 answered `500 5.5.2` and went on while the submission port answered
//! and hung up (RFC 5321 §4.5.3.1.4/§4.5.3.1.6 ask for the former), and an idle submission
//! client was dropped without the `421` port 25 sends (RFC 5321 §4.5.3.2), after a data
//! timeout of its own instead of `smtp_data_timeout_secs`. These tests drive both ports of
//! the real binary and expect the same answers from each.

use crate::common::{Transcript, code};
use crate::core_common;
use crate::smtp_support;
use base64::Engine;
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;

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

/// A submission conversation over TLS, as a mail client has it after STARTTLS.
struct Tls {
    r: BufReader<StreamOwned<ClientConnection, TcpStream>>,
}

impl Tls {
    fn connect(addr: std::net::SocketAddr) -> Tls {
        Tls::connect_offering(addr, &[])
    }

    /// STARTTLS with the client offering these ALPN names (RFC 7301).
    fn connect_offering(addr: std::net::SocketAddr, alpn: &[&[u8]]) -> Tls {
        let tcp = TcpStream::connect(addr).expect("connect");
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .expect("timeout");
        let mut plain = BufReader::new(tcp.try_clone().expect("clone"));
        let mut w = tcp.try_clone().expect("clone");
        let mut line = String::new();
        plain.read_line(&mut line).expect("greeting");
        assert!(line.starts_with("220 "), "{line}");
        // Pipelining past STARTTLS is not allowed (RFC 3207 §6): one command at a time.
        w.write_all(b"STARTTLS\r\n").expect("starttls");
        line.clear();
        plain.read_line(&mut line).expect("220");
        assert!(line.starts_with("220 "), "{line}");
        let name = ServerName::try_from("localhost").expect("name");
        let mut config = (*core_common::client_config()).clone();
        config.alpn_protocols = alpn.iter().map(|a| a.to_vec()).collect();
        let conn = ClientConnection::new(std::sync::Arc::new(config), name).expect("client");
        Tls {
            r: BufReader::new(StreamOwned::new(conn, tcp)),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.r.get_mut().write_all(bytes).expect("write");
        self.r.get_mut().flush().expect("flush");
    }

    /// One reply; empty when the connection ended without one.
    fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            match self.r.read_line(&mut line) {
                Ok(0) | Err(_) => return all,
                Ok(_) => {}
            }
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] == b' ' {
                return all;
            }
        }
    }

    fn cmd(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply()
    }
}

#[test]
fn submission_data_timeout_is_smtp_data_timeout_secs_and_says_421() {
    let s = smtp_support::start(
        "smtp_greeting_delay_ms = 0\nsmtp_data_timeout_secs = 1\n",
        &[],
    );
    s.add_user("alice@example.org", "correct horse battery staple");
    let mut t = Tls::connect(s.submission);
    assert_eq!(code(&t.cmd("EHLO client.example")), 250);
    let token = base64::engine::general_purpose::STANDARD
        .encode("\0alice@example.org\0correct horse battery staple");
    assert_eq!(code(&t.cmd(&format!("AUTH PLAIN {token}"))), 235);
    assert_eq!(code(&t.cmd("MAIL FROM:<alice@example.org>")), 250);
    assert_eq!(code(&t.cmd("RCPT TO:<bob@example.net>")), 250);
    assert_eq!(code(&t.cmd("DATA")), 354);
    // Part of a message, then nothing: the data timeout, not 180 s, ends it, with a reason.
    t.send(b"Subject: half a message\r\n");
    assert_eq!(t.reply(), "421 4.4.2 Timeout, closing connection\r\n");
}

/// Found in review: the SMTP ports used the HTTPS listener's TLS configuration, whose ALPN list
/// (`http/1.1`, `acme-tls/1`) made rustls refuse a mail client offering another name. A
/// server without ALPN for a protocol ignores the extension (RFC 7301 §3.2).
#[test]
fn starttls_accepts_a_client_that_offers_an_alpn_name_on_both_ports() {
    let s = smtp_support::start(smtp_support::PLAIN, &[]);
    for (port, addr) in [("smtp", s.smtp), ("submission", s.submission)] {
        let mut t = Tls::connect_offering(addr, &[b"smtp"]);
        assert_eq!(code(&t.cmd("EHLO client.example")), 250, "{port}");
        assert_eq!(code(&t.cmd("QUIT")), 221, "{port}");
    }
}

/// Found in review: a client that pipelines commands and never reads the replies held its
/// session (and its admission slot) until TCP gave up, because reply writes had no timeout.
/// Now a write that cannot finish within `smtp_timeout_secs` ends the session.
#[test]
fn a_client_that_stops_reading_is_dropped() {
    let s = smtp_support::start("smtp_greeting_delay_ms = 0\nsmtp_timeout_secs = 1\n", &[]);
    for (port, addr) in [("smtp", s.smtp), ("submission", s.submission)] {
        let mut w = TcpStream::connect(addr).expect("connect");
        let (tx, rx) = std::sync::mpsc::channel();
        // Writes NOOPs until the server drops the connection; the replies are never read, so
        // the server's send buffer and our receive buffer fill and its writes block.
        std::thread::spawn(move || {
            let batch = "NOOP\r\n".repeat(4096);
            let ended = loop {
                if let Err(e) = w.write_all(batch.as_bytes()) {
                    break e;
                }
            };
            let _ = tx.send(ended.kind());
        });
        // Generous: the server gives up after about a second; a hang is what fails.
        let ended = rx.recv_timeout(std::time::Duration::from_secs(120));
        assert!(
            ended.is_ok(),
            "{port}: the server still holds a client that stopped reading"
        );
    }
}
