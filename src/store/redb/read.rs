//! Read operations on one consistent snapshot (a redb read transaction).

use super::changes;
use super::tables::*;
use crate::store::backend::Backend;
use crate::store::error::{Result, StoreError};
use crate::store::model::*;
use redb::{ReadTransaction, ReadableTable};

pub struct Reader {
    pub(super) tx: ReadTransaction,
}

/// Opens a table, treating "never created" as empty (a fresh database before its first write).
macro_rules! table {
    ($self:ident, $def:expr) => {
        match $self.tx.open_table($def) {
            Ok(t) => Some(t),
            Err(redb::TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(e.into()),
        }
    };
}
#[allow(unused_imports)]
pub(super) use table;

impl Reader {
    pub(crate) fn begin(db: &redb::Database) -> Result<Reader> {
        Ok(Reader {
            tx: Backend::begin_read(db)?,
        })
    }

    pub fn account(&self, id: AccountId) -> Result<Option<Account>> {
        let Some(t) = table!(self, ACCOUNTS) else {
            return Ok(None);
        };
        match t.get(id)? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value())?)),
            None => Ok(None),
        }
    }

    pub fn accounts(&self) -> Result<Vec<Account>> {
        let Some(t) = table!(self, ACCOUNTS) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in t.iter()? {
            let (_, v) = row?;
            out.push(serde_json::from_slice(v.value())?);
        }
        Ok(out)
    }

    /// The account an address delivers to (exact, lower-cased match).
    pub fn address(&self, address: &str) -> Result<Option<AccountId>> {
        let Some(t) = table!(self, ADDRESSES) else {
            return Ok(None);
        };
        Ok(t.get(address.to_lowercase().as_str())?.map(|v| v.value()))
    }

    pub fn addresses_of(&self, acct: AccountId) -> Result<Vec<String>> {
        let Some(t) = table!(self, ADDRESSES) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            if v.value() == acct {
                out.push(k.value().to_string());
            }
        }
        Ok(out)
    }

    pub fn account_by_name(&self, name: &str) -> Result<Option<Account>> {
        match self.address(name)? {
            Some(id) => self
                .account(id)
                .map(|a| a.filter(|a| a.name == name.to_lowercase())),
            None => Ok(None),
        }
    }

    /// The state (highest modseq) of one type in an account.
    pub fn state(&self, acct: AccountId, ty: DataType) -> Result<u64> {
        let Some(t) = table!(self, COUNTERS) else {
            return Ok(0);
        };
        changes::counter(&t, acct, slot::TYPE_HIGH + ty as u8)
    }

    pub fn modseq(&self, acct: AccountId) -> Result<u64> {
        let Some(t) = table!(self, COUNTERS) else {
            return Ok(0);
        };
        changes::counter(&t, acct, slot::MODSEQ)
    }

    /// Changes of a type since a state. `Err(StateTooOld)` when the state is in the future, and
    /// `Ok(None)` when the log was trimmed past it (cannotCalculateChanges, RFC 8620 §5.2).
    pub fn changes(
        &self,
        acct: AccountId,
        ty: DataType,
        since: u64,
        max: usize,
    ) -> Result<Option<ChangeSet>> {
        let high = self.state(acct, ty)?;
        if since > self.modseq(acct)? {
            return Err(StoreError::StateTooOld);
        }
        let low = match table!(self, COUNTERS) {
            Some(t) => changes::counter(&t, acct, slot::TYPE_LOW + ty as u8)?,
            None => 0,
        };
        if since < low {
            return Ok(None);
        }
        let Some(t) = table!(self, CHANGES) else {
            return Ok(Some(ChangeSet {
                new_modseq: high,
                ..Default::default()
            }));
        };
        changes::since(&t, acct, ty, since, high.max(since), max).map(Some)
    }

    pub fn change_rows(
        &self,
        acct: AccountId,
        ty: DataType,
        since: u64,
        limit: usize,
    ) -> Result<Vec<Change>> {
        let Some(t) = table!(self, CHANGES) else {
            return Ok(Vec::new());
        };
        changes::rows_since(&t, acct, ty, since, limit)
    }

    pub fn mailboxes(&self, acct: AccountId) -> Result<Vec<Mailbox>> {
        let Some(t) = table!(self, MAILBOXES) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in t.range((acct, 0)..=(acct, u32::MAX))? {
            let (_, v) = row?;
            out.push(serde_json::from_slice(v.value())?);
        }
        Ok(out)
    }

    pub fn mailbox(&self, acct: AccountId, id: u32) -> Result<Option<Mailbox>> {
        let Some(t) = table!(self, MAILBOXES) else {
            return Ok(None);
        };
        match t.get((acct, id))? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value())?)),
            None => Ok(None),
        }
    }

    pub fn mailbox_by_role(&self, acct: AccountId, role: &str) -> Result<Option<Mailbox>> {
        Ok(self
            .mailboxes(acct)?
            .into_iter()
            .find(|m| m.role.as_deref() == Some(role)))
    }

    pub fn email_state(&self, acct: AccountId, id: u32) -> Result<Option<EmailState>> {
        let Some(t) = table!(self, EMAILS) else {
            return Ok(None);
        };
        match t.get((acct, id))? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value())?)),
            None => Ok(None),
        }
    }

    pub fn email_meta(&self, acct: AccountId, id: u32) -> Result<Option<EmailMeta>> {
        let Some(t) = table!(self, EMAIL_META) else {
            return Ok(None);
        };
        match t.get((acct, id))? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value())?)),
            None => Ok(None),
        }
    }

    /// Email ids of a mailbox ordered by receivedAt (oldest first), with their dates.
    pub fn mailbox_emails(&self, acct: AccountId, mailbox: u32) -> Result<Vec<(i64, u32)>> {
        let Some(t) = table!(self, MAILBOX_EMAILS) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in t.range((acct, mailbox, i64::MIN, 0)..=(acct, mailbox, i64::MAX, u32::MAX))? {
            let (k, _) = row?;
            let (_, _, at, id) = k.value();
            out.push((at, id));
        }
        Ok(out)
    }

    /// Walks a mailbox newest first, calling `f(receivedAt, id)` until it returns false: a page
    /// of the newest costs that page, not the whole mailbox (Email/query's common case).
    pub fn mailbox_emails_newest(
        &self,
        acct: AccountId,
        mailbox: u32,
        mut f: impl FnMut(i64, u32) -> bool,
    ) -> Result<()> {
        let Some(t) = table!(self, MAILBOX_EMAILS) else {
            return Ok(());
        };
        let range = t.range((acct, mailbox, i64::MIN, 0)..=(acct, mailbox, i64::MAX, u32::MAX))?;
        for row in range.rev() {
            let (k, _) = row?;
            let (_, _, at, id) = k.value();
            if !f(at, id) {
                break;
            }
        }
        Ok(())
    }

    /// Every email id of an account ordered by receivedAt (oldest first).
    pub fn all_emails(&self, acct: AccountId) -> Result<Vec<(i64, u32)>> {
        let Some(t) = table!(self, RECEIVED) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in t.range((acct, i64::MIN, 0)..=(acct, i64::MAX, u32::MAX))? {
            let (k, _) = row?;
            let (_, at, id) = k.value();
            out.push((at, id));
        }
        Ok(out)
    }

    pub fn thread(&self, acct: AccountId, id: u32) -> Result<Option<Vec<u32>>> {
        let Some(t) = table!(self, THREADS) else {
            return Ok(None);
        };
        match t.get((acct, id))? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value())?)),
            None => Ok(None),
        }
    }

    /// The bytes of a blob, if `acct` holds a reference to it (the download access check).
    pub fn blob(&self, acct: AccountId, hash: &str) -> Result<Option<Vec<u8>>> {
        let Some(refs) = table!(self, BLOB_REFS) else {
            return Ok(None);
        };
        if refs.get((hash, acct))?.is_none() {
            return Ok(None);
        }
        let Some(t) = table!(self, BLOBS) else {
            return Ok(None);
        };
        match t.get(hash)? {
            Some(v) => super::blob_codec::decode(v.value())
                .map(Some)
                .map_err(StoreError::Corrupt),
            None => Ok(None),
        }
    }

    pub fn email_count(&self, acct: AccountId) -> Result<u64> {
        let Some(t) = table!(self, EMAILS) else {
            return Ok(0);
        };
        let mut n = 0;
        for row in t.range((acct, 0)..=(acct, u32::MAX))? {
            row?;
            n += 1;
        }
        Ok(n)
    }
}
