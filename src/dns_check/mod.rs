//! The DNS doctor (`mailnook dns check [DOMAIN]`, `GET /admin/api/dns-check`): resolves what is
//! published and compares it with what mailnook needs, one line per record: ok, missing or
//! wrong, the record to publish, and why it matters in plain words.
//!
//! What is expected comes from one list, the one the admin page's setup view shows
//! (`http/admin_setup.rs::records` plus the DKIM keys in the store). Every record in it is
//! checked: the known kinds (MX, A/AAAA, SPF, DKIM, DMARC, SRV, CNAME) by what they mean, any
//! other TXT record by its `v=` tag (so a record added to the list later, such as MTA-STS or
//! TLS-RPT, is checked without a change here), any other type by its presence. Two checks are
//! not records in that list: reverse DNS of the server's addresses (FCrDNS) and whether SPF
//! authorises those addresses (evaluated, not compared as text).
//!
//! Bounded: the host name is resolved first (at most [`FIRST_STEP`]), then the checks run in
//! parallel (at most 16 at once), each within what is left of [`DEADLINE`]; a check that runs
//! out of time says so ("unknown") instead of holding the answer.
//!
//! Files: `expect.rs` completes the list with what `mailnook dns` prints; `lookup.rs` asks DNS; `verify.rs` judges one expected record; `words.rs` says why each
//! record matters; `text.rs` prints the report for the terminal.

mod expect;
mod lookup;
mod text;
mod verify;
mod words;

use crate::config::Config;
use crate::http::admin_setup::{self, Record};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::{Duration, Instant};

pub use lookup::Lookups;

/// The whole check's time limit.
pub const DEADLINE: Duration = Duration::from_secs(12);
/// Checks running at once (each asks one to a few questions).
const MAX_AT_ONCE: usize = 16;
/// The limit for the first step (the host name's own addresses, which later checks use).
pub const FIRST_STEP: Duration = Duration::from_secs(4);

/// One line's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Missing,
    Wrong,
    /// Not published and not needed here (an AAAA record on a machine without IPv6).
    Optional,
    /// DNS did not answer in time, or answered with an error: nothing can be said.
    Unknown,
}

impl Status {
    /// Whether the line asks the admin to act (and makes the command exit non-zero).
    pub fn is_problem(self) -> bool {
        matches!(self, Status::Missing | Status::Wrong | Status::Unknown)
    }

    pub fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Missing => "missing",
            Status::Wrong => "wrong",
            Status::Optional => "optional",
            Status::Unknown => "unknown",
        }
    }
}

/// One checked record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Check {
    /// The mail domain, or empty for the server's own name.
    pub domain: String,
    /// What the record is for: "MX", "SPF", "DKIM", "DMARC", "reverse DNS", "MTA-STS", ...
    pub what: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: Status,
    /// The values published now (as found).
    pub found: Vec<String>,
    /// What is wrong or right, in one sentence.
    pub detail: String,
    /// The record to publish (a zone-file line), or what to ask for.
    pub publish: String,
    /// Why it matters, for someone who is not a mail administrator.
    pub why: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub hostname: String,
    /// Where the questions went.
    pub resolver: String,
    /// The addresses taken to be this server's, and where they came from.
    pub addresses: Vec<String>,
    pub addresses_from: String,
    pub domains: Vec<String>,
    /// Problems with the configuration itself (a host name nobody can reach, SMTP on
    /// loopback), from the setup page (`admin_setup::warnings`).
    pub warnings: Vec<String>,
    pub checks: Vec<Check>,
    /// Lines that need action (missing, wrong, unknown).
    pub problems: usize,
    pub elapsed_ms: u64,
}

impl Report {
    /// The report as the terminal shows it.
    pub fn text(&self) -> String {
        text::render(self)
    }
}

/// The control-socket form of `mailnook dns check [DOMAIN]` (`control.rs` runs it in the
/// server, which knows its own resolver and addresses). The field name keeps it apart from
/// every other control command.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsCheckCommand {
    pub dns_check: DnsCheckArgs,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsCheckArgs {
    pub domain: Option<String>,
}

