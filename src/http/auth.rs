//! HTTP Basic authentication (RFC 7617) against argon2id hashes.
//!
//! A JMAP client sends credentials with every request, and an argon2 check costs tens of ms and
//! megabytes, so a successful check is cached for a few minutes, keyed by the SHA-256 of the
//! credentials (never the password itself). Failures are counted per client IP; past the limit
//! the IP gets 429 until the window ends, so passwords cannot be guessed at speed.

use crate::store::Store;
use crate::store::model::Account;
use base64::Engine;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const CACHE_TTL: Duration = Duration::from_secs(300);
const FAIL_WINDOW: Duration = Duration::from_secs(300);
const MAX_FAILURES: u32 = 10;

#[derive(Default)]
pub struct Authenticator {
    cache: Mutex<HashMap<[u8; 32], (Account, Instant)>>,
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

pub enum AuthResult {
    Ok(Account),
    /// Missing or wrong credentials: 401 with a challenge.
    Denied,
    /// Too many failures from this address: 429.
    Throttled,
}

impl Authenticator {
    pub fn throttled(&self, ip: Option<IpAddr>) -> bool {
        let (Some(ip), Ok(f)) = (ip, self.failures.lock()) else {
            return false;
        };
        matches!(f.get(&ip), Some((n, since)) if *n >= MAX_FAILURES && since.elapsed() < FAIL_WINDOW)
    }

    pub fn record_failure(&self, ip: Option<IpAddr>) {
        let (Some(ip), Ok(mut f)) = (ip, self.failures.lock()) else {
            return;
        };
        let e = f.entry(ip).or_insert((0, Instant::now()));
        if e.1.elapsed() >= FAIL_WINDOW {
            *e = (0, Instant::now());
        }
        e.0 += 1;
        if f.len() > 10_000 {
            f.retain(|_, (_, since)| since.elapsed() < FAIL_WINDOW);
        }
    }

    /// Drops cached logins (after a password change or account deletion).
    pub fn forget_all(&self) {
        if let Ok(mut c) = self.cache.lock() {
            c.clear();
        }
    }

    /// Checks a username and password (shared by Basic auth and the admin sign-in).
    pub async fn check_password(
        &self,
        store: &Store,
        ip: Option<IpAddr>,
        user: &str,
        pass: &str,
    ) -> AuthResult {
        if self.throttled(ip) {
            return AuthResult::Throttled;
        }
        let key = {
            let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
            ctx.update(user.to_lowercase().as_bytes());
            ctx.update(&[0]);
            ctx.update(pass.as_bytes());
            let mut k = [0u8; 32];
            k.copy_from_slice(ctx.finish().as_ref());
            k
        };
        // The account is read on every request (a cheap redb read) so that a password change
        // or deletion, from any path (CLI, control socket, admin page), takes effect at once:
        // a cached success only counts while the stored hash is the one it was made against.
        let name = user.to_string();
        let account = match store.read(move |r| r.account_by_name(&name)).await {
            Ok(Some(a)) => a,
            Ok(None) => {
                // Spend the same argon2 work as for a real account, so response timing does
                // not tell an attacker which addresses exist.
                let p = pass.to_string();
                smol::unblock(move || crate::password::verify(&p, dummy_hash())).await;
                self.record_failure(ip);
                log::info!(
                    "auth: unknown user {:?} from {ip:?}",
                    crate::smtp::session::printable(user)
                );
                return AuthResult::Denied;
            }
            Err(e) => {
                log::error!("auth: store error: {e}");
                return AuthResult::Denied;
            }
        };
        if let Ok(c) = self.cache.lock()
            && let Some((a, at)) = c.get(&key)
            && at.elapsed() < CACHE_TTL
            && a.password_hash == account.password_hash
            && a.id == account.id
        {
            return AuthResult::Ok(account);
        }
        let (hash, p) = (account.password_hash.clone(), pass.to_string());
        if smol::unblock(move || crate::password::verify(&p, &hash)).await {
            if let Ok(mut c) = self.cache.lock() {
                if c.len() > 1000 {
                    c.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
                }
                c.insert(key, (account.clone(), Instant::now()));
            }
            AuthResult::Ok(account)
        } else {
            self.record_failure(ip);
            log::info!("auth: wrong password for {} from {ip:?}", account.name);
            AuthResult::Denied
        }
    }

    /// Checks an `Authorization: Basic ...` header value.
    pub async fn basic(
        &self,
        store: &Store,
        ip: Option<IpAddr>,
        header: Option<&str>,
    ) -> AuthResult {
        if self.throttled(ip) {
            return AuthResult::Throttled;
        }
        let Some((user, pass)) = header.and_then(parse_basic) else {
            return AuthResult::Denied;
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

/// A hash of a random password, verified against when the user does not exist.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| crate::password::hash(&crate::password::generate()).unwrap_or_default())
}
