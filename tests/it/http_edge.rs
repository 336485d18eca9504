//! The HTTP/1.1 edge, driven with raw bytes over TLS (issue 24). Each test is one finding made
//! against the old async-h1 connection layer, replayed against the real server:
//! 1. a chunked body whose last `0\r\n\r\n` comes in two TLS records hung the connection, and
//!    the socket leaked after the client left;
//! 2. a header line without a line feed grew memory without bound;
//! 3. a body that never arrived held a JMAP concurrency slot (and its connection) forever;
//! 4. `Transfer-Encoding: identity, chunked`, `xchunked`, two TE lines, two Content-Lengths:
//!    read as "no body" or last-wins, so a request could hide inside another's body;
//! 5. pipelined requests were dropped; a bare-LF request swallowed the next one;
//! 6. refusals closed TCP without an answer and without TLS close_notify; HTTP/1.0 got nothing.
//!
//! A clean end of a rustls client stream (`read` returning 0) means the server sent
//! close_notify; a TCP close without it is an `UnexpectedEof` error. `read_to_end` succeeding
//! therefore checks finding 6 on every refusal.

use crate::common;
use crate::core_common;
use common::{CORE, Server, rss_kb};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::time::Duration;

const ALICE: &str = "alice@example.org";
const BOB: &str = "bob@example.org";
const PASS: &str = "correct horse battery";

/// A server with short HTTP timeouts (seconds) and one JMAP request slot for everybody.
fn server() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mailnook.toml");
    std::fs::write(
        &path,
        "http_header_timeout_secs = 2\nhttp_body_timeout_secs = 2\nhttp_idle_timeout_secs = 3\n\
         [limits]\nmax_concurrent_requests = 1\n",
    )
    .expect("config");
    let s = Server::start_with(&["--config", path.to_str().expect("path")]);
    s.add_user(ALICE, PASS);
    s.add_user(BOB, PASS);
    (s, dir)
}

fn echo_body(n: u64) -> String {
    json!({"using": [CORE], "methodCalls": [["Core/echo", {"n": n}, "c"]]}).to_string()
}

fn api_head(auth: &str, extra: &str) -> String {
    format!(
        "POST /jmap/api HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\n\
         Content-Type: application/json\r\n{extra}\r\n"
    )
}

/// Reads one response (Content-Length framed, or none for bodyless statuses).
fn read_response(r: &mut impl BufRead) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let (status, headers) = core_common::read_head(r);
    let body = core_common::read_body(r, &headers);
    (status, headers, body)
}

/// Everything the server sends until it closes; panics if it closes without close_notify.
fn read_to_close(r: &mut impl Read) -> String {
    let mut all = Vec::new();
    r.read_to_end(&mut all)
        .expect("a clean close (TLS close_notify), not a cut connection");
    String::from_utf8_lossy(&all).into_owned()
}

fn status_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("HTTP/1.")).collect()
}

fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Waits (bounded) until the server holds no more descriptors than `baseline`.
fn fds_back_to(pid: u32, baseline: usize) -> usize {
    let mut n = fd_count(pid);
    for _ in 0..100 {
        if n <= baseline {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        n = fd_count(pid);
    }
    n
}

#[test]
fn split_chunked_ending_neither_hangs_nor_leaks() {
    let (s, _d) = server();
    let pid = s.pid().expect("pid");
    let auth = core_common::basic(ALICE, PASS);
    // Warm up (first login, lazily opened files), then count.
    let (st, _, _) = core_common::request(
        s.https,
        "POST",
        "/jmap/api",
        &auth,
        &[("Content-Type", "application/json".into())],
        echo_body(0).as_bytes(),
    );
    assert_eq!(st, 200);
    std::thread::sleep(Duration::from_millis(500));
    let baseline = fd_count(pid);

    let mut c = core_common::connect(s.https);
    let body = echo_body(1);
    let mut wire = api_head(&auth, "Transfer-Encoding: chunked\r\n");
    wire.push_str(&format!("{:x}\r\n{body}\r\n0\r\n\r", body.len()));
    c.write_all(wire.as_bytes()).expect("write");
    c.flush().expect("flush");
    std::thread::sleep(Duration::from_millis(200));
    // The last LF of the chunked body, alone in its own TLS record.
    c.write_all(b"\n").expect("write");
    c.flush().expect("flush");
    let mut r = BufReader::new(c);
    let (st, _, b) = read_response(&mut r);
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&b));
    let v: Value = serde_json::from_slice(&b).expect("json");
    assert_eq!(v["methodResponses"][0][1]["n"], 1);

    // The connection is not stuck: the next request on it is answered too.
    let next = format!(
        "{}{}",
        api_head(
            &auth,
            &format!("Content-Length: {}\r\n", echo_body(2).len())
        ),
        echo_body(2)
    );
    r.get_mut().write_all(next.as_bytes()).expect("write");
    r.get_mut().flush().expect("flush");
    let (st, _, b) = read_response(&mut r);
    assert_eq!(st, 200);
    let v: Value = serde_json::from_slice(&b).expect("json");
    assert_eq!(v["methodResponses"][0][1]["n"], 2);
    assert!(
        fd_count(pid) > baseline,
        "the open connection holds a descriptor"
    );

    // The client leaves: the server lets go of the socket.
    drop(r);
    let after = fds_back_to(pid, baseline);
    assert!(after <= baseline, "fds: {after} open, {baseline} before");
}

