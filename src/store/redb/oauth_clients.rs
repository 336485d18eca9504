//! OAuth 2.0 clients (issue #15): the apps the admin registered with
//! `mailnook oauth client add` (`src/oauth/clients.rs` checks names and redirect URIs). One row
//! per client under its id. Public clients only (RFC 6749 §2.1): no secret is stored.
//! The rules and the record type are in `store/mail/oauth_clients.rs`, over the backend
//! interface; this opens the redb table `OAUTH_CLIENTS` on demand for them.

use super::read::{Reader, table};
use super::tables::OAUTH_CLIENTS;
use super::write::Writer;
use crate::store::error::Result;
use crate::store::mail::oauth_clients as clients;
pub use crate::store::mail::oauth_clients::OAuthClient;

impl Writer<'_> {
    /// Stores a new client; `Conflict` when the id or the name is taken or the table is full.
    pub fn add_oauth_client(&mut self, c: &OAuthClient) -> Result<()> {
        clients::add(&mut self.tx.open_table(OAUTH_CLIENTS)?, c)
    }

    /// Removes a client and every token issued to it; the client removed.
    pub fn remove_oauth_client(&mut self, id: &str) -> Result<Option<OAuthClient>> {
        let removed = clients::remove(&mut self.tx.open_table(OAUTH_CLIENTS)?, id)?;
        if let Some(c) = &removed {
            self.remove_client_tokens(&c.id)?;
        }
        Ok(removed)
    }
}

impl Reader {
    pub fn oauth_client(&self, id: &str) -> Result<Option<OAuthClient>> {
        let Some(t) = table!(self, OAUTH_CLIENTS) else {
            return Ok(None);
        };
        clients::get(&t, id)
    }

    pub fn oauth_clients(&self) -> Result<Vec<OAuthClient>> {
        let Some(t) = table!(self, OAUTH_CLIENTS) else {
            return Ok(Vec::new());
        };
        clients::list(&t)
    }
}
