//! Percentiles and the printed table.

use std::time::Duration;

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

pub struct Row {
    pub figure: String,
    pub value: String,
    pub target: String,
    pub how: String,
}

impl Row {
    /// The rows of a figure, or one row saying why it could not be measured (a side figure
    /// that fails does not cost the rest of a long run).
    pub fn or_failed(figure: &str, rows: Result<Vec<Row>, String>) -> Vec<Row> {
        rows.unwrap_or_else(|e| {
            eprintln!("bench: {figure} failed: {e}");
            vec![Row {
                figure: figure.into(),
                value: format!("failed: {e}"),
                target: "-".into(),
                how: "-".into(),
            }]
        })
    }
}

pub fn print(rows: &[Row]) {
    let w0 = rows.iter().map(|r| r.figure.len()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r.value.len()).max().unwrap_or(0);
    let w2 = rows.iter().map(|r| r.target.len()).max().unwrap_or(0);
    println!();
    println!(
        "{:<w0$}  {:<w1$}  {:<w2$}  how it was measured",
        "figure", "value", "target"
    );
    println!("{}", "-".repeat(w0 + w1 + w2 + 30));
    for r in rows {
        println!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {}",
            r.figure, r.value, r.target, r.how
        );
    }
}

/// Resident set size of a process, in KiB (Linux /proc).
pub fn rss_kib(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:")
}

/// One `... kB` line of /proc/<pid>/status, in KiB (0 if absent).
fn status_kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Resident memory split as the kernel counts it, in KiB: (total, anonymous = the heap and
/// stacks, file = mapped files such as the search index's segments, which the kernel may drop
/// under pressure). Explains a peak (issue #20) before any profile is taken.
pub fn rss_split_kib(pid: u32) -> (u64, u64, u64) {
    (
        status_kib(pid, "VmRSS:"),
        status_kib(pid, "RssAnon:"),
        status_kib(pid, "RssFile:"),
    )
}

pub fn dir_size(path: &std::path::Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(path) else {
        return 0;
    };
    rd.filter_map(|e| e.ok())
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
