//! Limits and abuse, as exact SMTP transcripts: timeouts (RFC 5321 §4.5.3.2), errors before
//! disconnect, early talkers, connections in total and per IP, the per-IP rate, recipients per
//! message, line length, and a client streaming far more than the size limit. After each, the
//! server still serves, and each refusal has a log line.

use crate::common;
use crate::smtp_support as support;

use common::{Transcript, code, message};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use support::{deliver, start, stored};

const USER: &str = "alice@example.org";
const PASS: &str = "alice password 1";

fn raw_connect(addr: std::net::SocketAddr) -> (TcpStream, BufReader<TcpStream>) {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let r = BufReader::new(s.try_clone().expect("clone"));
    (s, r)
}

fn line(r: &mut BufReader<TcpStream>) -> String {
    let mut l = String::new();
    let _ = r.read_line(&mut l);
    l
}

/// Reads until the peer closes; true when it did (EOF or reset).
fn closed(r: &mut BufReader<TcpStream>) -> bool {
    let mut buf = [0u8; 256];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
            Err(_) => return false,
        }
    }
}

#[tokio::test]
async fn command_and_data_timeouts() {
    let s = start(
        "smtp_greeting_delay_ms = 0\nsmtp_timeout_secs = 1\nsmtp_data_timeout_secs = 1\n",
        &[],
    );
    s.add_user(USER, PASS);
    // Idle at the command prompt: 421 then close.
    let (_w, mut r) = raw_connect(s.smtp);
    assert!(line(&mut r).starts_with("220 "));
    assert_eq!(line(&mut r), "421 4.4.2 Timeout, closing connection\r\n");
    assert!(closed(&mut r));
    // Stalled in the middle of DATA: 421, close, and nothing stored.
    let (mut w, mut r) = raw_connect(s.smtp);
    assert!(line(&mut r).starts_with("220 "));
    w.write_all(
        format!("HELO c\r\nMAIL FROM:<b@example.net>\r\nRCPT TO:<{USER}>\r\nDATA\r\n").as_bytes(),
    )
    .unwrap();
    for _ in 0..4 {
        line(&mut r);
    }
    w.write_all(b"Subject: half\r\n\r\nonly half a mess")
        .unwrap();
    assert_eq!(line(&mut r), "421 4.4.2 Timeout, closing connection\r\n");
    assert!(closed(&mut r));
    assert!(
        stored(&s, USER, PASS).await.is_empty(),
        "no half-stored message"
    );
    assert!(s.log().contains("data timeout, closing"));
}

#[tokio::test]
async fn too_many_errors_closes_the_session() {
    let s = start("smtp_greeting_delay_ms = 0\nsmtp_max_errors = 3\n", &[]);
    let mut t = s.transcript();
    for _ in 0..3 {
        assert_eq!(t.cmd("BOGUS"), 500);
    }
    t.send(b"BOGUS\r\n");
    assert_eq!(
        t.reply(),
        "421 4.7.0 Too many errors, closing connection\r\n"
    );
    assert_eq!(t.reply(), "", "closed");
    assert!(s.log().contains("too many errors, closing"));
    // Successful commands do not count.
    let mut t = s.transcript();
    for _ in 0..10 {
        assert_eq!(t.cmd("NOOP"), 250);
    }
}

#[tokio::test]
async fn early_talker_is_refused() {
    // Loopback is trusted by default (never delayed); here it is not, to see the check.
    let s = start(
        "smtp_greeting_delay_ms = 1000\nsmtp_greeting_trusted = []\n",
        &[],
    );
    let (mut w, mut r) = raw_connect(s.smtp);
    w.write_all(b"EHLO spammer\r\nMAIL FROM:<a@b>\r\n").unwrap();
    assert_eq!(
        line(&mut r),
        "554 5.5.1 Protocol error: data sent before the greeting\r\n"
    );
    assert!(closed(&mut r));
    assert!(s.log().contains("refused early talker"));
    // A patient client is greeted after the delay.
    let mut t = Transcript::connect(s.smtp);
    assert_eq!(t.cmd("EHLO patient"), 250);
    drop(t);
    // Issue #20: having waited once, the address is remembered and not delayed again, so a
    // client that now talks at once (as an MTA reconnecting per message may) is served.
    let (mut w, mut r) = raw_connect(s.smtp);
    w.write_all(b"EHLO again\r\n").unwrap();
    assert!(line(&mut r).starts_with("220 "), "greeted, not refused");
    assert!(line(&mut r).starts_with("250"), "and served");
}

