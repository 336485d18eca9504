//! The DNS doctor's lookups: what is published, asked of the same resolver sender
//! authentication and MX routing use (`dns_resolver` in the config, else /etc/resolv.conf).
//!
//! hickory's resolver runs on tokio only (DESIGN.md: mail-auth needs tokio); every lookup here
//! is wrapped in `async_compat::Compat`, as `ingest/auth.rs` does for sender authentication.
//! This file is the doctor's one bridge: it needs record types mail-auth's lookups do not
//! expose (SRV, CNAME, any type a new record brings), and SPF is evaluated by mail-auth itself
//! (with RFC 7208 §4.6.4's limit of 10 DNS-querying terms).
//!
//! A new resolver is built for each check with no cache to speak of, so a record fixed a
//! minute ago is seen at once when the admin checks again. Each query has a short timeout;
//! `mod.rs` puts an overall deadline on top.

use crate::config::Config;
use mail_auth::MessageAuthenticator;
use mail_auth::hickory_resolver::TokioResolver;
use mail_auth::hickory_resolver::config::{ResolverConfig, ResolverOpts};
use mail_auth::hickory_resolver::net::runtime::TokioRuntimeProvider;
use mail_auth::hickory_resolver::proto::rr::{RData, RecordType};
use mail_auth::spf::verify::SpfParameters;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// Timeout of one DNS query (one retry), short enough that a dead resolver is reported
/// within the doctor's overall deadline.
const QUERY_TIMEOUT: Duration = Duration::from_secs(3);

/// What a lookup found: the records (empty when the name or the type does not exist,
/// NXDOMAIN or NODATA), or why the question could not be answered.
pub type Answer<T> = Result<Vec<T>, String>;

#[derive(Clone)]
pub struct Lookups {
    resolver: Arc<TokioResolver>,
    auth: Arc<MessageAuthenticator>,
    /// Where the questions go, for the report ("127.0.0.1:5353" or "the system's resolver").
    pub resolver_name: String,
}

/// How SPF judged one address (RFC 7208 §2.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpfVerdict {
    /// pass, fail, softfail, neutral, none, temperror or permerror.
    pub result: &'static str,
}

impl Lookups {
    pub async fn new(config: &Config) -> Result<Lookups, String> {
        let (rc, mut opts): (ResolverConfig, ResolverOpts) = match config.dns_resolver {
            Some(addr) => (
                crate::ingest::auth::resolver_at(addr),
                ResolverOpts::default(),
            ),
            None => mail_auth::hickory_resolver::system_conf::read_system_conf()
                .map_err(|e| format!("cannot read the system DNS configuration: {e}"))?,
        };
        opts.timeout = QUERY_TIMEOUT;
        opts.attempts = 2;
        // One check asks each name once or twice; a small cache only serves those repeats.
        opts.cache_size = 64;
        let resolver_name = match config.dns_resolver {
            Some(a) => a.to_string(),
            None => "the system's resolver (/etc/resolv.conf)".into(),
        };
        // Building either resolver looks for a tokio runtime handle: do it inside Compat.
        async_compat::Compat::new(async move {
            let mut b =
                TokioResolver::builder_with_config(rc.clone(), TokioRuntimeProvider::default());
            *b.options_mut() = opts.clone();
            let resolver = b
                .build()
                .map_err(|e| format!("cannot set up the DNS resolver: {e}"))?;
            let auth = MessageAuthenticator::new(rc, opts)
                .map_err(|e| format!("cannot set up the DNS resolver: {e}"))?;
            Ok(Lookups {
                resolver: Arc::new(resolver),
                auth: Arc::new(auth),
                resolver_name,
            })
        })
        .await
    }

    /// Every record of `kind` at `name` (answers of other types, such as the CNAMEs followed
    /// on the way, are dropped).
    pub async fn records(&self, name: &str, kind: RecordType) -> Answer<RData> {
        let r = self.resolver.clone();
        let fqdn = fqdn(name);
        async_compat::Compat::new(async move {
            match r.lookup(fqdn.as_str(), kind).await {
                Ok(l) => Ok(l
                    .answers()
                    .iter()
                    .filter(|rec| rec.record_type() == kind)
                    .map(|rec| rec.data.clone())
                    .collect()),
                Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(Vec::new()),
                Err(e) => Err(e.to_string()),
            }
        })
        .await
    }

