//! Bearer tokens (RFC 6750) and OAuth refresh tokens (issue #15). A token is 32 random bytes the
//! server hands out once; the table keeps only its SHA-256 (a token has 256 bits of entropy, so
//! a fast hash suffices where a password needs argon2), so the database does not hold a usable
//! credential. Looked up by that hash in one `get`. A token carries the fingerprint of the
//! account password it was issued under: a password change ends it (checked at use, and the
//! rows are dropped by `set_password`); deleting the account drops them too.

use super::read::{Reader, table};
use super::tables::TOKENS;
use super::write::Writer;
use crate::store::error::Result;
use crate::store::model::AccountId;
use redb::ReadableTable;
use serde::{Deserialize, Serialize};

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

impl Writer<'_> {
    pub fn put_token(&mut self, hash: &str, t: &Token) -> Result<()> {
        let bytes = serde_json::to_vec(t)?;
        let mut tab = self.tx.open_table(TOKENS)?;
        tab.insert(hash, bytes.as_slice())?;
        Ok(())
    }

    pub fn token(&self, hash: &str) -> Result<Option<Token>> {
        let tab = self.tx.open_table(TOKENS)?;
        match tab.get(hash)? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value())?)),
            None => Ok(None),
        }
    }

    pub fn remove_token(&mut self, hash: &str) -> Result<bool> {
        let mut tab = self.tx.open_table(TOKENS)?;
        Ok(tab.remove(hash)?.is_some())
    }

    /// Drops every token of a family (refresh token reuse, revocation); returns how many.
    pub fn remove_token_family(&mut self, family: &str) -> Result<usize> {
        self.remove_tokens_where(|t| t.family == family)
    }

    /// Drops every token issued to an OAuth client (the client was removed).
    pub fn remove_client_tokens(&mut self, client_id: &str) -> Result<usize> {
        self.remove_tokens_where(|t| t.client_id == client_id)
    }

    /// Drops every token of an account (password changed, account deleted).
    pub fn remove_all_tokens(&mut self, acct: AccountId) -> Result<usize> {
        self.remove_tokens_where(|t| t.account == acct)
    }

    /// Drops tokens that expired before `now` (the periodic sweep).
    pub fn expire_tokens(&mut self, now: i64) -> Result<usize> {
        self.remove_tokens_where(|t| t.expires_at < now)
    }

    fn remove_tokens_where(&mut self, f: impl Fn(&Token) -> bool) -> Result<usize> {
        let mut tab = self.tx.open_table(TOKENS)?;
        let mut n = 0;
        tab.retain(|_, v| {
            // An unreadable row is kept: it can never authenticate anyway.
            let drop = serde_json::from_slice::<Token>(v).is_ok_and(|t| f(&t));
            n += usize::from(drop);
            !drop
        })?;
        Ok(n)
    }
}

impl Reader {
    pub fn token(&self, hash: &str) -> Result<Option<Token>> {
        let Some(tab) = table!(self, TOKENS) else {
            return Ok(None);
        };
        match tab.get(hash)? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value())?)),
            None => Ok(None),
        }
    }
}
