//! Address rules, the same for every backend: the canonical form of domains and addresses
//! and what counts as a valid one. Names are stored lower-cased (local parts compare
//! case-insensitively, as the big providers do, even though RFC 5321 §2.4 lets a server treat
//! them as case-sensitive); domains in Unicode form (RFC 5890), so `xn--tda.test` and `ü.test`
//! are one domain.

use crate::store::backend::{Table, TableMut};
use crate::store::error::{Result, StoreError};
use crate::store::model::AccountId;

/// The canonical form of a domain: lower case, Unicode labels (so `xn--tda.test` and `ü.test`
/// are one domain, RFC 5890; SMTPUTF8 clients send either form).
pub fn canonical_domain(domain: &str) -> String {
    let d = domain.trim().trim_end_matches('.').to_lowercase();
    if !d.is_ascii() || d.split('.').any(|l| l.starts_with("xn--")) {
        let (u, ok) = idna::domain_to_unicode(&d);
        if ok.is_ok() {
            return u;
        }
    }
    d
}

/// `local@domain` with the domain in canonical form and the local part lower-cased.
pub fn canonical_address(address: &str) -> String {
    let a = address.trim().to_lowercase();
    match a.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", canonical_domain(domain)),
        None => a,
    }
}

/// Lower-cases and checks an address (`local@domain`, or `@domain` for a catch-all).
pub fn normalize_address(address: &str, allow_catch_all: bool) -> Result<String> {
    let a = canonical_address(address);
    let bad = || StoreError::Invalid(format!("'{}' is not an email address", address.trim()));
    let (local, domain) = a.rsplit_once('@').ok_or_else(bad)?;
    if domain.is_empty() || a.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    if local.is_empty() && !allow_catch_all {
        return Err(bad());
    }
    Ok(a)
}

/// Lower-cases and checks a domain name.
pub fn normalize_domain(domain: &str) -> Result<String> {
    let d = canonical_domain(domain);
    if d.is_empty()
        || d.contains('@')
        || d.starts_with('.')
        || d.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(StoreError::Invalid(format!(
            "'{}' is not a domain name",
            domain.trim()
        )));
    }
    Ok(d)
}

/// The domain part of a canonical address (empty without `@`).
pub fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
}

impl<S: super::tables::Schema> super::tables::Tables<'_, S> {
    /// Adds an address (alias) that delivers to `acct`.
    pub fn add_address(&mut self, acct: AccountId, address: &str) -> Result<()> {
        let a = address.trim().to_lowercase();
        if super::tables::exists(&*self.addresses, a.as_str())? {
            return Err(StoreError::Conflict(format!(
                "the address {a} is already in use"
            )));
        }
        self.addresses.insert(a.as_str(), acct)
    }
}

/// Every address that delivers to `acct` (a walk of the address table).
pub fn addresses_of(t: &impl Table<&'static str, u32>, acct: AccountId) -> Result<Vec<String>> {
    let mut out = Vec::new();
    t.range("", super::domains::STR_MAX, |a, owner| {
        if owner == acct {
            out.push(a.to_string());
        }
        Ok(true)
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_validity() {
        assert_eq!(canonical_address(" Bob@Example.ORG "), "bob@example.org");
        assert_eq!(canonical_domain("xn--tda.test."), "ü.test");
        assert_eq!(
            normalize_address("@Example.org", true).ok().as_deref(),
            Some("@example.org")
        );
        assert!(normalize_address("@example.org", false).is_err());
        assert!(normalize_address("no-at-sign", false).is_err());
        assert!(normalize_address("a b@example.org", false).is_err());
        assert!(normalize_domain("a@b").is_err());
        assert!(normalize_domain(".example").is_err());
        assert_eq!(domain_of("a@b.c"), "b.c");
    }
}
