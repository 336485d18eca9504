//! The junk filter's tables (`JUNK_*`, `SENT_TO` in tables.rs): each account's token counts,
//! its totals and mode, which message was trained as what, the training queue, and the
//! addresses the account has written to. The statistics live in `src/junk/`; this file only
//! reads and writes rows.
//!
//! Training a message adds 1 to the spam or ham count of each of its tokens; retraining the
//! same message the other way first takes its old label off again (`JUNK_TRAINED` remembers
//! it), so a message counts at most once, as its latest label.

use super::read::{Reader, table};
use super::tables::{JUNK_ACCOUNTS, JUNK_PENDING, JUNK_TOKENS, JUNK_TRAINED, SENT_TO};
use super::write::Writer;
use crate::store::error::{Result, StoreError};
use crate::store::model::AccountId;
use redb::ReadableTable;
use serde::{Deserialize, Serialize};

/// Label of a message trained as spam.
pub const SPAM: u8 = 1;
/// Label of a message trained as ham.
pub const HAM: u8 = 2;

/// Correspondents kept per account; past this, the oldest are dropped.
pub const MAX_SENT_TO: usize = 20_000;

/// Per-account totals and settings of the junk filter.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct JunkAccount {
    /// Messages trained as spam / ham (each counted once, as its latest label).
    #[serde(default)]
    pub spam: u32,
    #[serde(default)]
    pub ham: u32,
    /// Rows in `JUNK_TOKENS` for this account.
    #[serde(default)]
    pub tokens: u32,
    /// "off", "junk" or "reject"; None follows the server's `[junk] mode`.
    #[serde(default)]
    pub mode: Option<String>,
    /// Rows in `SENT_TO` for this account.
    #[serde(default)]
    pub sent_to: u32,
    /// A random value written anew with every change of this record (training, pruning, a
    /// rebuild): a decoded copy of the model made at one stamp is current while the stamp is
    /// (`junk/cache.rs`). 0 (records from before it existed) means "do not cache".
    #[serde(default)]
    pub stamp: u64,
    /// The tokenizer version (`junk::tokenizer::VERSION`) the model's counts were made with,
    /// recorded when an empty model learns its first message; 0: from before versions were
    /// recorded. The trainer retrains a model of another version on start when it can
    /// (`junk/training.rs` `rebuild_outdated`).
    #[serde(default)]
    pub tokenizer: u32,
}

/// A fresh non-zero [`JunkAccount::stamp`] (0 if the system has no randomness: no caching).
fn new_stamp() -> u64 {
    let mut b = [0u8; 8];
    match ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b) {
        Ok(()) => u64::from_le_bytes(b).max(1),
        Err(_) => 0,
    }
}

