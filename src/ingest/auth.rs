//! Sender authentication with mail-auth: SPF for the HELO and MAIL FROM identities (RFC 7208),
//! every DKIM signature (RFC 6376), the ARC chain (RFC 8617) and DMARC with alignment
//! (RFC 7489). The verdicts become one Authentication-Results header (RFC 8601) with our
//! hostname as the authserv-id, and a policy decision: deliver, deliver to Junk, or reject.
//!
//! mail-auth resolves through hickory's tokio resolver; it has no trait to swap in a smol one.
//! This is the only file that bridges to tokio: each verification runs inside
//! `async_compat::Compat`, which drives tokio-only futures from smol on a small side runtime.
//!
//! DNS cost is bounded: every lookup has a short timeout (`auth_dns_timeout_ms`, one retry) and
//! the whole check has a budget (`auth_timeout_ms`). When the budget runs out the message is
//! delivered with `temperror` verdicts rather than deferred: an unreachable resolver must not
//! stop mail (RFC 7208 §2.6.6 leaves the temperror action to the receiver). After a check runs
//! out of time the resolver is treated as down for [`DNS_DOWN_FOR`]: messages in that window
//! get temperror at once instead of each waiting out the budget; the first message after the
//! window probes again.

use crate::activity::AuthVerdicts;
use crate::config::Config;
use mail_auth::dmarc::Policy;
use mail_auth::dmarc::verify::DmarcParameters;
use mail_auth::hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts,
};
use mail_auth::spf::verify::SpfParameters;
use mail_auth::{
    AuthenticatedMessage, AuthenticationResults, DkimResult, DmarcResult, MessageAuthenticator,
    Parameters, SpfOutput, SpfResult,
};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long the resolver counts as down after a check ran out of time.
const DNS_DOWN_FOR: Duration = Duration::from_secs(30);

/// What to do with the message after authentication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Deliver,
    /// Deliver to the Junk mailbox (DMARC p=quarantine failure, or SPF fail without DMARC pass).
    Junk,
    /// Refuse with 550 5.7.1 (DMARC p=reject failure, when `dmarc_reject` is on).
    Reject,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    /// The complete `Authentication-Results:` header, CRLF-terminated.
    pub header: String,
    pub verdicts: AuthVerdicts,
    pub action: Action,
    /// The domain whose DMARC policy decided a Junk/Reject, for the reply and the log.
    pub policy_domain: String,
}

/// The SMTP facts authentication needs besides the message.
pub struct Envelope<'a> {
    pub ip: IpAddr,
    pub helo: &'a str,
    /// MAIL FROM; empty for the null sender.
    pub mail_from: &'a str,
}

#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<MessageAuthenticator>,
    /// Parsed TXT records (SPF, DKIM keys, DMARC) until their TTL ends.
    txt: Arc<super::auth_cache::TxtCache>,
    hostname: String,
    budget: Duration,
    dmarc_reject: bool,
    /// Lower-cased ARC sealer domains whose passing chain overrides a DMARC failure.
    arc_trusted: Arc<Vec<String>>,
    /// Milliseconds since `epoch` until which the resolver counts as down (0: up).
    down_until: Arc<AtomicU64>,
    epoch: Instant,
}

impl Authenticator {
    /// Builds the resolver from the config: `dns_resolver` if set, else the system's
    /// (/etc/resolv.conf). Returns a clear error when neither can be used.
    pub fn new(config: &Config) -> Result<Authenticator, String> {
        let timeout = Duration::from_millis(config.auth_dns_timeout_ms.max(50));
        let (rc, mut opts) = match config.dns_resolver {
            Some(addr) => (resolver_at(addr), ResolverOpts::default()),
            None => mail_auth::hickory_resolver::system_conf::read_system_conf()
                .map_err(|e| format!("cannot read the system DNS configuration: {e}"))?,
        };
        opts.timeout = timeout;
        opts.attempts = 1;
        // Authentication answers must reflect the records now; a short cache still saves the
        // repeated _dmarc and selector lookups of a burst from one sender.
        opts.cache_size = 1024;
        // Building the resolver looks for a tokio runtime handle: do it inside Compat.
        let inner = smol::block_on(async_compat::Compat::new(async {
            MessageAuthenticator::new(rc, opts)
        }))
        .map_err(|e| format!("cannot set up the DNS resolver: {e}"))?;
        Ok(Authenticator {
            inner: Arc::new(inner),
            txt: Arc::default(),
            hostname: config.hostname.clone(),
            budget: Duration::from_millis(config.auth_timeout_ms.max(100)),
            dmarc_reject: config.dmarc_reject,
            arc_trusted: Arc::new(
                config
                    .arc_trusted_sealers
                    .iter()
                    .map(|d| d.trim().trim_end_matches('.').to_lowercase())
                    .collect(),
            ),
            down_until: Arc::new(AtomicU64::new(0)),
            epoch: Instant::now(),
        })
    }

