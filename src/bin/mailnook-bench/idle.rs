//! What an idle server costs a Pi on battery or a tiny VPS (issue #20): its threads, and how
//! often they wake up. Context switches of every thread (/proc/<pid>/task/*/status, voluntary
//! and not) counted over a quiet window: each is a wake-up the CPU paid for.

use crate::stats::Row;
use std::time::Duration;

fn switches(pid: u32) -> (u64, usize) {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return (0, 0);
    };
    let (mut total, mut threads) = (0u64, 0usize);
    for t in tasks.flatten() {
        threads += 1;
        let Ok(s) = std::fs::read_to_string(t.path().join("status")) else {
            continue;
        };
        total += s
            .lines()
            .filter(|l| l.contains("ctxt_switches:"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
    }
    (total, threads)
}

/// Thread count and wake-ups per second over `window` with no client connected.
pub fn figure(pid: u32, window: Duration) -> Row {
    let (before, _) = switches(pid);
    std::thread::sleep(window);
    let (after, threads) = switches(pid);
    let per_sec = after.saturating_sub(before) as f64 / window.as_secs_f64();
    Row {
        figure: "idle threads, wake-ups".into(),
        value: format!("{threads} threads, {per_sec:.1} wake-ups/s"),
        target: "few; < 5 wake-ups/s".into(),
        how: format!(
            "/proc task ctxt_switches over {} s with no client",
            window.as_secs()
        ),
    }
}
