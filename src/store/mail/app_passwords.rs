//! App passwords (issue #15): extra passwords an account holder gives one device or app
//! ("Anna's phone"), each revocable on its own. One row per app password under its account,
//! keyed by its *selector* (the first group of the password, see `src/app_passwords.rs`), so a
//! login finds the one hash to check without trying them all. Only the argon2 hash is stored;
//! the password itself is shown once when it is made. They carry no JMAP state: changing them
//! appends nothing to the changelog. Over the backend interface: the `app_passwords` table
//! ((account, selector) -> AppPassword, JSON) is passed in.

use super::domains::STR_MAX;
use super::tables::{Records, exists, json};
use crate::store::backend::{Table, TableMut};
use crate::store::error::{Result, StoreError};
use crate::store::model::AccountId;
use serde::{Deserialize, Serialize};

type Rows = &'static [u8];

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

/// The account's app passwords, by id.
pub fn list(
    t: &impl Table<(u32, &'static str), Rows>,
    acct: AccountId,
) -> Result<Vec<AppPassword>> {
    t.records((acct, ""), (acct, STR_MAX))
}

pub fn get(
    t: &impl Table<(u32, &'static str), Rows>,
    acct: AccountId,
    id: &str,
) -> Result<Option<AppPassword>> {
    t.record((acct, id))
}

/// Stores a new app password; `Conflict` if the selector is taken (the caller draws another)
/// or the account already holds [`MAX_PER_ACCOUNT`]; `NotFound` without the account.
pub fn add(
    t: &mut impl TableMut<(u32, &'static str), Rows>,
    accounts: &impl Table<u32, &'static [u8]>,
    acct: AccountId,
    p: &AppPassword,
) -> Result<()> {
    if !exists(accounts, acct)? {
        return Err(StoreError::NotFound);
    }
    if exists(t, (acct, p.id.as_str()))? {
        return Err(StoreError::Conflict("app password id in use".into()));
    }
    if list(t, acct)?.len() >= MAX_PER_ACCOUNT {
        return Err(StoreError::Conflict(format!(
            "an account may hold at most {MAX_PER_ACCOUNT} app passwords; delete one first"
        )));
    }
    t.insert((acct, p.id.as_str()), &json(p)?)
}

/// Removes one app password; false if there was none.
pub fn remove(
    t: &mut impl TableMut<(u32, &'static str), Rows>,
    acct: AccountId,
    id: &str,
) -> Result<bool> {
    if !exists(t, (acct, id))? {
        return Ok(false);
    }
    t.remove((acct, id))?;
    Ok(true)
}

/// Records a use (time and client address), if the app password still exists.
pub fn touch(
    t: &mut impl TableMut<(u32, &'static str), Rows>,
    acct: AccountId,
    id: &str,
    at: i64,
    ip: Option<String>,
) -> Result<()> {
    if let Some(mut p) = get(t, acct, id)? {
        p.last_used = Some(at);
        p.last_ip = ip;
        t.insert((acct, id), &json(&p)?)?;
    }
    Ok(())
}

/// Drops every app password of an account (account deleted).
pub fn remove_all(t: &mut impl TableMut<(u32, &'static str), Rows>, acct: AccountId) -> Result<()> {
    let mut ids: Vec<String> = Vec::new();
    t.range((acct, ""), (acct, STR_MAX), |(_, id), _| {
        ids.push(id.to_string());
        Ok(true)
    })?;
    for id in &ids {
        t.remove((acct, id.as_str()))?;
    }
    Ok(())
}