/// Issue #20: trusted networks (loopback by default) are never delayed, so a local client that
/// talks first is served rather than refused as an early talker.
#[tokio::test]
async fn trusted_networks_are_never_delayed() {
    let s = start("smtp_greeting_delay_ms = 1000\n", &[]);
    let (mut w, mut r) = raw_connect(s.smtp);
    w.write_all(b"EHLO local\r\n").unwrap();
    assert!(line(&mut r).starts_with("220 "), "greeted, not refused");
    assert!(line(&mut r).starts_with("250"), "and served");
    assert!(!s.log().contains("refused early talker"));
}

/// Trusted networks are held only to the total, as Postfix's mynetworks: a local application
/// that opens a connection per message is not refused by the per-IP rate or count (found by
/// the bench's reconnecting-ingest figure).
#[tokio::test]
async fn trusted_networks_skip_the_per_ip_limits_but_not_the_total() {
    let s = start(
        "smtp_greeting_delay_ms = 0\nsmtp_max_connections = 4\nsmtp_max_connections_per_ip = 1\nsmtp_connections_per_minute_per_ip = 2\n",
        &[],
    );
    // Four at once from one address, twice the per-minute rate: all served.
    let mut open: Vec<Transcript> = (0..4).map(|_| Transcript::connect(s.smtp)).collect();
    for t in &mut open {
        assert_eq!(t.cmd("NOOP"), 250);
    }
    let (_w, mut r) = raw_connect(s.smtp);
    assert_eq!(
        line(&mut r),
        "421 4.7.0 Too many connections, try again later\r\n",
        "the total still holds"
    );
    drop(open);
    assert!(!s.log().contains("per-IP connection"));
}

#[tokio::test]
async fn connection_limits_total_per_ip_and_rate() {
    let s = start(
        "smtp_greeting_delay_ms = 0\nsmtp_greeting_trusted = []\nsmtp_max_connections = 3\nsmtp_max_connections_per_ip = 2\nsmtp_connections_per_minute_per_ip = 0\n",
        &[],
    );
    let a = Transcript::connect(s.smtp);
    let b = Transcript::connect(s.smtp);
    let (_w, mut r) = raw_connect(s.smtp);
    assert_eq!(
        line(&mut r),
        "421 4.7.0 Too many connections from your address, try again later\r\n"
    );
    assert!(closed(&mut r));
    drop(a);
    // The slot frees once the server notices the close.
    common::eventually("a freed slot", || async {
        let (_w, mut r) = raw_connect(s.smtp);
        line(&mut r).starts_with("220 ").then_some(())
    })
    .await;
    drop(b);
    assert!(
        s.log()
            .contains("refused connection: per-IP connection limit reached")
    );

    // Per-IP rate: 2 connections a minute, the third is refused even though none is open.
    let s = start(
        "smtp_greeting_delay_ms = 0\nsmtp_greeting_trusted = []\nsmtp_connections_per_minute_per_ip = 2\n",
        &[],
    );
    for _ in 0..2 {
        let mut t = Transcript::connect(s.smtp);
        assert_eq!(t.cmd("QUIT"), 221);
    }
    let (_w, mut r) = raw_connect(s.smtp);
    assert_eq!(
        line(&mut r),
        "421 4.7.0 Too many connections from your address per minute, try again later\r\n"
    );
    assert!(s.log().contains("per-IP connection rate exceeded"));
}

#[tokio::test]
async fn total_connection_limit() {
    let s = start(
        "smtp_greeting_delay_ms = 0\nsmtp_max_connections = 2\nsmtp_connections_per_minute_per_ip = 0\n",
        &[],
    );
    let _a = Transcript::connect(s.smtp);
    let _b = Transcript::connect(s.smtp);
    let (_w, mut r) = raw_connect(s.smtp);
    assert_eq!(
        line(&mut r),
        "421 4.7.0 Too many connections, try again later\r\n"
    );
}

