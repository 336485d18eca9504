//! The figures on the admin page's status view. Nothing here reads message content: counts,
//! sizes, dates, and the SMTP envelope log kept by `activity`.

use super::State;
use crate::activity::Transaction;
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub version: &'static str,
    pub hostname: String,
    pub uptime_secs: u64,
    /// VmRSS from /proc/self/status (bytes); `None` where /proc is not available.
    pub rss_bytes: Option<u64>,
    pub db_bytes: Option<u64>,
    /// The search index directory, once it exists.
    pub index_bytes: Option<u64>,
    pub accounts: u64,
    /// Messages whose receivedAt is today (UTC), from the store: survives restarts.
    pub messages_today: u64,
    /// SMTP refusals today (since start if the server started today), from `activity`.
    pub refused_today: u64,
    /// Live JMAP push connections (RFC 8620 §7.3 event-source streams).
    pub push_connections: Option<u64>,
    /// Signed-in admin sessions.
    pub admin_sessions: u64,
    /// The last SMTP transactions, newest first (envelope only).
    pub smtp: Vec<Transaction>,
    /// "ok", or why writes fail (a full disk) and since when (`store/redb/recover.rs`).
    pub storage: String,
    /// Failed writes since the server started made it reopen the database this many times.
    pub storage_recoveries: u64,
    /// Password checks since start (`src/login.rs`): hashed, and refused without a check
    /// (a client or account past its failure budget, or too many checks at once).
    pub logins_checked: u64,
    pub logins_refused: u64,
    /// ACME certificate state (`acme/state.rs`): issuer, expiry, last attempt, its error.
    pub acme: Option<crate::acme::state::AcmeState>,
    /// TLS outcomes of our deliveries per remote domain and day (RFC 8460 result types, the
    /// material of TLS reports; `store/redb/mta_sts.rs`), newest first.
    pub tls_results: Vec<TlsLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TlsLine {
    /// The start of the reporting period (a UTC day by default), RFC 3339.
    pub start: String,
    pub domain: String,
    #[serde(flatten)]
    pub results: crate::store::TlsDay,
}

/// The storage line of the status view: "ok" or what is wrong.
pub fn storage_text(h: &crate::store::Health) -> String {
    match h.failing_since {
        None => "ok".into(),
        Some(since) => format!(
            "WRITES FAILING for {} (disk full?): new mail is refused (452 or 451, never lost) until space \
             is freed; {}",
            human_duration(crate::date::now().saturating_sub(since).max(0) as u64),
            h.last_error.as_deref().unwrap_or("")
        ),
    }
}

/// Resident set size from `/proc/self/status` (`VmRSS:   12345 kB`).
pub fn rss_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Bytes on disk under a path (a file, or a directory walked without following links).
pub fn disk_bytes(path: &Path) -> Option<u64> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if meta.is_file() {
        return Some(meta.len());
    }
    if !meta.is_dir() {
        return Some(0);
    }
    let mut total = 0;
    for entry in std::fs::read_dir(path).ok()?.flatten() {
        total += disk_bytes(&entry.path()).unwrap_or(0);
    }
    Some(total)
}

pub async fn gather(state: &State) -> Status {
    let midnight = crate::date::now().div_euclid(86_400) * 86_400;
    let (accounts, messages_today, tls) = state
        .jmap
        .store
        .read(move |r| {
            Ok((
                r.accounts()?.len() as u64,
                r.received_since(midnight)?,
                r.tls_results()?,
            ))
        })
        .await
        .unwrap_or_else(|e| {
            log::error!("admin status: {e}");
            (0, 0, Vec::new())
        });
    let tls_results = tls
        .into_iter()
        .rev()
        .map(|(start, domain, results)| TlsLine {
            start: crate::date::rfc3339(start),
            domain,
            results,
        })
        .collect();
    let config = state.config.clone();
    let (db_bytes, index_bytes, acme) = crate::pool::unblock(move || {
        (
            disk_bytes(&config.db_path()),
            disk_bytes(&config.data_dir.join("index")),
            crate::acme::state::load(&config.data_dir),
        )
    })
    .await;
    let activity = state.activity.snapshot();
    let health = state.jmap.store.health();
    let (logins_checked, logins_refused) = state.auth.counters();
    Status {
        acme,
        tls_results,
        logins_checked,
        logins_refused,
        storage: storage_text(&health),
        storage_recoveries: health.recoveries,
        version: env!("CARGO_PKG_VERSION"),
        hostname: state.config.hostname.clone(),
        uptime_secs: state.started.elapsed().as_secs(),
        rss_bytes: rss_bytes(),
        db_bytes,
        index_bytes,
        accounts,
        messages_today,
        refused_today: activity.refused_today,
        push_connections: Some(super::eventsource::open_connections()),
        admin_sessions: state.admin_sessions.len() as u64,
        smtp: activity.transactions,
    }
}

/// `1.5 MB`-style sizes (powers of 1024, one decimal).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// `3d 4h 5m`-style durations.
pub fn human_duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m {s}s"),
        (0, _, _) => format!("{h}h {m}m"),
        _ => format!("{d}d {h}h {m}m"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn human_figures() {
        assert_eq!(super::human_bytes(512), "512 B");
        assert_eq!(super::human_bytes(1536), "1.5 KiB");
        assert_eq!(super::human_bytes(10 * 1024 * 1024), "10.0 MiB");
        assert_eq!(super::human_duration(59), "59s");
        assert_eq!(super::human_duration(3661), "1h 1m");
        assert_eq!(super::human_duration(90_061), "1d 1h 1m");
    }
}