#[test]
fn header_line_without_end_is_cut_off_early() {
    let (s, _d) = server();
    let pid = s.pid().expect("pid");
    let before = rss_kb(pid);
    let mut c = core_common::connect(s.https);
    c.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Endless: ")
        .expect("write");
    let block = vec![b'a'; 64 * 1024];
    let total = 16 * 1024 * 1024;
    let mut sent = 0;
    while sent < total {
        if c.write_all(&block).and_then(|_| c.flush()).is_err() {
            break;
        }
        sent += block.len();
    }
    // The server may have answered 431 before closing; the reset that its close causes (our
    // unread bytes) can destroy that answer, so it is not required here.
    let mut rest = Vec::new();
    let _ = c.read_to_end(&mut rest);
    let after = rss_kb(pid);
    println!(
        "endless header line: {} KiB sent before the server closed; server RSS {before} -> {after} KiB",
        sent / 1024
    );
    assert!(
        sent < total,
        "the server read all 16 MiB of one header line"
    );
    assert!(
        after < before + 8 * 1024,
        "server RSS grew from {before} to {after} KiB"
    );
}

#[test]
fn oversized_head_gets_431_and_a_clean_close() {
    let (s, _d) = server();
    let mut c = core_common::connect(s.https);
    // Larger than the 16 KiB head limit, complete, so nothing is left unread when it closes.
    let head = format!(
        "GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: {}\r\n\r\n",
        "a".repeat(20 * 1024)
    );
    c.write_all(head.as_bytes()).expect("write");
    c.flush().expect("flush");
    let text = read_to_close(&mut c);
    assert_eq!(
        status_lines(&text),
        ["HTTP/1.1 431 Request Header Fields Too Large"]
    );
}

#[test]
fn stalled_body_times_out_without_holding_the_api_slot() {
    let (s, _d) = server();
    let alice = core_common::basic(ALICE, PASS);
    let bob = core_common::basic(BOB, PASS);
    // Content-Length 100, one byte sent, then nothing.
    let mut stalled = core_common::connect(s.https);
    stalled
        .write_all(format!("{}{{", api_head(&alice, "Content-Length: 100\r\n")).as_bytes())
        .expect("write");
    stalled.flush().expect("flush");
    // Expect: 100-continue and no body at all.
    let mut waiting = core_common::connect(s.https);
    waiting
        .write_all(api_head(&alice, "Content-Length: 50\r\nExpect: 100-continue\r\n").as_bytes())
        .expect("write");
    waiting.flush().expect("flush");
    // Long enough for both to pass authentication and start waiting for their bodies.
    std::thread::sleep(Duration::from_millis(1000));

    // The only slot (max_concurrent_requests = 1) is free for another account meanwhile.
    let (st, _, b) = core_common::request(
        s.https,
        "POST",
        "/jmap/api",
        &bob,
        &[("Content-Type", "application/json".into())],
        echo_body(7).as_bytes(),
    );
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&b));

    // Both stalled requests end: 408 and a clean close, not a connection held forever.
    let text = read_to_close(&mut stalled);
    assert_eq!(
        status_lines(&text),
        ["HTTP/1.1 408 Request Timeout"],
        "{text}"
    );
    let text = read_to_close(&mut waiting);
    assert_eq!(
        status_lines(&text),
        ["HTTP/1.1 100 Continue", "HTTP/1.1 408 Request Timeout"],
        "{text}"
    );
}

