//! CPU time a process has used (user + system, all its threads), from /proc/<pid>/stat. Unlike
//! a rate, CPU time per message hardly moves when something else shares the cores, so it is
//! the figure to compare two builds by (issue #20).

/// User + system CPU time of `pid` so far, in milliseconds (0 if unreadable).
pub fn ms(pid: u32) -> f64 {
    ticks_ms(&std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default())
}

/// utime + stime of one /proc stat line, in milliseconds.
fn ticks_ms(stat: &str) -> f64 {
    // The command name (field 2) may hold spaces; fields 14 and 15 (utime, stime, in clock
    // ticks) are counted after its closing parenthesis.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // After ')': state is index 0, so utime (field 14) is index 11 and stime index 12.
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    (ticks(11) + ticks(12)) * 1000.0 / hz
}

/// Waits until `pid` uses under 5 % of one core over a second (the indexer has caught up
/// with a burst and its merges are done), at most `max`; returns how long that took. The read
/// figures measure a store at rest, not one still indexing the last 50,000 messages.
pub fn wait_idle(pid: u32, max: std::time::Duration) -> std::time::Duration {
    let start = std::time::Instant::now();
    let mut last = ms(pid);
    while start.elapsed() < max {
        std::thread::sleep(std::time::Duration::from_secs(1));
        let now = ms(pid);
        if now - last < 50.0 {
            break;
        }
        last = now;
    }
    start.elapsed()
}

/// Thread names of the search index's work (ours and tantivy's), which runs behind delivery.
const INDEX_THREADS: [&str; 5] = [
    "indexer",
    "thrd-tantivy",
    "merge_thread",
    "segment_updater",
    "docstore",
];

/// [`ms`] without the search index's threads: the delivery path (SMTP, parsing, the junk
/// filter, the store). tantivy merges whenever its segments line up, so comparing two runs
/// by total CPU measures the merge policy as much as the change (the index threads live as
/// long as the server, so their own counters hold all their time).
pub fn delivery_ms(pid: u32) -> f64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return ms(pid);
    };
    let mut index = 0.0;
    for t in tasks.flatten() {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        if INDEX_THREADS.iter().any(|n| comm.trim().starts_with(n))
            && let Ok(tid) = t.file_name().to_string_lossy().parse::<u32>()
        {
            index += task_ms(pid, tid);
        }
    }
    ms(pid) - index
}

fn task_ms(pid: u32, tid: u32) -> f64 {
    ticks_ms(&std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/stat")).unwrap_or_default())
}
