//! Sending RFC 8460 aggregate TLS reports: after each reporting period (a UTC day), every
//! remote domain we delivered to in it that publishes a `_smtp._tls` TXT record with `mailto:`
//! addresses gets one report (`tls_report.rs`) through the outbound queue, from
//! `postmaster@<our first local domain>` (DKIM-signed like all our mail, §5.3) with the null
//! reverse path so that a failing report never bounces (RFC 3464 §2 style, as DSNs).
//!
//! Periods that ended while the server was down are sent at the next start. A period is
//! marked reported once queued, or once DNS says the domain wants no reports; a DNS failure
//! leaves it for the next round (rows older than 8 days are dropped anyway).

use super::tls_report::{Report, rua_mailto};
use super::{NewMessage, Outbound};
use crate::mta_sts::Policy;
use crate::store::{StoreError, TlsDay};
use std::time::Duration;

/// Most `mailto:` recipients of one report (a record may list several, RFC 8460 §3).
const MAX_RUA: usize = 5;

pub async fn run(out: Outbound) {
    let c = &out.inner.config.mta_sts;
    if !c.tlsrpt_send || out.inner.sts.is_none() {
        return std::future::pending().await;
    }
    let period = i64::try_from(c.tlsrpt_period_secs).unwrap_or(86_400).max(1);
    loop {
        if let Err(StoreError::Closed) = send_due(&out, period).await {
            return;
        }
        let now = crate::date::now();
        let next = now - now.rem_euclid(period) + period;
        // A little after the period ends: sessions that began before it are counted by then.
        let delay = (period / 100).clamp(1, 600);
        smol::Timer::after(Duration::from_secs((next + delay - now).max(1) as u64)).await;
    }
}

async fn send_due(out: &Outbound, period: i64) -> Result<(), StoreError> {
    let now = crate::date::now();
    let rows = out.inner.store.read(|r| r.tls_results()).await?;
    for (start, domain, results) in rows {
        if results.reported || start + period > now {
            continue;
        }
        if let Err(e) = send_one(out, start, start + period, &domain, &results).await {
            log::warn!("tls report for {domain}: {e}; trying again later");
        }
    }
    Ok(())
}

async fn send_one(
    out: &Outbound,
    start: i64,
    end: i64,
    domain: &str,
    results: &TlsDay,
) -> Result<(), String> {
    let inner = &out.inner;
    let records = super::route::resolver(inner)?
        .txt(&format!("_smtp._tls.{domain}"))
        .await?;
    let rua: Vec<String> = records
        .iter()
        .filter_map(|r| rua_mailto(r, MAX_RUA))
        .flatten()
        .take(MAX_RUA)
        .collect();
    if !rua.is_empty() {
        let d = domain.to_string();
        let (cached, local) = inner
            .store
            .read(move |r| Ok((r.mta_sts_policy(&d)?, r.domains()?)))
            .await
            .map_err(|e| e.to_string())?;
        let policy = cached
            .filter(|_| results.policy == "sts")
            .and_then(|c| Policy::parse(&c.text).ok());
        let from_domain = local
            .into_iter()
            .map(|(d, _)| d)
            .next()
            .unwrap_or_else(|| inner.config.hostname.clone());
        let from = format!("postmaster@{from_domain}");
        let report = Report {
            submitter: &inner.config.hostname,
            contact: &from,
            domain,
            start,
            end,
            results,
            policy: policy.as_ref(),
        };
        let raw = report.message(&from, &rua, crate::date::now());
        let msg = NewMessage::null_sender(None, rua.clone());
        out.enqueue(msg, raw).await.map_err(|e| e.to_string())?;
        log::info!(
            "tls report for {domain} ({} to {}) queued for {}",
            crate::date::rfc3339(start),
            crate::date::rfc3339(end),
            rua.join(", ")
        );
    }
    let d = domain.to_string();
    inner
        .store
        .write(move |w| w.mark_tls_reported(start, &d))
        .await
        .map_err(|e| e.to_string())
}