/// Addresses that can be this machine's public ones (not loopback, private, link-local...).
fn public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast())
        }
        IpAddr::V6(v6) => {
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80)
        }
    }
}

/// The addresses known to be this server's: `public_ips`, public listener addresses and the
/// address the admin typed into the browser.
fn known_addresses(config: &Config, host_ip: Option<IpAddr>) -> Vec<IpAddr> {
    let mut v: Vec<IpAddr> = Vec::new();
    for ip in config
        .public_ips
        .iter()
        .copied()
        .chain([config.smtp_listen.ip(), config.https_listen.ip()])
        .chain(host_ip)
        .filter(|ip| public(*ip))
    {
        if !v.contains(&ip) {
            v.push(ip);
        }
    }
    v
}

/// The mail domains of this server: the domains list plus those of accounts and aliases.
async fn local_domains(store: &Store) -> BTreeSet<String> {
    use crate::accounts::{Command, Outcome, run};
    let mut out = BTreeSet::new();
    let domain_of = |a: &str| a.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase());
    if let Outcome::Accounts(list) = run(store, Command::List).await {
        for a in list {
            out.extend(domain_of(&a.address));
            out.extend(a.aliases.iter().filter_map(|x| domain_of(x)));
        }
    }
    if let Outcome::Aliases(list) = run(store, Command::AliasList).await {
        out.extend(list.iter().filter_map(|a| domain_of(&a.address)));
    }
    if let Outcome::Domains(list) = run(store, Command::DomainList).await {
        out.extend(list.into_iter().map(|d| d.domain.to_ascii_lowercase()));
    }
    out.retain(|d| !d.is_empty());
    out
}

/// The DKIM keys the store holds for `domain` (read only: checking never makes keys).
async fn dkim_keys(store: &Store, domain: &str) -> Vec<crate::store::model_send::DkimKey> {
    let name = domain.to_string();
    store
        .read(move |r| {
            let mut keys = Vec::new();
            for algo in [
                crate::outbound::dkim::ALGO_RSA,
                crate::outbound::dkim::ALGO_ED25519,
            ] {
                keys.extend(r.dkim_key(&name, algo)?);
            }
            Ok(keys)
        })
        .await
        .unwrap_or_default()
}

/// One expected record with the domain it belongs to.
pub(crate) struct Expected {
    pub domain: String,
    pub record: Record,
}

/// A record to look up, or a line already known (a domain without DKIM keys).
enum Job {
    Record(Expected),
    Fixed(Check),
}