    /// Runs every check within the time budget. `raw` is the message as received (before
    /// we prepend anything).
    /// DKIM hashes the whole message: the checks run on a blocking thread (DESIGN.md: no CPU
    /// work on the executor), each with its own wait on the resolver.
    pub async fn check(&self, env: &Envelope<'_>, raw: Arc<Vec<u8>>) -> Outcome {
        use futures_lite::FutureExt;
        let now_ms = self.epoch.elapsed().as_millis() as u64;
        if now_ms < self.down_until.load(Ordering::Relaxed) {
            return self.timed_out(env);
        }
        let (me, ip, helo, from) = (
            self.clone(),
            env.ip,
            env.helo.to_string(),
            env.mail_from.to_string(),
        );
        let work = crate::pool::unblock(move || {
            let env = Envelope {
                ip,
                helo: &helo,
                mail_from: &from,
            };
            smol::block_on(async_compat::Compat::new(me.verify(&env, &raw)))
        });
        let budget = self.budget;
        let timeout = async move {
            smol::Timer::after(budget).await;
            None
        };
        match async { Some(work.await) }.or(timeout).await {
            Some(o) => o,
            None => {
                let until = self.epoch.elapsed() + DNS_DOWN_FOR;
                self.down_until
                    .store(until.as_millis() as u64, Ordering::Relaxed);
                log::warn!(
                    "sender authentication for {} from {} ran out of time ({} ms): DNS counts as down for {} s, messages get temperror meanwhile",
                    crate::wire::printable(env.mail_from),
                    env.ip,
                    budget.as_millis(),
                    DNS_DOWN_FOR.as_secs()
                );
                self.timed_out(env)
            }
        }
    }

    fn timed_out(&self, env: &Envelope<'_>) -> Outcome {
        let header = format!(
            "Authentication-Results: {};\r\n\tspf=temperror smtp.mailfrom={};\r\n\tdkim=temperror;\r\n\tarc=temperror;\r\n\tdmarc=temperror\r\n",
            self.hostname,
            pvalue(env.mail_from)
        );
        Outcome {
            header,
            verdicts: AuthVerdicts {
                spf: "temperror".into(),
                dkim: "temperror".into(),
                arc: "temperror".into(),
                dmarc: "temperror".into(),
                disposition: "inbox".into(),
            },
            action: Action::Deliver,
            policy_domain: String::new(),
        }
    }

