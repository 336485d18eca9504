//! Configuration: embedded defaults, an optional TOML file, then command-line flags (flags win).

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the database, certificate and search index live.
    pub data_dir: PathBuf,
    /// The name this server answers to: SMTP greeting, Received headers, certificate SAN.
    pub hostname: String,
    /// SMTP listener (port 25 in production; an unprivileged port by default).
    pub smtp_listen: SocketAddr,
    /// HTTPS listener for JMAP and the admin page.
    pub https_listen: SocketAddr,
    /// The URL clients use to reach the HTTPS listener, if it differs from `https://hostname:port`
    /// (behind a port forward). Used for the absolute URLs in the JMAP Session.
    pub public_url: Option<String>,
    /// This machine's public addresses, when the listeners are bound to 0.0.0.0 or sit behind
    /// NAT: the A/AAAA values `mailnook dns` prints and what `mailnook dns check` expects the
    /// host name, SPF and reverse DNS to name (`src/dns_check/`). Empty: taken from the
    /// listeners when public, else from the host name's published A/AAAA records.
    pub public_ips: Vec<std::net::IpAddr>,
    /// Largest message accepted over SMTP, in bytes (advertised with SIZE, RFC 1870).
    pub max_message_size: usize,
    /// Most recipients per SMTP transaction (RFC 5321 §4.5.3.1.8 requires at least 100).
    pub max_recipients: usize,
    /// A PEM certificate chain to use instead of the generated self-signed one.
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key for `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// redb page cache ceiling, in MiB (redb's default is 1 GiB: too much for a Pi).
    pub cache_mb: usize,
    /// SMTP idle timeout for commands, seconds (RFC 5321 §4.5.3.2.7 suggests 5 minutes).
    pub smtp_timeout_secs: u64,
    /// SMTP submission listener for mail clients (RFC 6409; port 587 in production): STARTTLS,
    /// then AUTH PLAIN/LOGIN; the authenticated user may send only as their own addresses.
    pub submission_listen: SocketAddr,
    /// ManageSieve listener (RFC 5804; port 4190 in production): STARTTLS, then SASL PLAIN,
    /// for filter editors to manage the account's Sieve scripts (`src/managesieve/`).
    pub managesieve_listen: SocketAddr,
    /// Outbound delivery: smarthost, retries, DKIM (table `[outbound]`, `src/outbound/`).
    pub outbound: crate::outbound::OutboundConfig,
    /// The junk filter: default mode, thresholds, model size (table `[junk]`, `src/junk/`).
    pub junk: crate::junk::JunkConfig,
    /// Storage and message quotas: the default for accounts without their own (table
    /// `[quota]`, `src/quota/`).
    pub quota: crate::quota::QuotaConfig,
    /// Outbound messages and recipients per account per hour and day (table `[send_limits]`,
    /// `src/quota/send.rs`).
    pub send_limits: crate::quota::send::SendLimits,
    /// JMAP limits advertised in the Session and enforced (RFC 8620 §2), table `[limits]`.
    pub limits: crate::jmap::Limits,
    /// Extra CA certificates (PEM) trusted when delivering pushes to PushSubscription URLs,
    /// besides the Mozilla roots (for a push service behind a private CA).
    pub push_ca_file: Option<PathBuf>,
    /// Requests to URLs a user or a remote party chose (push subscriptions; later MTA-STS,
    /// webhooks): only public internet addresses, exceptions, time limits (table `[fetch]`,
    /// `src/net_guard.rs`).
    pub fetch: crate::net_guard::FetchConfig,
    /// Scheduled backups with retention (table `[backup]`, `src/backup_schedule.rs`); off
    /// unless `dir` is set.
    pub backup: crate::backup_schedule::BackupSchedule,
    /// SMTP timeout for each read while receiving DATA, seconds (RFC 5321 §4.5.3.2.6: 3 min).
    pub smtp_data_timeout_secs: u64,
    /// Open SMTP connections in total; more are answered 421 and closed.
    pub smtp_max_connections: usize,
    /// Open SMTP connections from one IP address.
    pub smtp_max_connections_per_ip: usize,
    /// New SMTP connections one IP address may open per minute (0: no limit).
    pub smtp_connections_per_minute_per_ip: u32,
    /// Wait this long before the greeting; a client that talks first is refused (554) as an
    /// early talker (RFC 5321 §3.1: the client waits for the greeting). 0 turns the check off.
    pub smtp_greeting_delay_ms: u64,
    /// Trusted networks on port 25 (CIDR blocks or addresses): never delayed before the
    /// greeting, and held only to `smtp_max_connections`, not to the per-IP limits.
    pub smtp_greeting_trusted: Vec<String>,
    /// A client that waited for the greeting once is greeted at once for this long (seconds),
    /// as Postfix's postscreen remembers a client that passed.
    pub smtp_greeting_pass_secs: u64,
    /// Error replies tolerated in one session before it is closed with 421.
    pub smtp_max_errors: u32,
    /// Check SPF, DKIM, ARC and DMARC and add an Authentication-Results header (RFC 8601).
    pub sender_auth: bool,
    /// The DNS server for sender authentication (ip:port). Default: the system's
    /// (/etc/resolv.conf).
    pub dns_resolver: Option<SocketAddr>,
    /// Timeout of one DNS query for sender authentication, milliseconds.
    pub auth_dns_timeout_ms: u64,
    /// Time budget for all authentication checks of one message, milliseconds; past it the
    /// message is delivered with temperror verdicts.
    pub auth_timeout_ms: u64,
    /// Refuse (550 5.7.1) messages that fail DMARC of a domain publishing p=reject. When off,
    /// they go to Junk like p=quarantine failures.
    pub dmarc_reject: bool,
    /// ARC sealers (domains, e.g. mailing-list hosts) trusted to vouch for forwarded mail: a
    /// DMARC failure under a passing ARC chain last sealed by one of them is delivered normally
    /// (RFC 8617 §7.2, local policy). Empty: ARC is reported but never overrides DMARC.
    pub arc_trusted_sealers: Vec<String>,
    /// Changes kept in the changelog per account and type; `/changes` from a state older than
    /// the kept history answers cannotCalculateChanges (RFC 8620 §5.2). Trimmed at start and
    /// every few minutes.
    pub changelog_keep: usize,
    /// How long the indexer gathers further changes before it commits the search index, in
    /// milliseconds: a new message becomes searchable about this long after its 250.
    pub index_batch_ms: u64,
    /// HTTPS: time a client has to send a whole request head (request line and headers),
    /// counted from its first byte (or from the TLS handshake for a connection's first
    /// request), seconds. Slow heads (slowloris) are closed past it.
    pub http_header_timeout_secs: u64,
    /// HTTPS: longest wait for the next piece of a request body, seconds. A body that stops
    /// arriving is answered 400 and the connection closed, so a stalled upload holds nothing.
    pub http_body_timeout_secs: u64,
    /// HTTPS: how long a keep-alive connection may sit idle between requests, seconds
    /// (RFC 9112 §9.8 lets a server close idle connections at any time).
    pub http_idle_timeout_secs: u64,
    /// Open HTTPS connections in total, and from one IP address (IPv6 counted per address),
    /// before a new one is closed unanswered: a flood of idle sockets must not exhaust file
    /// descriptors or memory (each open connection costs ~30 KB).
    pub http_max_connections: usize,
    pub http_max_connections_per_ip: usize,
    /// Certificates from an ACME CA such as Let's Encrypt: `acme = true` or an `[acme]` table
    /// (`src/acme/`). Excludes `tls_cert`.
    pub acme: crate::acme::AcmeSetting,
    /// A plain-HTTP listener (port 80 in production): ACME HTTP-01 challenges, and a redirect to
    /// HTTPS for everything else. None: no such listener.
    pub http_listen: Option<SocketAddr>,
    /// Lifetime of an OAuth access token in seconds (`src/oauth/`); the app refreshes it.
    pub oauth_access_ttl_secs: i64,
    /// MTA-STS (RFC 8461) published for our domains and honoured for others, and TLS
    /// reporting (RFC 8460): table `[mta_sts]`, `src/mta_sts/`.
    pub mta_sts: crate::mta_sts::MtaStsConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("mailnook-data"),
            hostname: "localhost".into(),
            smtp_listen: SocketAddr::from(([127, 0, 0, 1], 2525)),
            https_listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            public_url: None,
            public_ips: Vec::new(),
            max_message_size: 25 * 1024 * 1024,
            max_recipients: 100,
            tls_cert: None,
            tls_key: None,
            cache_mb: 32,
            smtp_timeout_secs: 300,
            limits: crate::jmap::Limits::default(),
            push_ca_file: None,
            fetch: crate::net_guard::FetchConfig::default(),
            backup: crate::backup_schedule::BackupSchedule::default(),
            smtp_data_timeout_secs: 180,
            smtp_max_connections: 200,
            smtp_max_connections_per_ip: 20,
            smtp_connections_per_minute_per_ip: 120,
            smtp_greeting_delay_ms: 300,
            smtp_greeting_trusted: vec!["127.0.0.0/8".into(), "::1/128".into()],
            smtp_greeting_pass_secs: 86_400,
            smtp_max_errors: 10,
            sender_auth: true,
            dns_resolver: None,
            auth_dns_timeout_ms: 2000,
            auth_timeout_ms: 6000,
            dmarc_reject: true,
            arc_trusted_sealers: Vec::new(),
            changelog_keep: 100_000,
            submission_listen: SocketAddr::from(([127, 0, 0, 1], 5587)),
            managesieve_listen: SocketAddr::from(([127, 0, 0, 1], 4190)),
            outbound: crate::outbound::OutboundConfig::default(),
            junk: crate::junk::JunkConfig::default(),
            quota: crate::quota::QuotaConfig::default(),
            send_limits: crate::quota::send::SendLimits::default(),
            index_batch_ms: 100,
            http_header_timeout_secs: 30,
            http_body_timeout_secs: 30,
            http_idle_timeout_secs: 90,
            http_max_connections: 2048,
            http_max_connections_per_ip: 128,
            acme: crate::acme::AcmeSetting::default(),
            http_listen: None,
            oauth_access_ttl_secs: 3600,
            mta_sts: crate::mta_sts::MtaStsConfig::default(),
        }
    }
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.hostname.trim().is_empty() {
            return Err("hostname must not be empty".into());
        }
        let j = &self.junk;
        if !(j.threshold > 0.0 && j.threshold <= 1.0 && j.reject_threshold >= j.threshold) {
            return Err("[junk] needs 0 < threshold <= reject_threshold, threshold <= 1".into());
        }
        if self.max_message_size < 1024 {
            return Err("max_message_size must be at least 1024 bytes".into());
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err("tls_cert and tls_key must be given together".into());
        }
        self.limits.validate()?;
        self.quota.validate()?;
        if self.smtp_max_connections == 0 || self.smtp_max_connections_per_ip == 0 {
            return Err(
                "smtp_max_connections and smtp_max_connections_per_ip must be at least 1".into(),
            );
        }
        if self.smtp_timeout_secs == 0 || self.smtp_data_timeout_secs == 0 {
            return Err("smtp_timeout_secs and smtp_data_timeout_secs must be at least 1".into());
        }
        if self.http_header_timeout_secs == 0
            || self.http_body_timeout_secs == 0
            || self.http_idle_timeout_secs == 0
        {
            return Err("http_header_timeout_secs, http_body_timeout_secs and http_idle_timeout_secs must be at least 1".into());
        }
        if self.http_max_connections == 0 || self.http_max_connections_per_ip == 0 {
            return Err(
                "http_max_connections and http_max_connections_per_ip must be at least 1".into(),
            );
        }
        if self.oauth_access_ttl_secs <= 0 {
            return Err("oauth_access_ttl_secs must be at least 1".into());
        }
        if self.changelog_keep == 0 {
            return Err("changelog_keep must be at least 1".into());
        }
        self.outbound.validate()?;
        self.fetch.validate()?;
        self.mta_sts.validate()?;
        crate::smtp::greeting::check_trusted(&self.smtp_greeting_trusted)?;
        if let Some(acme) = self.acme.enabled() {
            acme.validate()?;
            if self.tls_cert.is_some() {
                return Err("acme and tls_cert exclude each other: choose one".into());
            }
            if acme.challenge == "http-01" && self.http_listen.is_none() {
                return Err("[acme] challenge = \"http-01\" needs http_listen (port 80)".into());
            }
        }
        if self.max_recipients == 0 {
            return Err("max_recipients must be at least 1".into());
        }
        Ok(())
    }

    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("mailnook.redb")
    }

    /// The search index directory (derived from the database; rebuilt if lost).
    pub fn index_dir(&self) -> PathBuf {
        self.data_dir.join("index")
    }

    pub fn control_socket(&self) -> PathBuf {
        self.data_dir.join("control.sock")
    }

    pub fn cache_bytes(&self) -> usize {
        self.cache_mb.max(1) * 1024 * 1024
    }
}
