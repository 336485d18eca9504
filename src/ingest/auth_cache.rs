//! The parsed-record cache sender authentication hands to mail-auth (its `ResolverCache`):
//! SPF, DKIM key and DMARC records parsed once and kept until their DNS TTL runs out. Without
//! it every message repeats the same lookups through hickory on its tokio side runtime (a
//! thread hop and a re-parse each), which `make bench`'s sender-auth figure showed as CPU.
//! Bounded: at most `MAX` names; when full, expired entries go first, then everything.

use mail_auth::{ResolverCache, Txt};
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Instant;

const MAX: usize = 1024;

#[derive(Default)]
pub struct TxtCache(Mutex<HashMap<Box<str>, (Txt, Instant)>>);

impl ResolverCache<Box<str>, Txt> for TxtCache {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let mut map = self.0.lock().ok()?;
        match map.get(name) {
            Some((v, until)) if *until > Instant::now() => Some(v.clone()),
            Some(_) => {
                map.remove(name);
                None
            }
            None => None,
        }
    }

    fn remove<Q>(&self, name: &Q) -> Option<Txt>
    where
        Box<str>: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.lock().ok()?.remove(name).map(|(v, _)| v)
    }

    fn insert(&self, key: Box<str>, value: Txt, valid_until: Instant) {
        let Ok(mut map) = self.0.lock() else { return };
        let now = Instant::now();
        if valid_until <= now {
            return;
        }
        if map.len() >= MAX {
            map.retain(|_, (_, until)| *until > now);
            if map.len() >= MAX {
                map.clear();
            }
        }
        map.insert(key, (value, valid_until));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn keeps_until_the_ttl_and_stays_bounded() {
        let c = TxtCache::default();
        let later = Instant::now() + Duration::from_secs(60);
        let err = || Txt::Error(mail_auth::Error::ParseError);
        c.insert("a.example.".into(), err(), later);
        assert!(c.get("a.example.").is_some());
        c.insert("b.example.".into(), err(), Instant::now());
        assert!(c.get("b.example.").is_none(), "expired at once: not kept");
        for i in 0..3 * MAX {
            c.insert(format!("n{i}.example.").into(), err(), later);
        }
        assert!(c.0.lock().map(|m| m.len()).unwrap_or(0) <= MAX);
    }
}
