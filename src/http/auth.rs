//! HTTP Basic authentication (RFC 7617) for JMAP and the admin page. The checking itself —
//! failure budget per client and per account, the dummy hash for unknown names, the cap on
//! hashes running at once, the success cache — is the one login door in `src/login.rs`,
//! shared with SMTP AUTH on the submission port.

use crate::login::{Login, Outcome};
use crate::store::Store;
use crate::store::model::Account;
use base64::Engine;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Default)]
pub struct Authenticator {
    login: Arc<Login>,
}

pub enum AuthResult {
    Ok(Account),
    /// Missing or wrong credentials: 401 with a challenge.
    Denied,
    /// Too many failures (from this client or for this account) or too many checks at once:
    /// 429 with `Retry-After` of this many seconds.
    Throttled(u64),
}

fn throttled(d: Duration) -> AuthResult {
    AuthResult::Throttled(d.as_secs().max(1))
}

impl Authenticator {
    /// An authenticator over the server's shared login door.
    pub fn new(login: Arc<Login>) -> Authenticator {
        Authenticator { login }
    }

    /// Drops cached logins (after a password change or account deletion).
    pub fn forget_all(&self) {
        self.login.forget_all();
    }

    /// The login door's counters since start: (passwords hashed, attempts refused unchecked).
    pub fn counters(&self) -> (u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        let s = &self.login.stats;
        (
            s.hashes.load(Relaxed) as u64,
            (s.throttled.load(Relaxed) + s.busy.load(Relaxed)) as u64,
        )
    }

    /// Checks a username and password (the admin sign-in form).
    pub async fn check_password(
        &self,
        store: &Store,
        ip: Option<IpAddr>,
        user: &str,
        pass: &str,
    ) -> AuthResult {
        match self.login.check_password(store, ip, user, pass).await {
            Outcome::Ok(a) => AuthResult::Ok(a),
            Outcome::Denied => AuthResult::Denied,
            Outcome::Throttled(d) => throttled(d),
        }
    }

    /// Checks an `Authorization: Basic ...` header value.
    pub async fn basic(
        &self,
        store: &Store,
        ip: Option<IpAddr>,
        header: Option<&str>,
    ) -> AuthResult {
        let Some((user, pass)) = header.and_then(parse_basic) else {
            // No credentials is no failure (a client's first request goes without), but a
            // client past its budget is told so rather than challenged again.
            return match self.login.admit(ip, None) {
                Ok(()) => AuthResult::Denied,
                Err(d) => throttled(d),
            };
        };
        self.check_password(store, ip, &user, &pass).await
    }
}

fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, value) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}