    async fn verify(&self, env: &Envelope<'_>, raw: &[u8]) -> Outcome {
        let a = &self.inner;
        let helo = env.helo.trim_start_matches('[').trim_end_matches(']');
        // RFC 7208 §2.4: with a null sender, the MAIL FROM identity is postmaster@HELO.
        let mail_from_domain = match env.mail_from.rsplit_once('@') {
            Some((_, d)) => d.to_string(),
            None => helo.to_string(),
        };
        let txt = &*self.txt;
        let spf_helo = a
            .verify_spf(
                Parameters::new(SpfParameters::verify_ehlo(env.ip, helo, &self.hostname))
                    .with_txt_cache(txt),
            )
            .await;
        let spf_mail = if env.mail_from.is_empty() {
            spf_helo.clone()
        } else {
            a.verify_spf(
                Parameters::new(SpfParameters::verify_mail_from(
                    env.ip,
                    helo,
                    &self.hostname,
                    env.mail_from,
                ))
                .with_txt_cache(txt),
            )
            .await
        };
        let mut results = AuthenticationResults::new(&self.hostname);
        let Some(msg) = AuthenticatedMessage::parse(raw) else {
            // No header block to check: only SPF can be said anything about.
            results = results
                .with_spf_ehlo_result(&spf_helo, env.ip, helo)
                .with_spf_mailfrom_result(&spf_mail, env.ip, env.mail_from, helo);
            let verdicts = AuthVerdicts {
                spf: spf_word(&spf_mail).into(),
                dkim: "none".into(),
                arc: "none".into(),
                dmarc: "none".into(),
                disposition: "inbox".into(),
            };
            let action = if spf_mail.result() == SpfResult::Fail {
                Action::Junk
            } else {
                Action::Deliver
            };
            return self.finish(results, verdicts, action, String::new());
        };
        let header_from = msg.from.first().cloned().unwrap_or_default();
        let dkim = a
            .verify_dkim(Parameters::new(&msg).with_txt_cache(txt))
            .await;
        let arc = a
            .verify_arc(Parameters::new(&msg).with_txt_cache(txt))
            .await;
        let dmarc = a
            .verify_dmarc(
                Parameters::new(DmarcParameters::new(
                    &msg,
                    &dkim,
                    &mail_from_domain,
                    &spf_mail,
                ))
                .with_txt_cache(txt),
            )
            .await;
        results = results
            .with_dkim_results(&dkim, &header_from)
            .with_spf_ehlo_result(&spf_helo, env.ip, helo)
            .with_spf_mailfrom_result(&spf_mail, env.ip, env.mail_from, helo)
            .with_arc_result(&arc, env.ip)
            .with_dmarc_result(&dmarc);

        let dkim_word = if dkim.iter().any(|d| *d.result() == DkimResult::Pass) {
            "pass"
        } else {
            dkim.first()
                .map(|d| dkim_result_word(d.result()))
                .unwrap_or("none")
        };
        let dmarc_result = dmarc.result();
        let dmarc_failed = matches!(dmarc_result, DmarcResult::Fail(_));
        // RFC 8617 §7.2: a receiver may honour a passing ARC chain from a sealer it trusts
        // (a mailing list that broke DKIM by adding a footer) instead of DMARC's verdict.
        let arc_sealer = arc
            .sets()
            .last()
            .map(|s| s.seal.header.d.to_lowercase())
            .unwrap_or_default();
        let arc_vouches = *arc.result() == DkimResult::Pass
            && !arc_sealer.is_empty()
            && self.arc_trusted.contains(&arc_sealer);
        if dmarc_failed && arc_vouches {
            log::info!(
                "DMARC failure of {} overridden by the trusted ARC sealer {arc_sealer}",
                dmarc.domain()
            );
        }
        let action = if dmarc_failed && arc_vouches {
            Action::Deliver
        } else if dmarc_failed {
            match dmarc.policy() {
                Policy::Reject if self.dmarc_reject => Action::Reject,
                Policy::Reject | Policy::Quarantine => Action::Junk,
                Policy::None | Policy::Unspecified => Action::Deliver,
            }
        } else if dmarc_result != DmarcResult::Pass && spf_mail.result() == SpfResult::Fail {
            // An SPF hard fail that DMARC did not override: the domain says this host may not
            // send its mail.
            Action::Junk
        } else {
            Action::Deliver
        };
        let policy_domain = if dmarc_failed {
            dmarc.domain().to_string()
        } else {
            String::new()
        };
        let verdicts = AuthVerdicts {
            spf: spf_word(&spf_mail).into(),
            dkim: dkim_word.into(),
            arc: dkim_result_word(arc.result()).into(),
            dmarc: dmarc_word(&dmarc_result).into(),
            disposition: String::new(),
        };
        let mut out = self.finish(results, verdicts, action, policy_domain);
        if dkim.is_empty() {
            // RFC 8601 §2.7.1: say that there was nothing to check rather than nothing.
            out.header =
                out.header
                    .replacen(";\r\n\t", ";\r\n\tdkim=none (no signatures);\r\n\t", 1);
        }
        out
    }

    fn finish(
        &self,
        results: AuthenticationResults<'_>,
        mut verdicts: AuthVerdicts,
        action: Action,
        policy_domain: String,
    ) -> Outcome {
        use mail_auth::common::headers::HeaderWriter;
        verdicts.disposition = match action {
            Action::Deliver => "inbox",
            Action::Junk => "junk",
            Action::Reject => "rejected",
        }
        .into();
        Outcome {
            header: results.to_header(),
            verdicts,
            action,
            policy_domain,
        }
    }
}

/// A resolver configuration for one server address (any port: tests run one on 127.0.0.1).
pub(crate) fn resolver_at(addr: SocketAddr) -> ResolverConfig {
    let mut udp = ConnectionConfig::udp();
    udp.port = addr.port();
    let mut tcp = ConnectionConfig::tcp();
    tcp.port = addr.port();
    let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
    ns.connections = vec![udp, tcp];
    ResolverConfig::from_name_servers(vec![ns])
}

fn spf_word(o: &SpfOutput) -> &'static str {
    match o.result() {
        SpfResult::Pass => "pass",
        SpfResult::Fail => "fail",
        SpfResult::SoftFail => "softfail",
        SpfResult::Neutral => "neutral",
        SpfResult::TempError => "temperror",
        SpfResult::PermError => "permerror",
        SpfResult::None => "none",
    }
}

