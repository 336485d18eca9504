//! `make bench`: drives the real release binary on loopback and prints one table of figures
//! (issue #8). Sizes are set by environment variables so a quick run is possible:
//! BENCH_WEBMAIL (default 1; 0 leaves out the headless-Chromium webmail figures),
//! BENCH_MESSAGES (default 50000, the measured ingest), BENCH_TOTAL (default 100000, the store
//! size for the read figures), BENCH_CONNECTIONS (default 16), BENCH_PUSH (default 100, under the server's 128 connections per IP; idle event-source and WebSocket
//! connections), BENCH_WS_PUSHES (default 100, timed WebSocket pushes), BENCH_JUNK (default 1;
//! 0 leaves out the junk filter's figures), BENCH_IMPORT (default 5000, messages imported from
//! Dovecot and from a Maildir; 0 leaves them out; `BENCH_IMPORT_ONLY=1` prints only those
//! figures). Each on a fresh server of its own, so the main store's figures stay as they are
//! (issue #20): BENCH_RECONNECT (default 5000, messages sent with a new connection each),
//! BENCH_AUTH (default 4000, messages into each of the sender-authentication-on and -off
//! servers), BENCH_THREAD (default 10000, distinct messages and then as many into one
//! thread). 0 leaves any of them out. The main server's RSS after the run is read last.

mod big_thread;
mod corpus;
mod cpu;
// The integration tests' DNS responder (std only), one copy for both; the bench serves only
// TXT records with it.
#[allow(dead_code)]
#[path = "../../../tests/it/smtp_support/dns.rs"]
mod dns;
mod dovecot;
mod http_client;
mod idle;
mod inbox;
mod junk;
mod load;
mod reconnect;
mod send;
mod sender_auth;
mod server;
mod settle;
mod side;
mod smtp_client;
mod stats;
mod transfer;
mod webmail;
mod websocket;

use serde_json::{Value, json};
use stats::{Row, ms, percentile};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const USER: &str = "bench@example.org";
const PASS: &str = "bench password";
const USING: [&str; 2] = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"];

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if let Err(e) = run() {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

struct Ingest {
    latencies: Vec<Duration>,
    bytes: u64,
    elapsed: Duration,
    peak_rss_kib: u64,
    /// The highest anonymous (heap) part seen, and the mapped-file part at the peak.
    peak_anon_kib: u64,
    peak_file_kib: u64,
}

/// Sends `count` messages over `conns` concurrent SMTP sessions.
fn ingest(srv: &server::Server, count: usize, conns: usize, seed: u64) -> Result<Ingest, String> {
    let next = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let pid = srv.pid();
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            // The split at the highest total, and the highest anonymous part on its own.
            let mut peak = (0, 0, 0);
            let mut peak_anon = 0;
            while !done.load(Ordering::Relaxed) {
                let now = stats::rss_split_kib(pid);
                if now.0 > peak.0 {
                    peak = now;
                }
                peak_anon = peak_anon.max(now.1);
                std::thread::sleep(Duration::from_millis(25));
            }
            (peak, peak_anon)
        })
    };
    let t = Instant::now();
    let mut handles = Vec::new();
    for c in 0..conns {
        let (next, bytes, addr) = (next.clone(), bytes.clone(), srv.smtp);
        handles.push(std::thread::spawn(
            move || -> Result<Vec<Duration>, String> {
                let mut corpus = corpus::Corpus::new(seed * 1000 + c as u64 + 1, USER);
                let mut smtp = smtp_client::Smtp::connect(addr)?;
                let mut lat = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < count as u64 {
                    let m = corpus.next(None);
                    bytes.fetch_add(m.bytes.len() as u64, Ordering::Relaxed);
                    lat.push(smtp.send("sender@example.net", USER, &m.bytes)?);
                }
                smtp.quit();
                Ok(lat)
            },
        ));
    }
    let mut latencies = Vec::new();
    for h in handles {
        latencies.extend(h.join().map_err(|_| "sender thread panicked")??);
    }
    let elapsed = t.elapsed();
    done.store(true, Ordering::Relaxed);
    let (split, peak_anon_kib) = sampler.join().unwrap_or(((0, 0, 0), 0));
    let peak_rss_kib = split.0;
    let peak_file_kib = split.2;
    latencies.sort();
    Ok(Ingest {
        latencies,
        bytes: bytes.load(Ordering::Relaxed),
        elapsed,
        peak_rss_kib,
        peak_anon_kib,
        peak_file_kib,
    })
}

