//! Nothing lost: many clients deliver concurrently, the server is killed with SIGKILL in the
//! middle of the load, and restarted. Every message that got 250 must be stored exactly once and
//! readable byte for byte; a message that did not get 250 is either absent or complete (its
//! commit may have landed just before the crash), never partial or duplicated.

use crate::common;
use crate::smtp_support as support;

use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::start;

const USER: &str = "alice@example.org";
const PASS: &str = "alice password 1";
const CLIENTS: usize = 12;
const PER_CLIENT: usize = 40;

fn body(subject: &str) -> String {
    // Several KB so that a torn write would show.
    format!("{subject} ").repeat(200)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_load_loses_nothing_acknowledged() {
    let mut s = start(
        "smtp_greeting_delay_ms = 0\nsmtp_connections_per_minute_per_ip = 0\nsmtp_max_connections_per_ip = 100\n",
        &[],
    );
    s.add_user(USER, PASS);
    let addr = s.smtp;
    let acked: Arc<Mutex<HashSet<String>>> = Arc::default();
    let attempted: Arc<Mutex<HashSet<String>>> = Arc::default();
    let count = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for c in 0..CLIENTS {
        let acked = acked.clone();
        let attempted = attempted.clone();
        let count = count.clone();
        handles.push(std::thread::spawn(move || {
            let stream = std::net::TcpStream::connect(addr).ok()?;
            let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
            let mut r = std::io::BufReader::new(stream.try_clone().expect("clone"));
            let mut w = stream;
            use std::io::{BufRead, Write};
            let mut reply = |w: &mut std::net::TcpStream, line: &[u8]| -> Option<String> {
                if !line.is_empty() {
                    w.write_all(line).ok()?;
                }
                let mut l = String::new();
                loop {
                    l.clear();
                    if r.read_line(&mut l).ok()? == 0 {
                        return None;
                    }
                    if l.as_bytes().get(3) != Some(&b'-') {
                        return Some(l);
                    }
                }
            };
            reply(&mut w, b"")?;
            reply(&mut w, b"EHLO load.example\r\n")?;
            for i in 0..PER_CLIENT {
                let subject = format!("c{c}-m{i}");
                let msg = format!(
                    "From: load@example.net\r\nTo: {USER}\r\nSubject: {subject}\r\nMessage-ID: <{subject}@load>\r\n\r\n{}\r\n",
                    body(&subject)
                );
                reply(&mut w, b"MAIL FROM:<load@example.net>\r\n")?;
                reply(&mut w, format!("RCPT TO:<{USER}>\r\n").as_bytes())?;
                reply(&mut w, b"DATA\r\n")?;
                attempted.lock().unwrap().insert(subject.clone());
                let r = reply(&mut w, format!("{msg}.\r\n").as_bytes())?;
                if r.starts_with("250 ") {
                    acked.lock().unwrap().insert(subject);
                    count.fetch_add(1, Ordering::SeqCst);
                }
            }
            Some(())
        }));
    }
    // Kill once a good part of the load is acknowledged, while the rest is in flight.
    let target = CLIENTS * PER_CLIENT / 3;
    common::eventually("a third of the load acknowledged", || {
        let n = count.load(Ordering::SeqCst);
        async move { (n >= target).then_some(()) }
    })
    .await;
    s.kill();
    for h in handles {
        let _ = h.join();
    }
    let acked = acked.lock().unwrap().clone();
    let attempted = attempted.lock().unwrap().clone();
    assert!(acked.len() >= target, "acked {}", acked.len());
    assert!(
        acked.len() < CLIENTS * PER_CLIENT,
        "the kill landed mid-load (acked {})",
        acked.len()
    );

    s.restart();
    let all = support::stored(&s, USER, PASS).await;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for m in &all {
        *seen.entry(m.subject.clone()).or_default() += 1;
        assert!(
            attempted.contains(&m.subject),
            "only messages that were sent are stored: {}",
            m.subject
        );
        assert!(
            m.raw.ends_with(&format!("{}\r\n", body(&m.subject))),
            "{} is complete",
            m.subject
        );
    }
    for subject in &acked {
        assert_eq!(
            seen.get(subject),
            Some(&1),
            "{subject} acknowledged: stored exactly once"
        );
    }
    assert!(seen.values().all(|n| *n == 1), "no duplicates");
    println!(
        "crash test: {} acknowledged, {} stored after restart, {} attempted",
        acked.len(),
        all.len(),
        attempted.len()
    );

    // Counts agree with the messages, and the messages are searchable when the search index is
    // there (Email/query `text`): a filter it does not know yet is a method error, not a pass.
    let acct = s.account_id(USER, PASS).await;
    let r = s
        .call(
            USER,
            PASS,
            json!([["Mailbox/get", {"accountId": acct, "properties": ["role", "totalEmails"]}, "m"]]),
        )
        .await;
    let inbox = r[0][1]["list"]
        .as_array()
        .and_then(|l| l.iter().find(|m| m["role"] == "inbox"))
        .cloned()
        .expect("inbox");
    assert_eq!(inbox["totalEmails"].as_u64(), Some(all.len() as u64));
    let probe = acked.iter().next().expect("one acked").clone();
    let found = common::eventually("the index to catch up", || {
        let s = &s;
        let acct = acct.clone();
        let probe = probe.clone();
        async move {
            let r = s
                .call(
                    USER,
                    PASS,
                    json!([["Email/query", {"accountId": acct, "filter": {"text": probe}}, "q"]]),
                )
                .await;
            if r[0][0] == "error" {
                return Some(None);
            }
            let n = r[0][1]["ids"].as_array().map(|a| a.len()).unwrap_or(0);
            (n == 1).then_some(Some(n))
        }
    })
    .await;
    if found.is_none() {
        println!("search is not available yet: the searchable check was skipped");
    }
}
