//! One token bucket for every rate the server keeps: login failures per client and per account
//! (`login.rs`), new connections per address (`admission.rs`), push POSTs per account
//! (`http/pusher.rs`). A bucket holds at most `burst` tokens and refills continuously at
//! `per_minute`; the caller keeps the two numbers (they are the same for a whole family of
//! buckets) and the bucket keeps only its level and when it was last refilled.

use std::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct TokenBucket {
    pub tokens: f64,
    pub refilled: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn full(burst: f64, now: Instant) -> TokenBucket {
        TokenBucket {
            tokens: burst,
            refilled: now,
        }
    }

    /// Adds what `per_minute` earned since the last refill, up to `burst`.
    pub fn refill(&mut self, now: Instant, burst: f64, per_minute: f64) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * per_minute / 60.0).min(burst);
        self.refilled = now;
    }

    /// Refills, then takes one token if there is one.
    pub fn take(&mut self, now: Instant, burst: f64, per_minute: f64) -> bool {
        self.refill(now, burst, per_minute);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// Whether the bucket would be full by `now` (an idle entry a map may forget).
    pub fn full_by(&self, now: Instant, burst: f64, per_minute: f64) -> bool {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens + elapsed * per_minute / 60.0 >= burst
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn takes_refills_and_caps() {
        let t0 = Instant::now();
        let mut b = TokenBucket::full(2.0, t0);
        assert!(b.take(t0, 2.0, 60.0));
        assert!(b.take(t0, 2.0, 60.0));
        assert!(!b.take(t0, 2.0, 60.0), "empty");
        assert!(
            b.take(t0 + Duration::from_secs(1), 2.0, 60.0),
            "one a second back"
        );
        b.refill(t0 + Duration::from_secs(3600), 2.0, 60.0);
        assert_eq!(b.tokens, 2.0, "never above burst");
        assert!(b.full_by(t0 + Duration::from_secs(3600), 2.0, 60.0));
    }
}
