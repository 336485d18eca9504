//! What the model knows about one token, and Robinson's estimate of how spammy it is.
//!
//! The model of an account is a table of token -> (spam messages, ham messages, last day seen)
//! plus the number of spam and ham messages trained (`store/redb/junk.rs`). A token's
//! probability follows Gary Robinson, "A Statistical Approach to the Spam Problem" (2003):
//! the raw ratio p(w) = (s/S) / (s/S + h/H), pulled toward an assumed 0.5 with strength
//! [`STRENGTH`] so that a token seen once or twice cannot decide anything on its own:
//! f(w) = (STRENGTH * 0.5 + n * p(w)) / (STRENGTH + n), n = s + h.

/// Robinson's s: how many messages' worth of evidence the 0.5 prior is worth.
pub const STRENGTH: f64 = 0.45;
/// Ham evidence counts this many times its ratio (Graham's bias against false positives:
/// he doubled it). The header half of the score uses it; the text half uses 1.25
/// (`classifier.rs` says how both were chosen).
pub const HAM_WEIGHT: f64 = 1.5;
/// Robinson's x: the assumed probability of a token never seen.
pub const UNKNOWN: f64 = 0.5;

/// Counts of one token in an account's model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenCounts {
    pub spam: u32,
    pub ham: u32,
}

/// The message totals the ratios are taken against.
#[derive(Debug, Clone, Copy, Default)]
pub struct Totals {
    pub spam: u32,
    pub ham: u32,
}

/// Robinson's f(w) for a token with `c` counts, given the totals; None for a token never seen
/// (it carries no evidence and is left out of the combination).
pub fn probability(c: TokenCounts, t: Totals) -> Option<f64> {
    probability_with(c, t, &Params::default())
}

/// The tunable constants of [`probability`] (the offline tuning sweeps them).
#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub strength: f64,
    /// How much more a token's ham ratio weighs than its spam ratio (1: not at all).
    pub ham_weight: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            strength: STRENGTH,
            ham_weight: HAM_WEIGHT,
        }
    }
}

/// [`probability`] with explicit constants.
pub fn probability_with(c: TokenCounts, t: Totals, k: &Params) -> Option<f64> {
    let n = f64::from(c.spam) + f64::from(c.ham);
    if n == 0.0 || t.spam == 0 || t.ham == 0 {
        return None;
    }
    let spam_ratio = f64::from(c.spam) / f64::from(t.spam);
    let ham_ratio = (k.ham_weight * f64::from(c.ham) / f64::from(t.ham)).min(1.0);
    let p = spam_ratio / (spam_ratio + ham_ratio);
    Some((k.strength * UNKNOWN + n * p) / (k.strength + n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn robinson() {
        let t = Totals {
            spam: 100,
            ham: 100,
        };
        assert_eq!(probability(TokenCounts::default(), t), None);
        let once = probability(TokenCounts { spam: 1, ham: 0 }, t).unwrap_or(0.0);
        let often = probability(TokenCounts { spam: 50, ham: 0 }, t).unwrap_or(0.0);
        assert!(once > 0.5 && once < 0.9, "{once}");
        assert!(often > 0.99, "{often}");
        // Equal ratios lean to ham (HAM_WEIGHT); without the bias they are exactly even.
        let even = probability(TokenCounts { spam: 10, ham: 10 }, t).unwrap_or(1.0);
        assert!(even < 0.45, "{even}");
        let unbiased = Params {
            ham_weight: 1.0,
            ..Params::default()
        };
        let even = probability_with(TokenCounts { spam: 10, ham: 10 }, t, &unbiased);
        assert!((even.unwrap_or(0.0) - 0.5).abs() < 1e-9);
        // Ratios, not counts: 10 of 100 spam vs 10 of 1000 ham is a spam sign.
        let skew = probability(
            TokenCounts { spam: 10, ham: 10 },
            Totals {
                spam: 100,
                ham: 1000,
            },
        )
        .unwrap_or(0.0);
        assert!(skew > 0.85, "{skew}");
    }
}
