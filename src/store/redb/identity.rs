//! Identities (RFC 8621 §6) and the VacationResponse singleton (§8) of an account: the rules
//! are in `store/mail/identity.rs`, over the backend interface; this opens the redb tables
//! `IDENTITIES` and `VACATION` on demand for them.

use super::read::{Reader, table};
use super::tables::{IDENTITIES, VACATION};
use super::write::Writer;
use crate::store::error::Result;
use crate::store::mail::identity;
use crate::store::model::{AccountId, Identity, VacationResponse};

impl Writer<'_> {
    pub fn identities(&self, acct: AccountId) -> Result<Vec<Identity>> {
        identity::identities(&self.tx.open_table(IDENTITIES)?, acct)
    }

    /// Stores an identity; on create it gets a fresh id. Returns the id.
    pub fn put_identity(&mut self, acct: AccountId, ident: Identity, created: bool) -> Result<u32> {
        let tx = self.tx;
        let mut t = tx.open_table(IDENTITIES)?;
        self.mail().put_identity(&mut t, acct, ident, created)
    }

    /// Removes an identity; false if there was none.
    pub fn remove_identity(&mut self, acct: AccountId, id: u32) -> Result<bool> {
        let tx = self.tx;
        let mut t = tx.open_table(IDENTITIES)?;
        self.mail().remove_identity(&mut t, acct, id)
    }

    pub fn vacation(&self, acct: AccountId) -> Result<VacationResponse> {
        identity::vacation(&self.tx.open_table(VACATION)?, acct)
    }

    pub fn put_vacation(&mut self, acct: AccountId, v: &VacationResponse) -> Result<()> {
        let tx = self.tx;
        let mut t = tx.open_table(VACATION)?;
        self.mail().put_vacation(&mut t, acct, v)
    }

    /// Drops an account's identities and vacation settings (account deletion).
    pub fn forget_identities(&mut self, acct: AccountId) -> Result<()> {
        let mut ids = self.tx.open_table(IDENTITIES)?;
        let mut vacation = self.tx.open_table(VACATION)?;
        identity::forget(&mut ids, &mut vacation, acct)
    }
}

impl Reader {
    pub fn identities(&self, acct: AccountId) -> Result<Vec<Identity>> {
        let Some(t) = table!(self, IDENTITIES) else {
            return Ok(Vec::new());
        };
        identity::identities(&t, acct)
    }

    pub fn vacation(&self, acct: AccountId) -> Result<VacationResponse> {
        let Some(t) = table!(self, VACATION) else {
            return Ok(VacationResponse::default());
        };
        identity::vacation(&t, acct)
    }
}
