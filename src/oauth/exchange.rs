//! The token endpoint's grants (RFC 6749 §4.1.3 and §6) over the store, free of HTTP: the
//! caller parses the form and turns [`GrantError`] into the JSON of §5.2.

use super::grants::{self, Redeemed};
use crate::store::{Store, StoreError, Token, TokenKind};
use crate::tokens;

/// An error of RFC 6749 §5.2: its `error` code and a description for the app's developer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantError {
    InvalidRequest(&'static str),
    InvalidClient(&'static str),
    InvalidGrant(&'static str),
    UnsupportedGrantType,
    /// The store failed: 500 (§5.2 has no code for it; `server_error` as in §4.1.2.1).
    Server,
}

impl GrantError {
    pub fn code(&self) -> &'static str {
        match self {
            GrantError::InvalidRequest(_) => "invalid_request",
            GrantError::InvalidClient(_) => "invalid_client",
            GrantError::InvalidGrant(_) => "invalid_grant",
            GrantError::UnsupportedGrantType => "unsupported_grant_type",
            GrantError::Server => "server_error",
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            GrantError::InvalidRequest(d)
            | GrantError::InvalidClient(d)
            | GrantError::InvalidGrant(d) => d,
            GrantError::UnsupportedGrantType => {
                "grant_type must be authorization_code or refresh_token"
            }
            GrantError::Server => "the server could not complete the request",
        }
    }
}

impl From<StoreError> for GrantError {
    fn from(e: StoreError) -> GrantError {
        log::error!("oauth: store error: {e}");
        GrantError::Server
    }
}

/// What the token endpoint hands out (RFC 6749 §5.1).
#[derive(Debug)]
pub struct Issued {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

fn secret() -> Result<String, GrantError> {
    tokens::new_secret().map_err(|_| GrantError::Server)
}

/// A registered client, or `invalid_client`.
async fn client(store: &Store, client_id: &str) -> Result<(), GrantError> {
    match super::clients::get(store, client_id).await? {
        Some(_) => Ok(()),
        None => Err(GrantError::InvalidClient("unknown client_id")),
    }
}

/// `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5).
pub async fn from_code(
    store: &Store,
    access_ttl: i64,
    client_id: &str,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Result<Issued, GrantError> {
    client(store, client_id).await?;
    let c = match grants::redeem(code) {
        Redeemed::Fresh(c) => c,
        Redeemed::Replayed(family) => {
            // §4.1.2: "If an authorization code is used more than once, the authorization
            // server MUST deny the request and SHOULD revoke (when possible) all tokens
            // previously issued based on that authorization code."
            if let Some(f) = family {
                let n = store.write(move |w| w.remove_token_family(&f)).await?;
                log::warn!(
                    "oauth: a used authorization code was presented again; revoked {n} tokens"
                );
            }
            return Err(GrantError::InvalidGrant("the code was already used"));
        }
        Redeemed::Unknown => {
            return Err(GrantError::InvalidGrant("the code is unknown or expired"));
        }
    };
    // The code is spent whatever follows: a wrong verifier does not get a second try.
    if c.client_id != client_id {
        return Err(GrantError::InvalidGrant(
            "the code was issued to another client",
        ));
    }
    if c.redirect_uri != redirect_uri {
        return Err(GrantError::InvalidGrant(
            "redirect_uri differs from the authorization request",
        ));
    }
    if !super::pkce::verify(verifier, &c.challenge) {
        return Err(GrantError::InvalidGrant(
            "code_verifier does not match code_challenge",
        ));
    }
    let id = c.account;
    let Some(account) = store.read(move |r| r.account(id)).await? else {
        return Err(GrantError::InvalidGrant("the account is gone"));
    };
    if tokens::password_fp(&account) != c.password_fp {
        return Err(GrantError::InvalidGrant("the account password changed"));
    }
    let family = grants::random().ok_or(GrantError::Server)?;
    grants::spent_into(code, &family);
    let issued = store_pair(store, &account, client_id, &family, access_ttl, None).await?;
    log::info!("oauth: {} authorized client {client_id}", account.name);
    Ok(issued)
}

/// Stores a new access + refresh token pair in `family`; with `rotate`, first marks that
/// refresh token (by hash) used, in the same transaction, failing if it already was.
async fn store_pair(
    store: &Store,
    account: &crate::store::model::Account,
    client_id: &str,
    family: &str,
    access_ttl: i64,
    rotate: Option<String>,
) -> Result<Issued, GrantError> {
    let (access, refresh) = (secret()?, secret()?);
    let now = crate::date::now();
    let row = |kind, ttl: i64| Token {
        account: account.id,
        kind,
        client_id: client_id.to_string(),
        family: family.to_string(),
        created_at: now,
        expires_at: now.saturating_add(ttl),
        password_fp: tokens::password_fp(account),
        used: false,
    };
    let rows = [
        (tokens::hash(&access), row(TokenKind::Access, access_ttl)),
        (
            tokens::hash(&refresh),
            row(TokenKind::Refresh, super::REFRESH_TTL_SECS),
        ),
    ];
    let fam = family.to_string();
    let stored = store
        .write(move |w| {
            if let Some(old) = &rotate {
                match w.token(old)? {
                    Some(mut t) if !t.used => {
                        t.used = true;
                        w.put_token(old, &t)?;
                    }
                    // Used meanwhile by a concurrent request: treat it as reuse.
                    Some(_) => {
                        w.remove_token_family(&fam)?;
                        return Ok(false);
                    }
                    None => return Ok(false),
                }
            }
            for (k, t) in &rows {
                w.put_token(k, t)?;
            }
            Ok(true)
        })
        .await?;
    if !stored {
        return Err(GrantError::InvalidGrant(
            "the refresh token is no longer valid",
        ));
    }
    Ok(Issued {
        access_token: access,
        refresh_token: refresh,
        expires_in: access_ttl,
    })
}

/// `grant_type=refresh_token` (RFC 6749 §6): rotates the refresh token; presenting one that was
/// already used revokes its whole family (RFC 9700 §4.14.2).
pub async fn refresh(
    store: &Store,
    access_ttl: i64,
    client_id: &str,
    refresh_token: &str,
) -> Result<Issued, GrantError> {
    client(store, client_id).await?;
    if !tokens::well_formed(refresh_token) {
        return Err(GrantError::InvalidGrant("the refresh token is malformed"));
    }
    let key = tokens::hash(refresh_token);
    let k = key.clone();
    let found = store
        .read(move |r| {
            let Some(t) = r.token(&k)? else {
                return Ok(None);
            };
            let a = r.account(t.account)?;
            Ok(Some((t, a)))
        })
        .await?;
    let Some((t, account)) = found else {
        return Err(GrantError::InvalidGrant(
            "the refresh token is unknown or revoked",
        ));
    };
    if t.kind != TokenKind::Refresh {
        return Err(GrantError::InvalidGrant("not a refresh token"));
    }
    if t.client_id != client_id {
        return Err(GrantError::InvalidGrant(
            "the refresh token was issued to another client",
        ));
    }
    if t.used {
        let fam = t.family.clone();
        let n = store.write(move |w| w.remove_token_family(&fam)).await?;
        log::warn!(
            "oauth: a rotated refresh token of client {client_id} was presented again; revoked its grant ({n} tokens)"
        );
        return Err(GrantError::InvalidGrant(
            "the refresh token was already used; the grant is revoked",
        ));
    }
    if t.expires_at <= crate::date::now() {
        return Err(GrantError::InvalidGrant("the refresh token expired"));
    }
    let account = match account {
        Some(a) if tokens::password_fp(&a) == t.password_fp => a,
        _ => return Err(GrantError::InvalidGrant("the refresh token was revoked")),
    };
    store_pair(store, &account, client_id, &t.family, access_ttl, Some(key)).await
}

/// Revokes a token (RFC 7009 §2.1) if it was issued to `client_id` (when given); a refresh
/// token takes its family with it. Unknown tokens are no error (§2.2).
pub async fn revoke(store: &Store, client_id: Option<&str>, token: &str) -> Result<(), GrantError> {
    if !tokens::well_formed(token) {
        return Ok(());
    }
    let key = tokens::hash(token);
    let found = store.read(move |r| r.token(&key)).await?;
    match (found, client_id) {
        (Some(t), Some(c)) if t.client_id != c => {
            log::warn!("oauth: client {c} tried to revoke a token of another client");
            Ok(())
        }
        (Some(_), _) => Ok(tokens::revoke(store, token).await?),
        (None, _) => Ok(()),
    }
}