/// A body trickled one byte just inside each per-wait deadline (2 s here) used to be read for
/// ever; the average-rate floor ends it with 408 soon after the first deadline's worth.
#[test]
fn trickled_body_is_cut_off() {
    let (s, _d) = server();
    let alice = core_common::basic(ALICE, PASS);
    let mut c = core_common::connect(s.https);
    c.write_all(api_head(&alice, "Content-Length: 5000\r\n").as_bytes())
        .expect("write");
    c.flush().expect("flush");
    // One byte a second (each inside the 2 s per-wait deadline), at most 12; after each, look
    // briefly for the server's answer so we never write into a connection it has closed.
    c.sock
        .set_read_timeout(Some(Duration::from_millis(900)))
        .expect("timeout");
    let mut all = Vec::new();
    let mut sent = 0;
    for _ in 0..12 {
        let mut buf = [0u8; 4096];
        match c.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                all.extend_from_slice(&buf[..n]);
                break;
            }
            Err(_) => {} // nothing yet
        }
        c.write_all(b" ").expect("write a byte");
        c.flush().expect("flush");
        sent += 1;
    }
    c.sock
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let _ = c.read_to_end(&mut all);
    let text = String::from_utf8_lossy(&all);
    assert_eq!(
        status_lines(&text),
        ["HTTP/1.1 408 Request Timeout"],
        "after {sent} bytes: {text}"
    );
    assert!(
        sent < 12,
        "the whole trickle was read ({sent} bytes) without a refusal"
    );
}

/// Sends `head` followed by a complete request for the session; only the first may be
/// answered, with 400, and then the connection must close.
fn assert_refused_without_smuggling(s: &Server, framing: &str, body: &str) {
    let auth = core_common::basic(ALICE, PASS);
    let mut c = core_common::connect(s.https);
    let wire = format!("{}{body}", api_head(&auth, framing));
    c.write_all(wire.as_bytes()).expect("write");
    c.flush().expect("flush");
    let text = read_to_close(&mut c);
    assert_eq!(
        status_lines(&text),
        ["HTTP/1.1 400 Bad Request"],
        "{framing:?}: {text}"
    );
    assert!(
        !text.contains("apiUrl"),
        "the hidden request was served: {text}"
    );
}

#[test]
fn ambiguous_framing_is_refused_and_nothing_is_smuggled() {
    let (s, _d) = server();
    let auth = core_common::basic(ALICE, PASS);
    let hidden =
        format!("GET /jmap/session HTTP/1.1\r\nHost: localhost\r\nAuthorization: {auth}\r\n\r\n");
    let chunked_hidden = format!("0\r\n\r\n{hidden}");
    let n = hidden.len();
    for (framing, body) in [
        (
            "Transfer-Encoding: identity, chunked\r\n".to_string(),
            &chunked_hidden,
        ),
        ("Transfer-Encoding: xchunked\r\n".to_string(), &hidden),
        (
            "Transfer-Encoding: chunked, identity\r\n".to_string(),
            &hidden,
        ),
        (
            "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n".to_string(),
            &chunked_hidden,
        ),
        (
            "Transfer-Encoding: chunked, chunked\r\n".to_string(),
            &chunked_hidden,
        ),
        (
            format!("Content-Length: 0\r\nContent-Length: {n}\r\n"),
            &hidden,
        ),
        (
            format!("Content-Length: {n}\r\nContent-Length: 0\r\n"),
            &hidden,
        ),
        (format!("Content-Length: 0, {n}\r\n"), &hidden),
        (
            format!(
                "Content-Length: {}\r\nTransfer-Encoding: chunked\r\n",
                chunked_hidden.len()
            ),
            &chunked_hidden,
        ),
        (
            format!(
                "Transfer-Encoding: chunked\r\nContent-Length: {}\r\n",
                chunked_hidden.len()
            ),
            &chunked_hidden,
        ),
        (
            "Host: evil.example\r\nContent-Length: 0\r\n".to_string(),
            &hidden,
        ),
    ] {
        assert_refused_without_smuggling(&s, &framing, body);
    }
}

#[test]
fn pipelined_requests_are_all_answered_in_order() {
    let (s, _d) = server();
    let auth = core_common::basic(ALICE, PASS);
    let mut wire = String::new();
    for i in 0..20u64 {
        let body = echo_body(i);
        let close = if i == 19 { "Connection: close\r\n" } else { "" };
        wire.push_str(&api_head(
            &auth,
            &format!("Content-Length: {}\r\n{close}", body.len()),
        ));
        wire.push_str(&body);
    }
    let mut c = core_common::connect(s.https);
    c.write_all(wire.as_bytes()).expect("write"); // one write, as in the finding
    c.flush().expect("flush");
    let mut r = BufReader::new(c);
    for i in 0..20u64 {
        let (st, _, b) = read_response(&mut r);
        assert_eq!(st, 200, "response {i}");
        let v: Value = serde_json::from_slice(&b).expect("json");
        assert_eq!(v["methodResponses"][0][1]["n"], i, "answers out of order");
    }
    assert_eq!(read_to_close(&mut r), "");
}

