//! Writes for local domains and aliases (tables `DOMAINS`, `ALIASES`; see `tables.rs`): the
//! rules are in `store/mail/domains.rs` (backend-neutral); this opens the redb tables for them.

use super::tables::*;
use super::write::Writer;
use crate::store::error::Result;
use crate::store::mail::domains;
use crate::store::model::AccountId;
// The address rules are backend-neutral (`store/mail/address.rs`); re-exported for the redb
// modules that name them here.
#[allow(unused_imports)]
pub use crate::store::mail::address::{
    canonical_address, canonical_domain, domain_of, normalize_address, normalize_domain,
};

impl Writer<'_> {
    /// Makes `domain` local if it is not already (used when an account is created).
    pub fn ensure_domain(&mut self, domain: &str, now: i64) -> Result<()> {
        domains::ensure_domain(&mut self.tx.open_table(DOMAINS)?, domain, now)
    }

    /// Adds a local domain; a conflict if it is one already.
    pub fn add_domain(&mut self, domain: &str, now: i64) -> Result<String> {
        domains::add_domain(&mut self.tx.open_table(DOMAINS)?, domain, now)
    }

    /// Removes a local domain that no account or alias uses any more.
    pub fn del_domain(&mut self, domain: &str) -> Result<String> {
        let aliases = self.tx.open_table(ALIASES)?;
        let mut t = self.tx.open_table(DOMAINS)?;
        domains::del_domain(&mut t, &self.addresses, &aliases, domain)
    }

    /// Adds `targets` to the alias `address` (creating it). `@domain` is the catch-all.
    pub fn add_alias(&mut self, address: &str, targets: &[AccountId]) -> Result<String> {
        let d = self.tx.open_table(DOMAINS)?;
        let mut t = self.tx.open_table(ALIASES)?;
        domains::add_alias(&d, &self.addresses, &mut t, address, targets)
    }

    /// Removes one target from an alias, or the whole alias when `target` is None.
    pub fn del_alias(&mut self, address: &str, target: Option<AccountId>) -> Result<String> {
        domains::del_alias(&mut self.tx.open_table(ALIASES)?, address, target)
    }

    /// Drops an account from every alias (when the account is deleted).
    pub fn forget_alias_target(&mut self, acct: AccountId) -> Result<()> {
        domains::forget_alias_target(&mut self.tx.open_table(ALIASES)?, acct)
    }
}
