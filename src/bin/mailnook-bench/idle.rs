//! What an idle server costs a Pi on battery or a tiny VPS (issue #20): its threads, and how
//! often they wake up. Context switches of every thread (/proc/<pid>/task/*/status, voluntary
//! and not) counted over a quiet window: each is a wake-up the CPU paid for.

use crate::stats::Row;
use std::time::Duration;

/// Context switches per live thread (by thread id), and the thread count.
fn switches(pid: u32) -> (std::collections::HashMap<String, u64>, usize) {
    let mut out = std::collections::HashMap::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return (out, 0);
    };
    for t in tasks.flatten() {
        let Ok(s) = std::fs::read_to_string(t.path().join("status")) else {
            continue;
        };
        let n = s
            .lines()
            .filter(|l| l.contains("ctxt_switches:"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
        out.insert(t.file_name().to_string_lossy().into_owned(), n);
    }
    let threads = out.len();
    (out, threads)
}

/// Thread count and wake-ups per second over `window` with no client connected. Per thread,
/// so a thread that exits during the window (an idle pool thread retiring) does not make the
/// sum go down; a thread born during the window counts from zero.
pub fn figure(pid: u32, window: Duration) -> Row {
    let (before, _) = switches(pid);
    std::thread::sleep(window);
    let (after, threads) = switches(pid);
    let woke: u64 = after
        .iter()
        .map(|(tid, n)| n.saturating_sub(before.get(tid).copied().unwrap_or(0)))
        .sum();
    let per_sec = woke as f64 / window.as_secs_f64();
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