#[test]
fn bare_lf_request_does_not_swallow_the_next() {
    let (s, _d) = server();
    let mut c = core_common::connect(s.https);
    // RFC 9112 §2.2: a recipient MAY take a lone LF as a line end.
    c.write_all(
        b"GET / HTTP/1.1\nHost: localhost\n\nGET /no-such-page HTTP/1.1\nHost: localhost\nConnection: close\n\n",
    )
    .expect("write");
    c.flush().expect("flush");
    let text = read_to_close(&mut c);
    let lines = status_lines(&text);
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(
        lines[0], "HTTP/1.1 200 OK",
        "the webmail's sign-in page: {text}"
    );
    assert_eq!(lines[1], "HTTP/1.1 404 Not Found", "{text}");
}

#[test]
fn http_1_0_is_answered() {
    let (s, _d) = server();
    let auth = core_common::basic(ALICE, PASS);
    let mut c = core_common::connect(s.https);
    c.write_all(format!("GET /jmap/session HTTP/1.0\r\nAuthorization: {auth}\r\n\r\n").as_bytes())
        .expect("write");
    c.flush().expect("flush");
    let text = read_to_close(&mut c);
    let lines = status_lines(&text);
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].ends_with(" 200 OK"), "{text}");
    assert!(text.contains("\"apiUrl\""), "{text}");
}

#[test]
fn slow_head_and_idle_connection_are_closed_cleanly() {
    let (s, _d) = server();
    // A head that never completes: closed after the head timeout, with close_notify.
    let mut slow = core_common::connect(s.https);
    slow.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n")
        .expect("write");
    slow.flush().expect("flush");
    let text = read_to_close(&mut slow);
    assert!(
        status_lines(&text).iter().all(|l| l.contains(" 408 ")),
        "{text}"
    );

    // An idle keep-alive connection after one answered request: closed after the idle timeout.
    let mut idle = core_common::connect(s.https);
    idle.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .expect("write");
    idle.flush().expect("flush");
    let mut r = BufReader::new(idle);
    let (st, _) = core_common::read_head(&mut r);
    assert_eq!(st, 200, "the webmail's sign-in page");
    let rest = read_to_close(&mut r);
    assert!(status_lines(&rest).is_empty(), "{rest}");
}

/// Found by trying it: one address held 19,800 idle TCP connections to the HTTPS port (18,415
/// file descriptors, memory 44 -> 218 MB). Connections are now admitted per address and in
/// total like SMTP's; one past the limit is closed before the handshake, and a slot frees when
/// a connection closes.
#[test]
fn connections_per_address_are_capped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mailnook.toml");
    std::fs::write(&path, "http_max_connections_per_ip = 5\n").expect("config");
    let s = Server::start_with(&["--config", path.to_str().expect("path")]);
    let held: Vec<std::net::TcpStream> = (0..5)
        .map(|_| std::net::TcpStream::connect(s.https).expect("connect"))
        .collect();
    // Give the server a moment to accept all five before the sixth arrives.
    std::thread::sleep(Duration::from_millis(300));
    let mut sixth = std::net::TcpStream::connect(s.https).expect("connect");
    sixth
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut buf = [0u8; 16];
    // Closed (EOF or reset) at once; a read that times out means it was taken in.
    let closed = match sixth.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    };
    assert!(closed, "the sixth connection is closed unanswered");
    drop(held);
    // Slots come back: a real request is served again.
    let mut served = false;
    for _ in 0..50 {
        std::thread::sleep(Duration::from_millis(100));
        // A connection refused before the handshake makes the helper panic: try again.
        let tried = std::panic::catch_unwind(|| {
            core_common::request(s.https, "GET", "/jmap/session", "", &[], b"").0
        });
        if tried.is_ok_and(|st| st == 401) {
            served = true;
            break;
        }
    }
    assert!(
        served,
        "after the held connections closed, requests are served again"
    );
}

/// Found in review: the Host header went into the URL tide routes by, so `Host: x/admin?`
/// sent a request for `/jmap/session` to `/admin`. A Host that is not `host[:port]` is refused.
#[test]
fn host_header_cannot_rewrite_the_path() {
    let (s, _d) = server();
    for host in ["x/admin?", "a@b", "x#frag", "x/admin/assets/admin.css#"] {
        let mut c = core_common::connect(s.https);
        c.write_all(
            format!("GET /jmap/session HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .expect("write");
        c.flush().expect("flush");
        let text = read_to_close(&mut c);
        assert_eq!(
            status_lines(&text),
            ["HTTP/1.1 400 Bad Request"],
            "Host {host:?}: {text}"
        );
    }
}