fn dkim_result_word(r: &DkimResult) -> &'static str {
    match r {
        DkimResult::Pass => "pass",
        DkimResult::Neutral(_) => "neutral",
        DkimResult::Fail(_) => "fail",
        DkimResult::PermError(_) => "permerror",
        DkimResult::TempError(_) => "temperror",
        DkimResult::None => "none",
    }
}

fn dmarc_word(r: &DmarcResult) -> &'static str {
    match r {
        DmarcResult::Pass => "pass",
        DmarcResult::Fail(_) => "fail",
        DmarcResult::TempError(_) => "temperror",
        DmarcResult::PermError(_) => "permerror",
        DmarcResult::None => "none",
    }
}

/// An RFC 8601 pvalue: the address as is when it is plain, else quoted.
fn pvalue(s: &str) -> String {
    if s.is_empty() {
        return "<>".into();
    }
    let clean: String = s
        .chars()
        .filter(|c| !c.is_control() && *c != '"' && *c != '\\')
        .take(256)
        .collect();
    format!("\"{clean}\"")
}

/// RFC 8601 §5: an Authentication-Results header that claims to come from us but arrived with
/// the message is forged; it is removed before we add ours. Returns the message without such
/// header fields (the body is untouched).
pub fn strip_forged_results(raw: &[u8], hostname: &str) -> Option<Vec<u8>> {
    let end = header_end(raw);
    let mut out = Vec::with_capacity(raw.len());
    let mut removed = false;
    let mut pos = 0;
    while pos < end {
        // One header field: a line plus its folded continuation lines.
        let mut next = pos;
        loop {
            match raw[next..end].iter().position(|b| *b == b'\n') {
                Some(i) => next += i + 1,
                None => {
                    next = end;
                    break;
                }
            }
            if next >= end || !matches!(raw[next], b' ' | b'\t') {
                break;
            }
        }
        let field = &raw[pos..next];
        if is_our_results(field, hostname) {
            removed = true;
        } else {
            out.extend_from_slice(field);
        }
        pos = next;
    }
    if !removed {
        return None;
    }
    out.extend_from_slice(&raw[end..]);
    Some(out)
}

fn header_end(raw: &[u8]) -> usize {
    let mut pos = 0;
    while pos < raw.len() {
        let rest = &raw[pos..];
        if rest.starts_with(b"\r\n") || rest.starts_with(b"\n") {
            return pos;
        }
        match rest.iter().position(|b| *b == b'\n') {
            Some(i) => pos += i + 1,
            None => return raw.len(),
        }
    }
    raw.len()
}

fn is_our_results(field: &[u8], hostname: &str) -> bool {
    let name = b"authentication-results:";
    if field.len() < name.len() || !field[..name.len()].eq_ignore_ascii_case(name) {
        return false;
    }
    let value = String::from_utf8_lossy(&field[name.len()..]);
    // The authserv-id is the first token, optionally followed by a version and ';'.
    let id = value
        .trim_start()
        .split(|c: char| c == ';' || c.is_whitespace())
        .next()
        .unwrap_or("");
    id.eq_ignore_ascii_case(hostname)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forged_results_are_removed_and_others_kept() {
        let raw = b"Authentication-Results: mx.example;\r\n\tspf=pass\r\nAuthentication-Results: other.example; dkim=pass\r\nSubject: hi\r\n\r\nAuthentication-Results: mx.example; body\r\n";
        let out = strip_forged_results(raw, "MX.example").expect("removed");
        assert_eq!(
            out,
            b"Authentication-Results: other.example; dkim=pass\r\nSubject: hi\r\n\r\nAuthentication-Results: mx.example; body\r\n"
        );
        assert!(strip_forged_results(b"Subject: x\r\n\r\nbody", "mx.example").is_none());
    }
}

/// MX lookups for outbound delivery (`outbound/route.rs`), through the same resolver
/// configuration as sender authentication (`dns_resolver` or the system's). It lives here
/// because this is the one file that bridges mail-auth's tokio resolver to smol.
#[derive(Clone)]
pub struct MxResolver {
    inner: Arc<MessageAuthenticator>,
}

