//! Bearer tokens (RFC 6750, issue #15): opaque, random, stored hashed, expiring, and dying with
//! the account or a change of its password.
//!
//! **Shape.** `mnk_` + 43 characters of base64url (32 random bytes): the prefix lets secret
//! scanners and people recognise a leaked one. Only the SHA-256 is stored
//! (`store/redb/tokens.rs`); with 256 random bits a fast hash is as safe as argon2 and lets
//! every request be checked with one lookup and no hashing queue.
//!
//! **Checked at the one login door.** `Login::check_token` (`src/login.rs`) asks the client's
//! failure budget first and spends it on a wrong, expired or revoked token, like a wrong
//! password, so guessing tokens is as slow as guessing passwords. HTTP answers a failure with
//! `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1, `http/auth.rs`).
//!
//! **Issued by** the OAuth token endpoint (access + refresh tokens) and by
//! `mailnook user token add` (a personal access token for scripts).

use crate::store::model::Account;
use crate::store::{Store, StoreError, Token, TokenKind};
use base64::Engine;

pub const PREFIX: &str = "mnk_";
/// Default lifetime of a token made by the CLI (scripts): 30 days.
pub const CLI_TTL_SECS: i64 = 30 * 24 * 3600;

/// A new random token (never stored: the store keeps [`hash`] of it).
pub fn new_secret() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| "no randomness".to_string())?;
    Ok(format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// The key a token is stored under.
pub fn hash(token: &str) -> String {
    crate::store::hex_sha256(token.as_bytes())
}

/// Whether a string has a token's shape (checked before any lookup).
pub fn well_formed(token: &str) -> bool {
    token.len() == PREFIX.len() + 43
        && token.starts_with(PREFIX)
        && token[PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The fingerprint of an account password hash a token is tied to.
pub fn password_fp(account: &Account) -> String {
    crate::store::hex_sha256(account.password_hash.as_bytes())
}

/// Stores a new token for `account` and returns it (shown once).
pub async fn issue(
    store: &Store,
    account: &Account,
    kind: TokenKind,
    client_id: &str,
    family: &str,
    ttl_secs: i64,
) -> Result<String, StoreError> {
    let secret = new_secret().map_err(StoreError::Invalid)?;
    put(
        store,
        account,
        &hash(&secret),
        kind,
        client_id,
        family,
        ttl_secs,
    )
    .await?;
    Ok(secret)
}

/// Stores a token the caller drew (the CLI sends only its hash through the control socket).
pub async fn put(
    store: &Store,
    account: &Account,
    key: &str,
    kind: TokenKind,
    client_id: &str,
    family: &str,
    ttl_secs: i64,
) -> Result<(), StoreError> {
    let now = crate::date::now();
    let t = Token {
        account: account.id,
        kind,
        client_id: client_id.to_string(),
        family: family.to_string(),
        created_at: now,
        expires_at: now.saturating_add(ttl_secs),
        password_fp: password_fp(account),
        used: false,
    };
    let key = key.to_string();
    store.write(move |w| w.put_token(&key, &t)).await
}

/// Why a token was not accepted (the `error_description` of RFC 6750 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    Malformed,
    Unknown,
    Expired,
    /// The account is gone or its password changed since the token was issued.
    Revoked,
}

impl Invalid {
    pub fn describe(self) -> &'static str {
        match self {
            Invalid::Malformed => "The access token is malformed",
            Invalid::Unknown => "The access token is unknown or was revoked",
            Invalid::Expired => "The access token expired",
            Invalid::Revoked => "The access token was revoked",
        }
    }
}

/// Looks a token of `kind` up and checks it is alive; the account it belongs to.
pub async fn check(
    store: &Store,
    token: &str,
    kind: TokenKind,
) -> Result<Result<(Account, Token), Invalid>, StoreError> {
    if !well_formed(token) {
        return Ok(Err(Invalid::Malformed));
    }
    let key = hash(token);
    let found = store
        .read(move |r| {
            let Some(t) = r.token(&key)? else {
                return Ok(None);
            };
            let a = r.account(t.account)?;
            Ok(Some((t, a)))
        })
        .await?;
    Ok(match found {
        None => Err(Invalid::Unknown),
        Some((t, _)) if t.kind != kind || t.used => Err(Invalid::Unknown),
        Some((t, _)) if t.expires_at <= crate::date::now() => Err(Invalid::Expired),
        Some((t, Some(a))) if t.password_fp == password_fp(&a) => Ok((a, t)),
        Some(_) => Err(Invalid::Revoked),
    })
}

/// Revokes a token (and, for a refresh token, its whole family: RFC 7009 §2.1 "the
/// authorization server ... SHOULD also invalidate the access tokens based on the same
/// authorization grant"). Unknown tokens are not an error (RFC 7009 §2.2).
pub async fn revoke(store: &Store, token: &str) -> Result<(), StoreError> {
    if !well_formed(token) {
        return Ok(());
    }
    let key = hash(token);
    store
        .write(move |w| {
            if let Some(t) = w.token(&key)? {
                match t.kind {
                    TokenKind::Refresh => {
                        w.remove_token_family(&t.family)?;
                    }
                    TokenKind::Access => {
                        w.remove_token(&key)?;
                    }
                }
            }
            Ok(())
        })
        .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn shape() {
        let t = super::new_secret().unwrap();
        assert!(super::well_formed(&t), "{t}");
        assert!(!super::well_formed(&t[1..]));
        assert!(!super::well_formed(&format!("{t}x")));
        assert!(!super::well_formed(&format!("mnk_{}", "+".repeat(43))));
        assert!(super::well_formed(&format!(
            "mnk_{}",
            "-_aZ09".repeat(7) + "x"
        )));
        assert_ne!(super::hash(&t), super::hash(&super::new_secret().unwrap()));
    }
}
