//! Quotas (RFC 9425) and sending limits for a small shared server.
//!
//! - The figures (octets and messages per account) are kept by the store in the same
//!   transaction as every email insert and destroy (`store/redb/quota.rs`), and the hard limit
//!   is enforced there, so every way mail enters (SMTP, Email/import, Email/set, Email/copy,
//!   Sieve, file import) is refused the same way: `StoreError::OverQuota`, which JMAP answers
//!   `overQuota` and SMTP `452 4.2.2`.
//! - `check.rs`: the cheap look before the work (SMTP RCPT, uploads).
//! - `warn.rs`: the one warning message per crossing of a warning limit.
//! - `admin.rs`: `mailnook quota ...` (CLI, control socket and admin page).
//! - `send.rs`: outbound messages and recipients per hour and per day.
//! - The JMAP side is `jmap/quota/`.

pub mod admin;
pub mod check;
pub mod send;
pub mod warn;

use crate::store::model_quota::QuotaLimits;
use serde::Deserialize;

/// Table `[quota]` of the config file: the server-wide default for every account that has no
/// limit of its own (`mailnook quota set`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct QuotaConfig {
    /// Octets of mail per account; 0 is no limit. A number, or a string with K, M, G ("5G").
    #[serde(deserialize_with = "size")]
    pub storage_bytes: u64,
    /// Messages per account; 0 is no limit.
    pub messages: u64,
    /// The warning limit, in percent of a hard limit that has no explicit warning limit.
    pub warn_percent: u8,
}

impl Default for QuotaConfig {
    fn default() -> Self {
        QuotaConfig {
            storage_bytes: 0,
            messages: 0,
            warn_percent: crate::store::mail::quota::DEFAULT_WARN_PERCENT,
        }
    }
}

impl QuotaConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.warn_percent == 0 || self.warn_percent > 100 {
            return Err("[quota] warn_percent must be 1..=100".into());
        }
        Ok(())
    }

    /// The default as the store keeps it (the row of account 0).
    pub fn limits(&self) -> QuotaLimits {
        QuotaLimits {
            storage: Some(self.storage_bytes),
            messages: Some(self.messages),
            warn_percent: Some(self.warn_percent),
            ..Default::default()
        }
    }
}

/// A size in the config: a number of octets, or a string for [`parse_size`].
fn size<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Size {
        Number(u64),
        Text(String),
    }
    match Size::deserialize(d)? {
        Size::Number(n) => Ok(n),
        Size::Text(t) => parse_size(&t)
            .ok_or_else(|| serde::de::Error::custom(format!("not a size: {t:?} (use e.g. 5G)"))),
    }
}

/// At start: stores the configured default and starts the warning task.
pub async fn start(
    store: &crate::store::Store,
    cfg: &QuotaConfig,
    hostname: &str,
) -> Result<smol::Task<()>, String> {
    let limits = cfg.limits();
    store
        .write(move |w| w.set_quota_default(&limits))
        .await
        .map_err(|e| format!("cannot store the quota default: {e}"))?;
    Ok(smol::spawn(warn::run(store.clone(), hostname.to_string())))
}

/// Parses a size: a number of octets with an optional K, M or G (powers of 1024), or "none"
/// (0, no limit).
pub fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("none") || t.eq_ignore_ascii_case("unlimited") {
        return Some(0);
    }
    let (num, mult) = match t.char_indices().last()? {
        (i, 'k' | 'K') => (&t[..i], 1u64 << 10),
        (i, 'm' | 'M') => (&t[..i], 1 << 20),
        (i, 'g' | 'G') => (&t[..i], 1 << 30),
        (i, 't' | 'T') => (&t[..i], 1 << 40),
        _ => (t, 1),
    };
    num.trim().parse::<u64>().ok()?.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("2K"), Some(2048));
        assert_eq!(parse_size("5M"), Some(5 << 20));
        assert_eq!(parse_size("1g"), Some(1 << 30));
        assert_eq!(parse_size("none"), Some(0));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size("99999999999T"), None);
    }

    #[test]
    fn the_config_table_takes_numbers_and_sizes() {
        let c: QuotaConfig = toml::from_str("storage_bytes = \"2G\"\nmessages = 10").unwrap();
        assert_eq!(
            (c.storage_bytes, c.messages, c.warn_percent),
            (2 << 30, 10, 90)
        );
        let c: QuotaConfig = toml::from_str("storage_bytes = 1000").unwrap();
        assert_eq!(c.storage_bytes, 1000);
        assert!(toml::from_str::<QuotaConfig>("storage_bytes = \"lots\"").is_err());
        assert!(
            QuotaConfig {
                warn_percent: 0,
                ..Default::default()
            }
            .validate()
            .is_err()
        );
    }
}
