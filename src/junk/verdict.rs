//! One account's decision about one message: the statistical score combined with what the
//! server already knows, the score header, and the Sieve spamtest value (RFC 5235).
//!
//! Order of the rules (first that applies wins):
//! 1. mode off: no score, nothing done.
//! 2. sender authentication already filed it in Junk (DMARC quarantine, `ingest/auth.rs`):
//!    junk, whatever the statistics say (a forged From of a correspondent lands here too).
//! 3. the From address is someone the account has written to (EmailSubmission): never junk.
//! 4. the model has fewer than `min_trained` spam or ham messages: not tested (neutral start).
//! 5. the chi-square score (the message's words and its header facts scored apart, their
//!    log-odds averaged, `classifier.rs`): junk at `threshold`, refused at `reject_threshold` in mode reject
//!    unless it is list mail (a bounce to a list gets the user unsubscribed).

use super::classifier;
use super::model::{TokenCounts, Totals};
use super::{JunkConfig, Mode};
use crate::store::model::AccountId;
use crate::store::{JunkAccount, Reader, Result};

/// Why the verdict is what it is (shown in the header as `reason=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Off,
    SenderAuth,
    Correspondent,
    Untrained,
    Statistics,
}

impl Reason {
    fn name(self) -> &'static str {
        match self {
            Reason::Off => "off",
            Reason::SenderAuth => "sender-auth",
            Reason::Correspondent => "correspondent",
            Reason::Untrained => "learning",
            Reason::Statistics => "bayes",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// 0 (ham) ..= 1 (spam); None when the message was not tested.
    pub score: Option<f64>,
    pub junk: bool,
    /// Refuse at SMTP (mode reject, above the reject threshold, not list mail).
    pub reject: bool,
    pub reason: Reason,
    /// The junk threshold the score was judged against (the spamtest scale hangs on it).
    pub threshold: f64,
}

impl Verdict {
    fn new(score: Option<f64>, junk: bool, reason: Reason, cfg: &JunkConfig) -> Verdict {
        Verdict {
            score,
            junk,
            reject: false,
            reason,
            threshold: cfg.threshold,
        }
    }

    /// The RFC 5235 §3.2 spamtest value: 0 = not tested, 1 = certainly not spam .. 10 =
    /// certainly spam. Sieve's `spamtest` (and `:percent`, derived from it) reads this.
    /// Mail filed as junk for another reason (a DMARC failure) is at least 6 whatever its
    /// score, so that 6 and above stays "filed as junk".
    pub fn spamtest(&self) -> u8 {
        match spamtest(self.score, self.threshold) {
            0 => 0,
            v if self.junk => v.max(6),
            v => v,
        }
    }

    /// The score header field, CRLF-terminated; None when nothing was scored (mode off, or an
    /// account still learning: its mail stays byte for byte as before the filter existed).
    pub fn header(&self) -> Option<String> {
        let score = format!("{:.2}", self.score?);
        let verdict = if self.junk { "junk" } else { "ham" };
        Some(format!(
            "{HEADER}: score={score} verdict={verdict} reason={} spamtest={}\r\n",
            self.reason.name(),
            self.spamtest()
        ))
    }
}

/// The name of the score header (any copy arriving with the message is removed at ingest).
pub const HEADER: &str = "X-Mailnook-Junk";

/// RFC 5235 §3.2: maps a score (None: not tested) to the spamtest value 0..=10. The RFC leaves
/// the scale to the server; ours hangs on the junk threshold so that a script can rely on it:
/// scores under the threshold give 1..=5, at or above it 6..=10 (each side cut into five equal
/// steps). So `spamtest :value "ge" "6"` is exactly "the filter says junk", and a message the
/// model knows nothing about (score 0.5, under the default 0.555) is a 5.
pub fn spamtest(score: Option<f64>, threshold: f64) -> u8 {
    let Some(s) = score else { return 0 };
    let (s, t) = (s.clamp(0.0, 1.0), threshold.clamp(f64::EPSILON, 1.0));
    if s < t {
        1 + ((s / t) * 5.0).floor().min(4.0) as u8
    } else if t >= 1.0 {
        10
    } else {
        6 + (((s - t) / (1.0 - t)) * 5.0).floor().min(4.0) as u8
    }
}

/// What the verdict needs besides the account's model.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The From address, lower-cased.
    pub from: Option<String>,
    pub list: bool,
    /// Sender authentication already decided on Junk.
    pub auth_junk: bool,
}

/// The account's mode: its own choice, else the server's.
pub fn mode(a: &JunkAccount, cfg: &JunkConfig) -> Mode {
    a.mode.as_deref().and_then(Mode::parse).unwrap_or(cfg.mode)
}

/// Whether the account's model scores messages: its mode is not off and it has trained at
/// least `min` spam and `min` ham messages.
pub fn ready(a: &JunkAccount, cfg: &JunkConfig) -> bool {
    let min = cfg.min_trained.max(1);
    mode(a, cfg) != Mode::Off && a.spam >= min && a.ham >= min
}

