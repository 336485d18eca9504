//! OAuth 2.0 clients (issue #15): the apps the admin registered with
//! `mailnook oauth client add` (`src/oauth/clients.rs` checks names and redirect URIs). One row
//! per client under its id. Public clients only (RFC 6749 §2.1): no secret is stored. Over the backend interface: the
//! `oauth_clients` table (client id -> OAuthClient, JSON) is passed in.

use super::domains::STR_MAX;
use super::tables::{Records, json};
use crate::store::backend::{Table, TableMut};
use crate::store::error::{Result, StoreError};
use serde::{Deserialize, Serialize};

type Rows = &'static [u8];

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

/// Stores a new client; `Conflict` when the id or the name is taken or the table is full.
pub fn add(t: &mut impl TableMut<&'static str, Rows>, c: &OAuthClient) -> Result<()> {
    let all = list(t)?;
    if let Some(other) = all
        .iter()
        .find(|o| o.id == c.id || o.name.eq_ignore_ascii_case(&c.name))
    {
        return Err(StoreError::Conflict(format!(
            "an OAuth client named {:?} exists",
            other.name
        )));
    }
    if all.len() >= MAX_CLIENTS {
        return Err(StoreError::Conflict(format!(
            "at most {MAX_CLIENTS} OAuth clients"
        )));
    }
    t.insert(c.id.as_str(), &json(c)?)
}

/// Removes a client; the client removed (the caller drops its tokens).
pub fn remove(t: &mut impl TableMut<&'static str, Rows>, id: &str) -> Result<Option<OAuthClient>> {
    let removed: Option<OAuthClient> = t.record(id)?;
    if removed.is_some() {
        t.remove(id)?;
    }
    Ok(removed)
}

pub fn get(t: &impl Table<&'static str, Rows>, id: &str) -> Result<Option<OAuthClient>> {
    t.record(id)
}

/// Every client, by id.
pub fn list(t: &impl Table<&'static str, Rows>) -> Result<Vec<OAuthClient>> {
    t.records("", STR_MAX)
}