fn decode(v: &[u8]) -> Result<JunkAccount> {
    serde_json::from_slice(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl Reader {
    pub fn junk_account(&self, acct: AccountId) -> Result<JunkAccount> {
        let Some(t) = table!(self, JUNK_ACCOUNTS) else {
            return Ok(JunkAccount::default());
        };
        match t.get(acct)? {
            Some(v) => decode(v.value()),
            None => Ok(JunkAccount::default()),
        }
    }

    /// (spam, ham) counts of each token, in the order given (0, 0 for unknown ones).
    pub fn junk_counts(&self, acct: AccountId, tokens: &[u64]) -> Result<Vec<(u32, u32)>> {
        let Some(t) = table!(self, JUNK_TOKENS) else {
            return Ok(vec![(0, 0); tokens.len()]);
        };
        let mut out = Vec::with_capacity(tokens.len());
        for &tok in tokens {
            out.push(match t.get((acct, tok))? {
                Some(v) => {
                    let (s, h, _) = v.value();
                    (s, h)
                }
                None => (0, 0),
            });
        }
        Ok(out)
    }

    /// The account's whole model, (token, spam, ham) in token order (for the decoded copy in
    /// `junk/cache.rs`; at most `[junk] max_tokens` rows plus one training's worth).
    pub fn junk_model(&self, acct: AccountId) -> Result<Vec<(u64, u32, u32)>> {
        let Some(t) = table!(self, JUNK_TOKENS) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in t.range((acct, 0)..=(acct, u64::MAX))? {
            let (k, v) = row?;
            let (s, h, _) = v.value();
            out.push((k.value().1, s, h));
        }
        Ok(out)
    }

    /// Up to `limit` queued trainings of an account: (email, label wanted).
    pub fn junk_pending(&self, acct: AccountId, limit: usize) -> Result<Vec<(u32, u8)>> {
        let Some(t) = table!(self, JUNK_PENDING) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in t.range((acct, 0)..=(acct, u32::MAX))?.take(limit) {
            let (k, v) = row?;
            out.push((k.value().1, v.value()));
        }
        Ok(out)
    }

    /// Accounts with queued trainings (one range seek per account found).
    pub fn junk_pending_accounts(&self) -> Result<Vec<AccountId>> {
        let Some(t) = table!(self, JUNK_PENDING) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut from = 0u32;
        while let Some(row) = t.range((from, 0)..)?.next() {
            let (k, _) = row?;
            let acct = k.value().0;
            out.push(acct);
            match acct.checked_add(1) {
                Some(n) => from = n,
                None => break,
            }
        }
        Ok(out)
    }

    pub fn junk_trained(&self, acct: AccountId, email: u32) -> Result<Option<u8>> {
        let Some(t) = table!(self, JUNK_TRAINED) else {
            return Ok(None);
        };
        Ok(t.get((acct, email))?.map(|v| v.value()))
    }

    /// Has the account written to this (lower-cased) address?
    pub fn is_correspondent(&self, acct: AccountId, address: &str) -> Result<bool> {
        let Some(t) = table!(self, SENT_TO) else {
            return Ok(false);
        };
        Ok(t.get((acct, address))?.is_some())
    }
}

impl Writer<'_> {
    fn junk_account_w(&self, acct: AccountId) -> Result<JunkAccount> {
        let t = self.tx.open_table(JUNK_ACCOUNTS)?;
        let a = match t.get(acct)? {
            Some(v) => decode(v.value())?,
            None => JunkAccount::default(),
        };
        Ok(a)
    }

    fn put_junk_account(&mut self, acct: AccountId, a: &JunkAccount) -> Result<()> {
        let mut a = a.clone();
        a.stamp = new_stamp();
        let bytes = serde_json::to_vec(&a).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut t = self.tx.open_table(JUNK_ACCOUNTS)?;
        t.insert(acct, bytes.as_slice())?;
        Ok(())
    }

    /// Sets the account's mode ("off", "junk", "reject"; None: the server default).
    pub fn set_junk_mode(&mut self, acct: AccountId, mode: Option<String>) -> Result<()> {
        let mut a = self.junk_account_w(acct)?;
        a.mode = mode;
        self.put_junk_account(acct, &a)
    }

    /// Queues a training of `email` as `label` (done later by the trainer, off the request).
    pub fn junk_want(&mut self, acct: AccountId, email: u32, label: u8) -> Result<()> {
        let mut t = self.tx.open_table(JUNK_PENDING)?;
        t.insert((acct, email), label)?;
        Ok(())
    }

    /// Drops a queued training if it still asks for `label` (a newer wish stays queued).
    pub fn junk_unqueue(&mut self, acct: AccountId, email: u32, label: u8) -> Result<()> {
        let mut t = self.tx.open_table(JUNK_PENDING)?;
        if t.get((acct, email))?.map(|v| v.value()) == Some(label) {
            t.remove((acct, email))?;
        }
        Ok(())
    }

    /// Trains `email` (whose tokens, made by tokenizer `version`, are given) as `label`,
    /// taking a different earlier label off first. Returns false when it was already trained
    /// so (idempotent). `day` is the day number stamped on the tokens for pruning.
    pub fn junk_learn(
        &mut self,
        acct: AccountId,
        email: u32,
        label: u8,
        tokens: &[u64],
        day: u32,
        version: u32,
    ) -> Result<bool> {
        self.junk_unqueue(acct, email, label)?;
        let old = {
            let t = self.tx.open_table(JUNK_TRAINED)?;
            t.get((acct, email))?.map(|v| v.value())
        };
        if old == Some(label) {
            return Ok(false);
        }
        let mut a = self.junk_account_w(acct)?;
        if a.spam == 0 && a.ham == 0 {
            a.tokenizer = version;
        }
        {
            let mut t = self.tx.open_table(JUNK_TOKENS)?;
            for &tok in tokens {
                let (mut s, mut h, _) = t.get((acct, tok))?.map(|v| v.value()).unwrap_or_default();
                let was_new = s == 0 && h == 0;
                match old {
                    Some(SPAM) => s = s.saturating_sub(1),
                    Some(HAM) => h = h.saturating_sub(1),
                    _ => {}
                }
                if label == SPAM {
                    s = s.saturating_add(1);
                } else {
                    h = h.saturating_add(1);
                }
                if was_new {
                    a.tokens = a.tokens.saturating_add(1);
                }
                t.insert((acct, tok), (s, h, day))?;
            }
        }
        match old {
            Some(SPAM) => a.spam = a.spam.saturating_sub(1),
            Some(HAM) => a.ham = a.ham.saturating_sub(1),
            _ => {}
        }
        if label == SPAM {
            a.spam = a.spam.saturating_add(1);
        } else {
            a.ham = a.ham.saturating_add(1);
        }
        self.put_junk_account(acct, &a)?;
        let mut t = self.tx.open_table(JUNK_TRAINED)?;
        t.insert((acct, email), label)?;
        Ok(true)
    }

    /// Keeps the account's model at most `max` tokens: when it is larger, drops tokens down to
    /// 80 % of `max`, rarest first and, among equally rare ones, least recently trained
    /// (hapaxes from long ago carry the least evidence). Returns how many were dropped.
    pub fn junk_prune(&mut self, acct: AccountId, max: u32) -> Result<u32> {
        let mut a = self.junk_account_w(acct)?;
        if a.tokens <= max {
            return Ok(0);
        }
        let target = (u64::from(max) * 8 / 10) as usize;
        let mut rows: Vec<(u32, u32, u64)> = Vec::new();
        {
            let t = self.tx.open_table(JUNK_TOKENS)?;
            for row in t.range((acct, 0)..=(acct, u64::MAX))? {
                let (k, v) = row?;
                let (s, h, day) = v.value();
                rows.push((s.saturating_add(h), day, k.value().1));
            }
        }
        let drop = rows.len().saturating_sub(target);
        rows.sort_unstable();
        {
            let mut t = self.tx.open_table(JUNK_TOKENS)?;
            for &(_, _, tok) in rows.iter().take(drop) {
                t.remove((acct, tok))?;
            }
        }
        a.tokens = (rows.len() - drop) as u32;
        self.put_junk_account(acct, &a)?;
        Ok(drop as u32)
    }

    /// Forgets the account's model and what each message was trained as (a rebuild starts
    /// from here); the mode and correspondents stay.
    pub fn junk_forget_model(&mut self, acct: AccountId) -> Result<()> {
        {
            let mut t = self.tx.open_table(JUNK_TOKENS)?;
            t.retain_in((acct, 0)..=(acct, u64::MAX), |_, _| false)?;
            let mut t = self.tx.open_table(JUNK_TRAINED)?;
            t.retain_in((acct, 0)..=(acct, u32::MAX), |_, _| false)?;
            let mut t = self.tx.open_table(JUNK_PENDING)?;
            t.retain_in((acct, 0)..=(acct, u32::MAX), |_, _| false)?;
        }
        let mut a = self.junk_account_w(acct)?;
        a.spam = 0;
        a.ham = 0;
        a.tokens = 0;
        self.put_junk_account(acct, &a)
    }

    /// Everything the junk filter keeps for an account (account deletion).
    pub fn junk_forget_account(&mut self, acct: AccountId) -> Result<()> {
        self.junk_forget_model(acct)?;
        let mut t = self.tx.open_table(SENT_TO)?;
        t.retain_in((acct, "")..=(acct, "\u{10FFFF}"), |_, _| false)?;
        let mut t = self.tx.open_table(JUNK_ACCOUNTS)?;
        t.remove(acct)?;
        Ok(())
    }

    /// Remembers that the account wrote to these addresses (lower-cased by the caller).
    pub fn note_sent_to(&mut self, acct: AccountId, addresses: &[String], now: i64) -> Result<()> {
        let mut a = self.junk_account_w(acct)?;
        {
            let mut t = self.tx.open_table(SENT_TO)?;
            for addr in addresses {
                if addr.is_empty() || addr.len() > 320 {
                    continue;
                }
                if t.insert((acct, addr.as_str()), now)?.is_none() {
                    a.sent_to = a.sent_to.saturating_add(1);
                }
            }
            if a.sent_to as usize > MAX_SENT_TO {
                // Bounded: drop the longest-unused tenth.
                let mut rows: Vec<(i64, String)> = Vec::new();
                for row in t.range((acct, "")..=(acct, "\u{10FFFF}"))? {
                    let (k, v) = row?;
                    rows.push((v.value(), k.value().1.to_string()));
                }
                rows.sort();
                let drop = rows.len().saturating_sub(MAX_SENT_TO * 9 / 10);
                for (_, addr) in rows.iter().take(drop) {
                    t.remove((acct, addr.as_str()))?;
                }
                a.sent_to = (rows.len() - drop) as u32;
            }
        }
        self.put_junk_account(acct, &a)
    }
}
