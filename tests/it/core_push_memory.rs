//! Measures what an idle event-source connection costs the server (RSS growth over 200 idle
//! connections), then checks that one SMTP delivery reaches every one of them.
//! Run with `cargo test --test core_push_memory -- --nocapture` to see the figure.

use crate::common;
use crate::core_common;
use common::{Server, message, rss_kb};
use core_common::{basic, event_source};

const USER: &str = "alice@example.org";
const PASS: &str = "correct horse battery";
const CONNECTIONS: usize = 200;

fn server_pid(s: &Server) -> Option<u32> {
    let needle = s.data_dir.to_string_lossy().to_string();
    for e in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains(" serve ") && cmd.contains(&needle) {
            return Some(pid);
        }
    }
    None
}

#[test]
fn idle_event_source_connections_are_cheap() {
    // Hundreds of connections from one address: above the per-address cap of a default server.
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("mailnook.toml");
    std::fs::write(&cfg, "http_max_connections_per_ip = 2048\n").expect("config");
    let s = Server::start_with(&["--config", cfg.to_str().expect("path")]);
    s.add_user(USER, PASS);
    let pid = server_pid(&s).expect("server pid");
    let auth = basic(USER, PASS);
    // Warm up: one connection and one API call so lazily built state exists.
    let warm = event_source(s.https, &auth, "types=*&closeafter=no&ping=0", None);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let before = rss_kb(pid);
    let mut conns = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let (status, _, sse) = event_source(s.https, &auth, "types=*&closeafter=no&ping=300", None);
        assert_eq!(status, 200);
        conns.push(sse);
    }
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let after = rss_kb(pid);
    let per = (after.saturating_sub(before)) as f64 / CONNECTIONS as f64;
    println!(
        "event-source memory: RSS {before} kB -> {after} kB with {CONNECTIONS} idle connections: {per:.1} kB per connection"
    );
    // Generous bound: an idle connection must not cost more than 64 kB.
    assert!(per < 64.0, "{per:.1} kB per idle connection");

    // For comparison: what an idle keep-alive HTTPS connection (one finished request) costs.
    let before_plain = rss_kb(pid);
    let mut plain = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        let mut c = core_common::connect(s.https);
        core_common::send_head(&mut c, "GET", "/jmap/session", &auth, &[]);
        let mut r = std::io::BufReader::new(c);
        let (status, h) = core_common::read_head(&mut r);
        assert_eq!(status, 200);
        core_common::read_body(&mut r, &h);
        plain.push(r);
    }
    std::thread::sleep(std::time::Duration::from_millis(1000));
    let after_plain = rss_kb(pid);
    println!(
        "idle keep-alive HTTPS for comparison: {:.1} kB per connection",
        after_plain.saturating_sub(before_plain) as f64 / CONNECTIONS as f64
    );
    drop(plain);

    let raw = message("bob@example.net", USER, "to all", "all@example.net", "hi");
    s.send("bob@example.net", &[USER], &raw).expect("SMTP send");
    let sent = std::time::Instant::now();
    let mut first = None;
    for (i, sse) in conns.iter_mut().enumerate() {
        let ev = sse.next().expect("event");
        assert_eq!(ev.event, "state", "connection {i}");
        first.get_or_insert_with(|| sent.elapsed());
    }
    // Reported, not asserted (no wall-clock assertions in tests).
    println!(
        "StateChange after the SMTP 250: first connection {:?}, all {CONNECTIONS} within {:?}",
        first.unwrap_or_default(),
        sent.elapsed()
    );
    drop(warm);
}
