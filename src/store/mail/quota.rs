//! Quota rules (RFC 9425), functions of values: the effective limits of an account, whether a
//! new message fits, and how the warning state moves.
//!
//! What counts: every email counts its full size (RFC 8621 `size`, the octets of its raw
//! message) and one message, even when several emails share one stored blob (a message sent to
//! two addresses of the same account, a copy): this is what the user sees in Email/get and
//! what IMAP's QUOTA STORAGE counts (RFC 9208 §5.1), and it makes `used` the sum of the
//! sizes the client can add up. Uploads (unreferenced blobs) have their own budget
//! (`jmap/upload.rs`, RFC 8620 §6) and do not count.

use crate::store::model_quota::{Limit, QuotaLimits, WarnState};

/// The warning percentage when neither the account nor the server set one.
pub const DEFAULT_WARN_PERCENT: u8 = 90;

fn one(hard: Option<u64>, warn: Option<u64>, percent: u8) -> Limit {
    let hard = hard.filter(|h| *h > 0);
    let warn = match warn {
        Some(0) => None,
        Some(w) => Some(w),
        None => hard.map(|h| ((h as u128 * u128::from(percent.min(100))) / 100) as u64),
    }
    .filter(|w| *w > 0);
    Limit { hard, warn }
}

/// The account's limits over the server default: (storage in octets, message count).
pub fn effective(own: &QuotaLimits, default: &QuotaLimits) -> (Limit, Limit) {
    let percent = own
        .warn_percent
        .or(default.warn_percent)
        .unwrap_or(DEFAULT_WARN_PERCENT);
    // An account's own hard limit brings its own warning limit (a default's absolute warning
    // limit would not fit it).
    let storage_warn = own.storage_warn.or(if own.storage.is_some() {
        None
    } else {
        default.storage_warn
    });
    let messages_warn = own.messages_warn.or(if own.messages.is_some() {
        None
    } else {
        default.messages_warn
    });
    (
        one(own.storage.or(default.storage), storage_warn, percent),
        one(own.messages.or(default.messages), messages_warn, percent),
    )
}

/// Why a message of `size` octets may not be added, if it may not: the hard limit may be
/// reached, not passed (RFC 9425 `hardLimit`).
pub fn refuse(used: (u64, u64), size: u64, storage: Limit, count: Limit) -> Option<String> {
    if let Some(h) = storage.hard
        && used.0.saturating_add(size) > h
    {
        return Some(format!(
            "over the storage quota: {} of {h} octets used, the message has {size}",
            used.0
        ));
    }
    if let Some(h) = count.hard
        && used.1.saturating_add(1) > h
    {
        return Some(format!(
            "over the message quota: {} of {h} messages",
            used.1
        ));
    }
    None
}

/// Whether an account with these figures is at or over a hard limit (nothing more fits).
pub fn full(used: (u64, u64), storage: Limit, count: Limit) -> bool {
    storage.hard.is_some_and(|h| used.0 >= h) || count.hard.is_some_and(|h| used.1 >= h)
}

