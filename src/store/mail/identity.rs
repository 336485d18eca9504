//! Identities (RFC 8621 §6) and the VacationResponse singleton (§8) of an account, over the
//! backend interface: `identities` holds `(account, id) -> Identity` and `vacation`
//! `account -> VacationResponse`, both JSON. Every change is logged for Identity/changes and
//! the VacationResponse state. The tables are passed in (a backend opens them on demand).

use super::tables::{Records, Schema, Tables, exists, json};
use crate::store::backend::{Table, TableMut};
use crate::store::error::Result;
use crate::store::model::{AccountId, ChangeKind, DataType, Identity, VacationResponse};
use crate::store::slot;

pub fn identities(
    t: &impl Table<(u32, u32), &'static [u8]>,
    acct: AccountId,
) -> Result<Vec<Identity>> {
    t.records((acct, 0), (acct, u32::MAX))
}

/// The account's vacation settings (the default, disabled, when never set).
pub fn vacation(t: &impl Table<u32, &'static [u8]>, acct: AccountId) -> Result<VacationResponse> {
    Ok(t.record(acct)?.unwrap_or_default())
}

impl<S: Schema> Tables<'_, S> {
    /// Stores an identity; on create it gets a fresh id. Returns the id.
    pub fn put_identity(
        &mut self,
        identities: &mut impl TableMut<(u32, u32), &'static [u8]>,
        acct: AccountId,
        mut ident: Identity,
        created: bool,
    ) -> Result<u32> {
        if created {
            ident.id = self.next_id(acct, slot::NEXT_IDENTITY)?;
        }
        identities.insert((acct, ident.id), &json(&ident)?)?;
        let kind = if created {
            ChangeKind::Created
        } else {
            ChangeKind::Updated
        };
        self.log(acct, DataType::Identity, ident.id, kind)?;
        Ok(ident.id)
    }

    /// Removes an identity; false if there was none.
    pub fn remove_identity(
        &mut self,
        identities: &mut impl TableMut<(u32, u32), &'static [u8]>,
        acct: AccountId,
        id: u32,
    ) -> Result<bool> {
        if !exists(identities, (acct, id))? {
            return Ok(false);
        }
        identities.remove((acct, id))?;
        self.log(acct, DataType::Identity, id, ChangeKind::Destroyed)?;
        Ok(true)
    }

    pub fn put_vacation(
        &mut self,
        vacation: &mut impl TableMut<u32, &'static [u8]>,
        acct: AccountId,
        v: &VacationResponse,
    ) -> Result<()> {
        vacation.insert(acct, &json(v)?)?;
        self.log(acct, DataType::VacationResponse, 0, ChangeKind::Updated)?;
        Ok(())
    }
}

/// Drops an account's identities and vacation settings (account deletion).
pub fn forget(
    identities: &mut impl TableMut<(u32, u32), &'static [u8]>,
    vacation: &mut impl TableMut<u32, &'static [u8]>,
    acct: AccountId,
) -> Result<()> {
    let mut ids = Vec::new();
    identities.range((acct, 0), (acct, u32::MAX), |(_, id), _| {
        ids.push(id);
        Ok(true)
    })?;
    for id in ids {
        identities.remove((acct, id))?;
    }
    vacation.remove(acct)
}