    /// TXT records, each one's strings joined (RFC 7208 §3.3, RFC 6376 §3.6.2.2).
    pub async fn txt(&self, name: &str) -> Answer<String> {
        Ok(self
            .records(name, RecordType::TXT)
            .await?
            .into_iter()
            .filter_map(|d| match d {
                RData::TXT(t) => Some(
                    t.txt_data
                        .iter()
                        .map(|s| String::from_utf8_lossy(s).into_owned())
                        .collect::<String>(),
                ),
                _ => None,
            })
            .collect())
    }

    /// (preference, exchange) pairs; the exchange in lower case without the final dot.
    pub async fn mx(&self, name: &str) -> Answer<(u16, String)> {
        Ok(self
            .records(name, RecordType::MX)
            .await?
            .into_iter()
            .filter_map(|d| match d {
                RData::MX(m) => Some((m.preference, bare(&m.exchange.to_ascii()))),
                _ => None,
            })
            .collect())
    }

    /// The A (`v6` false) or AAAA (`v6` true) addresses of `name`.
    pub async fn addresses(&self, name: &str, v6: bool) -> Answer<IpAddr> {
        let kind = if v6 { RecordType::AAAA } else { RecordType::A };
        Ok(self
            .records(name, kind)
            .await?
            .into_iter()
            .filter_map(|d| match d {
                RData::A(a) => Some(IpAddr::V4(a.0)),
                RData::AAAA(a) => Some(IpAddr::V6(a.0)),
                _ => None,
            })
            .collect())
    }

    /// Both families, asked at once; a failure of one is a failure of the whole.
    pub async fn ips(&self, name: &str) -> Answer<IpAddr> {
        let (v4, v6) =
            futures_lite::future::zip(self.addresses(name, false), self.addresses(name, true))
                .await;
        let mut v = v4?;
        v.extend(v6?);
        Ok(v)
    }

    /// (priority, weight, port, target) of each SRV record.
    pub async fn srv(&self, name: &str) -> Answer<(u16, u16, u16, String)> {
        Ok(self
            .records(name, RecordType::SRV)
            .await?
            .into_iter()
            .filter_map(|d| match d {
                RData::SRV(s) => Some((s.priority, s.weight, s.port, bare(&s.target.to_ascii()))),
                _ => None,
            })
            .collect())
    }

    /// The CNAME target(s) of `name`.
    pub async fn cname(&self, name: &str) -> Answer<String> {
        Ok(self
            .records(name, RecordType::CNAME)
            .await?
            .into_iter()
            .filter_map(|d| match d {
                RData::CNAME(c) => Some(bare(&c.0.to_ascii())),
                _ => None,
            })
            .collect())
    }

    /// The reverse names (PTR, RFC 1035 §3.5) of an address.
    pub async fn ptr(&self, ip: IpAddr) -> Answer<String> {
        let name = mail_auth::hickory_resolver::proto::rr::Name::from(ip).to_ascii();
        Ok(self
            .records(&name, RecordType::PTR)
            .await?
            .into_iter()
            .filter_map(|d| match d {
                RData::PTR(p) => Some(bare(&p.0.to_ascii())),
                _ => None,
            })
            .collect())
    }

    /// SPF's verdict on mail from `postmaster@domain` sent by `ip` that greets with `helo`
    /// (RFC 7208 §4), evaluated by mail-auth with the 10-lookup limit of §4.6.4.
    pub async fn spf(&self, ip: IpAddr, helo: &str, domain: &str) -> SpfVerdict {
        use mail_auth::SpfResult;
        let a = self.auth.clone();
        let (helo, sender) = (helo.to_string(), format!("postmaster@{domain}"));
        let out = async_compat::Compat::new(async move {
            a.verify_spf(SpfParameters::verify_mail_from(ip, &helo, &helo, &sender))
                .await
        })
        .await;
        let result = match out.result() {
            SpfResult::Pass => "pass",
            SpfResult::Fail => "fail",
            SpfResult::SoftFail => "softfail",
            SpfResult::Neutral => "neutral",
            SpfResult::TempError => "temperror",
            SpfResult::PermError => "permerror",
            SpfResult::None => "none",
        };
        SpfVerdict { result }
    }
}

/// A name in the form compared everywhere here: lower case, no final dot.
pub fn bare(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Fully qualified, so the resolver's search domains are never tried (a name that does not
/// exist must not be found under the machine's own domain).
fn fqdn(name: &str) -> String {
    format!("{}.", bare(name))
}
