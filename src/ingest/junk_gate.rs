//! The junk verdict at delivery: one call between sender authentication and the store.
//!
//! [`screen`] tokenizes the message once, asks each recipient account's model for its verdict
//! (`junk::verdict::judge`, one store read for all of them), then either refuses the message
//! (every account says reject) or groups the recipients by their copy: each copy carries its
//! account's `X-Mailnook-Junk` score header and junk goes to the account's Junk mailbox.
//!
//! `ingest::receive` runs "sender-auth verdict -> junk score (here) -> Sieve -> delivery";
//! Sieve reads each group's RFC 5235 spamtest value; copies with the same header share one
//! durable commit (usually there is one recipient, so one commit).

use super::Target;
use crate::junk::verdict::{self, Facts, HEADER, Verdict};
use crate::junk::{JunkConfig, Mode, tokenizer};
use crate::store::Store;
use crate::store::model::AccountId;

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
    let cfg2 = cfg.clone();
    // Parsing and tokenizing is the cost; skip it when no recipient's model can score yet
    // (mode off or still learning: the verdict then needs no token and no From address).
    let (ask, min) = (accounts.clone(), cfg.min_trained.max(1));
    let default_mode = cfg.mode;
    let need_tokens = store
        .read(move |r| {
            for a in ask {
                let j = r.junk_account(a)?;
                let mode = j
                    .mode
                    .as_deref()
                    .and_then(Mode::parse)
                    .unwrap_or(default_mode);
                if mode != Mode::Off && j.spam >= min && j.ham >= min {
                    return Ok(true);
                }
            }
            Ok(false)
        })
        .await
        .unwrap_or(true);
    let (raw, features) = smol::unblock(move || {
        let raw = strip_header(raw, HEADER);
        let f = if need_tokens {
            tokenizer::features(&raw)
        } else {
            tokenizer::Features::default()
        };
        (raw, f)
    })
    .await;
    let facts = Facts {
        from: features.from.clone(),
        list: features.list,
        auth_junk,
    };
    let tokens = features.tokens;
    let verdicts = match store
        .read(move |r| {
            accounts
                .iter()
                .map(|&a| verdict::judge(r, a, &cfg2, &tokens, &facts).map(|v| (a, v)))
                .collect::<Result<Vec<_>, _>>()
        })
        .await
    {
        Ok(v) => v,
        Err(e) => {
            // The model is advice: if it cannot be read, deliver as before.
            log::warn!("junk: cannot read the model, delivering unscored: {e}");
            Vec::new()
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
    let end = header_end(&raw);
    let head = &raw[..end];
    let prefix = format!("{}:", name.to_ascii_lowercase());
    let has = |line: &[u8]| {
        line.len() >= prefix.len() && line[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    };
    if !head.split(|&b| b == b'\n').any(has) {
        return raw;
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
    out
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
