//! `mailnook quota ...`: show and set an account's limits. One implementation behind the CLI,
//! the control socket and the admin page (`accounts::Command::Quota`, `http/admin_quota.rs`).

use super::parse_size;
use crate::accounts::Outcome;
use crate::store::mail::quota as rules;
use crate::store::model::AccountId;
use crate::store::model_quota::QuotaLimits;
use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum QuotaCommand {
    /// Sets limits; a field left out keeps its value. Values: octets with K/M/G, a number of
    /// messages, "none" (no limit; for a warning: no warning) or "default" (the server's).
    Set {
        address: String,
        #[serde(default)]
        storage: Option<String>,
        #[serde(default)]
        storage_warn: Option<String>,
        #[serde(default)]
        messages: Option<String>,
        #[serde(default)]
        messages_warn: Option<String>,
    },
    /// Usage and limits of one account, or of every account.
    Show { address: Option<String> },
}

/// One account's usage and effective limits (None: no limit), and its sending counts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct QuotaSummary {
    pub address: String,
    pub used_octets: u64,
    pub storage: Option<u64>,
    pub storage_warn: Option<u64>,
    pub used_messages: u64,
    pub messages: Option<u64>,
    pub messages_warn: Option<u64>,
    /// Whether the account is at or over a hard limit (mail to it is refused).
    pub full: bool,
    /// Messages and recipients sent in the current hour and day.
    pub sent: super::send::SentCounts,
}

async fn find(store: &Store, address: &str) -> Result<AccountId, StoreError> {
    let name = address.trim().to_lowercase();
    let n2 = name.clone();
    store
        .read(move |r| r.account_by_name(&n2))
        .await?
        .map(|a| a.id)
        .ok_or_else(|| StoreError::Invalid(format!("no account {name}")))
}

/// Applies one `--storage`-style value: None keeps, "default" clears, else a number.
fn apply(
    field: &mut Option<u64>,
    value: Option<&str>,
    what: &str,
    size: bool,
) -> Result<(), StoreError> {
    let Some(v) = value else {
        return Ok(());
    };
    *field = if v.trim().eq_ignore_ascii_case("default") {
        None
    } else {
        let n = if size {
            parse_size(v)
        } else if v.trim().eq_ignore_ascii_case("none") {
            Some(0)
        } else {
            v.trim().parse().ok()
        };
        Some(n.ok_or_else(|| {
            StoreError::Invalid(format!(
                "{what} must be {}, \"none\" or \"default\", not {v:?}",
                if size {
                    "a size (octets, or with K, M, G)"
                } else {
                    "a number"
                }
            ))
        })?)
    };
    Ok(())
}

/// Every account's summary (the admin page's table).
pub async fn summaries(store: &Store) -> Result<Vec<QuotaSummary>, StoreError> {
    let now = crate::date::now();
    store
        .read(move |r| {
            let mut out = Vec::new();
            for a in r.accounts()? {
                let q = r.quota(a.id)?;
                out.push(QuotaSummary {
                    address: a.name,
                    used_octets: q.octets,
                    storage: q.storage.hard,
                    storage_warn: q.storage.warn,
                    used_messages: q.messages,
                    messages: q.count.hard,
                    messages_warn: q.count.warn,
                    full: rules::full((q.octets, q.messages), q.storage, q.count),
                    sent: super::send::counts(r, a.id, now)?,
                });
            }
            Ok(out)
        })
        .await
}

fn limit(v: Option<u64>) -> String {
    v.map_or("none".into(), |n| n.to_string())
}

fn text(s: &QuotaSummary) -> String {
    format!(
        "{}: storage {} of {} octets (warn at {}), messages {} of {} (warn at {}){}; sent this \
         hour {} messages to {} recipients, today {} to {}",
        s.address,
        s.used_octets,
        limit(s.storage),
        limit(s.storage_warn),
        s.used_messages,
        limit(s.messages),
        limit(s.messages_warn),
        if s.full { ", FULL" } else { "" },
        s.sent.messages_hour,
        s.sent.recipients_hour,
        s.sent.messages_day,
        s.sent.recipients_day,
    )
}

pub async fn run(store: &Store, cmd: QuotaCommand) -> Result<Outcome, StoreError> {
    match cmd {
        QuotaCommand::Set {
            address,
            storage,
            storage_warn,
            messages,
            messages_warn,
        } => {
            let acct = find(store, &address).await?;
            let mut l: QuotaLimits = store.read(move |r| Ok(r.quota(acct)?.own)).await?;
            apply(&mut l.storage, storage.as_deref(), "storage", true)?;
            apply(
                &mut l.storage_warn,
                storage_warn.as_deref(),
                "storage_warn",
                true,
            )?;
            apply(&mut l.messages, messages.as_deref(), "messages", false)?;
            apply(
                &mut l.messages_warn,
                messages_warn.as_deref(),
                "messages_warn",
                false,
            )?;
            let l2 = l.clone();
            store.write(move |w| w.set_quota_limits(acct, &l2)).await?;
            log::info!("quota of {address} set to {l:?}");
            let all = summaries(store).await?;
            let name = address.trim().to_lowercase();
            let line = all
                .iter()
                .find(|s| s.address == name)
                .map(text)
                .unwrap_or_default();
            Ok(Outcome::Done(line))
        }
        QuotaCommand::Show { address } => {
            let all = summaries(store).await?;
            let wanted = address.map(|a| a.trim().to_lowercase());
            if let Some(w) = &wanted
                && !all.iter().any(|s| &s.address == w)
            {
                return Err(StoreError::Invalid(format!("no account {w}")));
            }
            let lines: Vec<String> = all
                .iter()
                .filter(|s| wanted.as_ref().is_none_or(|w| &s.address == w))
                .map(text)
                .collect();
            Ok(Outcome::Done(lines.join("\n")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        let mut f = Some(5);
        apply(&mut f, None, "x", true).unwrap();
        assert_eq!(f, Some(5));
        apply(&mut f, Some("default"), "x", true).unwrap();
        assert_eq!(f, None);
        apply(&mut f, Some("1M"), "x", true).unwrap();
        assert_eq!(f, Some(1 << 20));
        apply(&mut f, Some("none"), "x", false).unwrap();
        assert_eq!(f, Some(0));
        assert!(apply(&mut f, Some("lots"), "x", false).is_err());
    }
}
