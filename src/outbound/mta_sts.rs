//! Outbound MTA-STS (RFC 8461 §§3-5): before delivering to a domain's MX hosts, find the
//! domain's policy and apply it; note every session's TLS outcome for reporting (RFC 8460).
//!
//! Finding the policy ([`Sts::policy_for`]):
//! 1. `_mta-sts.<domain>` TXT: exactly one `v=STSv1` record gives the policy id (§3.1; none,
//!    several or a broken one mean "no policy record").
//! 2. The cached policy (`MTA_STS_POLICIES`) counts while it has not expired (fetch time +
//!    max_age, §5). A record whose id differs from the cached one, or no valid cached policy,
//!    means fetching it again (`mta_sts_fetch.rs`, through the SSRF gate).
//! 3. When the fetch fails (policy host down, bad certificate, bad policy) or DNS has no
//!    record (§5: a removed record does not end a policy before max_age), the unexpired cached
//!    policy still applies. Otherwise the domain has no policy and mail goes as before. A
//!    failed fetch of the same (domain, id) is not repeated for 5 minutes, so a policy host
//!    that is down is not asked by every delivery attempt.
//!
//! Applying it ([`Sts::hops`]): mode `enforce` keeps only the MX hosts matching the policy's
//! `mx` patterns (§4.1) and requires STARTTLS with a certificate valid for the MX name that
//! chains to a trusted root (§4.2): no plaintext fallback, no unverified TLS. A refusal is a
//! temporary failure (4.7.5), so the message waits and the next attempt looks for a new policy
//! first (§5.1: never fail permanently without checking for an updated policy); after
//! `give_up_secs` it bounces like any other temporary failure. Mode `testing` delivers exactly
//! as without a policy and reports what enforce would have refused (log and `TLS_RESULTS`).

use super::Inner;
use super::client::{Hop, Outcome, Reply, TlsUse};
use super::mta_sts_fetch::Fetcher;
use super::tls::{self, Seen};
use crate::mta_sts::policy::{self, Mode, Policy};
use crate::store::CachedPolicy;
use rustls::client::WebPkiServerVerifier;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub struct Sts {
    fetcher: Fetcher,
    verifier: Arc<WebPkiServerVerifier>,
    cache_max: usize,
    /// Failed fetches: domain -> (record id, unix time before which it is not tried again),
    /// so a policy host that is down is not asked again by every delivery attempt.
    failed: Mutex<HashMap<String, (String, i64)>>,
}

/// How long a failed fetch of one (domain, id) is not repeated.
const RETRY_FETCH_SECS: i64 = 300;
/// Most failed fetches remembered (beyond, the expired ones go, then all).
const MAX_FAILED: usize = 1000;

/// The policy that applies to one delivery, if any.
#[derive(Debug, Clone)]
pub struct Applied {
    pub policy: Policy,
    /// Where it came from, for the log ("fetched", "cached").
    pub source: &'static str,
}

/// One hop prepared for a session: the hop, what its certificate check will find, and what
/// already fails the policy before connecting (a testing-mode MX mismatch).
pub struct Prepared {
    pub hop: Hop,
    pub seen: Arc<Seen>,
    pub mismatch: bool,
}

impl Prepared {
    /// A hop outside MTA-STS (a smarthost, an address literal): nothing to check or report.
    pub fn plain(hop: Hop) -> Prepared {
        Prepared {
            hop,
            seen: Arc::default(),
            mismatch: false,
        }
    }
}

impl Sts {
    pub fn new(
        config: &crate::config::Config,
        guard: Arc<crate::net_guard::NetGuard>,
    ) -> Result<Sts, String> {
        let roots = tls::roots(config.mta_sts.ca_file.as_deref())?;
        Ok(Sts {
            fetcher: Fetcher::new(roots.clone(), guard, config.mta_sts.policy_port)?,
            verifier: tls::webpki(roots)?,
            cache_max: config.mta_sts.cache_max,
            failed: Mutex::new(HashMap::new()),
        })
    }

