//! Remote MTA-STS policies (RFC 8461 §5: senders cache them for max_age) and per-domain TLS
//! results (RFC 8460 §4: the counts an aggregate report is built from, `outbound/tls_report.rs`), tables
//! `MTA_STS_POLICIES` and `TLS_RESULTS`. The store keeps the policy text as fetched; parsing
//! and the rules live in `src/mta_sts/` and `src/outbound/mta_sts.rs`.

use super::read::{Reader, table};
use super::tables::{MTA_STS_POLICIES, TLS_RESULTS};
use super::write::Writer;
use crate::store::error::Result;
use redb::{ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How long TLS results are kept, seconds (RFC 8460 reports cover one day; a week leaves room
/// to send late).
pub const TLS_RESULTS_KEEP_SECS: i64 = 8 * 86_400;
/// Most distinct failure kinds counted per domain and day.
const MAX_KINDS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedPolicy {
    /// The `id` of the `_mta-sts` TXT record the policy was fetched under (§3.1).
    pub id: String,
    /// The policy body as fetched (already checked to parse).
    pub text: String,
    pub fetched_at: i64,
    /// fetched_at + max_age: after this the policy no longer applies (§5).
    pub expires_at: i64,
}

/// One domain's TLS results for one reporting period (a UTC day unless
/// `[mta_sts] tlsrpt_period_secs` says otherwise).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsDay {
    /// "sts" when an MTA-STS policy applied, else "no-policy-found" (RFC 8460 §4.3).
    pub policy: String,
    /// The policy mode that applied ("enforce", "testing"), empty without one.
    #[serde(default)]
    pub mode: String,
    /// Sessions with TLS that met the policy (or, without one, that used TLS at all).
    pub successes: u64,
    /// Failed sessions by RFC 8460 §4.3 result type ("certificate-host-mismatch",
    /// "starttls-not-supported", "validation-failure", ...).
    pub failures: BTreeMap<String, u64>,
    /// The period's report was sent (or there was nowhere to send it).
    #[serde(default)]
    pub reported: bool,
}

impl Writer<'_> {
    /// Stores `policy` for `domain`; when the cache holds `max` entries, the one that expires
    /// first makes room.
    pub fn put_mta_sts_policy(
        &mut self,
        domain: &str,
        policy: &CachedPolicy,
        max: usize,
    ) -> Result<()> {
        let mut t = self.tx.open_table(MTA_STS_POLICIES)?;
        if t.get(domain)?.is_none() && t.len()? as usize >= max {
            let mut first: Option<(String, i64)> = None;
            for row in t.iter()? {
                let (k, v) = row?;
                let exp = serde_json::from_slice::<CachedPolicy>(v.value())
                    .map(|p| p.expires_at)
                    .unwrap_or(i64::MIN);
                if first.as_ref().is_none_or(|(_, e)| exp < *e) {
                    first = Some((k.value().to_string(), exp));
                }
            }
            if let Some((k, _)) = first {
                t.remove(k.as_str())?;
            }
        }
        let bytes = serde_json::to_vec(policy)?;
        t.insert(domain, bytes.as_slice())?;
        Ok(())
    }

    /// Adds one session's outcome for `domain` in the period starting at `start` (unix
    /// seconds): `failure` None is a success. Drops periods that started more than
    /// [`TLS_RESULTS_KEEP_SECS`] ago.
    pub fn note_tls_result(
        &mut self,
        start: i64,
        domain: &str,
        policy: &str,
        mode: &str,
        failure: Option<&str>,
    ) -> Result<()> {
        let mut t = self.tx.open_table(TLS_RESULTS)?;
        let cutoff = start - TLS_RESULTS_KEEP_SECS;
        let old: Vec<(i64, String)> = t
            .range(..(cutoff, ""))?
            .map(|r| r.map(|(k, _)| (k.value().0, k.value().1.to_string())))
            .collect::<std::result::Result<_, _>>()?;
        for (d, name) in old {
            t.remove((d, name.as_str()))?;
        }
        let mut cur: TlsDay = match t.get((start, domain))? {
            Some(v) => serde_json::from_slice(v.value()).unwrap_or_default(),
            None => TlsDay::default(),
        };
        cur.policy = policy.to_string();
        cur.mode = mode.to_string();
        match failure {
            None => cur.successes += 1,
            Some(kind) => {
                if cur.failures.contains_key(kind) || cur.failures.len() < MAX_KINDS {
                    *cur.failures.entry(kind.to_string()).or_default() += 1;
                }
            }
        }
        let bytes = serde_json::to_vec(&cur)?;
        t.insert((start, domain), bytes.as_slice())?;
        Ok(())
    }

    /// Marks the report of (`start`, `domain`) as sent.
    pub fn mark_tls_reported(&mut self, start: i64, domain: &str) -> Result<()> {
        let mut t = self.tx.open_table(TLS_RESULTS)?;
        let cur = match t.get((start, domain))? {
            Some(v) => serde_json::from_slice::<TlsDay>(v.value()).ok(),
            None => None,
        };
        if let Some(mut cur) = cur {
            cur.reported = true;
            let bytes = serde_json::to_vec(&cur)?;
            t.insert((start, domain), bytes.as_slice())?;
        }
        Ok(())
    }
}

impl Reader {
    pub fn mta_sts_policy(&self, domain: &str) -> Result<Option<CachedPolicy>> {
        let Some(t) = table!(self, MTA_STS_POLICIES) else {
            return Ok(None);
        };
        match t.get(domain)? {
            Some(v) => Ok(serde_json::from_slice(v.value()).ok()),
            None => Ok(None),
        }
    }

    /// Every (period start, domain, results) row, oldest first.
    pub fn tls_results(&self) -> Result<Vec<(i64, String, TlsDay)>> {
        let Some(t) = table!(self, TLS_RESULTS) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            let (start, domain) = k.value();
            if let Ok(d) = serde_json::from_slice(v.value()) {
                out.push((start, domain.to_string(), d));
            }
        }
        Ok(out)
    }
}
