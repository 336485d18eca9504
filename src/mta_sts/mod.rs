//! MTA-STS (RFC 8461) and SMTP TLS reporting (RFC 8460): the `[mta_sts]` settings and the
//! policy format, shared by both directions.
//!
//! - Inbound: `http/mta_sts.rs` serves `https://mta-sts.<domain>/.well-known/mta-sts.txt` for
//!   each local domain; `http/admin_setup.rs` lists the `_mta-sts` and `_smtp._tls` TXT records
//!   (and the `mta-sts.` name) that `mailnook dns` and the admin page print. The TXT `id` is a
//!   hash of the policy text, so it changes exactly when the policy does (§3.1).
//! - Outbound: `outbound/mta_sts.rs` looks up, fetches (`outbound/mta_sts_fetch.rs`), caches
//!   (`store/redb/mta_sts.rs`) and applies remote domains' policies, and counts every
//!   session's TLS outcome; `outbound/tls_report*.rs` mails those counts as RFC 8460 reports.

pub mod policy;

use serde::Deserialize;
use std::path::PathBuf;

pub use policy::{Mode, Policy};

/// `[mta_sts]` in the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MtaStsConfig {
    /// The mode of the policy this server publishes for its domains (RFC 8461 §5): "testing"
    /// (default: senders deliver as before and only report problems), "enforce" (senders
    /// refuse to deliver without a verified certificate: turn it on only once the certificate
    /// is a real one, from ACME or installed, never the self-signed one), or "none".
    pub mode: Mode,
    /// MX host names the published policy lists (`*.example.org` allowed, §3.2); empty = the
    /// server's `hostname`, which is what `mailnook dns` tells to publish as MX.
    pub mx: Vec<String>,
    /// `max_age` of the published policy in seconds (§3.2, at most 31557600). Default one
    /// week: long enough to protect, short enough to change one's mind.
    pub max_age_secs: u64,
    /// Where other servers send TLS reports about our domains (RFC 8460 §3, the `rua` of the
    /// `_smtp._tls` record): a `mailto:` or `https:` URI. Default `mailto:postmaster@<domain>`.
    pub tlsrpt_rua: Option<String>,
    /// Honour other domains' MTA-STS policies when delivering to them (default true).
    pub outbound: bool,
    /// The port policy hosts are fetched from. RFC 8461 §3.3 fixes 443; other values exist
    /// for tests only.
    pub policy_port: u16,
    /// Extra certificates (PEM) to trust, besides the Mozilla roots, for policy hosts and for
    /// MX hosts under a policy (a private CA; tests).
    pub ca_file: Option<PathBuf>,
    /// Most remote policies kept in the cache (the one expiring first goes first).
    pub cache_max: usize,
    /// Send RFC 8460 aggregate TLS reports to the domains we deliver to that ask for them
    /// (`_smtp._tls` TXT with a `mailto:` rua), once per period (default true).
    pub tlsrpt_send: bool,
    /// The reporting period in seconds: a UTC day (86400, RFC 8460 §4.1); shorter only in
    /// tests.
    pub tlsrpt_period_secs: u64,
}

impl Default for MtaStsConfig {
    fn default() -> Self {
        MtaStsConfig {
            mode: Mode::Testing,
            mx: Vec::new(),
            max_age_secs: 604_800,
            tlsrpt_rua: None,
            outbound: true,
            policy_port: 443,
            ca_file: None,
            cache_max: 10_000,
            tlsrpt_send: true,
            tlsrpt_period_secs: 86_400,
        }
    }
}

impl MtaStsConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.max_age_secs > policy::MAX_AGE_LIMIT {
            return Err(format!(
                "mta_sts.max_age_secs must be at most {} (RFC 8461 §3.2)",
                policy::MAX_AGE_LIMIT
            ));
        }
        for m in &self.mx {
            if !policy::valid_pattern(m) {
                return Err(format!(
                    "mta_sts.mx: {m:?} is not a host name or a *.domain pattern"
                ));
            }
        }
        if let Some(r) = &self.tlsrpt_rua
            && !(r.starts_with("mailto:") || r.starts_with("https://"))
        {
            return Err(
                "mta_sts.tlsrpt_rua must be a mailto: or https:// URI (RFC 8460 §3)".into(),
            );
        }
        if self.policy_port == 0 || self.cache_max == 0 || self.tlsrpt_period_secs == 0 {
            return Err(
                "mta_sts.policy_port, cache_max and tlsrpt_period_secs must be at least 1".into(),
            );
        }
        Ok(())
    }

    /// The policy this server publishes (the same for every local domain: they share the MX).
    pub fn published(&self, hostname: &str) -> Policy {
        let mx = if self.mx.is_empty() {
            vec![hostname.trim_end_matches('.').to_ascii_lowercase()]
        } else {
            self.mx.iter().map(|m| m.to_ascii_lowercase()).collect()
        };
        Policy {
            mode: self.mode,
            mx,
            max_age: self.max_age_secs,
        }
    }

    /// The `_smtp._tls` TXT value for `domain` (RFC 8460 §3).
    pub fn tlsrpt_value(&self, domain: &str) -> String {
        let rua = self
            .tlsrpt_rua
            .clone()
            .unwrap_or_else(|| format!("mailto:postmaster@{domain}"));
        format!("v=TLSRPTv1; rua={rua}")
    }
}
