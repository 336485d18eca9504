//! Read operations on one consistent snapshot (a redb read transaction): each opens the redb
//! table it needs and reads it through the backend interface (`store/mail/read.rs`).

use super::changes;
use super::tables::*;
use crate::store::backend::{Backend, Table};
use crate::store::error::{Result, StoreError};
use crate::store::mail;
use crate::store::mail::tables::Records;
use crate::store::model::*;
use redb::ReadTransaction;

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
        t.record(id)
    }

    pub fn accounts(&self) -> Result<Vec<Account>> {
        let Some(t) = table!(self, ACCOUNTS) else {
            return Ok(Vec::new());
        };
        mail::read::accounts(&t)
    }

    /// The account an address delivers to (exact, lower-cased match).
    pub fn address(&self, address: &str) -> Result<Option<AccountId>> {
        let Some(t) = table!(self, ADDRESSES) else {
            return Ok(None);
        };
        Table::get(&t, address.to_lowercase().as_str(), |v| v)
    }

    pub fn addresses_of(&self, acct: AccountId) -> Result<Vec<String>> {
        let Some(t) = table!(self, ADDRESSES) else {
            return Ok(Vec::new());
        };
        mail::address::addresses_of(&t, acct)
    }

    pub fn account_by_name(&self, name: &str) -> Result<Option<Account>> {
        let (Some(addresses), Some(accounts)) = (table!(self, ADDRESSES), table!(self, ACCOUNTS))
        else {
            return Ok(None);
        };
        mail::read::account_by_name(&addresses, &accounts, name)
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
        let (Some(counters), Some(log)) = (table!(self, COUNTERS), table!(self, CHANGES)) else {
            // A database before its first write: state 0, nothing changed.
            if since > 0 {
                return Err(StoreError::StateTooOld);
            }
            return Ok(Some(ChangeSet::default()));
        };
        mail::read::changes(&counters, &log, acct, ty, since, max)
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
        mail::read::mailboxes(&t, acct)
    }

    pub fn mailbox(&self, acct: AccountId, id: u32) -> Result<Option<Mailbox>> {
        let Some(t) = table!(self, MAILBOXES) else {
            return Ok(None);
        };
        t.record((acct, id))
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
        t.record((acct, id))
    }

    pub fn email_meta(&self, acct: AccountId, id: u32) -> Result<Option<EmailMeta>> {
        let Some(t) = table!(self, EMAIL_META) else {
            return Ok(None);
        };
        t.record((acct, id))
    }

    /// Email ids of a mailbox ordered by receivedAt (oldest first), with their dates.
    pub fn mailbox_emails(&self, acct: AccountId, mailbox: u32) -> Result<Vec<(i64, u32)>> {
        let Some(t) = table!(self, MAILBOX_EMAILS) else {
            return Ok(Vec::new());
        };
        mail::read::mailbox_emails(&t, acct, mailbox)
    }

    /// Walks a mailbox newest first, calling `f(receivedAt, id)` until it returns false: a page
    /// of the newest costs that page, not the whole mailbox (Email/query's common case).
    pub fn mailbox_emails_newest(
        &self,
        acct: AccountId,
        mailbox: u32,
        f: impl FnMut(i64, u32) -> bool,
    ) -> Result<()> {
        let Some(t) = table!(self, MAILBOX_EMAILS) else {
            return Ok(());
        };
        mail::read::mailbox_emails_newest(&t, acct, mailbox, f)
    }

    /// Every email id of an account ordered by receivedAt (oldest first).
    pub fn all_emails(&self, acct: AccountId) -> Result<Vec<(i64, u32)>> {
        let Some(t) = table!(self, RECEIVED) else {
            return Ok(Vec::new());
        };
        mail::read::all_emails(&t, acct)
    }

    pub fn thread(&self, acct: AccountId, id: u32) -> Result<Option<Vec<u32>>> {
        let Some(t) = table!(self, THREADS) else {
            return Ok(None);
        };
        mail::thread::members(&t, acct, id)
    }

    /// The bytes of a blob, if `acct` holds a reference to it (the download access check).
    pub fn blob(&self, acct: AccountId, hash: &str) -> Result<Option<Vec<u8>>> {
        let (Some(refs), Some(blobs)) = (table!(self, BLOB_REFS), table!(self, BLOBS)) else {
            return Ok(None);
        };
        mail::blob::read(&refs, &blobs, acct, hash)
    }

    pub fn email_count(&self, acct: AccountId) -> Result<u64> {
        let Some(t) = table!(self, EMAILS) else {
            return Ok(0);
        };
        mail::read::email_count(&t, acct)
    }
}
