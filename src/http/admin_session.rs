//! Admin sign-in sessions and the checks every admin request passes.
//!
//! A session is a random 256-bit token in a cookie named `__Host-mailnook-admin` (HttpOnly,
//! Secure, SameSite=Strict, Path=/: the `__Host-` prefix makes browsers refuse it unless it is
//! Secure, host-only and path `/`, RFC 6265bis §4.1.3.2). The server keeps only the SHA-256 of
//! the token, in memory: a restart signs everybody out, which is the safe default for an
//! appliance. Sessions end after 30 idle minutes or 12 hours, at sign-out, and as soon as the
//! account is deleted, loses its admin flag or has its password changed (each request re-reads
//! the account and compares a digest of its password hash).
//!
//! CSRF: every state change must (1) carry the session's CSRF token in `X-CSRF-Token` (a custom
//! header a cross-site form cannot send, and a cross-site `fetch` cannot send without a CORS
//! preflight we never answer), (2) come with an `Origin` equal to our own when the browser sends
//! one, and `Sec-Fetch-Site` same-origin when it sends that, and (3) have a JSON body
//! (`Content-Type: application/json`). Scripts may use HTTP Basic instead of a session; they need
//! no CSRF token (no browser state is involved) but pass the same Origin and content-type checks.

use super::State;
use crate::store::model::{Account, AccountId};
use base64::Engine;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tide::{Request, Response, StatusCode};

pub const COOKIE: &str = "__Host-mailnook-admin";
const IDLE: Duration = Duration::from_secs(30 * 60);
const MAX_AGE: Duration = Duration::from_secs(12 * 3600);
const MAX_SESSIONS: usize = 256;

struct Session {
    account: AccountId,
    /// The account as last checked: what the status view shows under while the store cannot
    /// be read (a full disk, `store/redb/recover.rs`), so the admin sees why.
    last_checked: Account,
    csrf: String,
    password_tag: [u8; 32],
    /// The app password (its id) this session was opened with, if any: the session ends when
    /// that app password is revoked (the webmail's; admin sessions never have one).
    app_password: Option<String>,
    created: Instant,
    last_seen: Instant,
}

impl Session {
    fn expired(&self, idle: Duration, max_age: Duration) -> bool {
        self.created.elapsed() >= max_age || self.last_seen.elapsed() >= idle
    }
}

/// Signed-in browser sessions, keyed by SHA-256 of the token: the admin page's, and (with
/// longer lifetimes, `http/webmail_session.rs`) the webmail's.
pub struct Sessions {
    map: Mutex<HashMap<[u8; 32], Session>>,
    idle: Duration,
    max_age: Duration,
}

impl Default for Sessions {
    /// The admin page's lifetimes: 30 idle minutes, 12 hours at most.
    fn default() -> Sessions {
        Sessions::with_lifetime(IDLE, MAX_AGE)
    }
}

/// Who is making an admin request, and how they proved it.
#[derive(Clone)]
pub struct Admin {
    pub account: Account,
    /// The session token and its CSRF token; `None` for HTTP Basic.
    pub session: Option<(String, String)>,
}

pub(super) fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 32];
    k.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, bytes).as_ref());
    k
}

fn random_token() -> Option<String> {
    let mut b = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).ok()?;
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

/// Compares secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

impl Sessions {
    pub fn with_lifetime(idle: Duration, max_age: Duration) -> Sessions {
        Sessions {
            map: Mutex::new(HashMap::new()),
            idle,
            max_age,
        }
    }

    /// Starts a session; returns (token, csrf token).
    pub fn create(&self, account: &Account) -> Option<(String, String)> {
        self.create_with(account, None)
    }

    /// Starts a session opened with an app password (its id), or with the account password.
    pub fn create_with(
        &self,
        account: &Account,
        app_password: Option<String>,
    ) -> Option<(String, String)> {
        let token = random_token()?;
        let csrf = random_token()?;
        let (idle, max_age) = (self.idle, self.max_age);
        let mut map = self.map.lock().ok()?;
        map.retain(|_, s| !s.expired(idle, max_age));
        if map.len() >= MAX_SESSIONS {
            // Full of live sessions: the oldest one goes.
            if let Some(k) = map.iter().min_by_key(|(_, s)| s.created).map(|(k, _)| *k) {
                map.remove(&k);
            }
        }
        let now = Instant::now();
        map.insert(
            sha256(token.as_bytes()),
            Session {
                account: account.id,
                last_checked: account.clone(),
                csrf: csrf.clone(),
                password_tag: sha256(account.password_hash.as_bytes()),
                app_password,
                created: now,
                last_seen: now,
            },
        );
        Some((token, csrf))
    }