    /// The policy for `domain` (module header, steps 1-3); None when it has none or its mode
    /// is `none`.
    pub(crate) async fn policy_for(&self, inner: &Inner, domain: &str) -> Option<Applied> {
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        let now = crate::date::now();
        let record = match txt_id(inner, &domain).await {
            Ok(id) => id,
            Err(e) => {
                log::info!("mta-sts: {domain}: TXT lookup failed ({e}); using any cached policy");
                None
            }
        };
        let d = domain.clone();
        let cached = match inner.store.read(move |r| r.mta_sts_policy(&d)).await {
            Ok(c) => c.filter(|c| c.expires_at > now),
            Err(e) => {
                log::warn!("mta-sts: {domain}: cannot read the policy cache: {e}");
                None
            }
        };
        let cached_policy = cached
            .as_ref()
            .and_then(|c| Policy::parse(&c.text).ok())
            .map(|p| Applied {
                policy: p,
                source: "cached",
            });
        let fresh = match (&record, &cached) {
            (Some(id), Some(c)) if *id == c.id => true,
            (Some(_), _) => false,
            (None, _) => true,
        };
        let applied = if fresh {
            cached_policy
        } else {
            let id = record.unwrap_or_default();
            let recently_failed = self.failed.lock().is_ok_and(|f| {
                f.get(&domain)
                    .is_some_and(|(fid, until)| *fid == id && *until > now)
            });
            let fetched = if recently_failed {
                Err(format!(
                    "it failed less than {RETRY_FETCH_SECS} s ago (not asked again yet)"
                ))
            } else {
                let r = self.fetch(inner, &domain, &id, now).await;
                if r.is_err() {
                    self.remember_failure(&domain, &id, now);
                }
                r
            };
            match fetched {
                Ok(p) => Some(Applied {
                    policy: p,
                    source: "fetched",
                }),
                Err(e) => {
                    let fallback = if cached_policy.is_some() {
                        "using the cached policy"
                    } else {
                        "no cached policy; delivering without one"
                    };
                    log::warn!("mta-sts: {domain}: policy fetch failed: {e}; {fallback}");
                    note(inner, &domain, "sts", "", Some(fetch_failure_type(&e))).await;
                    cached_policy
                }
            }
        };
        applied.filter(|a| a.policy.mode != Mode::None)
    }

    fn remember_failure(&self, domain: &str, id: &str, now: i64) {
        if let Ok(mut f) = self.failed.lock() {
            if f.len() >= MAX_FAILED {
                f.retain(|_, (_, until)| *until > now);
                if f.len() >= MAX_FAILED {
                    f.clear();
                }
            }
            f.insert(domain.to_string(), (id.to_string(), now + RETRY_FETCH_SECS));
        }
    }

    async fn fetch(
        &self,
        inner: &Inner,
        domain: &str,
        id: &str,
        now: i64,
    ) -> Result<Policy, String> {
        let text = self.fetcher.fetch(domain).await?;
        let p = Policy::parse(&text).map_err(|e| format!("invalid policy: {e}"))?;
        let entry = CachedPolicy {
            id: id.to_string(),
            text,
            fetched_at: now,
            expires_at: now.saturating_add(i64::try_from(p.max_age).unwrap_or(i64::MAX)),
        };
        let (d, max) = (domain.to_string(), self.cache_max);
        if let Err(e) = inner
            .store
            .write(move |w| w.put_mta_sts_policy(&d, &entry, max))
            .await
        {
            log::warn!("mta-sts: {domain}: cannot cache the policy: {e}");
        }
        log::info!(
            "mta-sts: {domain}: policy {id} fetched (mode {}, mx {})",
            p.mode.as_str(),
            p.mx.join(" ")
        );
        Ok(p)
    }

    /// The hops to try under `applied` (module header), or the temporary failure when an
    /// enforce policy leaves none.
    pub fn hops(
        &self,
        domain: &str,
        hops: Vec<Hop>,
        applied: Option<&Applied>,
    ) -> Result<Vec<Prepared>, Reply> {
        let enforce = applied.is_some_and(|a| a.policy.mode == Mode::Enforce);
        let mut out = Vec::new();
        let mut refused = Vec::new();
        for mut hop in hops {
            let mismatch = applied.is_some_and(|a| !a.policy.mx_matches(&hop.host));
            if mismatch {
                let a = applied.map(|a| (a.policy.mode.as_str(), a.policy.mx.join(" ")));
                let (mode, mx) = a.unwrap_or_default();
                if enforce {
                    log::warn!(
                        "mta-sts: {domain} (enforce): MX {} does not match the policy (mx {mx}); \
                         not delivering to it",
                        hop.host
                    );
                    refused.push(hop.host);
                    continue;
                }
                log::warn!(
                    "mta-sts: {domain} ({mode}): MX {} does not match the policy (mx {mx}); \
                     delivering anyway, an enforce policy would refuse it",
                    hop.host
                );
            }
            let seen = Arc::new(Seen::default());
            let config =
                tls::recording(self.verifier.clone(), seen.clone(), enforce).map_err(|e| {
                    Reply {
                        code: 451,
                        text: format!("4.7.0 TLS settings: {e}"),
                    }
                })?;
            // Implicit-TLS or plain hops (address literals are never under a policy) stay so.
            hop.tls = match hop.tls {
                TlsUse::Opportunistic(_) if enforce => TlsUse::Required(config),
                TlsUse::Opportunistic(_) => TlsUse::Opportunistic(config),
                other => other,
            };
            out.push(Prepared {
                hop,
                seen,
                mismatch,
            });
        }
        if out.is_empty() && !refused.is_empty() {
            return Err(Reply {
                code: 451,
                text: format!(
                    "4.7.5 MTA-STS: no MX host of {domain} matches its enforce policy ({}); \
                     waiting for the policy or the MX records to change",
                    refused.join(", ")
                ),
            });
        }
        Ok(out)
    }
}

