//! Rough figures for the closing note (ignored by default; run with
//! `cargo test --release --test smtp_figures -- --ignored --nocapture`):
//! - messages/s with sender authentication on (DKIM-signed, SPF and DMARC pass, local DNS)
//!   and off, over 8 concurrent SMTP sessions;
//! - server memory (VmRSS) idle, with 1000 open idle SMTP connections, and after a flood of
//!   2000 connections against the default limits.
//!
//! Prints numbers; asserts only that the work was done (no wall-clock assertions).

use crate::common;
use crate::smtp_support as support;

use base64::Engine;
use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use support::{Dns, start};

const USER: &str = "alice@mailnook.test";
const PASS: &str = "alice password 1";
const CONNS: usize = 8;
const PER_CONN: usize = 50;

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        })
        .unwrap_or(0)
}

fn send_all(addr: std::net::SocketAddr, messages: Vec<Vec<String>>) -> (usize, Duration) {
    let t = Instant::now();
    let handles: Vec<_> = messages
        .into_iter()
        .map(|batch| {
            std::thread::spawn(move || {
                let w = TcpStream::connect(addr).expect("connect");
                let mut r = BufReader::new(w.try_clone().expect("clone"));
                let mut w = w;
                let read = |r: &mut BufReader<TcpStream>| {
                    let mut l = String::new();
                    loop {
                        l.clear();
                        r.read_line(&mut l).expect("reply");
                        if l.as_bytes().get(3) != Some(&b'-') {
                            return l.clone();
                        }
                    }
                };
                read(&mut r);
                w.write_all(b"EHLO bench.sender.test\r\n").unwrap();
                read(&mut r);
                let mut ok = 0;
                for m in batch {
                    w.write_all(
                        format!("MAIL FROM:<a@sender.test>\r\nRCPT TO:<{USER}>\r\nDATA\r\n")
                            .as_bytes(),
                    )
                    .unwrap();
                    read(&mut r);
                    read(&mut r);
                    read(&mut r);
                    w.write_all(format!("{m}.\r\n").as_bytes()).unwrap();
                    if read(&mut r).starts_with("250") {
                        ok += 1;
                    }
                }
                ok
            })
        })
        .collect();
    let ok = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    (ok, t.elapsed())
}

fn corpus(key: Option<&[u8]>) -> Vec<Vec<String>> {
    (0..CONNS)
        .map(|c| {
            (0..PER_CONN)
                .map(|i| {
                    let m = format!(
                        "From: a@sender.test\r\nTo: {USER}\r\nSubject: bench {c}-{i}\r\nMessage-ID: <{c}-{i}@sender.test>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n{}\r\n",
                        "A line of ordinary text in a message body. ".repeat(40)
                    );
                    match key {
                        Some(k) => {
                            let sig = mail_auth::dkim::DkimSigner::from_key(
                                Ed25519Key::from_pkcs8_der(k).expect("key"),
                            )
                            .domain("sender.test")
                            .selector("s1")
                            .headers(["From", "To", "Subject", "Date", "Message-ID"])
                            .sign(m.as_bytes())
                            .expect("sign");
                            format!("{}{m}", sig.to_header())
                        }
                        None => m,
                    }
                })
                .collect()
        })
        .collect()
}

#[test]
#[ignore]
fn figures() {
    let dns = Dns::start();
    let der = Ed25519Key::generate_pkcs8().expect("generate");
    let key = Ed25519Key::from_pkcs8_der(&der).expect("key");
    let public = base64::engine::general_purpose::STANDARD.encode(key.public_key());
    dns.txt(
        "s1._domainkey.sender.test",
        &format!("v=DKIM1; k=ed25519; p={public}"),
    );
    dns.txt("sender.test", "v=spf1 ip4:127.0.0.1 -all");
    dns.txt("bench.sender.test", "v=spf1 ip4:127.0.0.1 -all");
    dns.txt("_dmarc.sender.test", "v=DMARC1; p=reject");
    let resolver = dns.addr.to_string();
    let cfg = "smtp_greeting_delay_ms = 0\nhostname = \"mx.mailnook.test\"\nsmtp_connections_per_minute_per_ip = 0\nsmtp_max_connections = 2000\nsmtp_max_connections_per_ip = 2000\n";

    for auth in [true, false] {
        let args: Vec<&str> = if auth {
            vec!["--sender-auth", "on", "--dns-resolver", &resolver]
        } else {
            vec![]
        };
        let s = start(cfg, &args);
        s.add_user(USER, PASS);
        let msgs = corpus(if auth { Some(&der) } else { None });
        let total = CONNS * PER_CONN;
        let (ok, took) = send_all(s.smtp, msgs);
        assert_eq!(ok, total);
        if auth {
            assert_eq!(
                s.log()
                    .matches("spf=pass dkim=pass arc=none dmarc=pass -> inbox")
                    .count(),
                total,
                "every message was really authenticated"
            );
        }
        println!(
            "FIGURE sender_auth={auth}: {total} messages over {CONNS} sessions in {:.2} s = {:.0} msg/s",
            took.as_secs_f64(),
            total as f64 / took.as_secs_f64()
        );
    }

    // Memory under a connection flood.
    let s = start(cfg, &[]);
    let pid = s.pid().expect("pid");
    std::thread::sleep(Duration::from_millis(300));
    let idle = rss_kib(pid);
    let mut open = Vec::new();
    for _ in 0..1000 {
        let c = TcpStream::connect(s.smtp).expect("connect");
        let mut r = BufReader::new(c.try_clone().expect("clone"));
        let mut l = String::new();
        r.read_line(&mut l).expect("greeting");
        assert!(l.starts_with("220"));
        open.push(c);
    }
    let with_1000 = rss_kib(pid);
    drop(open);
    println!(
        "FIGURE memory: idle {idle} KiB, with 1000 open SMTP sessions {with_1000} KiB ({:.1} KiB per session)",
        (with_1000.saturating_sub(idle)) as f64 / 1000.0
    );

    // A flood against the default limits: 2000 connections, most refused with 421. Loopback
    // is not trusted here: the flood stands for a stranger.
    let d = start(
        "smtp_greeting_delay_ms = 0\nsmtp_greeting_trusted = []\n",
        &[],
    );
    let pid = d.pid().expect("pid");
    std::thread::sleep(Duration::from_millis(300));
    let before = rss_kib(pid);
    let mut conns = Vec::new();
    let (mut greeted, mut refused) = (0, 0);
    for _ in 0..2000 {
        let Ok(c) = TcpStream::connect(d.smtp) else {
            continue;
        };
        let _ = c.set_read_timeout(Some(Duration::from_secs(10)));
        let mut r = BufReader::new(c.try_clone().expect("clone"));
        let mut l = String::new();
        let _ = r.read_line(&mut l);
        if l.starts_with("220") {
            greeted += 1;
        } else if l.starts_with("421") {
            refused += 1;
        }
        conns.push(c);
    }
    let during = rss_kib(pid);
    println!(
        "FIGURE flood vs default limits: 2000 connections, {greeted} greeted, {refused} refused 421; RSS {before} KiB -> {during} KiB"
    );
    let mut t = common::Transcript::connect(s.smtp);
    assert_eq!(t.cmd("NOOP"), 250);
}
