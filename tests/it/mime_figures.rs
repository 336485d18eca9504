//! Issue 13 figures: what one hostile message or request costs the server's memory, and how
//! soon it is given back. Run with `cargo test --test mime_figures -- --nocapture`; set
//! MAILNOOK_MALLOC_DEFAULTS=1 to measure glibc's defaults (src/memory.rs) instead.
//!
//! For each burst: RSS of the server process (/proc/PID/status VmRSS) when idle before, its peak
//! during the burst (sampled every 5 ms), the time taken, and what RSS reaches within 30 s after
//! (polled every 250 ms; stops once within 10 MB of idle). Asserts only memory: no burst may
//! raise RSS by more than 64 MB. Times are printed, never asserted.

use crate::common;
use crate::mail_support;
use common::*;
use mail_support::*;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const USER: &str = "figures@example.org";
const PASS: &str = "numbers not feelings";
const BOUND_KB: u64 = 64 * 1024;
const SETTLE_KB: u64 = 10 * 1024;

/// Samples RSS every 5 ms until dropped; `peak` is the highest seen.
struct Sampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    fn start(pid: u32) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(rss_kb(pid)));
        let (s, p) = (stop.clone(), peak.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss_kb(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        Sampler {
            stop,
            peak,
            thread: Some(thread),
        }
    }
    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        self.peak.load(Ordering::Relaxed)
    }
}

