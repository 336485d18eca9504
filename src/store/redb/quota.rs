//! Quota figures and limits (RFC 9425) in the store; the rules are `store/mail/quota.rs`.
//!
//! Layout: `QUOTA_USAGE account -> (octets, messages, warning state)` and `QUOTA_LIMITS
//! account -> QuotaLimits` (account 0: the server default). `insert_email` calls
//! [`Writer::quota_charge`] after its own checks and before it writes anything, so a refused
//! message leaves no trace in the transaction (a /set may go on with its other objects);
//! `destroy_email` calls [`Writer::quota_release`]. Both log a `DataType::Quota` change of kind
//! `CountsUpdated` for each figure (Quota/changes `updatedProperties: ["used"]`) and so push a
//! Quota state change. A limit change logs `Updated`.
//!
//! No schema version: a database from before these tables has no `META["quota_usage"]`, and
//! [`Writer::quota_derive_if_needed`] (called by `redb::open`) sums `EMAILS` once, in the
//! opening transaction. (An older mailnook writing to the file afterwards would leave the
//! figures stale: `mailnook check` reports the difference ([`Reader::quota_check`]), and
//! removing `META["quota_usage"]` makes the next start sum them again.)

use super::read::{Reader, table};
use super::tables::{EMAILS, META, QUOTA_LIMITS, QUOTA_USAGE};
use super::write::Writer;
use crate::store::error::{Result, StoreError};
use crate::store::mail::quota as rules;
use crate::store::model::{AccountId, ChangeKind, DataType, EmailState};
use crate::store::model_quota::{
    Limit, QUOTA_COUNT, QUOTA_STORAGE, QuotaLimits, QuotaStatus, WarnState,
};
use redb::ReadableTable;
use std::collections::BTreeMap;

/// `META` key set once usage has been derived for every account.
const DERIVED: &str = "quota_usage";
/// The row of `QUOTA_LIMITS` that holds the server default.
const DEFAULT_ROW: AccountId = 0;

fn limits_of(bytes: Option<&[u8]>) -> Result<QuotaLimits> {
    Ok(match bytes {
        Some(b) => serde_json::from_slice(b)?,
        None => QuotaLimits::default(),
    })
}

