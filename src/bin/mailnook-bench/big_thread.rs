//! One huge thread (issue #20: notification streams, long list threads, one message repeated):
//! into a fresh server, N distinct messages, then N replies that all join one thread (the
//! same root in In-Reply-To and References, RFC 5322 §3.6.4, and the same base subject).
//! Delivery into the thread must cost what a distinct message costs; with the thread present,
//! Thread/get of it and the collapsed inbox are timed.

use crate::http_client::Https;
use crate::load::{self, Sent};
use crate::side::Side;
use crate::stats::{Row, ms, percentile};
use crate::{USER, USING, inbox, method_error, timed};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

const ROOT: &str = "thread-root@bench.example";
const SUBJECT: &str = "Build 1234 of the nightly pipeline";

#[derive(Clone, Copy)]
enum Kind {
    Distinct,
    Root,
    Reply,
}

/// One message; the same body size for every kind, so only the threading differs.
fn message(kind: Kind, i: usize) -> Vec<u8> {
    let (id, subject, refs) = match kind {
        Kind::Distinct => (
            format!("distinct-{i}@bench.example"),
            format!("Topic {i}: the garden and the invoice"),
            String::new(),
        ),
        Kind::Root => (ROOT.to_string(), SUBJECT.to_string(), String::new()),
        Kind::Reply => (
            format!("reply-{i}@bench.example"),
            format!("Re: {SUBJECT}"),
            format!("In-Reply-To: <{ROOT}>\r\nReferences: <{ROOT}>\r\n"),
        ),
    };
    let mut m = format!(
        "From: Build Bot <bot@example.net>\r\nTo: {USER}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n{refs}Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    );
    for line in 0..40 {
        m.push_str(&format!(
            "Step {line} of run {i}: compiled the garden module, checked the invoice tests.\r\n"
        ));
    }
    m.into_bytes()
}

fn send(side: &Side, kind: Kind, n: usize, conns: usize) -> Result<Sent, String> {
    load::reused(side.srv.smtp, n, conns, |_| {
        Ok(move |i| Ok(message(kind, i)))
    })
}

pub fn figures(tmp: &Path, n: usize, conns: usize) -> Result<Vec<Row>, String> {
    eprintln!("bench: {n} distinct messages, then {n} into one thread ...");
    let side = Side::start(tmp, "thread", &[])?;
    // Each phase starts with the server at rest: the thread phase must not pay for indexing
    // and merging the distinct phase's backlog. The server's CPU per message (delivery and
    // indexing) is the steadier comparison; the rates move with other load on the cores.
    let idle = Duration::from_secs(120);
    let pid = side.srv.pid();
    let cpu0 = crate::cpu::delivery_ms(pid);
    let distinct = send(&side, Kind::Distinct, n, conns)?;
    crate::cpu::wait_idle(pid, idle);
    let cpu_distinct = crate::cpu::delivery_ms(pid) - cpu0;
    send(&side, Kind::Root, 1, 1)?;
    let cpu1 = crate::cpu::delivery_ms(pid);
    let thread = send(&side, Kind::Reply, n, conns)?;
    crate::cpu::wait_idle(pid, idle);
    let cpu_thread = crate::cpu::delivery_ms(pid) - cpu1;
    let (mut http, acct) = side.jmap()?;
    let reads = read_figures(&mut http, &acct, n);
    side.stop();
    let (d, t) = (distinct.rate(n), thread.rate(n));
    let mut rows = vec![Row {
        figure: "one-thread delivery".into(),
        value: format!(
            "{t:.0} msg/s into the thread vs {d:.0} distinct ({:+.0} %); delivery CPU {:.2} vs {:.2} ms/msg ({:+.0} %)",
            (t / d - 1.0) * 100.0,
            cpu_thread / n.max(1) as f64,
            cpu_distinct / n.max(1) as f64,
            (cpu_thread / cpu_distinct.max(1.0) - 1.0) * 100.0
        ),
        target: "within 10 %".into(),
        how: format!(
            "fresh server: {n} distinct msgs, then {n} replies to one root (same References, In-Reply-To, base subject), {:.1} KB each, {conns} reused sessions",
            distinct.bytes as f64 / n.max(1) as f64 / 1e3
        ),
    }];
    rows.extend(reads?);
    Ok(rows)
}

/// Thread/get of the big thread and the collapsed inbox, with the thread present.
fn read_figures(http: &mut Https, acct: &str, n: usize) -> Result<Vec<Row>, String> {
    // The newest email is the last reply: its thread is the big one.
    let v = http.jmap(&json!({"using": USING, "methodCalls": [
        ["Email/query", {"accountId": acct, "sort": [{"property": "receivedAt", "isAscending": false}], "limit": 1}, "q"],
        ["Email/get", {"accountId": acct, "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"}, "properties": ["threadId"]}, "g"]]}))?;
    let tid = v["methodResponses"][1][1]["list"][0]["threadId"]
        .as_str()
        .ok_or_else(|| format!("no thread id: {v}"))?
        .to_string();
    let req = json!({"using": USING, "methodCalls": [["Thread/get", {"accountId": acct, "ids": [tid]}, "t"]]})
        .to_string();
    // The client does not parse the 10,000 ids while timing: the figure is the server's
    // answer over TLS. The last answer is parsed to check the thread really holds them all.
    let mut last = Vec::new();
    let (lat, _) = timed(100, || {
        let (status, body) = http.request("POST", "/jmap/api", req.as_bytes())?;
        if status != 200 {
            return Err(format!("Thread/get: HTTP {status}"));
        }
        last = body;
        Ok(Value::Null)
    })?;
    let v: Value = serde_json::from_slice(&last).map_err(|e| e.to_string())?;
    let members = v["methodResponses"][0][1]["list"][0]["emailIds"]
        .as_array()
        .map_or(0, Vec::len);
    let mut value = match method_error(&v) {
        None => format!(
            "p50 {} p99 {}",
            ms(percentile(&lat, 0.5)),
            ms(percentile(&lat, 0.99))
        ),
        Some(e) => format!("error {e}"),
    };
    if members != n + 1 {
        value.push_str(&format!(" ({members} emails, not {}!)", n + 1));
    }
    let thread_get = Row {
        figure: format!("Thread/get, {} emails", n + 1),
        value,
        target: "p50 <= 2 ms".into(),
        how: format!(
            "the one thread, 100 runs, {:.0} KB answer over TLS (not parsed while timed)",
            last.len() as f64 / 1e3
        ),
    };
    let (lat, v) = inbox::newest_50(http, acct, 200)?;
    let inbox = Row {
        figure: "inbox query+get, big thread".into(),
        value: inbox::value(&lat, &v),
        target: "p50 <= 2 ms".into(),
        how: format!(
            "newest 50, collapseThreads, list properties, the {}-email thread newest among {n} others, 200 runs",
            n + 1
        ),
    };
    Ok(vec![thread_get, inbox])
}
