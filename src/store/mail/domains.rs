//! Local domains and aliases (tables `domains`: domain -> added at; `aliases`: address ->
//! JSON list of accounts), over the backend interface.
//!
//! Rules kept here so that the CLI, the control socket and the admin page behave the same
//! (the address forms themselves are in `address.rs`):
//! - names are stored lower-cased (local parts compare case-insensitively, as the big
//!   providers do, even though RFC 5321 §2.4 lets a server treat them as case-sensitive);
//! - an alias or catch-all (`@domain`) lives in a local domain;
//! - an alias never shadows an account's own address;
//! - a domain that still has accounts or aliases cannot be removed.

use super::address::{domain_of, normalize_address, normalize_domain};
use super::tables::{Records, exists, json};
use crate::store::backend::{Table, TableMut};
use crate::store::error::{Result, StoreError};
use crate::store::model::AccountId;

/// The highest string key: ranges over a whole string-keyed table end here (every name the
/// store keeps is canonical text, which sorts below it).
pub const STR_MAX: &str = "\u{10FFFF}";

/// Makes `domain` local if it is not already (used when an account is created).
pub fn ensure_domain(
    domains: &mut impl TableMut<&'static str, i64>,
    domain: &str,
    now: i64,
) -> Result<()> {
    let d = normalize_domain(domain)?;
    if !exists(domains, d.as_str())? {
        domains.insert(d.as_str(), now)?;
    }
    Ok(())
}

/// Adds a local domain; a conflict if it is one already.
pub fn add_domain(
    domains: &mut impl TableMut<&'static str, i64>,
    domain: &str,
    now: i64,
) -> Result<String> {
    let d = normalize_domain(domain)?;
    if exists(domains, d.as_str())? {
        return Err(StoreError::Conflict(format!(
            "{d} is already a local domain"
        )));
    }
    domains.insert(d.as_str(), now)?;
    Ok(d)
}

/// How many keys of a string-keyed table end with `suffix`.
fn ending_with<V: crate::store::backend::Field>(
    t: &impl Table<&'static str, V>,
    suffix: &str,
) -> Result<usize> {
    let mut n = 0;
    t.range("", STR_MAX, |k, _| {
        n += usize::from(k.ends_with(suffix));
        Ok(true)
    })?;
    Ok(n)
}

/// Removes a local domain that no account or alias uses any more.
pub fn del_domain(
    domains: &mut impl TableMut<&'static str, i64>,
    addresses: &impl Table<&'static str, u32>,
    aliases: &impl Table<&'static str, &'static [u8]>,
    domain: &str,
) -> Result<String> {
    let d = normalize_domain(domain)?;
    let suffix = format!("@{d}");
    let accounts = ending_with(addresses, &suffix)?;
    let alias_count = ending_with(aliases, &suffix)?;
    if accounts + alias_count > 0 {
        return Err(StoreError::Conflict(format!(
            "{d} is still used by {accounts} address(es) and {alias_count} alias(es); remove them first"
        )));
    }
    if !exists(domains, d.as_str())? {
        return Err(StoreError::Invalid(format!("{d} is not a local domain")));
    }
    domains.remove(d.as_str())?;
    Ok(d)
}

/// Adds `targets` to the alias `address` (creating it). `@domain` is the catch-all.
pub fn add_alias(
    domains: &impl Table<&'static str, i64>,
    addresses: &impl Table<&'static str, u32>,
    aliases: &mut impl TableMut<&'static str, &'static [u8]>,
    address: &str,
    targets: &[AccountId],
) -> Result<String> {
    let a = normalize_address(address, true)?;
    let domain = domain_of(&a).to_string();
    if !exists(domains, domain.as_str())? {
        return Err(StoreError::Invalid(format!(
            "{domain} is not a local domain (add it with `mailnook domain add {domain}`)"
        )));
    }
    if exists(addresses, a.as_str())? {
        return Err(StoreError::Conflict(format!(
            "{a} is an account's own address"
        )));
    }
    if targets.is_empty() {
        return Err(StoreError::Invalid(
            "an alias needs at least one target".into(),
        ));
    }
    let mut list: Vec<AccountId> = aliases.record(a.as_str())?.unwrap_or_default();
    for id in targets {
        if !list.contains(id) {
            list.push(*id);
        }
    }
    aliases.insert(a.as_str(), &json(&list)?)?;
    Ok(a)
}

/// Removes one target from an alias, or the whole alias when `target` is None.
pub fn del_alias(
    aliases: &mut impl TableMut<&'static str, &'static [u8]>,
    address: &str,
    target: Option<AccountId>,
) -> Result<String> {
    let a = normalize_address(address, true)?;
    let Some(list) = aliases.record::<Vec<AccountId>>(a.as_str())? else {
        return Err(StoreError::Invalid(format!("no alias {a}")));
    };
    let rest: Vec<AccountId> = match target {
        Some(id) if !list.contains(&id) => {
            return Err(StoreError::Invalid(format!("{a} does not deliver there")));
        }
        Some(id) => list.into_iter().filter(|x| *x != id).collect(),
        None => Vec::new(),
    };
    if rest.is_empty() {
        aliases.remove(a.as_str())?;
    } else {
        aliases.insert(a.as_str(), &json(&rest)?)?;
    }
    Ok(a)
}

/// Drops an account from every alias (when the account is deleted).
pub fn forget_alias_target(
    aliases: &mut impl TableMut<&'static str, &'static [u8]>,
    acct: AccountId,
) -> Result<()> {
    let mut updates = Vec::new();
    for (k, list) in all_aliases(aliases)? {
        if list.contains(&acct) {
            let rest: Vec<AccountId> = list.into_iter().filter(|x| *x != acct).collect();
            updates.push((k, rest));
        }
    }
    for (k, rest) in updates {
        if rest.is_empty() {
            aliases.remove(k.as_str())?;
        } else {
            aliases.insert(k.as_str(), &json(&rest)?)?;
        }
    }
    Ok(())
}

/// Every local domain with the time it was added.
pub fn all_domains(t: &impl Table<&'static str, i64>) -> Result<Vec<(String, i64)>> {
    let mut out = Vec::new();
    t.range("", STR_MAX, |k, at| {
        out.push((k.to_string(), at));
        Ok(true)
    })?;
    Ok(out)
}

/// Every alias with the accounts it delivers to.
pub fn all_aliases(
    t: &impl Table<&'static str, &'static [u8]>,
) -> Result<Vec<(String, Vec<AccountId>)>> {
    let mut out = Vec::new();
    t.range("", STR_MAX, |k, v| {
        out.push((k.to_string(), serde_json::from_slice(v)?));
        Ok(true)
    })?;
    Ok(out)
}