impl Writer<'_> {
    /// Sums `EMAILS` into `QUOTA_USAGE` for a database that predates it (see the header).
    pub(super) fn quota_derive_if_needed(&mut self) -> Result<()> {
        if self.meta.get(DERIVED)?.is_some() {
            return Ok(());
        }
        let mut sums: BTreeMap<AccountId, (u64, u64)> = BTreeMap::new();
        for row in self.emails.iter()? {
            let (k, v) = row?;
            let st: EmailState = serde_json::from_slice(v.value())?;
            let e = sums.entry(k.value().0).or_default();
            e.0 += st.size;
            e.1 += 1;
        }
        let mut t = self.tx.open_table(QUOTA_USAGE)?;
        t.retain(|_, _| false)?;
        for (acct, (octets, n)) in sums {
            t.insert(acct, (octets, n, WarnState::Armed as u8))?;
        }
        drop(t);
        self.meta.insert(DERIVED, 1)?;
        Ok(())
    }

    fn quota_limits_pair(&self, acct: AccountId) -> Result<(QuotaLimits, QuotaLimits)> {
        let t = self.tx.open_table(QUOTA_LIMITS)?;
        let own = limits_of(t.get(acct)?.as_ref().map(|v| v.value()))?;
        let default = limits_of(t.get(DEFAULT_ROW)?.as_ref().map(|v| v.value()))?;
        Ok((own, default))
    }

    fn quota_usage_row(&self, acct: AccountId) -> Result<(u64, u64, WarnState)> {
        let t = self.tx.open_table(QUOTA_USAGE)?;
        Ok(match t.get(acct)?.map(|v| v.value()) {
            Some((o, n, w)) => (o, n, WarnState::from_u8(w)),
            None => (0, 0, WarnState::Armed),
        })
    }

    /// The account's effective limits: (storage, count).
    fn quota_effective(&self, acct: AccountId) -> Result<(Limit, Limit)> {
        let (own, default) = self.quota_limits_pair(acct)?;
        Ok(rules::effective(&own, &default))
    }

    /// Moves usage to `used`, recomputes the warning state (from `state`, under `limits`), logs
    /// the change of each figure.
    fn quota_store(
        &mut self,
        acct: AccountId,
        used: (u64, u64),
        state: WarnState,
        (storage, count): (Limit, Limit),
        kind: ChangeKind,
    ) -> Result<()> {
        let state = rules::warn_after(state, used, storage, count);
        self.tx
            .open_table(QUOTA_USAGE)?
            .insert(acct, (used.0, used.1, state as u8))?;
        // One pair of change rows per account and transaction is enough: a client only sees
        // states between commits, and a group commit of many deliveries would otherwise log
        // two rows per message (issue #20: the store writer is the one serial step of ingest).
        if kind == ChangeKind::CountsUpdated && self.touched.contains(&(acct, DataType::Quota)) {
            return Ok(());
        }
        self.log(acct, DataType::Quota, QUOTA_STORAGE, kind)?;
        self.log(acct, DataType::Quota, QUOTA_COUNT, kind)?;
        Ok(())
    }

    /// Counts a new message of `size` octets against `acct`, or refuses it with
    /// `StoreError::OverQuota` before anything is written.
    pub fn quota_charge(&mut self, acct: AccountId, size: u64) -> Result<()> {
        let (storage, count) = self.quota_effective(acct)?;
        let (octets, n, state) = self.quota_usage_row(acct)?;
        if let Some(why) = rules::refuse((octets, n), size, storage, count) {
            return Err(StoreError::OverQuota(why));
        }
        let used = (octets.saturating_add(size), n.saturating_add(1));
        self.quota_store(
            acct,
            used,
            state,
            (storage, count),
            ChangeKind::CountsUpdated,
        )
    }

    /// Gives back what a destroyed message of `size` octets held.
    pub fn quota_release(&mut self, acct: AccountId, size: u64) -> Result<()> {
        let limits = self.quota_effective(acct)?;
        let (octets, n, state) = self.quota_usage_row(acct)?;
        let used = (octets.saturating_sub(size), n.saturating_sub(1));
        self.quota_store(acct, used, state, limits, ChangeKind::CountsUpdated)
    }

    /// Sets the account's own limits (None fields follow the default).
    pub fn set_quota_limits(&mut self, acct: AccountId, limits: &QuotaLimits) -> Result<()> {
        if self.accounts.get(acct)?.is_none() {
            return Err(StoreError::NotFound);
        }
        let bytes = serde_json::to_vec(limits)?;
        self.tx
            .open_table(QUOTA_LIMITS)?
            .insert(acct, bytes.as_slice())?;
        let limits = self.quota_effective(acct)?;
        let (o, n, state) = self.quota_usage_row(acct)?;
        self.quota_store(acct, (o, n), state, limits, ChangeKind::Updated)
    }

    /// Stores the server default (the config's `[quota]`); when it differs from the stored
    /// one, every account's Quota objects change. Returns whether it changed.
    pub fn set_quota_default(&mut self, limits: &QuotaLimits) -> Result<bool> {
        let bytes = serde_json::to_vec(limits)?;
        {
            let mut t = self.tx.open_table(QUOTA_LIMITS)?;
            if t.get(DEFAULT_ROW)?
                .is_some_and(|v| v.value() == bytes.as_slice())
            {
                return Ok(false);
            }
            t.insert(DEFAULT_ROW, bytes.as_slice())?;
        }
        let ids: Vec<AccountId> = self
            .accounts
            .iter()?
            .map(|r| r.map(|(k, _)| k.value()))
            .collect::<std::result::Result<_, _>>()?;
        for acct in ids {
            let limits = self.quota_effective(acct)?;
            let (o, n, state) = self.quota_usage_row(acct)?;
            self.quota_store(acct, (o, n), state, limits, ChangeKind::Updated)?;
        }
        Ok(true)
    }

    /// The account's warning state (for the warning task, inside its write).
    pub fn quota_warn_state(&self, acct: AccountId) -> Result<WarnState> {
        Ok(self.quota_usage_row(acct)?.2)
    }

    /// Marks the pending warning as filed.
    pub fn quota_warning_sent(&mut self, acct: AccountId) -> Result<()> {
        let (o, n, _) = self.quota_usage_row(acct)?;
        self.tx
            .open_table(QUOTA_USAGE)?
            .insert(acct, (o, n, WarnState::Sent as u8))?;
        Ok(())
    }

    /// Drops the account's rows (account deletion, after its emails are gone).
    pub(super) fn quota_forget_account(&mut self, acct: AccountId) -> Result<()> {
        self.tx.open_table(QUOTA_USAGE)?.remove(acct)?;
        self.tx.open_table(QUOTA_LIMITS)?.remove(acct)?;
        Ok(())
    }
}

impl Reader {
    /// The account's figures and effective limits.
    pub fn quota(&self, acct: AccountId) -> Result<QuotaStatus> {
        let (own, default) = match table!(self, QUOTA_LIMITS) {
            Some(t) => (
                limits_of(t.get(acct)?.as_ref().map(|v| v.value()))?,
                limits_of(t.get(DEFAULT_ROW)?.as_ref().map(|v| v.value()))?,
            ),
            None => Default::default(),
        };
        let (octets, messages, warn) = match table!(self, QUOTA_USAGE) {
            Some(t) => match t.get(acct)?.map(|v| v.value()) {
                Some((o, n, w)) => (o, n, WarnState::from_u8(w)),
                None => (0, 0, WarnState::Armed),
            },
            None => (0, 0, WarnState::Armed),
        };
        let (storage, count) = rules::effective(&own, &default);
        Ok(QuotaStatus {
            octets,
            messages,
            storage,
            count,
            warn,
            own,
        })
    }