/// Runs the whole check. `only` limits it to one domain (any domain, local or not);
/// `host_ip` is the address the admin reached the admin page by, when it was an address.
pub async fn run(
    config: &Config,
    store: &Store,
    only: Option<&str>,
    host_ip: Option<IpAddr>,
) -> Result<Report, String> {
    let started = Instant::now();
    let host = lookup::bare(&config.hostname);
    let domains: BTreeSet<String> = match only {
        Some(d) => {
            let d = lookup::bare(d);
            // RFC 1035 §2.3.4: 253 octets in text form at most.
            if d.is_empty() || !d.contains('.') || d.len() > 253 {
                return Err(format!("'{d}' is not a domain name"));
            }
            BTreeSet::from([d])
        }
        None => local_domains(store).await,
    };
    let lookups = Lookups::new(config).await?;
    let known = known_addresses(config, host_ip);

    // Step one: the host name's published addresses. Without configured ones, they stand for
    // this server's (SPF and reverse DNS are checked against them).
    let published = with_deadline(FIRST_STEP, {
        let l = lookups.clone();
        let h = host.clone();
        async move { l.ips(&h).await }
    })
    .await
    .unwrap_or_else(|| Err("no answer in time".into()));
    let (addresses, addresses_from) = if !known.is_empty() {
        let from = if !config.public_ips.is_empty() {
            "public_ips in the config"
        } else if host_ip.is_some_and(|ip| known.contains(&ip)) {
            "the address this page was reached by"
        } else {
            "the listeners' addresses"
        };
        (known.clone(), from.to_string())
    } else {
        match &published {
            Ok(v) if !v.is_empty() => {
                (v.clone(), format!("the published A/AAAA records of {host}"))
            }
            _ => (Vec::new(), format!("none: {host} has no address yet")),
        }
    };

    // Everything expected, host records first, DKIM after SPF as the setup page lists them.
    let (host_records, per_domain) = admin_setup::records(config, host_ip, &domains);
    let spf = crate::outbound::spf::advice(&config.outbound);
    let mut jobs: Vec<Job> = host_records
        .into_iter()
        .map(|record| {
            Job::Record(Expected {
                domain: String::new(),
                record,
            })
        })
        .collect();
    for mut d in per_domain {
        let keys = dkim_keys(store, &d.domain).await;
        let at = d.records.len().min(2);
        d.records.splice(at..at, admin_setup::dkim_records(&keys));
        let domain = d.domain.clone();
        // Anything `mailnook dns DOMAIN` prints that the setup list lacks is needed too.
        let printed = crate::outbound::dkim::dns_records(&domain, &host, &spf, &keys);
        d.records = expect::merge(
            std::mem::take(&mut d.records),
            expect::from_zone_text(&printed),
        );
        for (i, record) in d.records.into_iter().enumerate() {
            if keys.is_empty() && i == at {
                jobs.push(Job::Fixed(verify::no_keys(&domain)));
            }
            jobs.push(Job::Record(Expected {
                domain: domain.clone(),
                record,
            }));
        }
    }

    let ctx = std::sync::Arc::new(verify::Context {
        host: host.clone(),
        addresses: addresses.clone(),
        addresses_known: !known.is_empty(),
        host_published: published.clone().unwrap_or_default(),
        direct: config.outbound.smarthost.is_none(),
    });
    let left = DEADLINE.saturating_sub(started.elapsed());
    // Every check at once, each on its own task, each within what is left of the deadline.
    // A server with many domains must not fire hundreds of queries at its resolver at once.
    let slots = std::sync::Arc::new(smol::lock::Semaphore::new(MAX_AT_ONCE));
    let mut tasks = Vec::new();
    for job in jobs {
        match job {
            Job::Fixed(c) => tasks.push((c, None)),
            Job::Record(e) => {
                let (l, c, slots) = (lookups.clone(), ctx.clone(), slots.clone());
                let fallback = verify::timed_out(&e);
                let task = smol::spawn(with_deadline(left, async move {
                    let _slot = slots.acquire().await;
                    verify::check(&l, &c, &e).await
                }));
                tasks.push((fallback, Some(task)));
            }
        }
    }
    let fcrdns = {
        let (l, c) = (lookups.clone(), ctx.clone());
        smol::spawn(with_deadline(
            left,
            async move { verify::reverse(&l, &c).await },
        ))
    };
    let mut checks = Vec::new();
    for (fallback, task) in tasks {
        checks.push(match task {
            Some(t) => t.await.unwrap_or(fallback),
            None => fallback,
        });
    }
    // Reverse DNS belongs with the host's own records.
    let host_lines = checks.iter().take_while(|c| c.domain.is_empty()).count();
    let rev = fcrdns
        .await
        .unwrap_or_else(|| vec![verify::reverse_timed_out(&host)]);
    checks.splice(host_lines..host_lines, rev);
    let problems = checks.iter().filter(|c| c.status.is_problem()).count();
    Ok(Report {
        hostname: host,
        resolver: lookups.resolver_name.clone(),
        addresses: addresses.iter().map(|a| a.to_string()).collect(),
        addresses_from,
        domains: domains.into_iter().collect(),
        warnings: admin_setup::warnings(config),
        checks,
        problems,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

/// `fut`'s output, or None when `limit` passes first.
async fn with_deadline<T>(limit: Duration, fut: impl std::future::Future<Output = T>) -> Option<T> {
    use futures_lite::FutureExt;
    async { Some(fut.await) }
        .or(async {
            smol::Timer::after(limit).await;
            None
        })
        .await
}
