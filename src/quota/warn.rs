//! The warning message: when a write takes an account to or past a warning limit (RFC 9425
//! `warnLimit`), the store marks a warning `Pending` in the same transaction
//! (`store/mail/quota.rs::warn_after`). This task files ONE message in the owner's Inbox and
//! marks it `Sent` in one write, so a crash between the two cannot send it twice, and many
//! deliveries above the limit send nothing more. Once usage is below every warning limit the
//! state is `Armed` again and the next crossing warns again.
//!
//! The task wakes on every Quota state change (`Store::subscribe`) and, in case a change was
//! missed (a full channel, a restart), looks for pending warnings every [`POLL`].

use crate::ingest;
use crate::store::model::AccountId;
use crate::store::model_quota::{QuotaStatus, WarnState};
use crate::store::{Store, StoreError};
use std::collections::BTreeMap;
use std::time::Duration;

/// How often pending warnings are looked for without a wake-up.
pub const POLL: Duration = Duration::from_secs(60);

pub async fn run(store: Store, hostname: String) {
    use crate::store::watch::{Wake, Watch};
    let watch = Watch::new(&store, crate::store::model::DataType::Quota, POLL);
    all_pending(&store, &hostname).await;
    while let Some(wake) = watch.next().await {
        match wake {
            Wake::Changed(acct) => {
                if let Err(e) = warn(&store, &hostname, acct).await {
                    log::warn!("quota: warning account {acct} failed: {e}");
                }
            }
            Wake::Poll => all_pending(&store, &hostname).await,
        }
    }
}

async fn all_pending(store: &Store, hostname: &str) {
    match store.read(|r| r.quota_pending_warnings()).await {
        Ok(list) => {
            for acct in list {
                if let Err(e) = warn(store, hostname, acct).await {
                    log::warn!("quota: warning account {acct} failed: {e}");
                }
            }
        }
        Err(StoreError::Closed) => {}
        Err(e) => log::warn!("quota: cannot read pending warnings: {e}"),
    }
}

/// Files the warning if one is pending; returns whether it did.
pub async fn warn(store: &Store, hostname: &str, acct: AccountId) -> Result<bool, StoreError> {
    let (q, account) = store
        .read(move |r| Ok((r.quota(acct)?, r.account(acct)?)))
        .await?;
    let Some(account) = account else {
        return Ok(false);
    };
    if q.warn != WarnState::Pending {
        return Ok(false);
    }
    let now = crate::date::now();
    let raw = message(hostname, &account.name, &q, now);
    let prepared = crate::pool::unblock(move || ingest::prepare(raw)).await;
    let filed = store
        .write(move |w| {
            if w.quota_warn_state(acct)? != WarnState::Pending {
                return Ok(false);
            }
            let inbox = w
                .mailbox_id_by_role(acct, "inbox")?
                .ok_or(StoreError::NotFound)?;
            match ingest::insert(w, &prepared, acct, vec![inbox], BTreeMap::new(), now) {
                // Full already: the next refused delivery says so; the warning is spent.
                Ok(_) | Err(StoreError::OverQuota(_)) => {}
                Err(e) => return Err(e),
            }
            w.quota_warning_sent(acct)?;
            Ok(true)
        })
        .await?;
    if filed {
        log::info!(
            "quota: {} warned ({} octets, {} messages)",
            account.name,
            q.octets,
            q.messages
        );
    }
    Ok(filed)
}

fn figure(used: u64, hard: Option<u64>, unit: &str) -> String {
    match hard {
        Some(h) if h > 0 => format!(
            "{used} of {h} {unit} ({}%)",
            (u128::from(used) * 100 / u128::from(h)) as u64
        ),
        _ => format!("{used} {unit} (no limit)"),
    }
}

/// The warning itself (plain text, `Auto-Submitted: auto-generated`, RFC 3834 §5, so no
/// vacation responder answers it).
pub fn message(hostname: &str, to: &str, q: &QuotaStatus, now: i64) -> Vec<u8> {
    let host = crate::wire::printable(hostname);
    format!(
        "From: Mail system <postmaster@{host}>\r\n\
         To: <{to}>\r\n\
         Subject: Your mailbox is almost full\r\n\
         Date: {date}\r\n\
         Message-ID: <quota-warning.{now}.{rand}@{host}>\r\n\
         Auto-Submitted: auto-generated\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\
         \r\n\
         Your mailbox is close to its limit:\r\n\
         \r\n\
         \x20 storage:  {storage}\r\n\
         \x20 messages: {messages}\r\n\
         \r\n\
         When it is full, new mail is refused and its senders are told to try again later.\r\n\
         Delete messages you no longer need (and empty the Trash) to make room.\r\n\
         You will not be warned again until usage drops below the warning limit.\r\n",
        date = crate::date::rfc5322(now),
        rand = crate::store::hex_sha256(format!("{to}{now}").as_bytes())
            .chars()
            .take(12)
            .collect::<String>(),
        storage = figure(q.octets, q.storage.hard, "octets"),
        messages = figure(q.messages, q.count.hard, "messages"),
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::model_quota::Limit;

    #[test]
    fn the_message_says_the_figures() {
        let q = QuotaStatus {
            octets: 950,
            messages: 3,
            storage: Limit {
                hard: Some(1000),
                warn: Some(900),
            },
            ..Default::default()
        };
        let m = String::from_utf8(message("mx.example", "a@example", &q, 0)).unwrap();
        assert!(m.contains("950 of 1000 octets (95%)"), "{m}");
        assert!(m.contains("3 messages (no limit)"), "{m}");
        assert!(m.contains("Auto-Submitted: auto-generated"));
    }
}