    /// Accounts whose warning is due (read at start, in case the server stopped before filing).
    pub fn quota_pending_warnings(&self) -> Result<Vec<AccountId>> {
        let Some(t) = table!(self, QUOTA_USAGE) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            if WarnState::from_u8(v.value().2) == WarnState::Pending {
                out.push(k.value());
            }
        }
        Ok(out)
    }

    /// `mailnook check`: the kept figures against the sum of `EMAILS` (nothing to compare
    /// before they were first derived).
    pub fn quota_check(&self, acct: AccountId, name: &str) -> Result<Option<String>> {
        let derived = match table!(self, META) {
            Some(t) => t.get(DERIVED)?.is_some(),
            None => false,
        };
        if !derived {
            return Ok(None);
        }
        let q = self.quota(acct)?;
        let sum = self.quota_recount(acct)?;
        Ok(((q.octets, q.messages) != sum).then(|| {
            format!(
                "{name}: quota figures say {} octets in {} messages, the emails {} in {}",
                q.octets, q.messages, sum.0, sum.1
            )
        }))
    }

    /// The account's figures summed from `EMAILS`.
    pub fn quota_recount(&self, acct: AccountId) -> Result<(u64, u64)> {
        let Some(t) = table!(self, EMAILS) else {
            return Ok((0, 0));
        };
        let mut out = (0, 0);
        for row in t.range((acct, 0)..=(acct, u32::MAX))? {
            let (_, v) = row?;
            let st: EmailState = serde_json::from_slice(v.value())?;
            out.0 += st.size;
            out.1 += 1;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use crate::store::model::{EmailMeta, NewEmail};
    use crate::store::model_quota::QuotaLimits;
    use crate::store::{Store, StoreError};

    fn insert(store: &Store, acct: u32, inbox: u32, raw: &'static [u8]) -> Result<u32, StoreError> {
        store.write_blocking(move |w| {
            let new = NewEmail {
                account: acct,
                mailbox_ids: vec![inbox],
                keywords: Default::default(),
                received_at: 0,
                meta: EmailMeta::default(),
            };
            Ok(w.insert_email(&new, raw, &[])?.0)
        })
    }

    #[test]
    fn figures_follow_every_write_and_a_refusal_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let store = Store::open(&path, 1 << 20).unwrap();
        let a = store
            .write_blocking(|w| w.create_account("u@example.org", "x", false, 0))
            .unwrap()
            .id;
        let inbox = store
            .write_blocking(move |w| Ok(w.mailbox_id_by_role(a, "inbox")?.unwrap()))
            .unwrap();
        let limits = QuotaLimits {
            storage: Some(10),
            storage_warn: Some(0),
            ..Default::default()
        };
        store
            .write_blocking(move |w| w.set_quota_limits(a, &limits))
            .unwrap();
        let first = insert(&store, a, inbox, b"four").unwrap();
        // The same bytes again: stored once, counted twice (each email counts its size).
        insert(&store, a, inbox, b"four").unwrap();
        let figures = |s: &Store| s.read_blocking(|r| r.quota(a)).unwrap();
        assert_eq!((figures(&store).octets, figures(&store).messages), (8, 2));
        // 8 + 3 > 10: refused, and nothing of it is kept.
        let e = insert(&store, a, inbox, b"abc").unwrap_err();
        assert!(matches!(e, StoreError::OverQuota(_)), "{e}");
        assert_eq!(store.read_blocking(|r| r.quota_recount(a)).unwrap(), (8, 2));
        // Reaching the limit exactly is allowed.
        insert(&store, a, inbox, b"ok").unwrap();
        store
            .write_blocking(move |w| w.destroy_email(a, first))
            .unwrap();
        let q = figures(&store);
        assert_eq!((q.octets, q.messages), (6, 2));
        assert_eq!(
            store.read_blocking(|r| r.quota_check(a, "u")).unwrap(),
            None
        );
        store.shutdown();
        drop(store);

        // A file whose figures were never derived (or were lost) gets them summed at open.
        {
            let db = redb::Database::create(&path).unwrap();
            let tx = db.begin_write().unwrap();
            tx.open_table(super::META)
                .unwrap()
                .remove(super::DERIVED)
                .unwrap();
            tx.open_table(super::QUOTA_USAGE)
                .unwrap()
                .remove(a)
                .unwrap();
            tx.commit().unwrap();
        }
        let store = Store::open(&path, 1 << 20).unwrap();
        let q = figures(&store);
        assert_eq!((q.octets, q.messages), (6, 2));
        store.shutdown();
    }
}
