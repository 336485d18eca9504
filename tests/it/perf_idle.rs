//! An idle server sleeps (issue #20: a Pi on battery or a tiny VPS pays for every wake-up).
//! The story: `smol::unblock`'s pool (the `blocking` crate) woke each idle thread every 500 ms
//! and never let one go, so after any burst of requests the server woke several times a second
//! for ever (6 wake-ups/s right after start). Blocking work now runs on `src/pool.rs`, whose
//! threads exit after 10 s without work. This fails if work goes back to a pool that keeps its
//! threads, or if the pool stops letting them go.

use crate::common::*;
use serde_json::json;
use std::time::{Duration, Instant};

const USER: &str = "idle@example.org";
const PASS: &str = "sleep when nothing happens";

/// The names of the server's threads (Linux /proc).
fn thread_names(pid: u32) -> Vec<String> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
        .map(|n| n.trim().to_string())
        .collect()
}

fn pool_threads(pid: u32) -> Vec<String> {
    thread_names(pid)
        .into_iter()
        .filter(|n| n.starts_with("pool-") || n.starts_with("blocking-"))
        .collect()
}

#[tokio::test]
async fn blocking_threads_go_away_when_the_server_is_idle() {
    let s = Server::start();
    let a = s.new_account(USER, PASS).await;
    let pid = s.pid().expect("server pid");
    // Work that runs off the executor: password checks and store reads.
    for _ in 0..5 {
        a.call1("Mailbox/get", json!({})).await;
        a.call1("Email/query", json!({})).await;
    }
    assert!(
        thread_names(pid).iter().any(|n| n.starts_with("pool-")),
        "store reads run on the pool: {:?}",
        thread_names(pid)
    );
    // The pool's keep-alive is 10 s; allow for a slow machine.
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let left = pool_threads(pid);
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "idle pool threads still alive: {left:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
