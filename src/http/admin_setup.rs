//! Setup help: the DNS records to publish for each domain, and the live certificate's facts.
//!
//! The SPF record follows the route mail leaves by (`outbound::spf::advice`, the same as
//! `mailnook dns`: `mx` for direct delivery, the smarthost's include:/a:/ip4: otherwise).
//! DKIM records are listed for the domains whose keys exist. Values that
//! mailnook cannot know (the public IP address) are shown as placeholders in angle brackets.

use crate::config::Config;
use crate::tls::TlsInfo;
use serde::Serialize;
use std::collections::BTreeSet;
use std::net::IpAddr;

#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub value: String,
    pub note: String,
}

impl Record {
    /// The record as one zone-file line (RFC 1035 §5.1).
    pub fn zone_line(&self) -> String {
        format!("{}\t3600\tIN\t{}\t{}", self.name, self.kind, self.value)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DomainRecords {
    pub domain: String,
    pub records: Vec<Record>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Certificate {
    pub fingerprint_sha256: String,
    pub subject: String,
    pub issuer: String,
    pub names: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    pub days_left: i64,
    pub source: &'static str,
    pub self_signed: bool,
    pub cert_path: String,
    /// The config file names a pair, which wins over an installed one at the next start.
    pub config_overrides: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Setup {
    pub hostname: String,
    /// Warnings about the host name itself (e.g. "localhost" cannot receive mail).
    pub warnings: Vec<String>,
    pub host_records: Vec<Record>,
    pub domains: Vec<DomainRecords>,
    /// Which domains have no DKIM keys yet (their records are missing above), in plain words.
    pub dkim: String,
    pub certificate: Certificate,
}

/// The DKIM key records of a domain whose keys exist (made on first send or by `mailnook dns`;
/// this page only reads them, so opening it never generates keys).
pub fn dkim_records(keys: &[crate::store::model_send::DkimKey]) -> Vec<Record> {
    keys.iter()
        .map(|k| Record {
            name: format!("{}._domainkey.{}.", k.selector, k.domain),
            kind: "TXT",
            value: crate::outbound::dkim::txt_value(k),
            note: format!(
                "DKIM (RFC 6376{}): receivers check the signature on mail from this domain \
                 with this key.",
                if k.algorithm == "ed25519" {
                    ", ed25519 per RFC 8463"
                } else {
                    ""
                }
            ),
        })
        .collect()
}

/// The note under the DNS records about DKIM: which domains have no keys yet, and how to make them.
pub fn dkim_note(without_keys: &[String]) -> String {
    if without_keys.is_empty() {
        "Mail this server sends is DKIM-signed with the keys listed above (RSA and ed25519); \
         publish both records."
            .into()
    } else {
        format!(
            "No DKIM keys yet for {}: they are made on the first message sent from the domain, \
             or now with `mailnook dns DOMAIN`, which prints their records.",
            without_keys.join(", ")
        )
    }
}

fn public_ip(ip: IpAddr) -> bool {
    !(ip.is_loopback() || ip.is_unspecified() || ip.is_multicast())
}

/// The HTTPS port clients reach (from `public_url` when set, else the listener's).
fn https_port(config: &Config) -> u16 {
    config
        .public_url
        .as_deref()
        .and_then(|u| u.trim_end_matches('/').rsplit_once(':'))
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(config.https_listen.port())
}

/// `host_ip` is the address the admin typed into the browser, when it was an IP address: the
/// best guess at the public address when the listeners are bound to 0.0.0.0.
pub fn records(
    config: &Config,
    host_ip: Option<IpAddr>,
    domains: &BTreeSet<String>,
) -> (Vec<Record>, Vec<DomainRecords>) {
    let host = config.hostname.trim_end_matches('.').to_lowercase();
    let mut v4 = None;
    let mut v6 = None;
    for ip in config
        .public_ips
        .iter()
        .copied()
        .chain([config.smtp_listen.ip(), config.https_listen.ip()])
        .chain(host_ip)
        .filter(|ip| public_ip(*ip))
    {
        match ip {
            IpAddr::V4(_) => v4 = v4.or(Some(ip.to_string())),
            IpAddr::V6(_) => v6 = v6.or(Some(ip.to_string())),
        }
    }
    let host_records = vec![
        Record {
            name: format!("{host}."),
            kind: "A",
            value: v4.unwrap_or_else(|| "<public IPv4 address of this machine>".into()),
            note: "Where mail and browsers reach this server. Must match the certificate's name."
                .into(),
        },
        Record {
            name: format!("{host}."),
            kind: "AAAA",
            value: v6.unwrap_or_else(|| "<public IPv6 address of this machine>".into()),
            note: "Only if the machine has a public IPv6 address; otherwise leave it out.".into(),
        },
    ];
    let port = https_port(config);
    let spf = crate::outbound::spf::advice(&config.outbound);
    let per_domain = domains
        .iter()
        .map(|d| DomainRecords {
            domain: d.clone(),
            records: vec![
                Record {
                    name: format!("{d}."),
                    kind: "MX",
                    value: format!("10 {host}."),
                    note: "Mail for this domain is delivered to this server (RFC 5321 §5.1)."
                        .into(),
                },
                Record {
                    name: format!("{d}."),
                    kind: "TXT",
                    value: format!("\"{}\"", spf.value),
                    note: format!("SPF (RFC 7208) for the route mail leaves by: {}", spf.note),
                },
                Record {
                    name: format!("_dmarc.{d}."),
                    kind: "TXT",
                    value: format!("\"{}\"", crate::outbound::dkim::dmarc_value(d)),
                    note: "DMARC (RFC 7489): start with p=none, which only asks for reports \
                           (sent to postmaster@ the domain); move to p=quarantine once they \
                           show nothing legitimate failing."
                        .into(),
                },
                Record {
                    name: format!("_jmap._tcp.{d}."),
                    kind: "SRV",
                    value: format!("0 1 {port} {host}."),
                    note: "Lets JMAP clients find the server from an address (RFC 8620 §2.2)."
                        .into(),
                },
            ]
            .into_iter()
            .chain(mta_sts_records(config, d))
            .collect(),
        })
        .collect();
    (host_records, per_domain)
}

/// The MTA-STS (RFC 8461) and TLS reporting (RFC 8460) records of a domain: the policy host
/// name, the `_mta-sts` TXT whose id follows the policy text (`mta_sts::Policy::id`), and the
/// `_smtp._tls` TXT. `mailnook dns` prints the same list.
pub fn mta_sts_records(config: &Config, domain: &str) -> Vec<Record> {
    let d = domain.trim_end_matches('.').to_ascii_lowercase();
    let host = config.hostname.trim_end_matches('.').to_lowercase();
    let policy = config.mta_sts.published(&host);
    vec![
        Record {
            name: format!("mta-sts.{d}."),
            kind: "CNAME",
            value: format!("{host}."),
            note: format!(
                "The MTA-STS policy host: other servers fetch \
                 https://mta-sts.{d}/.well-known/mta-sts.txt from this server (RFC 8461 §3.3). \
                 Its name must be on the certificate (ACME adds it by default)."
            ),
        },
        Record {
            name: format!("_mta-sts.{d}."),
            kind: "TXT",
            value: format!("\"{}\"", policy.txt_value()),
            note: format!(
                "MTA-STS (RFC 8461): tells other servers to deliver to {d} only over verified \
                 TLS. Policy mode: {} (`[mta_sts] mode`; use enforce only once the certificate \
                 is a real one). The id changes whenever the policy does: publish the new \
                 value after changing `[mta_sts]`.",
                policy.mode.as_str()
            ),
        },
        Record {
            name: format!("_smtp._tls.{d}."),
            kind: "TXT",
            value: format!("\"{}\"", config.mta_sts.tlsrpt_value(&d)),
            note: "TLS reporting (RFC 8460): where other servers send daily reports of TLS \
                   problems delivering to this domain."
                .into(),
        },
    ]
}

pub fn certificate(info: &TlsInfo, config: &Config) -> Certificate {
    let now = crate::date::now();
    Certificate {
        fingerprint_sha256: info.fingerprint.clone(),
        subject: info.subject.clone(),
        issuer: info.issuer.clone(),
        names: info.names.clone(),
        not_before: crate::date::rfc3339(info.not_before),
        not_after: crate::date::rfc3339(info.not_after),
        days_left: (info.not_after - now).div_euclid(86_400),
        source: info.source.as_str(),
        self_signed: info.subject == info.issuer,
        cert_path: info.cert_path.display().to_string(),
        config_overrides: config.tls_cert.is_some(),
    }
}

pub fn warnings(config: &Config) -> Vec<String> {
    let h = config.hostname.to_lowercase();
    let mut w = Vec::new();
    if h == "localhost" || !h.contains('.') || h.ends_with(".localdomain") || h.ends_with(".local")
    {
        w.push(format!(
            "The host name is '{h}', which other mail servers cannot reach. Set `hostname` \
             in the config file (or --hostname) to this machine's public DNS name."
        ));
    }
    if config.smtp_listen.ip().is_loopback() {
        w.push(format!(
            "SMTP listens on {} (this machine only). To receive mail from the internet, set \
             smtp_listen = \"0.0.0.0:25\".",
            config.smtp_listen
        ));
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_for_a_domain() {
        let config = Config {
            hostname: "mail.example.org".into(),
            ..Config::default()
        };
        let domains = BTreeSet::from(["example.org".to_string()]);
        let (host, per) = records(&config, Some("203.0.113.7".parse().unwrap()), &domains);
        assert_eq!(host[0].value, "203.0.113.7");
        assert!(host[1].value.starts_with('<'));
        let r = &per[0].records;
        assert_eq!(
            r[0].zone_line(),
            "example.org.\t3600\tIN\tMX\t10 mail.example.org."
        );
        assert_eq!(r[2].name, "_dmarc.example.org.");
        assert_eq!(r[3].value, "0 1 8443 mail.example.org.");
        let sts = r
            .iter()
            .find(|r| r.name == "_mta-sts.example.org.")
            .unwrap();
        let id = config.mta_sts.published("mail.example.org").id();
        assert_eq!(sts.value, format!("\"v=STSv1; id={id}\""));
        assert!(
            r.iter()
                .any(|r| r.name == "mta-sts.example.org." && r.kind == "CNAME")
        );
        let rpt = r
            .iter()
            .find(|r| r.name == "_smtp._tls.example.org.")
            .unwrap();
        assert_eq!(
            rpt.value,
            "\"v=TLSRPTv1; rua=mailto:postmaster@example.org\""
        );
        assert!(warnings(&config).iter().any(|w| w.contains("smtp_listen")));
    }
}