impl MxResolver {
    pub fn new(config: &Config) -> Result<MxResolver, String> {
        let (rc, mut opts) = match config.dns_resolver {
            Some(addr) => (resolver_at(addr), ResolverOpts::default()),
            None => mail_auth::hickory_resolver::system_conf::read_system_conf()
                .map_err(|e| format!("cannot read the system DNS configuration: {e}"))?,
        };
        opts.timeout = Duration::from_secs(10);
        opts.attempts = 2;
        opts.cache_size = 256;
        let inner = smol::block_on(async_compat::Compat::new(async {
            MessageAuthenticator::new(rc, opts)
        }))
        .map_err(|e| format!("cannot set up the DNS resolver: {e}"))?;
        Ok(MxResolver {
            inner: Arc::new(inner),
        })
    }

    /// The exchanges of `domain` in preference order; `None` when the domain has no MX record
    /// (RFC 5321 §5.1: then the domain itself is the implicit MX).
    pub async fn mx(&self, domain: &str) -> Result<Option<Vec<String>>, String> {
        use mail_auth::common::cache::NoCache;
        let a = self.inner.clone();
        let d = domain.to_string();
        let r = async_compat::Compat::new(async move {
            a.mx_lookup(
                d.as_str(),
                None::<&NoCache<Box<str>, mail_auth::RecordSet<mail_auth::MX>>>,
            )
            .await
        })
        .await;
        match r {
            Ok(set) => {
                let hosts: Vec<String> = set
                    .rrset
                    .iter()
                    .flat_map(|mx| mx.exchanges.iter().map(|e| e.to_string()))
                    .collect();
                Ok(if hosts.is_empty() { None } else { Some(hosts) })
            }
            Err(mail_auth::Error::Dns(mail_auth::DnsError::RecordNotFound(_))) => Ok(None),
            Err(e) => Err(e.to_string()),
        }
    }

    /// The TXT records at `name`, each one's strings joined (RFC 7208 §3.3 style); empty when
    /// the name or its TXT records do not exist. For MTA-STS (`outbound/mta_sts.rs`), which
    /// must see every record to tell one STSv1 record from several (RFC 8461 §3.1).
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, String> {
        use mail_auth::hickory_resolver::proto::rr::{Name, RData};
        let a = self.inner.clone();
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        async_compat::Compat::new(async move {
            let n = Name::from_str_relaxed(fqdn.as_str()).map_err(|e| e.to_string())?;
            let lookup = a
                .resolver()
                .txt_lookup(n)
                .await
                .map_err(mail_auth::Error::from);
            match lookup {
                Ok(l) => Ok(l
                    .answers()
                    .iter()
                    .filter_map(|rec| match &rec.data {
                        RData::TXT(t) => Some(
                            t.txt_data
                                .iter()
                                .map(|s| String::from_utf8_lossy(s).into_owned())
                                .collect::<String>(),
                        ),
                        _ => None,
                    })
                    .collect()),
                Err(mail_auth::Error::Dns(mail_auth::DnsError::RecordNotFound(_))) => {
                    Ok(Vec::new())
                }
                Err(e) => Err(e.to_string()),
            }
        })
        .await
    }

    /// Every A and AAAA address of `host` (for `net_guard.rs`, which checks each one before
    /// anything connects). Empty when the name exists without addresses.
    pub async fn ips(&self, host: &str) -> Result<Vec<IpAddr>, String> {
        use mail_auth::common::cache::NoCache;
        use std::net::{Ipv4Addr, Ipv6Addr};
        let a = self.inner.clone();
        let h = host.to_string();
        let (v4, v6) = async_compat::Compat::new(async move {
            let v4 = a
                .ipv4_lookup(
                    h.as_str(),
                    None::<&NoCache<Box<str>, mail_auth::RecordSet<Ipv4Addr>>>,
                )
                .await;
            let v6 = a
                .ipv6_lookup(
                    h.as_str(),
                    None::<&NoCache<Box<str>, mail_auth::RecordSet<Ipv6Addr>>>,
                )
                .await;
            (v4, v6)
        })
        .await;
        let not_found = |e: &mail_auth::Error| {
            matches!(
                e,
                mail_auth::Error::Dns(mail_auth::DnsError::RecordNotFound(_))
            )
        };
        let mut out = Vec::new();
        match v4 {
            Ok(set) => out.extend(set.rrset.iter().map(|a| IpAddr::V4(*a))),
            Err(e) if not_found(&e) => {}
            Err(e) => return Err(e.to_string()),
        }
        match v6 {
            Ok(set) => out.extend(set.rrset.iter().map(|a| IpAddr::V6(*a))),
            Err(e) if not_found(&e) => {}
            Err(e) => return Err(e.to_string()),
        }
        Ok(out)
    }
}