/// Waits up to 30 s for RSS to come back within 10 MB of `idle`; returns (RSS, seconds).
async fn settle(pid: u32, idle: u64) -> (u64, f64) {
    let t = Instant::now();
    loop {
        let now = rss_kb(pid);
        if now <= idle + SETTLE_KB || t.elapsed() > Duration::from_secs(30) {
            return (now, t.elapsed().as_secs_f64());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

struct Figures {
    pid: u32,
    worst: Vec<(String, u64)>,
}

impl Figures {
    async fn measure<F, Fut, T>(&mut self, label: &str, f: F) -> T
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = T>,
    {
        let pid = self.pid;
        // Idle: what RSS settles to before the burst.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let idle = rss_kb(pid);
        let sampler = Sampler::start(pid);
        let t = Instant::now();
        let out = f().await;
        let took = t.elapsed().as_secs_f64();
        let peak = sampler.finish();
        let (after, secs) = settle(pid, idle).await;
        println!(
            "FIGURE {label}: {took:.2} s; RSS idle {} MB, peak {} MB (+{} MB), after {secs:.1} s {} MB ({:+} MB vs idle)",
            idle / 1024,
            peak / 1024,
            peak.saturating_sub(idle) / 1024,
            after / 1024,
            (after as i64 - idle as i64) / 1024
        );
        self.worst
            .push((label.to_string(), peak.saturating_sub(idle)));
        out
    }
}

#[tokio::test]
async fn memory_of_hostile_messages_and_requests() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    let pid = s.pid().expect("pid");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let first_idle = rss_kb(pid);
    let mut f = Figures {
        pid,
        worst: Vec::new(),
    };
    let defaults = std::env::var_os("MAILNOOK_MALLOC_DEFAULTS").is_some();
    println!(
        "allocator: {}",
        if defaults {
            "glibc defaults"
        } else {
            "tuned (src/memory.rs)"
        }
    );

    let wide = empty_parts(100_000);
    let wide_id = f
        .measure("SMTP 1 MB message of 100,000 empty parts", || async {
            deliver_id(&s, USER, PASS, &acct, &wide).await
        })
        .await;
    let answer: Value = f
        .measure("Email/get fetchAllBodyValues of it", || async {
            let (status, v) = s
                .post_api(
                    USER,
                    PASS,
                    json!({"using": [CORE, MAIL], "methodCalls": [["Email/get",
                    {"accountId": acct, "ids": [wide_id],
                     "properties": ["bodyStructure", "bodyValues", "textBody", "attachments"],
                     "fetchAllBodyValues": true}, "c"]]})
                    .to_string(),
                )
                .await;
            assert_eq!(status, 200);
            v
        })
        .await;
    println!("  answer: {} bytes of JSON", answer.to_string().len());

    let ids = vec![wide_id.clone(); 1000];
    let light: Vec<Value> = (0..64)
        .map(|n| json!(["Email/get", {"accountId": acct, "ids": ids, "properties": ["id"]}, format!("c{n}")]))
        .collect();
    let light = json!({"using": [CORE, MAIL], "methodCalls": light}).to_string();
    f.measure(
        "64 Email/get x 1,000 copies of one id, properties [id]",
        || async { s.post_api(USER, PASS, light.clone()).await },
    )
    .await;
    let calls: Vec<Value> = (0..64)
        .map(|n| {
            json!(["Email/get", {"accountId": acct, "ids": ids,
                "properties": ["bodyValues", "bodyStructure"], "fetchAllBodyValues": true},
                format!("c{n}")])
        })
        .collect();
    let request = json!({"using": [CORE, MAIL], "methodCalls": calls}).to_string();
    println!("  request: {} bytes", request.len());
    let (status, body) = f
        .measure("64 Email/get x 1,000 copies of one id", || async {
            s.post_api(USER, PASS, request.clone()).await
        })
        .await;
    assert_eq!(status, 200);
    println!(
        "  answer: {} bytes; first call: {}",
        body.to_string().len(),
        body["methodResponses"][0][0]
    );

    let deep = nested_multipart(4_000);
    let deep_id = f
        .measure("SMTP 4,000 nested multiparts", || async {
            deliver_id(&s, USER, PASS, &acct, &deep).await
        })
        .await;
    f.measure("Email/get bodyStructure of it", || async {
        call1(
            &s,
            USER,
            PASS,
            "Email/get",
            json!({"accountId": acct, "ids": [deep_id], "properties": ["bodyStructure", "bodyValues"],
                   "fetchAllBodyValues": true}),
        )
        .await
    })
    .await;

    let mut fields = b"From: a@example.net\r\nSubject: many fields\r\n".to_vec();
    for n in 0..100_000 {
        fields.extend_from_slice(format!("X-F: {n}\r\n").as_bytes());
    }
    fields.extend_from_slice(b"\r\nbody\r\n");
    let fields_id = f
        .measure("SMTP 1 MB message of 100,000 header fields", || async {
            deliver_id(&s, USER, PASS, &acct, &fields).await
        })
        .await;
    let r = f
        .measure("Email/get headers of it", || async {
            s.call(
                USER,
                PASS,
                json!([["Email/get", {"accountId": acct, "ids": [fields_id],
                    "properties": ["headers", "bodyStructure", "header:X-F:all"]}, "h"]]),
            )
            .await
        })
        .await;
    println!("  answer: {}", r[0][0]);

    let mut to = b"From: a@example.net\r\nSubject: many recipients\r\nTo: ".to_vec();
    for n in 0..50_000 {
        to.extend_from_slice(format!("u{n}@example.org,\r\n ").as_bytes());
    }
    to.extend_from_slice(b"last@example.org\r\n\r\nbody\r\n");
    let to_id = f
        .measure("SMTP 1 MB To: field of 50,000 addresses", || async {
            deliver_id(&s, USER, PASS, &acct, &to).await
        })
        .await;
    f.measure("Email/get list properties of it", || async {
        s.call(
            USER,
            PASS,
            json!([["Email/get", {"accountId": acct, "ids": [to_id],
                "properties": ["to", "from", "subject", "preview"]}, "h"]]),
        )
        .await
    })
    .await;

    let text = "0123456789abcdef ".repeat(4 * 1024 * 1024 / 17);
    let big = message("a@example.net", USER, "big", "<big@x>", &text);
    let big_id = f
        .measure("SMTP 4 MB text message", || async {
            deliver_id(&s, USER, PASS, &acct, &big).await
        })
        .await;
    let get = json!({"accountId": acct, "ids": [big_id], "properties": ["bodyValues"],
        "fetchAllBodyValues": true});
    let r = f
        .measure(
            "5 x Email/get of 4 MB text (over the 16 MB cap)",
            || async {
                s.call(
                    USER,
                    PASS,
                    json!([
                        ["Email/get", get, "a"],
                        ["Email/get", get, "b"],
                        ["Email/get", get, "c"],
                        ["Email/get", get, "d"],
                        ["Email/get", get, "e"]
                    ]),
                )
                .await
            },
        )
        .await;
    println!(
        "  answers: {:?}",
        r.iter().map(|c| c[0].clone()).collect::<Vec<_>>()
    );

    assert!(
        s.post_api(
            USER,
            PASS,
            json!({"using": [CORE], "methodCalls": []}).to_string()
        )
        .await
        .0 == 200
    );
    let (end, secs) = settle(pid, first_idle).await;
    println!(
        "FIGURE whole run: RSS idle at start {} MB, at the end {} MB (after {secs:.1} s)",
        first_idle / 1024,
        end / 1024
    );
    for (label, kb) in &f.worst {
        assert!(
            *kb <= BOUND_KB,
            "{label}: RSS rose by {} MB (bound 64 MB)",
            kb / 1024
        );
    }
}
