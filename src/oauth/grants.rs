//! What lives between the consent page and the token endpoint, in memory: pending
//! authorization requests (the consent form's per-request token), authorization codes, and
//! codes already redeemed (to spot a replay). Each map is bounded and swept of expired entries
//! on every insert; keys are SHA-256 of the random values handed out, so a memory dump shows no
//! usable code.

use crate::store::model::AccountId;
use base64::Engine;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

/// At most this many of each kind at once; the oldest goes when full.
const MAX_ENTRIES: usize = 512;
/// How long a redeemed code is remembered (well past [`super::CODE_TTL`]).
const SPENT_TTL: Duration = Duration::from_secs(600);

/// An authorization request that passed the checks that happen before the page is shown.
#[derive(Debug, Clone)]
pub struct Pending {
    pub client_id: String,
    pub client_name: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub challenge: String,
}

/// What an authorization code stands for.
#[derive(Debug, Clone)]
pub struct Code {
    pub account: AccountId,
    /// Fingerprint of the password hash the user signed in with (`tokens::password_fp`).
    pub password_fp: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub challenge: String,
}

/// A code presented at the token endpoint.
pub enum Redeemed {
    Fresh(Code),
    /// Presented before: the family of tokens it was exchanged for, if any yet.
    Replayed(Option<String>),
    Unknown,
}

struct Timed<T> {
    value: T,
    at: Instant,
}

struct Map<T> {
    map: HashMap<[u8; 32], Timed<T>>,
    ttl: Duration,
}

impl<T> Map<T> {
    fn new(ttl: Duration) -> Map<T> {
        Map {
            map: HashMap::new(),
            ttl,
        }
    }

    fn insert(&mut self, key: [u8; 32], value: T) {
        let ttl = self.ttl;
        self.map.retain(|_, t| t.at.elapsed() < ttl);
        if self.map.len() >= MAX_ENTRIES
            && let Some(k) = self.map.iter().min_by_key(|(_, t)| t.at).map(|(k, _)| *k)
        {
            self.map.remove(&k);
        }
        self.map.insert(
            key,
            Timed {
                value,
                at: Instant::now(),
            },
        );
    }

    fn get(&self, key: &[u8; 32]) -> Option<&T> {
        self.map
            .get(key)
            .filter(|t| t.at.elapsed() < self.ttl)
            .map(|t| &t.value)
    }

    fn take(&mut self, key: &[u8; 32]) -> Option<T> {
        let t = self.map.remove(key)?;
        (t.at.elapsed() < self.ttl).then_some(t.value)
    }
}

struct Inner {
    pending: Map<Pending>,
    codes: Map<Code>,
    /// Redeemed code -> the token family it produced (None until the tokens are stored).
    spent: Map<Option<String>>,
}

static GRANTS: LazyLock<Mutex<Inner>> = LazyLock::new(|| {
    Mutex::new(Inner {
        pending: Map::new(super::REQUEST_TTL),
        codes: Map::new(super::CODE_TTL),
        spent: Map::new(SPENT_TTL),
    })
});

fn key(s: &str) -> [u8; 32] {
    let mut k = [0u8; 32];
    k.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, s.as_bytes()).as_ref());
    k
}

/// 32 random bytes, base64url.
pub fn random() -> Option<String> {
    let mut b = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b).ok()?;
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b))
}

/// Records a checked authorization request; returns the token its consent form carries.
pub fn begin(p: Pending) -> Option<String> {
    let t = random()?;
    GRANTS.lock().ok()?.pending.insert(key(&t), p);
    Some(t)
}

/// The pending request behind a consent form's token.
pub fn pending(token: &str) -> Option<Pending> {
    GRANTS.lock().ok()?.pending.get(&key(token)).cloned()
}

/// Ends a pending request (allowed or denied: the form cannot be posted twice).
pub fn finish(token: &str) -> Option<Pending> {
    GRANTS.lock().ok()?.pending.take(&key(token))
}

/// Issues a single-use authorization code.
pub fn issue_code(c: Code) -> Option<String> {
    let t = random()?;
    GRANTS.lock().ok()?.codes.insert(key(&t), c);
    Some(t)
}

/// Takes a code: it works once; presented again it is reported as replayed.
pub fn redeem(code: &str) -> Redeemed {
    let k = key(code);
    let Ok(mut g) = GRANTS.lock() else {
        return Redeemed::Unknown;
    };
    if let Some(c) = g.codes.take(&k) {
        g.spent.insert(k, None);
        return Redeemed::Fresh(c);
    }
    match g.spent.get(&k) {
        Some(family) => Redeemed::Replayed(family.clone()),
        None => Redeemed::Unknown,
    }
}

/// Notes which token family a redeemed code produced, so a replay can revoke it.
pub fn spent_into(code: &str, family: &str) {
    if let Ok(mut g) = GRANTS.lock() {
        g.spent.insert(key(code), Some(family.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_single_use() {
        let c = issue_code(Code {
            account: 1,
            password_fp: "fp".into(),
            client_id: "c".into(),
            redirect_uri: "r".into(),
            challenge: "x".into(),
        })
        .unwrap();
        assert!(matches!(redeem(&c), Redeemed::Fresh(_)));
        assert!(matches!(redeem(&c), Redeemed::Replayed(None)));
        spent_into(&c, "fam");
        assert!(matches!(redeem(&c), Redeemed::Replayed(Some(f)) if f == "fam"));
        assert!(matches!(redeem("nope"), Redeemed::Unknown));
    }
}
