//! Identities (RFC 8621 §6) and the VacationResponse singleton (§8) of an account.
//! `IDENTITIES` holds `(account, id) -> Identity` and `VACATION` `account -> VacationResponse`,
//! both JSON, opened on demand. Every change is logged for Identity/changes and the
//! VacationResponse state.

use super::read::{Reader, table};
use super::tables::{IDENTITIES, VACATION, slot};
use super::write::Writer;
use crate::store::error::{Result, StoreError};
use crate::store::model::{AccountId, ChangeKind, DataType, Identity, VacationResponse};
use redb::ReadableTable;

impl Writer<'_> {
    pub fn identities(&self, acct: AccountId) -> Result<Vec<Identity>> {
        let t = self.tx.open_table(IDENTITIES)?;
        let mut out = Vec::new();
        for row in t.range((acct, 0)..=(acct, u32::MAX))? {
            let (_, v) = row?;
            out.push(serde_json::from_slice(v.value())?);
        }
        Ok(out)
    }

    /// Stores an identity; on create it gets a fresh id. Returns the id.
    pub fn put_identity(
        &mut self,
        acct: AccountId,
        mut ident: Identity,
        created: bool,
    ) -> Result<u32> {
        if created {
            ident.id = self.next_id(acct, slot::NEXT_IDENTITY)?;
        }
        let bytes = serde_json::to_vec(&ident).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        {
            let mut t = self.tx.open_table(IDENTITIES)?;
            t.insert((acct, ident.id), bytes.as_slice())?;
        }
        let kind = if created {
            ChangeKind::Created
        } else {
            ChangeKind::Updated
        };
        self.log(acct, DataType::Identity, ident.id, kind)?;
        Ok(ident.id)
    }

    /// Removes an identity; false if there was none.
    pub fn remove_identity(&mut self, acct: AccountId, id: u32) -> Result<bool> {
        let gone = {
            let mut t = self.tx.open_table(IDENTITIES)?;
            t.remove((acct, id))?.is_some()
        };
        if gone {
            self.log(acct, DataType::Identity, id, ChangeKind::Destroyed)?;
        }
        Ok(gone)
    }

    pub fn vacation(&self, acct: AccountId) -> Result<VacationResponse> {
        let t = self.tx.open_table(VACATION)?;
        match t.get(acct)? {
            Some(v) => Ok(serde_json::from_slice(v.value())?),
            None => Ok(VacationResponse::default()),
        }
    }

    pub fn put_vacation(&mut self, acct: AccountId, v: &VacationResponse) -> Result<()> {
        let bytes = serde_json::to_vec(v).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        {
            let mut t = self.tx.open_table(VACATION)?;
            t.insert(acct, bytes.as_slice())?;
        }
        self.log(acct, DataType::VacationResponse, 0, ChangeKind::Updated)?;
        Ok(())
    }

    /// Drops an account's identities and vacation settings (account deletion).
    pub fn forget_identities(&mut self, acct: AccountId) -> Result<()> {
        {
            let mut t = self.tx.open_table(IDENTITIES)?;
            let ids: Vec<u32> = t
                .range((acct, 0)..=(acct, u32::MAX))?
                .map(|r| r.map(|(k, _)| k.value().1))
                .collect::<std::result::Result<_, _>>()?;
            for id in ids {
                t.remove((acct, id))?;
            }
        }
        let mut t = self.tx.open_table(VACATION)?;
        t.remove(acct)?;
        Ok(())
    }
}

impl Reader {
    pub fn identities(&self, acct: AccountId) -> Result<Vec<Identity>> {
        let Some(t) = table!(self, IDENTITIES) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in t.range((acct, 0)..=(acct, u32::MAX))? {
            let (_, v) = row?;
            out.push(serde_json::from_slice(v.value())?);
        }
        Ok(out)
    }

    pub fn vacation(&self, acct: AccountId) -> Result<VacationResponse> {
        let Some(t) = table!(self, VACATION) else {
            return Ok(VacationResponse::default());
        };
        match t.get(acct)? {
            Some(v) => Ok(serde_json::from_slice(v.value())?),
            None => Ok(VacationResponse::default()),
        }
    }
}
