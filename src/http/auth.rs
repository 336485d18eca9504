//! The credential layer of HTTP: what an `Authorization` header (or, later, a cookie) carries,
//! parsed into one [`Credential`] and checked by [`Authenticator::check`]. The checking itself —
//! failure budget per client and per account, the dummy hash for unknown names, the cap on
//! hashes running at once, the success cache, which scope admits app passwords — is the one
//! login door in `src/login.rs`, shared with SMTP AUTH on the submission port.
//!
//! A new kind of credential (the webmail's session cookie, issue #14) is one more variant of
//! [`Credential`], one more arm in [`Authenticator::check`], and one more line in
//! [`Credential::from_request_parts`]; every door (JMAP API, session, upload, download, event
//! source, WebSocket) then accepts it.

pub use crate::login::Scope;
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

/// A credential presented with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// RFC 7617 Basic: the account password, or (in [`Scope::Mail`]) an app password.
    Basic { user: String, pass: String },
    /// RFC 6750 §2.1 Bearer: an access token (`src/tokens.rs`), for [`Scope::Mail`] only.
    Bearer(String),
}

impl Credential {
    /// The credential of a request, from its `Authorization` header value; None when there is
    /// none or it is not one we understand.
    pub fn from_request_parts(authorization: Option<&str>) -> Option<Credential> {
        let h = authorization?.trim();
        let (scheme, value) = h.split_once(' ').unwrap_or((h, ""));
        // Auth schemes are case-insensitive (RFC 9110 §11.1).
        if scheme.eq_ignore_ascii_case("bearer") {
            return Some(Credential::Bearer(value.trim().to_string()));
        }
        parse_basic(h).map(|(user, pass)| Credential::Basic { user, pass })
    }
}

pub enum AuthResult {
    Ok(Account),
    /// Missing or wrong credentials: 401 with a challenge.
    Denied,
    /// A Bearer token that is not accepted: 401 with `error="invalid_token"` and this
    /// description (RFC 6750 §3.1).
    InvalidToken(&'static str),
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

    /// Asks the client's failure budget (the OAuth token endpoint, before looking a grant up).
    pub fn admit(&self, ip: Option<IpAddr>) -> Result<(), Duration> {
        self.login.admit(ip, None)
    }

    /// Spends the client's failure budget (a refused OAuth grant counts like a wrong password).
    pub fn failed(&self, ip: Option<IpAddr>) {
        self.login.failed(ip, None)
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

    /// Checks a username and the account password (the admin sign-in form: no app passwords).
    pub async fn check_account_password(
        &self,
        store: &Store,
        ip: Option<IpAddr>,
        user: &str,
        pass: &str,
    ) -> AuthResult {
        self.outcome(
            self.login
                .check_account_password(store, ip, user, pass)
                .await,
        )
    }

    /// Checks a username and the account password or one of its app passwords (the mail
    /// scope, as JMAP and SMTP AUTH take it): the webmail's sign-in form.
    pub async fn check_password(
        &self,
        store: &Store,
        ip: Option<IpAddr>,
        user: &str,
        pass: &str,
    ) -> AuthResult {
        self.outcome(self.login.check_password(store, ip, user, pass).await)
    }

    fn outcome(&self, o: Outcome) -> AuthResult {
        match o {
            Outcome::Ok(a) => AuthResult::Ok(a),
            Outcome::Denied => AuthResult::Denied,
            Outcome::Throttled(d) => throttled(d),
        }
    }

    /// Checks a request's credential in a scope.
    pub async fn check(
        &self,
        store: &Store,
        ip: Option<IpAddr>,
        credential: Option<Credential>,
        scope: Scope,
    ) -> AuthResult {
        match credential {
            None => {
                // No credentials is no failure (a client's first request goes without), but a
                // client past its budget is told so rather than challenged again.
                match self.login.admit(ip, None) {
                    Ok(()) => AuthResult::Denied,
                    Err(d) => throttled(d),
                }
            }
            Some(Credential::Basic { user, pass }) => {
                self.outcome(self.login.check(store, ip, &user, &pass, scope).await)
            }
            // Tokens are granted for mail access; the admin page wants the account password.
            Some(Credential::Bearer(_)) if scope == Scope::Account => AuthResult::Denied,
            Some(Credential::Bearer(token)) => {
                use crate::login::TokenOutcome;
                match self
                    .login
                    .check_token(store, ip, &token, crate::store::TokenKind::Access)
                    .await
                {
                    TokenOutcome::Ok(a) => AuthResult::Ok(a),
                    TokenOutcome::Invalid(why) => AuthResult::InvalidToken(why.describe()),
                    TokenOutcome::Throttled(d) => throttled(d),
                }
            }
        }
    }

    /// Checks an `Authorization` header value in a scope.
    pub async fn header(
        &self,
        store: &Store,
        ip: Option<IpAddr>,
        header: Option<&str>,
        scope: Scope,
    ) -> AuthResult {
        self.check(store, ip, Credential::from_request_parts(header), scope)
            .await
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

/// The challenges of a 401 from the API (RFC 9110 §11.6.1: one `WWW-Authenticate` field per
/// scheme offered): Basic (RFC 7617) and Bearer (RFC 6750 §3), the latter with `error` and
/// `error_description` when a token was sent and refused (§3.1: `invalid_token`).
pub fn challenges(invalid_token: Option<&str>) -> [String; 2] {
    let bearer = match invalid_token {
        Some(why) => format!(
            "Bearer realm=\"mailnook\", error=\"invalid_token\", error_description=\"{why}\""
        ),
        None => "Bearer realm=\"mailnook\"".to_string(),
    };
    [
        "Basic realm=\"mailnook\", charset=\"UTF-8\"".to_string(),
        bearer,
    ]
}

#[cfg(test)]
mod tests {
    use super::Credential;

    #[test]
    fn credentials_from_the_header() {
        assert_eq!(
            Credential::from_request_parts(Some("Basic YTpi")),
            Some(Credential::Basic {
                user: "a".into(),
                pass: "b".into()
            })
        );
        assert_eq!(
            Credential::from_request_parts(Some("bearer  mnk_x ")),
            Some(Credential::Bearer("mnk_x".into()))
        );
        assert_eq!(Credential::from_request_parts(Some("Negotiate x")), None);
        assert_eq!(Credential::from_request_parts(None), None);
    }
}