/// Scores the tokens against the account's model (`a`, read in the snapshot `r`); None when
/// the model is not [`ready`]. Counts come from the decoded copy (`cache.rs`).
pub fn score(
    r: &Reader,
    acct: AccountId,
    a: &JunkAccount,
    tokens: &[u64],
    header: &[bool],
    cfg: &JunkConfig,
) -> Result<Option<f64>> {
    if !ready(a, cfg) {
        return Ok(None);
    }
    let totals = Totals {
        spam: a.spam,
        ham: a.ham,
    };
    Ok(Some(of_counts(
        &super::cache::counts(r, acct, a, tokens)?,
        header,
        totals,
    )))
}

/// The score of a message from the counts of its tokens and which of them are header facts
/// (`header`, parallel to `counts`): the two halves are scored apart
/// ([`classifier::score_half`], [`classifier::combine_halves`]). The offline tuning uses this
/// too.
pub fn of_counts(counts: &[(u32, u32)], header: &[bool], totals: Totals) -> f64 {
    of_counts_with(
        counts,
        header,
        totals,
        &classifier::TEXT,
        &classifier::HEADER,
    )
}

/// [`of_counts`] with explicit constants for the halves (the offline tuning sweeps them).
pub fn of_counts_with(
    counts: &[(u32, u32)],
    header: &[bool],
    totals: Totals,
    text_half: &classifier::Half,
    header_half: &classifier::Half,
) -> f64 {
    let (mut text, mut head) = (Vec::new(), Vec::new());
    for (i, &(spam, ham)) in counts.iter().enumerate() {
        let c = TokenCounts { spam, ham };
        if header.get(i).copied().unwrap_or(false) {
            head.push(c);
        } else {
            text.push(c);
        }
    }
    classifier::combine_halves(
        classifier::score_half(&text, totals, text_half),
        classifier::score_half(&head, totals, header_half),
    )
}

/// The verdict of one account (`a`: its record, read in the snapshot `r`) on one message.
/// `score` is asked only when the verdict needs it (not for mode off or a correspondent), so
/// the caller can tokenize lazily, once for all recipients.
pub fn judge(
    r: &Reader,
    acct: AccountId,
    a: &JunkAccount,
    cfg: &JunkConfig,
    facts: &Facts,
    score: impl FnOnce() -> Result<Option<f64>>,
) -> Result<Verdict> {
    let mode = mode(a, cfg);
    if mode == Mode::Off {
        return Ok(Verdict::new(None, facts.auth_junk, Reason::Off, cfg));
    }
    if facts.auth_junk {
        return Ok(Verdict::new(score()?, true, Reason::SenderAuth, cfg));
    }
    if let Some(from) = &facts.from
        && r.is_correspondent(acct, from)?
    {
        return Ok(Verdict::new(Some(0.0), false, Reason::Correspondent, cfg));
    }
    let Some(s) = score()? else {
        return Ok(Verdict::new(None, false, Reason::Untrained, cfg));
    };
    let mut v = Verdict::new(Some(s), s >= cfg.threshold, Reason::Statistics, cfg);
    v.reject = mode == Mode::Reject && s >= cfg.reject_threshold && !facts.list;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spamtest_values() {
        assert_eq!(spamtest(None, 0.555), 0);
        assert_eq!(spamtest(Some(0.0), 0.555), 1);
        assert_eq!(spamtest(Some(1.0), 0.555), 10);
        // No clue at all: under the threshold, the top of the "not junk" half.
        assert_eq!(spamtest(Some(0.5), 0.555), 5);
        assert_eq!(spamtest(Some(0.554), 0.555), 5);
        assert_eq!(spamtest(Some(0.555), 0.555), 6);
        assert_eq!(spamtest(Some(7.0), 0.555), 10);
        assert_eq!(spamtest(Some(1.0), 1.0), 10);
        assert_eq!(spamtest(Some(0.99), 1.0), 5);
        // Every score lands in 1..=10, and 6 and above is exactly the junk side.
        for t in [0.1, 0.5, 0.555, 0.9, 1.0] {
            for i in 0..=1000 {
                let s = f64::from(i) / 1000.0;
                let v = spamtest(Some(s), t);
                assert!((1..=10).contains(&v));
                assert_eq!(v >= 6, s >= t, "score {s} threshold {t}");
            }
        }
    }

    #[test]
    fn header_text() {
        let cfg = JunkConfig::default();
        let v = Verdict::new(Some(0.973), true, Reason::Statistics, &cfg);
        assert_eq!(
            v.header().as_deref(),
            Some("X-Mailnook-Junk: score=0.97 verdict=junk reason=bayes spamtest=10\r\n")
        );
        assert_eq!(Verdict::new(None, false, Reason::Off, &cfg).header(), None);
        // Filed as junk by DMARC with a low score: still on the junk side of the scale.
        assert_eq!(
            Verdict::new(Some(0.1), true, Reason::SenderAuth, &cfg).spamtest(),
            6
        );
        assert_eq!(
            Verdict::new(Some(0.1), false, Reason::Statistics, &cfg).spamtest(),
            1
        );
        assert_eq!(
            Verdict::new(None, false, Reason::Untrained, &cfg).header(),
            None
        );
    }
}
