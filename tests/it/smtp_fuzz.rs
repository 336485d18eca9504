//! Seeded fuzz of the SMTP command loop over a real socket: thousands of random command lines
//! (real verbs with random arguments, and random bytes). Every line gets exactly one well-formed
//! reply (three digits, a space or dash, CRLF), the server never dies, and a normal delivery
//! works afterwards. The seed is printed so a failure reproduces.

use crate::common;
use crate::common::rng;
use crate::smtp_support as support;
use rng::Rng;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;
use support::{deliver, start};

const USER: &str = "alice@example.org";

const VERBS: [&str; 16] = [
    "EHLO",
    "HELO",
    "MAIL FROM:",
    "RCPT TO:",
    "DATA",
    "RSET",
    "NOOP",
    "VRFY",
    "EXPN",
    "HELP",
    "QUIT",
    "BDAT",
    "AUTH",
    "LHLO",
    "mail from:",
    "rcpt to:",
];
const PIECES: [&str; 14] = [
    "<>",
    "<a@b>",
    "<alice@example.org>",
    " SIZE=",
    "BODY=8BITMIME",
    "SMTPUTF8",
    "<",
    ">",
    "@",
    "\"q\"",
    " ",
    "=",
    "999999999999999999999",
    "<x@[127.0.0.1]>",
];

fn random_line(rng: &mut Rng) -> Vec<u8> {
    let mut line = Vec::new();
    if rng.below(4) > 0 {
        line.extend_from_slice(VERBS[rng.below(VERBS.len())].as_bytes());
        for _ in 0..rng.below(5) {
            line.extend_from_slice(PIECES[rng.below(PIECES.len())].as_bytes());
        }
    }
    for _ in 0..rng.below(if line.is_empty() { 40 } else { 4 }) {
        let b = (rng.next() & 0xff) as u8;
        // LF would split the line in two (two replies); everything else goes, CR and NUL too.
        line.push(if b == b'\n' { b'x' } else { b });
    }
    line.extend_from_slice(b"\r\n");
    line
}

struct Conn {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

fn connect(addr: std::net::SocketAddr) -> Conn {
    let w = TcpStream::connect(addr).expect("connect");
    w.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut r = BufReader::new(w.try_clone().expect("clone"));
    let mut l = String::new();
    r.read_line(&mut l).expect("greeting");
    assert!(l.starts_with("220 "), "{l}");
    Conn { w, r }
}

/// Reads one reply; None when the server closed the connection.
fn reply(c: &mut Conn) -> Option<String> {
    let mut all = String::new();
    loop {
        let mut l = Vec::new();
        if c.r.read_until(b'\n', &mut l).ok()? == 0 {
            return None;
        }
        let l = String::from_utf8(l).expect("replies are UTF-8");
        assert!(l.ends_with("\r\n"), "CRLF: {l:?}");
        let b = l.as_bytes();
        assert!(
            b.len() >= 5 && b[..3].iter().all(u8::is_ascii_digit) && (b[3] == b' ' || b[3] == b'-'),
            "well-formed reply line: {l:?}"
        );
        all.push_str(&l);
        if b[3] == b' ' {
            return Some(all);
        }
    }
}

#[test]
fn random_command_lines_always_get_one_reply() {
    let s = start(
        "smtp_greeting_delay_ms = 0\nsmtp_max_errors = 1000000\nsmtp_connections_per_minute_per_ip = 0\n",
        &[],
    );
    s.add_user(USER, "alice password 1");
    // SMTP_FUZZ_SEED=<n> replays a run.
    let seed = std::env::var("SMTP_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(7)
        })
        | 1;
    println!("fuzz seed {seed}");
    let mut rng = Rng(seed);
    let mut c = connect(s.smtp);
    let mut in_data = false;
    for i in 0..3000 {
        let line = random_line(&mut rng);
        if in_data {
            // A random RCPT may have been accepted and DATA started: end the message.
            c.w.write_all(b"\r\n.\r\n").expect("write");
            in_data = false;
            let r = reply(&mut c).expect("reply after data");
            assert!(
                r.starts_with("250") || r.starts_with('5'),
                "seed {seed} #{i}: {r}"
            );
        }
        c.w.write_all(&line).expect("write");
        match reply(&mut c) {
            Some(r) if r.starts_with("354") => in_data = true,
            Some(r) if r.starts_with("221") => c = connect(s.smtp),
            Some(_) => {}
            None => {
                // Only QUIT-like endings may close; anything else is a failure.
                panic!(
                    "seed {seed} #{i}: connection closed after {:?}",
                    String::from_utf8_lossy(&line)
                );
            }
        }
    }
    // The server still delivers normally.
    let mut t = s.transcript();
    assert_eq!(t.cmd("EHLO after.fuzz"), 250);
    let r = deliver(
        &mut t,
        "b@example.net",
        &[USER],
        &common::message("b@example.net", USER, "after fuzz", "f@x", "still here"),
    );
    assert!(r.starts_with("250 2.6.0"), "{r}");
}
