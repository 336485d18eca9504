//! What the admin sees about ACME: written to `data_dir/acme/state.json` after every attempt,
//! read by `mailnook cert show` (with or without a running server) and the admin status API.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AcmeState {
    pub directory: String,
    pub challenge: String,
    pub domains: Vec<String>,
    /// Issuer (RFC 4514) and expiry of the certificate obtained, once there is one.
    pub issuer: Option<String>,
    pub not_after: Option<i64>,
    /// Seconds since the epoch.
    pub last_attempt: Option<i64>,
    pub last_success: Option<i64>,
    /// Why the last attempt failed, in plain words; `None` after a success.
    pub last_error: Option<String>,
    /// Consecutive failures (the backoff grows with them).
    pub failures: u32,
    pub next_attempt: Option<i64>,
}

pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("acme")
}

fn path(data_dir: &Path) -> PathBuf {
    dir(data_dir).join("state.json")
}

pub fn load(data_dir: &Path) -> Option<AcmeState> {
    let bytes = std::fs::read(path(data_dir)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

pub fn save(data_dir: &Path, state: &AcmeState) -> Result<(), String> {
    let text = serde_json::to_vec_pretty(state).map_err(|e| e.to_string())?;
    super::files::write_atomic(&path(data_dir), &text)
}

/// The lines `mailnook cert show` adds.
pub fn describe(s: &AcmeState) -> String {
    let t = |v: Option<i64>| v.map(crate::date::rfc3339).unwrap_or_else(|| "-".into());
    let mut out = format!(
        "acme    {} ({}) for {}\nacme issuer  {}\nacme expiry  {}\nacme last attempt {}\nacme next attempt {}",
        s.directory,
        s.challenge,
        s.domains.join(", "),
        s.issuer
            .as_deref()
            .unwrap_or("- (no certificate yet; the self-signed one serves)"),
        t(s.not_after),
        t(s.last_attempt),
        t(s.next_attempt),
    );
    match &s.last_error {
        Some(e) => out.push_str(&format!("\nacme error   {e}")),
        None if s.last_success.is_some() => {
            out.push_str("\nacme error   none (last attempt succeeded)")
        }
        None => {}
    }
    out
}

/// One line for the admin page: what serves, and the last error if the last attempt failed.
pub fn summary(s: &AcmeState) -> String {
    let have = match (&s.issuer, s.not_after) {
        (Some(i), Some(t)) => format!("from {i}, expires {}", crate::date::rfc3339(t)),
        _ => "none yet (the self-signed certificate serves)".into(),
    };
    // After a failure the admin wants to know when it tries again (the backoff grows).
    let next = s
        .next_attempt
        .map(|t| format!("; next try {}", crate::date::rfc3339(t).replace('T', " ")))
        .unwrap_or_default();
    match &s.last_error {
        Some(e) => format!("{have}; last attempt failed: {e}{next}"),
        None => have,
    }
}