/// The warning state after usage became `used`: crossing a warning limit while armed asks for
/// one warning; dropping below every warning limit re-arms.
pub fn warn_after(state: WarnState, used: (u64, u64), storage: Limit, count: Limit) -> WarnState {
    let over = storage.warn.is_some_and(|w| used.0 >= w) || count.warn.is_some_and(|w| used.1 >= w);
    match (over, state) {
        (true, WarnState::Armed) => WarnState::Pending,
        (true, s) => s,
        (false, _) => WarnState::Armed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_limits_override_the_default_and_zero_is_unlimited() {
        let default = QuotaLimits {
            storage: Some(1000),
            messages: Some(10),
            ..Default::default()
        };
        let (s, c) = effective(&QuotaLimits::default(), &default);
        assert_eq!(
            s,
            Limit {
                hard: Some(1000),
                warn: Some(900)
            }
        );
        assert_eq!(
            c,
            Limit {
                hard: Some(10),
                warn: Some(9)
            }
        );
        let own = QuotaLimits {
            storage: Some(0),
            messages_warn: Some(5),
            warn_percent: Some(50),
            ..Default::default()
        };
        let (s, c) = effective(&own, &default);
        assert_eq!(
            s,
            Limit {
                hard: None,
                warn: None
            }
        );
        assert_eq!(
            c,
            Limit {
                hard: Some(10),
                warn: Some(5)
            }
        );
    }

    #[test]
    fn the_hard_limit_may_be_reached_not_passed() {
        let s = Limit {
            hard: Some(100),
            warn: None,
        };
        let c = Limit {
            hard: Some(3),
            warn: None,
        };
        assert!(refuse((60, 0), 40, s, c).is_none());
        assert!(refuse((60, 0), 41, s, c).is_some());
        assert!(refuse((0, 2), 1, s, c).is_none());
        assert!(refuse((0, 3), 1, s, c).is_some());
        assert!(full((100, 0), s, c));
        assert!(!full((99, 2), s, c));
    }

    #[test]
    fn one_warning_per_crossing() {
        let s = Limit {
            hard: Some(100),
            warn: Some(90),
        };
        let c = Limit::default();
        let st = warn_after(WarnState::Armed, (80, 1), s, c);
        assert_eq!(st, WarnState::Armed);
        let st = warn_after(st, (95, 2), s, c);
        assert_eq!(st, WarnState::Pending);
        assert_eq!(warn_after(WarnState::Sent, (99, 3), s, c), WarnState::Sent);
        assert_eq!(warn_after(WarnState::Sent, (10, 1), s, c), WarnState::Armed);
    }
}

/// Outbound counts (see `quota/send.rs`) --------------------------------------------------
use crate::store::error::StoreError;
use crate::store::model_quota::{SendLimits, SentCounts};

/// One stored counter row: (hour, messages, recipients in it, day, messages, recipients).
pub type SendRow = (i64, u32, u32, i64, u32, u32);

/// The counts of the current hour and day from a stored row (older windows count zero).
pub fn sent_now(row: Option<SendRow>, now: i64) -> SentCounts {
    let (hour, day) = (now.div_euclid(3600), now.div_euclid(86_400));
    let Some((h, mh, rh, d, md, rd)) = row else {
        return SentCounts::default();
    };
    let (messages_hour, recipients_hour) = if h == hour { (mh, rh) } else { (0, 0) };
    let (messages_day, recipients_day) = if d == day { (md, rd) } else { (0, 0) };
    SentCounts {
        messages_hour,
        recipients_hour,
        messages_day,
        recipients_day,
    }
}

/// The row after sending one message to `recipients` at `now`.
pub fn sent_row(c: SentCounts, recipients: u32, now: i64) -> SendRow {
    (
        now.div_euclid(3600),
        c.messages_hour.saturating_add(1),
        c.recipients_hour.saturating_add(recipients),
        now.div_euclid(86_400),
        c.messages_day.saturating_add(1),
        c.recipients_day.saturating_add(recipients),
    )
}

/// Why one more message to `recipients` may not go, if it may not (0 is no limit).
pub fn send_refuse(c: &SentCounts, recipients: u32, l: &SendLimits) -> Option<StoreError> {
    let over = |used: u32, add: u32, limit: u32| limit > 0 && used.saturating_add(add) > limit;
    if over(c.messages_hour, 1, l.messages_per_hour) {
        return Some(StoreError::SendLimit {
            recipients: false,
            reason: format!("at most {} messages an hour", l.messages_per_hour),
        });
    }
    if over(c.messages_day, 1, l.messages_per_day) {
        return Some(StoreError::SendLimit {
            recipients: false,
            reason: format!("at most {} messages a day", l.messages_per_day),
        });
    }
    if over(c.recipients_hour, recipients, l.recipients_per_hour) {
        return Some(StoreError::SendLimit {
            recipients: true,
            reason: format!(
                "at most {} recipients an hour ({} used)",
                l.recipients_per_hour, c.recipients_hour
            ),
        });
    }
    if over(c.recipients_day, recipients, l.recipients_per_day) {
        return Some(StoreError::SendLimit {
            recipients: true,
            reason: format!(
                "at most {} recipients a day ({} used)",
                l.recipients_per_day, c.recipients_day
            ),
        });
    }
    None
}

#[cfg(test)]
mod send_tests {
    use super::*;

    #[test]
    fn windows_roll_over_and_limits_refuse() {
        let l = SendLimits {
            messages_per_hour: 2,
            messages_per_day: 3,
            recipients_per_hour: 5,
            recipients_per_day: 0,
        };
        let t = 10 * 86_400 + 100;
        let c = sent_now(None, t);
        assert!(send_refuse(&c, 5, &l).is_none());
        assert!(matches!(
            send_refuse(&c, 6, &l),
            Some(StoreError::SendLimit {
                recipients: true,
                ..
            })
        ));
        let row = sent_row(sent_row(c, 1, t).into_counts(t), 1, t);
        let c = sent_now(Some(row), t);
        assert_eq!(c.messages_hour, 2);
        assert!(matches!(
            send_refuse(&c, 1, &l),
            Some(StoreError::SendLimit {
                recipients: false,
                ..
            })
        ));
        // The next hour: the hourly count starts again, the daily one does not.
        let c = sent_now(Some(row), t + 3600);
        assert_eq!((c.messages_hour, c.messages_day), (0, 2));
        assert!(send_refuse(&c, 1, &l).is_none());
        let c = sent_now(Some(sent_row(c, 1, t + 3600)), t + 3600);
        assert!(send_refuse(&c, 1, &l).is_some(), "three a day");
    }

    trait IntoCounts {
        fn into_counts(self, now: i64) -> SentCounts;
    }
    impl IntoCounts for SendRow {
        fn into_counts(self, now: i64) -> SentCounts {
            sent_now(Some(self), now)
        }
    }
}
