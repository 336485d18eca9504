//! Account rules: an account is named by its own address, which is also its first identity.

use super::address::canonical_address;
use crate::store::error::{Result, StoreError};
use crate::store::model::Identity;

/// The canonical name of a new account; it must be an address (`local@domain`).
pub fn account_name(name: &str) -> Result<String> {
    let name = canonical_address(name);
    if name.is_empty() || !name.contains('@') {
        return Err(StoreError::Invalid(format!(
            "'{name}' is not an email address"
        )));
    }
    Ok(name)
}

/// RFC 8621 §6: the account's own address is its default identity, which cannot be deleted.
pub fn default_identity(address: &str) -> Identity {
    Identity {
        id: 0,
        name: String::new(),
        email: address.to_string(),
        reply_to: None,
        bcc: None,
        text_signature: String::new(),
        html_signature: String::new(),
        may_delete: false,
    }
}

use super::tables::{Records, Schema, Tables, exists, json};
use crate::store::backend::{Table, TableMut};
use crate::store::model::{Account, AccountId};

impl<S: Schema> Tables<'_, S> {
    pub fn account(&self, acct: AccountId) -> Result<Account> {
        self.accounts.record(acct)?.ok_or(StoreError::NotFound)
    }

    /// A new account record, its own address and its default mailboxes. The caller adds what
    /// lives outside the mail tables (its domain, its default identity).
    pub fn create_account(
        &mut self,
        name: &str,
        password_hash: &str,
        admin: bool,
        now: i64,
    ) -> Result<Account> {
        let name = account_name(name)?;
        if exists(&*self.addresses, name.as_str())? {
            return Err(StoreError::Conflict(format!(
                "the address {name} is already in use"
            )));
        }
        let next = self.meta.get("next_account", |v| v)?.unwrap_or(1);
        let id = u32::try_from(next)
            .map_err(|_| StoreError::Invalid("account id space exhausted".into()))?;
        self.meta.insert("next_account", u64::from(id) + 1)?;
        let account = Account {
            id,
            name: name.clone(),
            password_hash: password_hash.to_string(),
            admin,
            created_at: now,
        };
        self.accounts.insert(id, &json(&account)?)?;
        self.addresses.insert(name.as_str(), id)?;
        Ok(account)
    }

    pub fn set_password(&mut self, acct: AccountId, password_hash: &str) -> Result<()> {
        let mut account = self.account(acct)?;
        account.password_hash = password_hash.to_string();
        self.accounts.insert(acct, &json(&account)?)
    }

    /// Removes the account's emails (with their blob references), then its record, addresses,
    /// mailboxes, counts, threads, changelog and counters. The caller removes what lives
    /// outside the mail tables first.
    pub fn delete_account(&mut self, acct: AccountId) -> Result<()> {
        for id in self.email_ids(acct)? {
            self.destroy_email(acct, id)?;
        }
        self.accounts.remove(acct)?;
        for a in super::address::addresses_of(&*self.addresses, acct)? {
            self.addresses.remove(a.as_str())?;
        }
        clear(self.mailboxes, (acct, 0), (acct, u32::MAX))?;
        clear(
            self.mailbox_threads,
            (acct, 0, 0),
            (acct, u32::MAX, u32::MAX),
        )?;
        clear(self.thread_refs, (acct, 0), (acct, u128::MAX))?;
        clear(self.thread_tails, (acct, 0), (acct, u32::MAX))?;
        clear(self.changes, (acct, 0, 0), (acct, u8::MAX, u64::MAX))?;
        clear(self.counters, (acct, 0), (acct, u8::MAX))?;
        Ok(())
    }
}

/// Removes every row with a fixed-size key in `lo..=hi` (keys are read first: a table is not
/// changed while it is walked).
fn clear<K, V>(t: &mut impl TableMut<K, V>, lo: K, hi: K) -> Result<()>
where
    K: crate::store::backend::Field + Copy + for<'a> crate::store::backend::Field<View<'a> = K>,
    V: crate::store::backend::Field,
{
    let mut keys: Vec<K> = Vec::new();
    t.range(lo, hi, |k, _| {
        keys.push(k);
        Ok(true)
    })?;
    for k in keys {
        t.remove(k)?;
    }
    Ok(())
}
