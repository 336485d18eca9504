//! Memory given back after the run (issue #20: RSS back within 10 MB of idle): the main
//! server's VmRSS right after its last request, then polled until it is within the target of
//! the idle figure or the wait is over, printed with how long after the run it was read and
//! how it splits into heap and mapped files (what a profile would look at first).

use crate::stats::{Row, rss_kib, rss_split_kib};
use std::time::{Duration, Instant};

/// The target: within this much of idle.
const OVER_IDLE_KIB: u64 = 10 * 1024;
const POLL: Duration = Duration::from_millis(500);

/// VmRSS when the run ended.
pub struct AfterRun {
    at: Instant,
    kib: u64,
}

pub fn mark(pid: u32) -> AfterRun {
    AfterRun {
        at: Instant::now(),
        kib: rss_kib(pid),
    }
}

/// Waits (at most until `max_wait` after `after`) for RSS within the target of `idle_kib`.
pub fn figure(pid: u32, idle_kib: u64, after: AfterRun, max_wait: Duration) -> Row {
    let mut now = rss_split_kib(pid);
    while now.0 > idle_kib + OVER_IDLE_KIB && after.at.elapsed() < max_wait {
        std::thread::sleep(POLL);
        now = rss_split_kib(pid);
    }
    let mb = |kib: u64| kib as f64 / 1024.0;
    Row {
        figure: "RSS after the run".into(),
        value: format!(
            "{:.1} MB, {:+.1} MB over idle {:.1} MB",
            mb(now.0),
            mb(now.0) - mb(idle_kib),
            mb(idle_kib)
        ),
        target: "<= idle + 10 MB".into(),
        how: format!(
            "main server's VmRSS {:.0} s after its last request (polled up to {} s; {:.1} MB right after); heap {:.1} MB, mapped files {:.1} MB",
            after.at.elapsed().as_secs_f64(),
            max_wait.as_secs(),
            mb(after.kib),
            mb(now.1),
            mb(now.2)
        ),
    }
}
