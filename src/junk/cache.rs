//! Decoded models of the accounts that receive mail, so that scoring a message is lookups in
//! memory instead of one store lookup per token (a message has a few hundred tokens).
//!
//! A copy is made from the store at the account's [`JunkAccount::stamp`] and used while the
//! stamp read in the same store snapshot is unchanged; every change of the model (training,
//! pruning, rebuild, in this process or from the CLI) writes a new stamp, so a stale copy is
//! never used. Bounded: at most [`MAX_TOKENS`] tokens over all cached accounts (16 bytes each,
//! about 16 MB); the least recently used accounts are dropped to stay under it, and a model
//! larger than the whole budget is not cached (its lookups go to the store as before).

use crate::store::model::AccountId;
use crate::store::{JunkAccount, Reader, Result};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Tokens kept in memory over all accounts.
pub const MAX_TOKENS: usize = 1_000_000;

/// One account's model as of `stamp`: (token, spam, ham) sorted by token.
struct Model {
    stamp: u64,
    rows: Vec<(u64, u32, u32)>,
}

impl Model {
    fn get(&self, token: u64) -> (u32, u32) {
        match self.rows.binary_search_by_key(&token, |r| r.0) {
            Ok(i) => (self.rows[i].1, self.rows[i].2),
            Err(_) => (0, 0),
        }
    }
}

#[derive(Default)]
struct Cache {
    models: HashMap<AccountId, (Arc<Model>, u64)>,
    /// Tokens held in `models`.
    size: usize,
    /// Use counter for least-recently-used eviction.
    clock: u64,
}

fn cache() -> &'static Mutex<Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

fn cached(acct: AccountId, stamp: u64) -> Option<Arc<Model>> {
    let mut c = cache().lock().ok()?;
    c.clock += 1;
    let now = c.clock;
    match c.models.get_mut(&acct) {
        Some((m, used)) if m.stamp == stamp => {
            *used = now;
            Some(m.clone())
        }
        _ => None,
    }
}

fn keep(acct: AccountId, m: Arc<Model>) {
    let Ok(mut c) = cache().lock() else { return };
    if let Some((old, _)) = c.models.remove(&acct) {
        c.size -= old.rows.len();
    }
    while c.size + m.rows.len() > MAX_TOKENS {
        let Some(oldest) = c
            .models
            .iter()
            .min_by_key(|(_, (_, u))| *u)
            .map(|(a, _)| *a)
        else {
            break;
        };
        if let Some((old, _)) = c.models.remove(&oldest) {
            c.size -= old.rows.len();
        }
    }
    c.clock += 1;
    let now = c.clock;
    c.size += m.rows.len();
    c.models.insert(acct, (m, now));
}

/// The (spam, ham) counts of `tokens` in the account's model as of `a` (read in the snapshot
/// `r`): from the decoded copy, loading it first if it is missing or stale.
pub fn counts(
    r: &Reader,
    acct: AccountId,
    a: &JunkAccount,
    tokens: &[u64],
) -> Result<Vec<(u32, u32)>> {
    if a.stamp == 0 || a.tokens as usize > MAX_TOKENS {
        return r.junk_counts(acct, tokens);
    }
    let model = match cached(acct, a.stamp) {
        Some(m) => m,
        None => {
            let m = Arc::new(Model {
                stamp: a.stamp,
                rows: r.junk_model(acct)?,
            });
            if m.rows.len() <= MAX_TOKENS {
                keep(acct, m.clone());
            }
            m
        }
    };
    Ok(tokens.iter().map(|&t| model.get(t)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_and_eviction() {
        let m = Model {
            stamp: 7,
            rows: vec![(1, 2, 0), (5, 0, 3), (9, 1, 1)],
        };
        assert_eq!(m.get(5), (0, 3));
        assert_eq!(m.get(4), (0, 0));
        let big = |stamp| {
            Arc::new(Model {
                stamp,
                rows: vec![(0, 1, 1); MAX_TOKENS / 2],
            })
        };
        // Account ids far from real ones: the cache is process-wide.
        keep(u32::MAX - 1, big(1));
        keep(u32::MAX - 2, big(2));
        assert!(cached(u32::MAX - 1, 1).is_some());
        assert!(cached(u32::MAX - 1, 3).is_none(), "another stamp is stale");
        // A third half-budget model pushes out the least recently used (account MAX-2).
        keep(u32::MAX - 3, big(3));
        assert!(cached(u32::MAX - 2, 2).is_none());
        assert!(cached(u32::MAX - 3, 3).is_some());
        assert!(
            cache()
                .lock()
                .map(|c| c.size <= MAX_TOKENS)
                .unwrap_or(false)
        );
    }
}