fn account_id(http: &mut http_client::Https) -> Result<String, String> {
    let (status, body) = http.request("GET", "/jmap/session", b"")?;
    if status != 200 {
        return Err(format!("session: HTTP {status}"));
    }
    let v: Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    v["primaryAccounts"]["urn:ietf:params:jmap:mail"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "no account".into())
}

fn timed<F: FnMut() -> Result<Value, String>>(
    n: usize,
    mut f: F,
) -> Result<(Vec<Duration>, Value), String> {
    let mut out = Vec::with_capacity(n);
    let mut last = Value::Null;
    for _ in 0..n {
        let t = Instant::now();
        last = f()?;
        out.push(t.elapsed());
    }
    out.sort();
    Ok((out, last))
}

fn method_error(v: &Value) -> Option<String> {
    v["methodResponses"]
        .as_array()?
        .iter()
        .find(|r| r[0] == "error")
        .map(|r| r[1].to_string())
}

/// Runs one group of figures in a temporary directory of its own and prints its table.
fn only(
    figures: impl FnOnce(&mut Vec<Row>, &std::path::Path) -> Result<(), String>,
) -> Result<(), String> {
    let tmp = std::env::temp_dir().join(format!("mailnook-bench-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    let r = figures(&mut rows, &tmp);
    stats::print(&rows);
    let _ = std::fs::remove_dir_all(&tmp);
    r
}

fn run() -> Result<(), String> {
    // One group of figures alone: `BENCH_JUNK_ONLY=1 make bench` (issue #17),
    // `BENCH_IMPORT_ONLY=1` (issue #18), `BENCH_AUTH_ONLY=1` (issue #20).
    if std::env::var_os("BENCH_JUNK_ONLY").is_some() {
        return only(junk::figures);
    }
    if std::env::var_os("BENCH_IMPORT_ONLY").is_some() {
        return only(|rows, tmp| transfer::import_figures(rows, tmp, env("BENCH_IMPORT", 5000)));
    }
    if std::env::var_os("BENCH_AUTH_ONLY").is_some() {
        return only(|rows, tmp| {
            let r = sender_auth::figure(tmp, env("BENCH_AUTH", 4000), env("BENCH_CONNECTIONS", 16));
            rows.extend(Row::or_failed("sender auth cost", r.map(|r| vec![r])));
            Ok(())
        });
    }
    let measured = env("BENCH_MESSAGES", 50_000);
    let total = env("BENCH_TOTAL", 100_000).max(measured);
    let conns = env("BENCH_CONNECTIONS", 16);
    // Under the server's per-IP connection limit (128 by default): the bench opens them all from
    // 127.0.0.1, and the 129th is refused in the TLS handshake.
    let push_n = env("BENCH_PUSH", 100);
    let tmp = std::env::temp_dir().join(format!("mailnook-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
    let data = tmp.join("data");
    let mut rows = Vec::new();
    let bin_size = std::fs::metadata(server::binary())
        .map(|m| m.len())
        .unwrap_or(0);
    eprintln!(
        "bench: data in {}, {measured} measured messages, {total} stored in total",
        data.display()
    );

    let srv = server::Server::start(&data)?;
    server::add_user(&data, USER, PASS)?;
    std::thread::sleep(Duration::from_millis(500));
    let idle_rss = stats::rss_kib(srv.pid());
    let idle_row = idle::figure(srv.pid(), Duration::from_secs(10));
    let config = http_client::client_config(&data.join("tls-cert.pem"))?;
    let mut http = http_client::Https::new(srv.https, config.clone(), USER, PASS);
    let acct = account_id(&mut http)?;

    // 1. Ingest.
    eprintln!("bench: ingesting {measured} messages over {conns} connections ...");
    let cpu_before = cpu::ms(srv.pid());
    let ing = ingest(&srv, measured, conns, 1)?;
    let cpu_ingest = cpu::ms(srv.pid()) - cpu_before;
    let rate = measured as f64 / ing.elapsed.as_secs_f64();
    rows.push(Row {
        figure: "SMTP ingest".into(),
        value: format!(
            "{rate:.0} msg/s, {:.1} MB/s",
            ing.bytes as f64 / 1e6 / ing.elapsed.as_secs_f64()
        ),
        target: ">= 2500 msg/s".into(),
        how: format!(
            "{measured} msgs ({:.0} MB) over {conns} reused SMTP sessions, durable, indexing on",
            ing.bytes as f64 / 1e6
        ),
    });
    rows.push(Row {
        figure: "end-of-DATA -> 250".into(),
        value: format!(
            "p50 {} p99 {}",
            ms(percentile(&ing.latencies, 0.5)),
            ms(percentile(&ing.latencies, 0.99))
        ),
        target: "p99 <= 50 ms".into(),
        how: "client clock, from writing CRLF.CRLF to reading 250".into(),
    });
    rows.push(Row {
        figure: "server CPU per message".into(),
        value: format!("{:.2} ms", cpu_ingest / measured.max(1) as f64),
        target: "-".into(),
        how: "user+system CPU of the server process during the ingest above / messages (compare builds by this; it hardly moves with load on the cores)".into(),
    });
    let mut raw_bytes = ing.bytes;
    let mut peak = ing.peak_rss_kib;
    let (mut peak_anon, mut peak_file) = (ing.peak_anon_kib, ing.peak_file_kib);
    if total > measured {
        eprintln!("bench: filling the store to {total} messages ...");
        let fill = ingest(&srv, total - measured, conns, 2)?;
        raw_bytes += fill.bytes;
        if fill.peak_rss_kib > peak {
            peak_file = fill.peak_file_kib;
        }
        peak = peak.max(fill.peak_rss_kib);
        peak_anon = peak_anon.max(fill.peak_anon_kib);
    }

    // The indexer catches up with the fill (and merges) before anything is timed.
    let settled = cpu::wait_idle(srv.pid(), Duration::from_secs(300));
    eprintln!(
        "bench: the server was busy indexing for {:.0} s more",
        settled.as_secs_f64()
    );

    // 2. Time to searchable.
    let mut searchable = Vec::new();
    let mut search_ok = true;
    let mut smtp = smtp_client::Smtp::connect(srv.smtp)?;
    let mut corpus = corpus::Corpus::new(99, USER);
    for i in 0..30 {
        let word = format!("zqxprobe{i}w");
        let m = corpus.next(Some(&word));
        raw_bytes += m.bytes.len() as u64;
        smtp.send("probe@example.net", USER, &m.bytes)?;
        let t = Instant::now();
        loop {
            let v = http.jmap(&json!({"using": USING, "methodCalls": [["Email/query", {"accountId": acct, "filter": {"text": word}}, "q"]]}))?;
            if method_error(&v).is_some() {
                search_ok = false;
                break;
            }
            if v["methodResponses"][0][1]["ids"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
            {
                searchable.push(t.elapsed());
                break;
            }
            if t.elapsed() > Duration::from_secs(10) {
                searchable.push(t.elapsed());
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        if !search_ok {
            break;
        }
    }
    smtp.quit();
    searchable.sort();
    rows.push(Row {
        figure: "250 -> searchable".into(),
        value: if search_ok {
            format!(
                "p50 {} p99 {}",
                ms(percentile(&searchable, 0.5)),
                ms(percentile(&searchable, 0.99))
            )
        } else {
            "n/a (text filter unsupported)".into()
        },
        target: "p99 <= 1 s".into(),
        how: "30 probes with a unique word, polling Email/query text every 5 ms".into(),
    });

    // 3. JMAP reads at `total` messages.
    let (lat, v) = inbox::newest_50(&mut http, &acct, 200)?;
    rows.push(Row {
        figure: "inbox query+get".into(),
        value: inbox::value(&lat, &v),
        target: "p50 <= 2 ms, p99 <= 10 ms".into(),
        how: format!("newest 50, collapseThreads, list properties, one request, {total} msgs in the mailbox, 200 runs"),
    });
    if search_ok {
        let words = ["garden", "invoice", "holiday", "museum", "contract"];
        let mut i = 0;
        let (lat, _) = timed(100, || {
            i += 1;
            http.jmap(&json!({"using": USING, "methodCalls": [["Email/query", {"accountId": acct, "filter": {"text": words[i % words.len()]}, "limit": 50, "sort": [{"property": "receivedAt", "isAscending": false}]}, "q"]]}))
        })?;
        rows.push(Row {
            figure: "full-text query".into(),
            value: format!(
                "p50 {} p99 {}",
                ms(percentile(&lat, 0.5)),
                ms(percentile(&lat, 0.99))
            ),
            target: "p50 <= 10 ms".into(),
            how: "one common word, newest 50, 100 runs".into(),
        });
    }
    let state = {
        let v = http.jmap(&json!({"using": USING, "methodCalls": [["Email/get", {"accountId": acct, "ids": []}, "s"]]}))?;
        v["methodResponses"][0][1]["state"]
            .as_str()
            .unwrap_or("0")
            .to_string()
    };
    let _ = ingest(&srv, 500, 4, 3)?;
    let (lat, v) = timed(20, || {
        http.jmap(&json!({"using": USING, "methodCalls": [["Email/changes", {"accountId": acct, "sinceState": state, "maxChanges": 500}, "c"]]}))
    })?;
    rows.push(Row {
        figure: "Email/changes (500)".into(),
        value: match method_error(&v) {
            None => format!(
                "p50 {} p99 {}",
                ms(percentile(&lat, 0.5)),
                ms(percentile(&lat, 0.99))
            ),
            Some(e) => format!("error {e}"),
        },
        target: "-".into(),
        how: "500 deliveries since the state, 20 runs".into(),
    });
    let (lat, _) = timed(100, || {
        http.jmap(
            &json!({"using": USING, "methodCalls": [["Mailbox/get", {"accountId": acct}, "m"]]}),
        )
    })?;
    rows.push(Row {
        figure: "Mailbox/get".into(),
        value: format!(
            "p50 {} p99 {}",
            ms(percentile(&lat, 0.5)),
            ms(percentile(&lat, 0.99))
        ),
        target: "-".into(),
        how: "all mailboxes with counts, 100 runs".into(),
    });

    rows.push(send::figure(&mut http, &acct, USER, 50)?);
    if env("BENCH_WEBMAIL", 1) == 1 {
        rows.extend(webmail::figures(
            &format!("https://{}", srv.https),
            USER,
            PASS,
            total,
        ));
    }

    // 4. Memory.
    std::thread::sleep(Duration::from_millis(300));
    let before_push = stats::rss_kib(srv.pid());
    let mut push_conns = Vec::new();
    let mut push_ok = true;
    for _ in 0..push_n {
        use std::io::{Read, Write};
        let mut s = http.open()?;
        let req = format!(
            "GET /jmap/eventsource?types=*&closeafter=no&ping=0 HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\nAccept: text/event-stream\r\n\r\n",
            http.auth_header()
        );
        let mut head = [0u8; 12];
        // A refused connection (over the per-IP limit) is reported in the figure, not fatal.
        let opened = s
            .write_all(req.as_bytes())
            .and_then(|()| s.read_exact(&mut head));
        if opened.is_err() || !head.starts_with(b"HTTP/1.1 200") {
            eprintln!(
                "bench: event-source connection {} refused",
                push_conns.len() + 1
            );
            push_ok = false;
            break;
        }
        push_conns.push(s);
    }
    std::thread::sleep(Duration::from_millis(500));
    let with_push = stats::rss_kib(srv.pid());
    drop(push_conns);
    rows.push(idle_row);
    rows.push(Row {
        figure: "RSS idle after start".into(),
        value: format!("{:.1} MB", idle_rss as f64 / 1024.0),
        target: "<= 20 MB".into(),
        how: "VmRSS 0.5 s after start, empty store".into(),
    });
    rows.push(Row {
        figure: "RSS peak during ingest".into(),
        value: format!("{:.1} MB", peak as f64 / 1024.0),
        target: "<= 100 MB".into(),
        how: format!(
            "VmRSS sampled every 25 ms during ingest; mapped files {:.1} MB at the peak, heap at most {:.1} MB",
            peak_file as f64 / 1024.0,
            peak_anon as f64 / 1024.0
        ),
    });
    rows.push(Row {
        figure: format!("{push_n} idle push conns"),
        value: if push_ok {
            format!(
                "+{:.1} MB",
                (with_push as f64 - before_push as f64) / 1024.0
            )
        } else {
            "n/a (no EventSource)".into()
        },
        target: "<= +10 MB".into(),
        how: format!(
            "EventSource over TLS, VmRSS delta ({:.1} KB each)",
            with_push.saturating_sub(before_push) as f64 / push_n.max(1) as f64
        ),
    });
    rows.extend(websocket::figures(
        srv.pid(),
        &http,
        srv.smtp,
        USER,
        push_n,
        env("BENCH_WS_PUSHES", 100),
    )?);

    // 5. Side servers (issue #20), while the main one idles; then its RSS after the run.
    let after_run = settle::mark(srv.pid());
    let mut side_rows = Vec::new();
    let reconnect_n = env("BENCH_RECONNECT", 5000);
    if reconnect_n > 0 {
        let r = reconnect::figure(&tmp, reconnect_n, conns).map(|r| vec![r]);
        side_rows.extend(Row::or_failed("SMTP ingest, reconnecting", r));
    }
    let auth_n = env("BENCH_AUTH", 4000);
    if auth_n > 0 {
        let r = sender_auth::figure(&tmp, auth_n, conns).map(|r| vec![r]);
        side_rows.extend(Row::or_failed("sender auth cost", r));
    }
    let thread_n = env("BENCH_THREAD", 10_000);
    if thread_n > 0 {
        let r = big_thread::figures(&tmp, thread_n, conns);
        side_rows.extend(Row::or_failed("one-thread figures", r));
    }
    // Next to the main ingest rows (SMTP ingest, end-of-DATA).
    rows.splice(2..2, side_rows);
    rows.push(settle::figure(
        srv.pid(),
        idle_rss,
        after_run,
        Duration::from_secs(30),
    ));

    // 6. Start-up, size, disk.
    srv.stop();
    let srv = server::Server::start(&data)?;
    let t = Instant::now();
    let mut http2 = http_client::Https::new(srv.https, config, USER, PASS);
    account_id(&mut http2)?;
    let first_answer = srv.ready_after + t.elapsed();
    rows.push(Row {
        figure: "start-up".into(),
        value: format!(
            "{} (first JMAP answer {})",
            ms(srv.ready_after),
            ms(first_answer)
        ),
        target: "<= 300 ms".into(),
        how: format!("spawn -> listening, with {total} messages stored"),
    });
    let db = std::fs::metadata(data.join("mailnook.redb"))
        .map(|m| m.len())
        .unwrap_or(0);
    let index = stats::dir_size(&data.join("index"));
    rows.push(Row {
        figure: "disk per raw byte".into(),
        value: format!(
            "{:.2}x (store {:.0} MB + index {:.0} MB for {:.0} MB raw)",
            (db + index) as f64 / raw_bytes as f64,
            db as f64 / 1e6,
            index as f64 / 1e6,
            raw_bytes as f64 / 1e6
        ),
        target: "<= 1.4x".into(),
        how: "file sizes after the run".into(),
    });
    rows.push(Row {
        figure: "release binary".into(),
        value: format!("{:.1} MB", bin_size as f64 / 1e6),
        target: "<= 10 MB".into(),
        how: "target/release/mailnook".into(),
    });
    rows.push(transfer::backup_figure(&data, &tmp.join("backup"), total)?);
    srv.stop();
    transfer::import_figures(&mut rows, &tmp, env("BENCH_IMPORT", 5000))?;
    if env("BENCH_JUNK", 1) == 1 {
        junk::figures(&mut rows, &tmp)?;
    }
    stats::print(&rows);
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}
