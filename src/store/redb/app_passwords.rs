//! App passwords (issue #15): extra passwords an account holder gives one device or app
//! ("Anna's phone"), each revocable on its own. One row per app password under its account,
//! keyed by its *selector* (the first group of the password, see `src/app_passwords.rs`), so a
//! login finds the one hash to check without trying them all. Only the argon2 hash is stored;
//! the password itself is shown once when it is made. They carry no JMAP state: changing them
//! appends nothing to the changelog.

use super::read::{Reader, table};
use super::tables::APP_PASSWORDS;
use super::write::Writer;
use crate::store::error::{Result, StoreError};
use crate::store::model::AccountId;
use redb::ReadableTable;
use serde::{Deserialize, Serialize};

/// How many app passwords one account may hold (a household needs a handful; the bound keeps a
/// script that loops on `add` from growing the table without end).
pub const MAX_PER_ACCOUNT: usize = 50;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AppPassword {
    /// The selector: the password's first group, unique within the account; also its id in
    /// `list` and `del`.
    pub id: String,
    /// The holder's label, e.g. "Anna's phone".
    pub name: String,
    /// PHC string of the argon2id hash of the whole password.
    pub hash: String,
    pub created_at: i64,
    /// When and from where it last let someone in (updated at most once a minute).
    #[serde(default)]
    pub last_used: Option<i64>,
    #[serde(default)]
    pub last_ip: Option<String>,
}

fn rows(
    t: &impl ReadableTable<(u32, &'static str), &'static [u8]>,
    acct: AccountId,
) -> Result<Vec<AppPassword>> {
    let mut out = Vec::new();
    for row in t.range((acct, "")..)? {
        let (k, v) = row?;
        if k.value().0 != acct {
            break;
        }
        out.push(serde_json::from_slice(v.value())?);
    }
    Ok(out)
}

impl Writer<'_> {
    /// Stores a new app password; `Conflict` if the selector is taken (the caller draws
    /// another) or the account already holds [`MAX_PER_ACCOUNT`].
    pub fn add_app_password(&mut self, acct: AccountId, p: &AppPassword) -> Result<()> {
        if self.accounts.get(acct)?.is_none() {
            return Err(StoreError::NotFound);
        }
        let mut t = self.tx.open_table(APP_PASSWORDS)?;
        if t.get((acct, p.id.as_str()))?.is_some() {
            return Err(StoreError::Conflict("app password id in use".into()));
        }
        if rows(&t, acct)?.len() >= MAX_PER_ACCOUNT {
            return Err(StoreError::Conflict(format!(
                "an account may hold at most {MAX_PER_ACCOUNT} app passwords; delete one first"
            )));
        }
        let bytes = serde_json::to_vec(p)?;
        t.insert((acct, p.id.as_str()), bytes.as_slice())?;
        Ok(())
    }

    /// Removes one app password; false if there was none.
    pub fn remove_app_password(&mut self, acct: AccountId, id: &str) -> Result<bool> {
        let mut t = self.tx.open_table(APP_PASSWORDS)?;
        Ok(t.remove((acct, id))?.is_some())
    }

    /// Records a use (time and client address), if the app password still exists.
    pub fn touch_app_password(
        &mut self,
        acct: AccountId,
        id: &str,
        at: i64,
        ip: Option<String>,
    ) -> Result<()> {
        let mut t = self.tx.open_table(APP_PASSWORDS)?;
        let current: Option<AppPassword> = match t.get((acct, id))? {
            Some(v) => Some(serde_json::from_slice(v.value())?),
            None => None,
        };
        if let Some(mut p) = current {
            p.last_used = Some(at);
            p.last_ip = ip;
            let bytes = serde_json::to_vec(&p)?;
            t.insert((acct, id), bytes.as_slice())?;
        }
        Ok(())
    }

    /// Drops every app password of an account (account deleted).
    pub fn remove_all_app_passwords(&mut self, acct: AccountId) -> Result<()> {
        let mut t = self.tx.open_table(APP_PASSWORDS)?;
        t.retain(|k, _| k.0 != acct)?;
        Ok(())
    }
}

impl Reader {
    /// The account's app passwords, by id.
    pub fn app_passwords(&self, acct: AccountId) -> Result<Vec<AppPassword>> {
        let Some(t) = table!(self, APP_PASSWORDS) else {
            return Ok(Vec::new());
        };
        rows(&t, acct)
    }

    pub fn app_password(&self, acct: AccountId, id: &str) -> Result<Option<AppPassword>> {
        let Some(t) = table!(self, APP_PASSWORDS) else {
            return Ok(None);
        };
        match t.get((acct, id))? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value())?)),
            None => Ok(None),
        }
    }
}
