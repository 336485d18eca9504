//! Reads for local domains, aliases and recipient resolution (tables `DOMAINS`, `ALIASES`),
//! through the backend interface (`store/mail/domains.rs`).

use super::read::{Reader, table};
use super::tables::*;
use crate::store::error::Result;
use crate::store::mail::domains;
use crate::store::mail::tables::{Records, exists};
use crate::store::model::AccountId;

/// Where mail for one recipient address goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// A local address: these accounts get a copy.
    Local(Vec<AccountId>),
    /// A local domain without such a user (RFC 5321 §3.3: 550 5.1.1).
    NoSuchUser,
    /// Not one of our domains: we are not a relay (550 5.7.1).
    NotLocal,
}

impl Reader {
    pub fn domains(&self) -> Result<Vec<(String, i64)>> {
        let Some(t) = table!(self, DOMAINS) else {
            return Ok(Vec::new());
        };
        domains::all_domains(&t)
    }

    pub fn is_local_domain(&self, domain: &str) -> Result<bool> {
        let Some(t) = table!(self, DOMAINS) else {
            return Ok(false);
        };
        exists(&t, domain.to_lowercase().as_str())
    }

    /// The accounts an alias (or `@domain` catch-all) delivers to.
    pub fn alias(&self, address: &str) -> Result<Option<Vec<AccountId>>> {
        let Some(t) = table!(self, ALIASES) else {
            return Ok(None);
        };
        t.record(address.to_lowercase().as_str())
    }

    pub fn aliases(&self) -> Result<Vec<(String, Vec<AccountId>)>> {
        let Some(t) = table!(self, ALIASES) else {
            return Ok(Vec::new());
        };
        domains::all_aliases(&t)
    }

    /// Does `acct` own `email`, that is, may it send as it? The one ownership rule for every
    /// way mail leaves: Identity/set, EmailSubmission/set (MAIL FROM, From:, Sender:) and the
    /// submission port (MAIL FROM, From:, Sender:; RFC 6409 §8.1, RFC 5322 §3.6.2). An address
    /// is owned when it delivers to the account (its own address, an alias that includes it, a
    /// `+tag` of one of those, or the domain's catch-all, as [`Self::resolve_recipient`] finds
    /// it); `*@domain` (an identity for a whole domain) is owned with that domain's catch-all.
    /// Only `local@domain` counts: the bare `postmaster` is a recipient, not a sender.
    pub fn owns_address(&self, acct: AccountId, email: &str) -> Result<bool> {
        let email = email.trim().to_lowercase();
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Ok(false);
        };
        if local.is_empty() || domain.is_empty() {
            return Ok(false);
        }
        if local == "*" {
            let catch_all = format!("@{domain}");
            return Ok(self.address(&catch_all)? == Some(acct)
                || self.alias(&catch_all)?.is_some_and(|l| l.contains(&acct)));
        }
        Ok(match self.resolve_recipient(&email)? {
            Recipient::Local(list) => list.contains(&acct),
            _ => false,
        })
    }

    /// Resolves a recipient: account address, then alias, then the same without a `+tag`
    /// (plus-addressing), then the domain's catch-all. Case-insensitive throughout.
    /// Aliases pointing at deleted accounts are skipped. `postmaster` of every local domain
    /// (and the bare `<postmaster>`) must be accepted (RFC 5321 §4.5.1): unless an address or
    /// alias says otherwise, it reaches the admin accounts.
    pub fn resolve_recipient(&self, address: &str) -> Result<Recipient> {
        let address = super::write_addresses::canonical_address(address);
        if address == "postmaster" {
            return self.admins();
        }
        let Some((local, domain)) = address.rsplit_once('@') else {
            return Ok(Recipient::NotLocal);
        };
        if !self.is_local_domain(domain)? {
            return Ok(Recipient::NotLocal);
        }
        let mut candidates = vec![address.clone()];
        if let Some((base, _tag)) = local.split_once('+')
            && !base.is_empty()
        {
            candidates.push(format!("{base}@{domain}"));
        }
        candidates.push(format!("@{domain}"));
        for c in candidates {
            if let Some(a) = self.address(&c)? {
                return Ok(Recipient::Local(vec![a]));
            }
            if let Some(list) = self.alias(&c)? {
                let mut live = Vec::new();
                for id in list {
                    if self.account(id)?.is_some() {
                        live.push(id);
                    }
                }
                if !live.is_empty() {
                    return Ok(Recipient::Local(live));
                }
            }
        }
        if local == "postmaster" {
            return self.admins();
        }
        Ok(Recipient::NoSuchUser)
    }

    fn admins(&self) -> Result<Recipient> {
        let ids: Vec<AccountId> = self
            .accounts()?
            .into_iter()
            .filter(|a| a.admin)
            .map(|a| a.id)
            .collect();
        Ok(if ids.is_empty() {
            Recipient::NoSuchUser
        } else {
            Recipient::Local(ids)
        })
    }
}