    /// The live session for a token: (account id, csrf, password tag, the account as last
    /// checked). Refreshes its idle timer.
    pub(super) fn touch(&self, token: &str) -> Option<(AccountId, String, [u8; 32], Account)> {
        let mut map = self.map.lock().ok()?;
        let key = sha256(token.as_bytes());
        let s = map.get_mut(&key)?;
        if s.expired(self.idle, self.max_age) {
            map.remove(&key);
            return None;
        }
        s.last_seen = Instant::now();
        Some((
            s.account,
            s.csrf.clone(),
            s.password_tag,
            s.last_checked.clone(),
        ))
    }

    /// The app password a live session was opened with.
    pub fn app_password(&self, token: &str) -> Option<String> {
        let map = self.map.lock().ok()?;
        map.get(&sha256(token.as_bytes()))?.app_password.clone()
    }

    pub fn remove(&self, token: &str) {
        if let Ok(mut map) = self.map.lock() {
            map.remove(&sha256(token.as_bytes()));
        }
    }

    /// Ends every session of an account except `keep` (after a password change or deletion).
    pub fn remove_account(&self, account: AccountId, keep: Option<&str>) {
        let keep = keep.map(|t| sha256(t.as_bytes()));
        if let Ok(mut map) = self.map.lock() {
            map.retain(|k, s| s.account != account || Some(*k) == keep);
        }
    }

    /// Records a new password hash for a session, so changing one's own password keeps one
    /// signed in.
    pub fn refresh_password(&self, token: &str, password_hash: &str) {
        if let Ok(mut map) = self.map.lock()
            && let Some(s) = map.get_mut(&sha256(token.as_bytes()))
        {
            s.password_tag = sha256(password_hash.as_bytes());
        }
    }

    pub fn len(&self) -> usize {
        self.map
            .lock()
            .map(|m| {
                m.values()
                    .filter(|s| !s.expired(self.idle, self.max_age))
                    .count()
            })
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
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

/// The session token from the `Cookie` header (RFC 6265 §5.4), if any.
pub fn cookie_token(req: &Request<State>) -> Option<String> {
    cookie_named(req, COOKIE)
}

/// The value of the cookie `name` from the `Cookie` header (RFC 6265 §5.4), if any.
pub fn cookie_named(req: &Request<State>, name: &str) -> Option<String> {
    let header = req.header("Cookie")?;
    header.iter().find_map(|v| {
        v.as_str().split(';').find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name && !v.is_empty()).then(|| v.to_string())
        })
    })
}

pub fn peer_ip(req: &Request<State>) -> Option<IpAddr> {
    req.peer_addr()
        .and_then(|p| p.parse::<std::net::SocketAddr>().ok())
        .map(|s| s.ip())
}

fn header(req: &Request<State>, name: &str) -> Option<String> {
    req.header(name).map(|h| h.as_str().to_string())
}

/// The admin behind a valid session cookie, with the session's tokens. `None` for no cookie, an
/// unknown or expired token, or an account that is gone, not admin, or has a new password.
pub async fn session_admin(req: &Request<State>) -> Option<Admin> {
    let token = cookie_token(req)?;
    let state = req.state();
    let (id, csrf, tag, last_checked) = state.admin_sessions.touch(&token)?;
    let account = match state.jmap.store.read(move |r| r.account(id)).await {
        Ok(a) => a,
        // The store cannot be read (recovering from a full disk): the session stays, on the
        // account as last checked, so the status view can say what is wrong.
        Err(crate::store::StoreError::Unavailable(_)) => Some(last_checked),
        Err(_) => None,
    };
    match account {
        Some(a) if a.admin && sha256(a.password_hash.as_bytes()) == tag => Some(Admin {
            account: a,
            session: Some((token, csrf)),
        }),
        _ => {
            state.admin_sessions.remove(&token);
            None
        }
    }
}

