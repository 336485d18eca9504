//! Certificates from an ACME CA (RFC 8555), e.g. Let's Encrypt, obtained and renewed without
//! the admin: `acme = true` or an `[acme]` table in the config.
//!
//! - Crate: instant-acme (Apache-2.0, maintained by a rustls maintainer) does the protocol (JWS,
//!   nonces, account, order, finalize). Its HTTP client is a trait, implemented in `client.rs`
//!   over smol + rustls/ring + hyper, so no tokio runtime, hyper-rustls or aws-lc is pulled in
//!   (its default features are off; only `ring`).
//! - Challenges (`challenges.rs`): TLS-ALPN-01 (RFC 8737) on the HTTPS listener through the
//!   rustls certificate resolver, or HTTP-01 on the optional port-80 listener (`http_listen`,
//!   `http/plain.rs`, which otherwise only redirects to HTTPS).
//! - Renewal (`renew.rs`): 30 days before expiry (a third of the lifetime before it for
//!   short-lived certificates), with exponential backoff after a failure.
//! - Files (`files.rs`): account key and certificate in `data_dir/acme/`. A new certificate is
//!   switched in with `Tls::use_acme`, the same switch as a manual install: every new HTTPS
//!   connection, SMTP STARTTLS and submission STARTTLS takes it at once. Until the first one
//!   arrives the self-signed certificate keeps serving.
//! - State (`state.rs`): issuer, expiry, last attempt and its error in plain words, for
//!   `mailnook cert show` and the admin status API.

pub mod challenges;
pub mod client;
pub mod files;
pub mod issue;
pub mod renew;
pub mod state;

use serde::Deserialize;
use std::path::PathBuf;

/// Let's Encrypt's production directory (RFC 8555 §7.1.1).
pub const LETS_ENCRYPT: &str = "https://acme-v02.api.letsencrypt.org/directory";

/// `acme = true` (all defaults) or an `[acme]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum AcmeSetting {
    Flag(bool),
    Table(AcmeConfig),
}

impl Default for AcmeSetting {
    fn default() -> Self {
        AcmeSetting::Flag(false)
    }
}

impl AcmeSetting {
    /// The ACME settings when ACME is on.
    pub fn enabled(&self) -> Option<AcmeConfig> {
        match self {
            AcmeSetting::Flag(false) => None,
            AcmeSetting::Flag(true) => Some(AcmeConfig::default()),
            AcmeSetting::Table(t) if t.enabled => Some(t.clone()),
            AcmeSetting::Table(_) => None,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AcmeConfig {
    /// `false` turns ACME off while keeping the table.
    pub enabled: bool,
    /// The CA's directory URL. Default: Let's Encrypt production.
    pub directory: String,
    /// Contact email addresses for the account (the CA's expiry warnings go there).
    pub contact: Vec<String>,
    /// Names on the certificate. Default: the hostname, and `mta-sts.` and `autoconfig.` of
    /// each local domain (for MTA-STS and client autoconfiguration).
    pub domains: Vec<String>,
    /// `tls-alpn-01` (RFC 8737; on the HTTPS listener, which must be reachable on port 443) or
    /// `http-01` (RFC 8555 §8.3; needs `http_listen` reachable on port 80).
    pub challenge: String,
    /// Extra CA certificates (PEM) trusted for the directory's HTTPS (a private or test CA).
    pub ca_file: Option<PathBuf>,
    /// First pause after a failed attempt, seconds; doubled after each further failure.
    pub retry_first_secs: u64,
    /// Longest pause between failed attempts, seconds.
    pub retry_max_secs: u64,
}

impl Default for AcmeConfig {
    fn default() -> Self {
        AcmeConfig {
            enabled: true,
            directory: LETS_ENCRYPT.into(),
            contact: Vec::new(),
            domains: Vec::new(),
            challenge: "tls-alpn-01".into(),
            ca_file: None,
            // Let's Encrypt allows 5 failed validations per name per hour: start at 10 minutes.
            retry_first_secs: 600,
            retry_max_secs: 86_400,
        }
    }
}

impl AcmeConfig {
    pub fn validate(&self) -> Result<(), String> {
        if !self.directory.starts_with("https://") {
            return Err("[acme] directory must be an https URL".into());
        }
        if !matches!(self.challenge.as_str(), "tls-alpn-01" | "http-01") {
            return Err("[acme] challenge must be \"tls-alpn-01\" or \"http-01\"".into());
        }
        if self.retry_first_secs == 0 || self.retry_max_secs < self.retry_first_secs {
            return Err(
                "[acme] retry_first_secs must be at least 1 and at most retry_max_secs".into(),
            );
        }
        for d in &self.domains {
            if d.starts_with("*.") {
                return Err(format!(
                    "[acme] {d}: wildcards need DNS-01, which mailnook does not do"
                ));
            }
        }
        Ok(())
    }

    pub fn challenge_type(&self) -> instant_acme::ChallengeType {
        match self.challenge.as_str() {
            "http-01" => instant_acme::ChallengeType::Http01,
            _ => instant_acme::ChallengeType::TlsAlpn01,
        }
    }
}

/// The names to certify: the configured list, else the hostname plus `mta-sts.` and
/// `autoconfig.` of each local domain, lower-case, without duplicates.
pub fn domains(cfg: &AcmeConfig, hostname: &str, local_domains: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |d: String| {
        let d = d.trim_end_matches('.').to_ascii_lowercase();
        if !d.is_empty() && !out.contains(&d) {
            out.push(d);
        }
    };
    if !cfg.domains.is_empty() {
        cfg.domains.iter().cloned().for_each(&mut add);
        return out;
    }
    add(hostname.to_string());
    for d in local_domains {
        add(format!("mta-sts.{d}"));
        add(format!("autoconfig.{d}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_parse_as_flag_or_table() {
        #[derive(Deserialize)]
        struct C {
            acme: AcmeSetting,
        }
        let c: C = toml::from_str("acme = true").unwrap();
        assert_eq!(c.acme.enabled().unwrap().directory, LETS_ENCRYPT);
        let c: C = toml::from_str("acme = false").unwrap();
        assert!(c.acme.enabled().is_none());
        let c: C = toml::from_str(
            "[acme]\ndirectory = \"https://ca.test/dir\"\nchallenge = \"http-01\"\n",
        )
        .unwrap();
        let a = c.acme.enabled().unwrap();
        assert_eq!(a.directory, "https://ca.test/dir");
        assert_eq!(a.challenge_type(), instant_acme::ChallengeType::Http01);
        assert!(toml::from_str::<C>("[acme]\nbogus = 1\n").is_err());
    }

    #[test]
    fn default_domains_cover_hostname_and_service_names() {
        let cfg = AcmeConfig::default();
        let d = domains(
            &cfg,
            "Mail.Example.org",
            &["example.org".into(), "b.test".into()],
        );
        assert_eq!(
            d,
            [
                "mail.example.org",
                "mta-sts.example.org",
                "autoconfig.example.org",
                "mta-sts.b.test",
                "autoconfig.b.test"
            ]
        );
        let cfg = AcmeConfig {
            domains: vec!["x.test".into(), "X.test.".into()],
            ..AcmeConfig::default()
        };
        assert_eq!(domains(&cfg, "h", &["example.org".into()]), ["x.test"]);
    }
}