/// RFC 8460 §4.3.2 result type of a failed policy fetch: the policy host's certificate
/// (`mta_sts_fetch.rs` says "TLS with ..."), a policy that does not parse, or anything else.
fn fetch_failure_type(e: &str) -> &'static str {
    if e.starts_with("TLS with ") {
        "sts-webpki-invalid"
    } else if e.starts_with("invalid policy") {
        "sts-policy-invalid"
    } else {
        "sts-policy-fetch-error"
    }
}

/// The id of the domain's one `v=STSv1` record (§3.1), None when there is no such record or
/// more than one.
async fn txt_id(inner: &Inner, domain: &str) -> Result<Option<String>, String> {
    let resolver = super::route::resolver(inner)?;
    let records = resolver.txt(&format!("_mta-sts.{domain}")).await?;
    let sts: Vec<&String> = records
        .iter()
        .filter(|r| r.trim_start().starts_with("v=STSv1"))
        .collect();
    Ok(match sts.as_slice() {
        [one] => policy::txt_id(one),
        _ => None,
    })
}

/// What one session's TLS came to, for reporting: None = success.
pub fn session_failure(p: &Prepared, outcome: &Outcome) -> Option<Option<&'static str>> {
    let reached = match outcome {
        Outcome::PerRecipient(_) => true,
        // A transaction refused after EHLO still was a session; a connection that failed
        // never got to TLS and is not counted.
        Outcome::All(r) => !r.text.starts_with("4.4."),
    };
    match p.seen.get() {
        Some(Ok(())) if p.mismatch => Some(Some("validation-failure")),
        Some(Ok(())) => Some(None),
        Some(Err((kind, _))) => Some(Some(kind)),
        None if reached => Some(Some("starttls-not-supported")),
        None => None,
    }
}

/// Logs what a session found and counts it in `TLS_RESULTS` (RFC 8460 §4).
pub(crate) async fn report(
    inner: &Inner,
    domain: &str,
    applied: Option<&Applied>,
    p: &Prepared,
    outcome: &Outcome,
) {
    let Some(failure) = session_failure(p, outcome) else {
        return;
    };
    let (kind, mode) = match applied {
        Some(a) => ("sts", a.policy.mode.as_str()),
        None => ("no-policy-found", ""),
    };
    // Without a policy, certificates are not expected to verify (RFC 7435): only the lack of
    // TLS is a failure.
    let failure = match (applied, failure) {
        (None, Some(f)) if f != "starttls-not-supported" => None,
        (_, f) => f,
    };
    if let (Some(a), Some(f)) = (applied, failure) {
        let detail = match p.seen.get() {
            Some(Err((_, d))) => d,
            _ => String::new(),
        };
        let consequence = if a.policy.mode == Mode::Enforce {
            "not delivered"
        } else {
            "delivered anyway (testing mode); an enforce policy would refuse it"
        };
        log::warn!(
            "mta-sts: {domain} ({}): MX {}: {f} {detail}; {consequence}",
            a.policy.mode.as_str(),
            p.hop.host
        );
    }
    note(inner, domain, kind, mode, failure).await;
}

pub(crate) async fn note(
    inner: &Inner,
    domain: &str,
    kind: &str,
    mode: &str,
    failure: Option<&str>,
) {
    let period = i64::try_from(inner.config.mta_sts.tlsrpt_period_secs)
        .unwrap_or(86_400)
        .max(1);
    let now = crate::date::now();
    let start = now - now.rem_euclid(period);
    let (d, k, m, f) = (
        domain.to_string(),
        kind.to_string(),
        mode.to_string(),
        failure.map(str::to_string),
    );
    if let Err(e) = inner
        .store
        .write(move |w| w.note_tls_result(start, &d, &k, &m, f.as_deref()))
        .await
    {
        log::warn!("mta-sts: cannot record the TLS result for {domain}: {e}");
    }
}
