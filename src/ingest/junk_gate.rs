//! The junk verdict at delivery: one call between sender authentication and the store.
//!
//! [`screen`] works in **one store snapshot** and **one parse** of the message: it parses the
//! message once (`mime::tree::Structure`), keeps the stored summary made from that parse
//! (`ingest::parse::summary`, handed on to the store so delivery does not parse again), reads
//! each recipient account's junk record, and only if some account's model can score
//! tokenizes the same parse and asks `junk::verdict::judge` (token counts from the decoded
//! model in `junk/cache.rs`, not a store lookup per token). Then it either refuses the
//! message (every account says reject) or groups the recipients by their copy: each copy
//! carries its account's `X-Mailnook-Junk` score header and junk goes to the Junk mailbox.
//!
//! `ingest::receive` runs "sender-auth verdict -> junk score (here) -> Sieve -> delivery";
//! Sieve reads each group's RFC 5235 spamtest value; copies with the same header share one
//! durable commit (usually there is one recipient, so one commit).

use super::Target;
use crate::junk::verdict::{self, Facts, HEADER, Verdict};
use crate::junk::{JunkConfig, tokenizer};
use crate::mime::tree::Structure;
use crate::store::Store;
use crate::store::model::{AccountId, EmailMeta};
use std::sync::Arc;

/// What the filter decided for one message.
pub enum Screen {
    /// Refused: every recipient's filter scored it above its reject threshold.
    Rejected { score: f64 },
    /// To deliver: the message without any score header it arrived with, and the recipients
    /// grouped by the score header their copy carries (usually one group).
    Deliver {
        raw: Vec<u8>,
        groups: Vec<Group>,
        /// Accounts whose copy goes to Junk (no vacation reply for those, RFC 3834 §2).
        junked: Vec<AccountId>,
        /// The stored summary of `raw`, from the parse the filter made (None if the store
        /// could not be read: delivery then parses itself). The score header a copy gets in
        /// front changes none of its fields.
        meta: Option<Box<EmailMeta>>,
    },
}

/// Recipients whose copies are the same: one header, one RFC 5235 spamtest value for Sieve.
pub struct Group {
    pub header: String,
    pub targets: Vec<Target>,
    pub spamtest: Option<u8>,
}

/// Scores `raw` for each target (`auth_junk`: sender authentication already decided on Junk,
/// those targets already carry the junk role). Delivery is the caller's (`ingest::receive`),
/// after Sieve has read the spamtest value.
pub async fn screen(
    store: &Store,
    cfg: &JunkConfig,
    raw: Vec<u8>,
    targets: Vec<Target>,
    auth_junk: bool,
) -> Screen {
    let accounts: Vec<AccountId> = targets.iter().map(|t| t.account).collect();
    let cfg = cfg.clone();
    let raw = Arc::new(raw);
    let shared = raw.clone();
    // Removing a forged score header, parsing, tokenizing and the store reads all run in this
    // one blocking read (they are linear in the message: not on the executor).
    let outcome = store
        .read(move |r| {
            let stripped = strip_copy(&shared, HEADER);
            let s = Structure::parse(stripped.as_deref().unwrap_or(&shared));
            let meta = super::parse::summary(&s);
            let (from, list) = tokenizer::sender(&s);
            let facts = Facts {
                from,
                list,
                auth_junk,
            };
            let mut tokens: Option<tokenizer::Features> = None;
            let mut verdicts = Vec::with_capacity(accounts.len());
            for a in accounts {
                let ja = r.junk_account(a)?;
                let v = verdict::judge(r, a, &ja, &cfg, &facts, || {
                    if !verdict::ready(&ja, &cfg) {
                        return Ok(None);
                    }
                    let t = tokens.get_or_insert_with(|| tokenizer::of_structure(&s));
                    verdict::score(r, a, &ja, &t.tokens, &t.header, &cfg)
                })?;
                verdicts.push((a, v));
            }
            drop(s);
            Ok((stripped, meta, verdicts))
        })
        .await;
    let raw = Arc::try_unwrap(raw).unwrap_or_else(|a| (*a).clone());
    let (raw, meta, verdicts) = match outcome {
        Ok((stripped, meta, v)) => (stripped.unwrap_or(raw), Some(Box::new(meta)), v),
        Err(e) => {
            // The model is advice: if it cannot be read, deliver as before (still without a
            // score header written by the sender).
            log::warn!("junk: cannot read the model, delivering unscored: {e}");
            let raw = crate::pool::unblock(move || strip_header(raw, HEADER)).await;
            (raw, None, Vec::new())
        }
    };
    if !verdicts.is_empty() && verdicts.iter().all(|(_, v)| v.reject) {
        let score = verdicts
            .iter()
            .filter_map(|(_, v)| v.score)
            .fold(0.0, f64::max);
        return Screen::Rejected { score };
    }
    let (groups, junked) = group(targets, &verdicts);
    Screen::Deliver {
        raw,
        groups,
        junked,
        meta,
    }
}