/// For a request that changes state: does it come from our own page? Browsers send `Origin` on
/// every POST (Fetch standard §3.1) and `Sec-Fetch-Site` on every request; a client that sends
/// neither (curl, the test suite) is not a browser being tricked by another site.
pub fn same_origin(req: &Request<State>) -> bool {
    if let Some(site) = header(req, "Sec-Fetch-Site")
        && site != "same-origin"
        && site != "none"
    {
        return false;
    }
    let Some(origin) = header(req, "Origin") else {
        return true;
    };
    let origin = origin.trim_end_matches('/');
    if let Some(host) = header(req, "Host")
        && origin.eq_ignore_ascii_case(&format!("https://{host}"))
    {
        return true;
    }
    matches!(&req.state().config.public_url, Some(u) if origin.eq_ignore_ascii_case(u.trim_end_matches('/')))
}

/// Authenticates an admin API request: a session cookie (plus the CSRF token when `changing`)
/// or HTTP Basic. Returns the response to send instead: 401 (no or bad credentials, missing
/// CSRF token), 403 (not an admin, or a cross-site request), 415 (a change without a JSON
/// body) or 429 (too many failed sign-ins from this address).
pub async fn require_admin(req: &Request<State>, changing: bool) -> Result<Admin, Response> {
    if changing {
        if !same_origin(req) {
            log::warn!(
                "admin: refused a cross-site request to {} from {} (Origin {:?})",
                req.url().path(),
                crate::logging::Peer(peer_ip(req)),
                header(req, "Origin")
            );
            return Err(refusal(StatusCode::Forbidden, "cross-site request refused"));
        }
        let json = req
            .content_type()
            .is_some_and(|m| m.essence() == "application/json");
        if !json {
            return Err(refusal(
                StatusCode::UnsupportedMediaType,
                "send the request body as Content-Type: application/json",
            ));
        }
    }
    if let Some(admin) = session_admin(req).await {
        if changing {
            let sent = header(req, "X-CSRF-Token").unwrap_or_default();
            let ok = admin
                .session
                .as_ref()
                .is_some_and(|(_, csrf)| same_secret(&sent, csrf));
            if !ok {
                log::warn!(
                    "admin: missing or wrong CSRF token from {} for {}",
                    crate::logging::Peer(peer_ip(req)),
                    req.url().path()
                );
                return Err(refusal(
                    StatusCode::Forbidden,
                    "missing or wrong X-CSRF-Token header; reload the page",
                ));
            }
        }
        return Ok(admin);
    }
    let Some(auth) = header(req, "Authorization") else {
        return Err(refusal(
            StatusCode::Unauthorized,
            "sign in at /admin, or send HTTP Basic credentials of an admin account",
        ));
    };
    let state = req.state();
    let ip = peer_ip(req);
    match state
        .auth
        .header(
            &state.jmap.store,
            ip,
            Some(auth.as_str()),
            super::auth::Scope::Account,
        )
        .await
    {
        super::auth::AuthResult::Ok(account) if account.admin => Ok(Admin {
            account,
            session: None,
        }),
        super::auth::AuthResult::Ok(account) => {
            log::warn!(
                "admin: {} is not an admin (API request from {peer})",
                account.name,
                peer = crate::logging::Peer(ip)
            );
            Err(refusal(
                StatusCode::Forbidden,
                "this account is not an administrator",
            ))
        }
        super::auth::AuthResult::Denied | super::auth::AuthResult::InvalidToken(_) => {
            log::warn!(
                "admin: failed API sign-in from {peer}",
                peer = crate::logging::Peer(ip)
            );
            Err(refusal(
                StatusCode::Unauthorized,
                "wrong address or password",
            ))
        }
        super::auth::AuthResult::Throttled(secs) => {
            let mut r = refusal(
                StatusCode::TooManyRequests,
                &format!("too many failed sign-ins; try again in {secs} seconds"),
            );
            r.insert_header("Retry-After", secs.to_string());
            Err(r)
        }
    }
}

/// An RFC 7807 problem response for the admin API.
pub fn refusal(status: StatusCode, detail: &str) -> Response {
    let v = serde_json::json!({
        "type": "about:blank",
        "status": status as u16,
        "detail": detail,
    });
    let mut res = super::problem(&v);
    super::admin::harden(&mut res);
    res
}
