//! The ACME task: obtains the first certificate, renews it in time, backs off after failures,
//! and records each attempt (`state.rs`).
//!
//! When: a certificate that does not cover the wanted names is replaced at once; otherwise 30
//! days before expiry, or a third of its lifetime before expiry when that is shorter (Let's
//! Encrypt's advice for its 90-day certificates is the 60-day mark; the second rule keeps
//! short-lived certificates from being renewed in a loop). After a failure the next try waits `retry_first_secs`, doubled per
//! further failure up to `retry_max_secs`; a restart keeps that schedule (it is in the state
//! file), so restarting cannot hammer the CA into its rate limits.

use super::state::{self, AcmeState};
use super::{AcmeConfig, client::Client, files, issue};
use crate::store::Store;
use crate::tls::{Source, Tls};
use std::path::PathBuf;
use std::time::Duration;

/// Renew this long before expiry (RFC 8555 leaves it to the client; 30 days is the usual).
const RENEW_BEFORE_SECS: i64 = 30 * 86_400;
/// Re-check at least this often (the local domains, so the default names, may change).
const RECHECK: Duration = Duration::from_secs(3600);

pub struct Renewer {
    pub cfg: AcmeConfig,
    pub client: Client,
    pub data_dir: PathBuf,
    pub hostname: String,
    pub tls: Tls,
    pub store: Store,
}

/// At start: serve the certificate obtained earlier, if there is one that still loads.
pub fn load_existing(data_dir: &std::path::Path, tls: &Tls) {
    let (c, k) = (files::cert_path(data_dir), files::key_path(data_dir));
    if c.exists() && k.exists() {
        match tls.use_acme(&c, &k) {
            Ok(i) => log::info!(
                "acme: serving the certificate for {} (expires {})",
                i.names.join(", "),
                crate::date::rfc3339(i.not_after)
            ),
            Err(e) => log::error!("acme: the stored certificate cannot be used ({e})"),
        }
    }
}

/// When the live certificate should be renewed, if it is ours and covers `domains`.
pub fn renew_at(tls: &Tls, domains: &[String]) -> Option<i64> {
    let info = tls.info();
    if info.source != Source::Acme {
        return None;
    }
    let covered = domains
        .iter()
        .all(|d| info.names.iter().any(|n| n.eq_ignore_ascii_case(d)));
    if !covered {
        return None;
    }
    Some(renewal_point(info.not_before, info.not_after))
}

/// 30 days before expiry, or a third of the lifetime before it when that is shorter (a 90-day
/// certificate renews at day 60 either way; a 6-day one at day 4, not at once).
pub fn renewal_point(not_before: i64, not_after: i64) -> i64 {
    let lifetime = (not_after - not_before).max(0);
    not_after - RENEW_BEFORE_SECS.min(lifetime / 3)
}

/// The pause after `failures` consecutive failures.
pub fn backoff(cfg: &AcmeConfig, failures: u32) -> u64 {
    let shift = failures.saturating_sub(1).min(30);
    cfg.retry_first_secs
        .saturating_mul(1u64 << shift)
        .min(cfg.retry_max_secs)
}

impl Renewer {
    async fn local_domains(&self) -> Vec<String> {
        match self.store.read(|r| r.domains()).await {
            Ok(d) => d.into_iter().map(|(d, _)| d).collect(),
            Err(e) => {
                log::warn!("acme: cannot list local domains ({e})");
                Vec::new()
            }
        }
    }

    pub async fn run(self) {
        let mut st = state::load(&self.data_dir).unwrap_or_default();
        loop {
            let domains = super::domains(&self.cfg, &self.hostname, &self.local_domains().await);
            let now = crate::date::now();
            let mut due = renew_at(&self.tls, &domains).unwrap_or(now);
            // A failure recorded for the same names keeps its backoff (also across a restart).
            if st.failures > 0
                && st.domains == domains
                && let Some(next) = st.next_attempt
            {
                due = due.max(next);
            }
            st.directory = self.cfg.directory.clone();
            st.challenge = self.cfg.challenge.clone();
            if st.domains != domains {
                st.failures = 0;
                st.domains = domains.clone();
            }
            if due > now {
                st.next_attempt = Some(due);
                self.save(&st);
                let wait = Duration::from_secs((due - now) as u64).min(RECHECK);
                smol::Timer::after(wait).await;
                continue;
            }
            st.last_attempt = Some(now);
            log::info!("acme: requesting a certificate for {}", domains.join(", "));
            match issue::issue(
                &self.cfg,
                &self.client,
                &self.data_dir,
                &self.tls.challenges(),
                &domains,
            )
            .await
            .and_then(|_| {
                self.tls.use_acme(
                    &files::cert_path(&self.data_dir),
                    &files::key_path(&self.data_dir),
                )
            }) {
                Ok(info) => {
                    log::info!(
                        "acme: new certificate from {} for {}, expires {}; now serving it",
                        info.issuer,
                        info.names.join(", "),
                        crate::date::rfc3339(info.not_after)
                    );
                    st.failures = 0;
                    st.last_error = None;
                    st.last_success = Some(crate::date::now());
                    st.issuer = Some(info.issuer.clone());
                    st.not_after = Some(info.not_after);
                    st.next_attempt = renew_at(&self.tls, &domains);
                }
                Err(e) => {
                    st.failures = st.failures.saturating_add(1);
                    let pause = backoff(&self.cfg, st.failures);
                    log::warn!(
                        "acme: attempt {} failed: {e}; next try in {pause} s",
                        st.failures
                    );
                    st.last_error = Some(e);
                    st.next_attempt = Some(crate::date::now() + pause as i64);
                }
            }
            self.save(&st);
        }
    }

    fn save(&self, st: &AcmeState) {
        let _ = files::ensure_dir(&self.data_dir);
        if let Err(e) = state::save(&self.data_dir, st) {
            log::warn!("acme: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_comes_at_thirty_days_or_a_third_of_a_short_lifetime() {
        let day = 86_400;
        assert_eq!(renewal_point(0, 90 * day), 60 * day);
        assert_eq!(renewal_point(0, 6 * day), 4 * day);
        assert_eq!(renewal_point(100, 130), 120);
    }

    #[test]
    fn backoff_doubles_to_the_cap() {
        let cfg = AcmeConfig {
            retry_first_secs: 10,
            retry_max_secs: 100,
            ..AcmeConfig::default()
        };
        let b: Vec<u64> = (1..=6).map(|n| backoff(&cfg, n)).collect();
        assert_eq!(b, [10, 20, 40, 80, 100, 100]);
        assert_eq!(backoff(&cfg, u32::MAX), 100);
    }
}