/// Groups the targets by the header their copy carries; junk goes to the Junk role.
fn group(
    mut targets: Vec<Target>,
    verdicts: &[(AccountId, Verdict)],
) -> (Vec<Group>, Vec<AccountId>) {
    let mut junked = Vec::new();
    let mut groups: Vec<Group> = Vec::new();
    for mut t in targets.drain(..) {
        let v = verdicts
            .iter()
            .find(|(a, _)| *a == t.account)
            .map(|(_, v)| v);
        let header = v.and_then(Verdict::header).unwrap_or_default();
        if v.is_some_and(|v| v.junk || v.reject) || t.role.as_deref() == Some("junk") {
            if t.mailbox_ids.is_empty() {
                t.role = Some("junk".into());
            }
            junked.push(t.account);
        }
        let spamtest = v.filter(|v| v.score.is_some()).map(Verdict::spamtest);
        match groups.iter_mut().find(|g| g.header == header) {
            Some(g) => {
                g.spamtest = g.spamtest.max(spamtest);
                g.targets.push(t);
            }
            None => groups.push(Group {
                header,
                targets: vec![t],
                spamtest,
            }),
        }
    }
    (groups, junked)
}

/// Removes every `name:` field (with its continuation lines) from the header section: a score
/// header that arrives with the message was written by the sender, not by us.
pub fn strip_header(raw: Vec<u8>, name: &str) -> Vec<u8> {
    strip_copy(&raw, name).unwrap_or(raw)
}

/// [`strip_header`] without taking the message: None when there is no such field (the usual
/// case, no copy), else the message without it.
fn strip_copy(raw: &[u8], name: &str) -> Option<Vec<u8>> {
    let end = header_end(raw);
    let head = &raw[..end];
    let prefix = format!("{}:", name.to_ascii_lowercase());
    let has = |line: &[u8]| {
        line.len() >= prefix.len() && line[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    };
    if !head.split(|&b| b == b'\n').any(has) {
        return None;
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut skipping = false;
    for line in head.split_inclusive(|&b| b == b'\n') {
        let cont = matches!(line.first(), Some(b' ' | b'\t'));
        if cont && skipping {
            continue;
        }
        skipping = !cont && has(line);
        if !skipping {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(&raw[end..]);
    Some(out)
}

/// Where the header section ends (after its blank line), or the whole input.
fn header_end(raw: &[u8]) -> usize {
    let mut i = 0;
    while i < raw.len() {
        let line_end = raw[i..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|p| i + p + 1)
            .unwrap_or(raw.len());
        let line = &raw[i..line_end];
        if line == b"\r\n" || line == b"\n" {
            return i;
        }
        i = line_end;
    }
    raw.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_forged_score_headers() {
        let raw = b"From: a@b\r\nX-Mailnook-Junk: score=0.00\r\n verdict=ham\r\nSubject: x\r\n\r\nX-Mailnook-Junk: body stays\r\n".to_vec();
        let out = strip_header(raw, HEADER);
        assert_eq!(
            out,
            b"From: a@b\r\nSubject: x\r\n\r\nX-Mailnook-Junk: body stays\r\n".to_vec()
        );
        let clean = b"From: a@b\r\n\r\nbody".to_vec();
        assert_eq!(strip_header(clean.clone(), HEADER), clean);
    }
}
