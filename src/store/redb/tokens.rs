//! Bearer tokens (RFC 6750) and OAuth refresh tokens (issue #15): the rules and the record
//! types are in `store/mail/tokens.rs`, over the backend interface; this opens the redb table
//! `TOKENS` on demand for them.

use super::read::{Reader, table};
use super::tables::TOKENS;
use super::write::Writer;
use crate::store::error::Result;
use crate::store::mail::tokens;
pub use crate::store::mail::tokens::{Token, TokenKind};
use crate::store::model::AccountId;

impl Writer<'_> {
    /// Stores a token under the SHA-256 (hex) of its value.
    pub fn put_token(&mut self, hash: &str, t: &Token) -> Result<()> {
        tokens::put(&mut self.tx.open_table(TOKENS)?, hash, t)
    }

    /// A token by the SHA-256 (hex) of its value, as of this transaction.
    pub fn token(&self, hash: &str) -> Result<Option<Token>> {
        tokens::get(&self.tx.open_table(TOKENS)?, hash)
    }

    /// Removes one token; false if there was none.
    pub fn remove_token(&mut self, hash: &str) -> Result<bool> {
        tokens::remove(&mut self.tx.open_table(TOKENS)?, hash)
    }

    /// Drops every token of a family (refresh token reuse, revocation); returns how many.
    pub fn remove_token_family(&mut self, family: &str) -> Result<usize> {
        tokens::remove_where(&mut self.tx.open_table(TOKENS)?, |t| t.family == family)
    }

    /// Drops every token issued to an OAuth client (the client was removed).
    pub fn remove_client_tokens(&mut self, client_id: &str) -> Result<usize> {
        tokens::remove_where(&mut self.tx.open_table(TOKENS)?, |t| {
            t.client_id == client_id
        })
    }

    /// Drops every token of an account (password changed, account deleted).
    pub fn remove_all_tokens(&mut self, acct: AccountId) -> Result<usize> {
        tokens::remove_where(&mut self.tx.open_table(TOKENS)?, |t| t.account == acct)
    }

    /// Drops tokens that expired before `now` (the periodic sweep).
    pub fn expire_tokens(&mut self, now: i64) -> Result<usize> {
        tokens::remove_where(&mut self.tx.open_table(TOKENS)?, |t| t.expires_at < now)
    }
}

impl Reader {
    pub fn token(&self, hash: &str) -> Result<Option<Token>> {
        let Some(t) = table!(self, TOKENS) else {
            return Ok(None);
        };
        tokens::get(&t, hash)
    }
}
