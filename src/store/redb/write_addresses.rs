//! Writes for local domains and aliases (tables `DOMAINS`, `ALIASES`; see `tables.rs`).
//!
//! Rules kept here so that the CLI, the control socket and the admin page behave the same
//! (the address forms themselves are in `store/mail/address.rs`, backend-neutral):
//! - names are stored lower-cased (local parts compare case-insensitively, as the big
//!   providers do, even though RFC 5321 §2.4 lets a server treat them as case-sensitive);
//! - an alias or catch-all (`@domain`) lives in a local domain;
//! - an alias never shadows an account's own address;
//! - a domain that still has accounts or aliases cannot be removed.

use super::tables::*;
use super::write::Writer;
use crate::store::error::{Result, StoreError};
use crate::store::model::AccountId;
// The address rules are backend-neutral (`store/mail/address.rs`); re-exported for the redb
// modules that name them here.
#[allow(unused_imports)]
pub use crate::store::mail::address::{
    canonical_address, canonical_domain, domain_of, normalize_address, normalize_domain,
};
use redb::ReadableTable;

impl Writer<'_> {
    /// Makes `domain` local if it is not already (used when an account is created).
    pub fn ensure_domain(&mut self, domain: &str, now: i64) -> Result<()> {
        let d = normalize_domain(domain)?;
        let mut t = self.tx.open_table(DOMAINS)?;
        if t.get(d.as_str())?.is_none() {
            t.insert(d.as_str(), now)?;
        }
        Ok(())
    }

    /// Adds a local domain; a conflict if it is one already.
    pub fn add_domain(&mut self, domain: &str, now: i64) -> Result<String> {
        let d = normalize_domain(domain)?;
        let mut t = self.tx.open_table(DOMAINS)?;
        if t.get(d.as_str())?.is_some() {
            return Err(StoreError::Conflict(format!(
                "{d} is already a local domain"
            )));
        }
        t.insert(d.as_str(), now)?;
        Ok(d)
    }

    /// Removes a local domain that no account or alias uses any more.
    pub fn del_domain(&mut self, domain: &str) -> Result<String> {
        let d = normalize_domain(domain)?;
        let suffix = format!("@{d}");
        let accounts = self
            .addresses
            .iter()?
            .filter_map(|r| r.ok())
            .filter(|(k, _)| k.value().ends_with(&suffix))
            .count();
        let aliases = {
            let t = self.tx.open_table(ALIASES)?;
            t.iter()?
                .filter_map(|r| r.ok())
                .filter(|(k, _)| k.value().ends_with(&suffix))
                .count()
        };
        if accounts + aliases > 0 {
            return Err(StoreError::Conflict(format!(
                "{d} is still used by {accounts} address(es) and {aliases} alias(es); remove them first"
            )));
        }
        let mut t = self.tx.open_table(DOMAINS)?;
        t.remove(d.as_str())?
            .ok_or_else(|| StoreError::Invalid(format!("{d} is not a local domain")))?;
        Ok(d)
    }

    /// Adds `targets` to the alias `address` (creating it). `@domain` is the catch-all.
    pub fn add_alias(&mut self, address: &str, targets: &[AccountId]) -> Result<String> {
        let a = normalize_address(address, true)?;
        let domain = domain_of(&a).to_string();
        if self.tx.open_table(DOMAINS)?.get(domain.as_str())?.is_none() {
            return Err(StoreError::Invalid(format!(
                "{domain} is not a local domain (add it with `mailnook domain add {domain}`)"
            )));
        }
        if self.addresses.get(a.as_str())?.is_some() {
            return Err(StoreError::Conflict(format!(
                "{a} is an account's own address"
            )));
        }
        if targets.is_empty() {
            return Err(StoreError::Invalid(
                "an alias needs at least one target".into(),
            ));
        }
        let mut t = self.tx.open_table(ALIASES)?;
        let mut list: Vec<AccountId> = match t.get(a.as_str())? {
            Some(v) => serde_json::from_slice(v.value())?,
            None => Vec::new(),
        };
        for id in targets {
            if !list.contains(id) {
                list.push(*id);
            }
        }
        let bytes = serde_json::to_vec(&list)?;
        t.insert(a.as_str(), bytes.as_slice())?;
        Ok(a)
    }

    /// Removes one target from an alias, or the whole alias when `target` is None.
    pub fn del_alias(&mut self, address: &str, target: Option<AccountId>) -> Result<String> {
        let a = normalize_address(address, true)?;
        let mut t = self.tx.open_table(ALIASES)?;
        let list: Vec<AccountId> = match t.get(a.as_str())? {
            Some(v) => serde_json::from_slice(v.value())?,
            None => return Err(StoreError::Invalid(format!("no alias {a}"))),
        };
        let rest: Vec<AccountId> = match target {
            Some(id) if !list.contains(&id) => {
                return Err(StoreError::Invalid(format!("{a} does not deliver there")));
            }
            Some(id) => list.into_iter().filter(|x| *x != id).collect(),
            None => Vec::new(),
        };
        if rest.is_empty() {
            t.remove(a.as_str())?;
        } else {
            let bytes = serde_json::to_vec(&rest)?;
            t.insert(a.as_str(), bytes.as_slice())?;
        }
        Ok(a)
    }

    /// Drops an account from every alias (when the account is deleted).
    pub fn forget_alias_target(&mut self, acct: AccountId) -> Result<()> {
        let mut t = self.tx.open_table(ALIASES)?;
        let mut updates = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            let list: Vec<AccountId> = serde_json::from_slice(v.value())?;
            if list.contains(&acct) {
                let rest: Vec<AccountId> = list.into_iter().filter(|x| *x != acct).collect();
                updates.push((k.value().to_string(), rest));
            }
        }
        for (k, rest) in updates {
            if rest.is_empty() {
                t.remove(k.as_str())?;
            } else {
                let bytes = serde_json::to_vec(&rest)?;
                t.insert(k.as_str(), bytes.as_slice())?;
            }
        }
        Ok(())
    }
}
