//! OAuth 2.0 clients (issue #15): the apps the admin registered with
//! `mailnook oauth client add` (`src/oauth/clients.rs` checks names and redirect URIs). One row
//! per client under its id. Public clients only (RFC 6749 §2.1): no secret is stored.

use super::read::{Reader, table};
use super::tables::OAUTH_CLIENTS;
use super::write::Writer;
use crate::store::error::{Result, StoreError};
use redb::ReadableTable;
use serde::{Deserialize, Serialize};

/// How many clients a server may hold (a household registers a handful).
pub const MAX_CLIENTS: usize = 100;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OAuthClient {
    /// The `client_id` (RFC 6749 §2.2).
    pub id: String,
    /// Shown on the consent page ("Parula on Anna's phone").
    pub name: String,
    /// The registered redirect URIs (RFC 6749 §3.1.2.2), compared exactly, except that the port
    /// of a loopback URI is ignored (RFC 8252 §7.3).
    pub redirect_uris: Vec<String>,
    pub created_at: i64,
}

impl Writer<'_> {
    /// Stores a new client; `Conflict` when the id or the name is taken or the table is full.
    pub fn add_oauth_client(&mut self, c: &OAuthClient) -> Result<()> {
        let mut t = self.tx.open_table(OAUTH_CLIENTS)?;
        let mut n = 0;
        for row in t.iter()? {
            let (k, v) = row?;
            n += 1;
            let other: OAuthClient = serde_json::from_slice(v.value())?;
            if k.value() == c.id || other.name.eq_ignore_ascii_case(&c.name) {
                return Err(StoreError::Conflict(format!(
                    "an OAuth client named {:?} exists",
                    other.name
                )));
            }
        }
        if n >= MAX_CLIENTS {
            return Err(StoreError::Conflict(format!(
                "at most {MAX_CLIENTS} OAuth clients"
            )));
        }
        let bytes = serde_json::to_vec(c)?;
        t.insert(c.id.as_str(), bytes.as_slice())?;
        Ok(())
    }

    /// Removes a client and every token issued to it; the client removed.
    pub fn remove_oauth_client(&mut self, id: &str) -> Result<Option<OAuthClient>> {
        let removed = {
            let mut t = self.tx.open_table(OAUTH_CLIENTS)?;
            let v = t.remove(id)?;
            match v {
                Some(v) => Some(serde_json::from_slice::<OAuthClient>(v.value())?),
                None => None,
            }
        };
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
        match t.get(id)? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value())?)),
            None => Ok(None),
        }
    }

    pub fn oauth_clients(&self) -> Result<Vec<OAuthClient>> {
        let Some(t) = table!(self, OAUTH_CLIENTS) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in t.iter()? {
            let (_, v) = row?;
            out.push(serde_json::from_slice(v.value())?);
        }
        Ok(out)
    }
}