#[tokio::test]
async fn recipients_line_length_and_size() {
    let s = start(
        "smtp_greeting_delay_ms = 0\nmax_recipients = 2\nmax_message_size = 2048\n",
        &[],
    );
    s.add_user(USER, PASS);
    s.cli_ok(&["alias", "add", "a1@example.org", USER]);
    s.cli_ok(&["alias", "add", "a2@example.org", USER]);
    let mut t = s.transcript();
    t.send(b"EHLO client\r\n");
    assert!(t.reply().contains("250-SIZE 2048\r\n"));
    assert_eq!(t.cmd("MAIL FROM:<b@example.net>"), 250);
    assert_eq!(t.cmd(&format!("RCPT TO:<{USER}>")), 250);
    assert_eq!(t.cmd("RCPT TO:<a1@example.org>"), 250);
    t.send(b"RCPT TO:<a2@example.org>\r\n");
    assert_eq!(t.reply(), "452 4.5.3 Too many recipients\r\n");
    assert_eq!(t.cmd("RSET"), 250);
    // A command line over the limit is refused, and the session goes on.
    t.send(format!("NOOP {}\r\n", "x".repeat(5000)).as_bytes());
    assert_eq!(t.reply(), "500 5.5.2 Line too long\r\n");
    // SIZE= over the limit at MAIL (RFC 1870 §6.1).
    t.send(b"MAIL FROM:<b@example.net> SIZE=4096\r\n");
    assert_eq!(
        t.reply(),
        "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
    );
    // A message over the limit without SIZE: 552 after the data, nothing stored.
    let big = format!("Subject: big\r\n\r\n{}\r\n", "y".repeat(3000));
    let r = deliver(&mut t, "b@example.net", &[USER], big.as_bytes());
    assert_eq!(
        r,
        "552 5.3.4 Message size exceeds fixed maximum message size\r\n"
    );
    let r = deliver(
        &mut t,
        "b@example.net",
        &[USER],
        &message("b@example.net", USER, "small", "s@x", "ok"),
    );
    assert!(r.starts_with("250 2.6.0"), "{r}");
    assert_eq!(stored(&s, USER, PASS).await.len(), 1);
    assert!(s.log().contains("more than 2 recipients"));
}

/// A client streaming 100 MB against a 1 MB limit is cut off after a few MB: the server never
/// buffers past the limit and stops reading well before the client is done.
#[tokio::test]
async fn huge_stream_is_cut_off_without_buffering() {
    let s = start(
        "smtp_greeting_delay_ms = 0\nmax_message_size = 1048576\n",
        &[],
    );
    s.add_user(USER, PASS);
    let (mut w, mut r) = raw_connect(s.smtp);
    assert!(line(&mut r).starts_with("220 "));
    w.write_all(
        format!("HELO c\r\nMAIL FROM:<b@example.net>\r\nRCPT TO:<{USER}>\r\nDATA\r\n").as_bytes(),
    )
    .unwrap();
    for _ in 0..4 {
        line(&mut r);
    }
    w.set_write_timeout(Some(Duration::from_secs(30))).unwrap();
    let chunk = vec![b'z'; 64 * 1024];
    let mut sent: u64 = 0;
    let total: u64 = 100 * 1024 * 1024;
    while sent < total {
        match w.write(&chunk) {
            Ok(n) => sent += n as u64,
            Err(_) => break,
        }
    }
    assert!(
        sent < total,
        "the server stopped reading ({sent} bytes sent)"
    );
    let rest = {
        let mut s = String::new();
        let _ = r.read_to_string(&mut s);
        s
    };
    assert!(
        rest.is_empty() || rest.starts_with("552 5.3.4"),
        "552 or a plain close: {rest:?}"
    );
    assert!(s.log().contains("message far over the size limit, closing"));
    // The server's peak memory stayed far below what it was sent.
    let status = std::fs::read_to_string(format!("/proc/{}/status", s.pid().expect("pid")))
        .expect("proc status");
    let peak_kib: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .expect("VmHWM");
    assert!(
        peak_kib < 64 * 1024,
        "peak RSS {peak_kib} KiB while receiving {sent} bytes"
    );
    // Still serving, nothing stored.
    let mut t = s.transcript();
    assert_eq!(t.cmd("NOOP"), 250);
    assert!(stored(&s, USER, PASS).await.is_empty());
    let _ = code;
}

#[test]
fn the_example_config_parses_and_validates() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("contrib/mailnook.toml");
    let c = mailnook::config::Config::load(&path).expect("contrib/mailnook.toml parses");
    c.validate().expect("and is valid");
    assert!(c.sender_auth);
}
