//! The webmail's sign-in sessions (issue #14): a cookie the JMAP endpoints accept for
//! same-origin requests, so the browser never holds the password.
//!
//! The cookie `__Host-mailnook-web` (HttpOnly, Secure, SameSite=Strict, Path=/; the `__Host-`
//! prefix, RFC 6265bis §4.1.3.2) carries a random 256-bit token; the server keeps only its
//! SHA-256, in memory (`admin_session::Sessions`, with webmail lifetimes: 7 idle days, 30 days
//! at most). A session ends at sign-out, on a restart, and as soon as the account is deleted or
//! its password changes (each request compares a digest of the account's password hash), or
//! the app password it was opened with is revoked. An app password opens the webmail (issue
//! #14) but never changes the account password: that needs the account password itself.
//!
//! CSRF: SameSite=Strict already keeps the cookie off cross-site requests; on top of that every
//! request that is not GET/HEAD must carry the session's token in `X-CSRF-Token` (a header a
//! cross-site form cannot send and a cross-site `fetch` cannot send without a CORS preflight we
//! never answer) and pass the same Origin / Sec-Fetch-Site check as the admin page.

use super::State;
use super::admin_session::{Sessions, cookie_named, same_origin, same_secret, sha256};
use crate::store::model::Account;
use std::time::Duration;
use tide::Request;

pub const COOKIE: &str = "__Host-mailnook-web";
const IDLE: Duration = Duration::from_secs(7 * 86_400);
const MAX_AGE: Duration = Duration::from_secs(30 * 86_400);

pub fn sessions() -> Sessions {
    Sessions::with_lifetime(IDLE, MAX_AGE)
}

/// A signed-in webmail user.
pub struct WebUser {
    pub account: Account,
    pub token: String,
    pub csrf: String,
}

/// `Set-Cookie` for a new session.
pub fn set_cookie(token: &str) -> String {
    format!(
        "{COOKIE}={token}; Path=/; Max-Age={}; HttpOnly; Secure; SameSite=Strict",
        MAX_AGE.as_secs()
    )
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict")
}

pub fn has_cookie(req: &Request<State>) -> bool {
    cookie_named(req, COOKIE).is_some()
}

/// The user behind a valid session cookie. `None` for no cookie, an unknown or expired token,
/// or an account that is gone or has a new password (the session is then dropped).
pub async fn session_user(req: &Request<State>) -> Option<WebUser> {
    let token = cookie_named(req, COOKIE)?;
    let state = req.state();
    let (id, csrf, tag, _) = state.web_sessions.touch(&token)?;
    let account = state.jmap.store.read(move |r| r.account(id)).await.ok()?;
    // Opened with an app password: it ends when that app password is revoked.
    let revoked = match state.web_sessions.app_password(&token) {
        Some(which) => crate::app_passwords::list(&state.jmap.store, id)
            .await
            .map(|l| !l.iter().any(|p| p.id == which))
            .unwrap_or(true),
        None => false,
    };
    match account {
        Some(a) if !revoked && sha256(a.password_hash.as_bytes()) == tag => Some(WebUser {
            account: a,
            token,
            csrf,
        }),
        _ => {
            state.web_sessions.remove(&token);
            None
        }
    }
}

/// Why a cookie-authenticated request was refused.
pub enum Refused {
    /// No valid session: 401.
    NoSession,
    /// A state change without the CSRF token, or from another site: 403.
    Csrf,
}

impl Refused {
    /// The RFC 7807 answer.
    pub fn response(&self) -> tide::Response {
        let (status, detail) = match self {
            Refused::NoSession => (401, "Your session has ended; sign in again"),
            Refused::Csrf => (
                403,
                "Missing or wrong X-CSRF-Token, or a cross-site request",
            ),
        };
        super::problem(
            &serde_json::json!({"type": "about:blank", "status": status, "detail": detail}),
        )
    }
}

/// The signed-in user making a state change: the session's CSRF header and a same-origin
/// request are required.
pub async fn changing(req: &Request<State>) -> Result<WebUser, Refused> {
    let user = session_user(req).await.ok_or(Refused::NoSession)?;
    let sent = req
        .header("X-CSRF-Token")
        .map(|h| h.as_str().to_string())
        .unwrap_or_default();
    if !same_origin(req) || !same_secret(&sent, &user.csrf) {
        log::warn!(
            "webmail: refused a request to {} without its CSRF token or from another site",
            req.url().path()
        );
        return Err(Refused::Csrf);
    }
    Ok(user)
}

/// The account for a JMAP request (API, upload, download, event source) made with the webmail
/// cookie. State changes (anything but GET/HEAD) go through [`changing`].
pub async fn authenticate(req: &Request<State>) -> Result<Account, Refused> {
    let safe = matches!(
        req.method(),
        tide::http::Method::Get | tide::http::Method::Head
    );
    if safe {
        return session_user(req)
            .await
            .map(|u| u.account)
            .ok_or(Refused::NoSession);
    }
    changing(req).await.map(|u| u.account)
}
