//! Bearer tokens (RFC 6750) and OAuth refresh tokens (issue #15). A token is 32 random bytes the
//! server hands out once; the table keeps only its SHA-256 (a token has 256 bits of entropy, so
//! a fast hash suffices where a password needs argon2), so the database does not hold a usable
//! credential. Looked up by that hash in one `get`. Over the backend interface: the `tokens` table
//! (hash -> Token, JSON) is passed in. A token carries the fingerprint of the
//! account password it was issued under: a password change ends it (checked at use, and the
//! rows are dropped by `set_password`); deleting the account drops them too.

use super::domains::STR_MAX;
use super::tables::{Records, exists, json};
use crate::store::backend::{Table, TableMut};
use crate::store::error::Result;
use crate::store::model::AccountId;
use serde::{Deserialize, Serialize};

type Tokens = &'static [u8];

/// What a token is for.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// Sent as `Authorization: Bearer` to the API.
    Access,
    /// Exchanged at the OAuth token endpoint for a new access token (and a new refresh token).
    Refresh,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Token {
    pub account: AccountId,
    pub kind: TokenKind,
    /// The OAuth client it was issued to ("cli" for tokens made by `mailnook user token`).
    pub client_id: String,
    /// Tokens issued from one authorization share a family: reusing a rotated refresh token
    /// revokes the whole family (OAuth 2.0 Security BCP, RFC 9700 §4.14.2).
    pub family: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// SHA-256 (hex) of the account's password hash when issued.
    pub password_fp: String,
    /// A refresh token that was already exchanged (kept until it expires, to detect reuse).
    #[serde(default)]
    pub used: bool,
}

pub fn put(t: &mut impl TableMut<&'static str, Tokens>, hash: &str, token: &Token) -> Result<()> {
    t.insert(hash, &json(token)?)
}

pub fn get(t: &impl Table<&'static str, Tokens>, hash: &str) -> Result<Option<Token>> {
    t.record(hash)
}

/// Removes one token; false if there was none.
pub fn remove(t: &mut impl TableMut<&'static str, Tokens>, hash: &str) -> Result<bool> {
    if !exists(t, hash)? {
        return Ok(false);
    }
    t.remove(hash)?;
    Ok(true)
}

/// Drops every token `f` picks; returns how many. An unreadable row is kept: it can never
/// authenticate anyway.
pub fn remove_where(
    t: &mut impl TableMut<&'static str, Tokens>,
    f: impl Fn(&Token) -> bool,
) -> Result<usize> {
    let mut gone: Vec<String> = Vec::new();
    t.range("", STR_MAX, |hash, v| {
        if serde_json::from_slice::<Token>(v).is_ok_and(|tok| f(&tok)) {
            gone.push(hash.to_string());
        }
        Ok(true)
    })?;
    for hash in &gone {
        t.remove(hash.as_str())?;
    }
    Ok(gone.len())
}
