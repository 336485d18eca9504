//! Mailbox counts (RFC 8621 §2 totalEmails, unreadEmails, totalThreads, unreadThreads), moved
//! one email at a time. A backend keeps, per (mailbox, thread), how many of the thread's emails
//! are in the mailbox and how many of those are unread; a thread counts in a mailbox while it
//! has at least one email there, and as unread while one of those is unread.
//!
//! [`adjust`] keeps them in the same transaction as the change that moves them, over the
//! backend interface (`store/backend.rs`): tables `MAILBOXES` and `MAILBOX_THREADS`.

use super::tables::{Records, json};
use crate::store::backend::TableMut;
use crate::store::error::{Result, StoreError};
use crate::store::model::{AccountId, EmailState, Mailbox, MailboxCounts};
use std::collections::BTreeMap;

/// Moves the counts of the mailboxes `old` and `new` are in (either may be absent: a new or a
/// destroyed email) for one email of `thread`. Returns the mailboxes whose counts changed; the
/// caller logs a `CountsUpdated` change for each.
pub fn adjust(
    mailboxes: &mut impl TableMut<(u32, u32), &'static [u8]>,
    mailbox_threads: &mut impl TableMut<(u32, u32, u32), (u32, u32)>,
    acct: AccountId,
    thread: u32,
    old: Option<&EmailState>,
    new: Option<&EmailState>,
) -> Result<Vec<u32>> {
    // mailbox id -> (the record being updated, its counts before this change)
    let mut touched: BTreeMap<u32, (Mailbox, MailboxCounts)> = BTreeMap::new();
    let moves = old.map(|o| (o, -1)).into_iter().chain(new.map(|n| (n, 1)));
    for (st, sign) in moves {
        let unread = st.is_unread();
        for m in &st.mailbox_ids {
            if !touched.contains_key(m) {
                let mb: Mailbox = mailboxes.record((acct, *m))?.ok_or(StoreError::NotFound)?;
                let before = mb.counts;
                touched.insert(*m, (mb, before));
            }
            let Some((mb, _)) = touched.get_mut(m) else {
                continue;
            };
            let before = mailbox_threads
                .get((acct, *m, thread), |v| v)?
                .unwrap_or((0, 0));
            let (e2, u2) = apply(&mut mb.counts, before, sign, unread);
            if e2 == 0 {
                mailbox_threads.remove((acct, *m, thread))?;
            } else {
                mailbox_threads.insert((acct, *m, thread), (e2, u2))?;
            }
        }
    }
    let mut changed = Vec::new();
    for (id, (mb, before)) in touched {
        if before != mb.counts {
            mailboxes.insert((acct, id), &json(&mb)?)?;
            changed.push(id);
        }
    }
    Ok(changed)
}

/// One email entering (`sign` = 1) or leaving (-1) a mailbox: moves the mailbox's counts and
/// returns the thread's new (emails, unread) in that mailbox, given the old pair.
pub fn apply(c: &mut MailboxCounts, thread: (u32, u32), sign: i64, unread: bool) -> (u32, u32) {
    let (emails, unreads) = thread;
    // Counts never go below zero, even if an older binary left them off by one.
    let add = |v: u32, d: i64| (i64::from(v) + d).max(0) as u32;
    let e2 = add(emails, sign);
    let u2 = add(unreads, if unread { sign } else { 0 });
    c.total_emails = add(c.total_emails, sign);
    if unread {
        c.unread_emails = add(c.unread_emails, sign);
    }
    if emails == 0 && e2 > 0 {
        c.total_threads += 1;
    } else if emails > 0 && e2 == 0 {
        c.total_threads = c.total_threads.saturating_sub(1);
    }
    if unreads == 0 && u2 > 0 {
        c.unread_threads += 1;
    } else if unreads > 0 && u2 == 0 {
        c.unread_threads = c.unread_threads.saturating_sub(1);
    }
    (e2, u2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_counts_once_while_it_has_mail_in_the_mailbox() {
        let mut c = MailboxCounts::default();
        let t = apply(&mut c, (0, 0), 1, true);
        let t = apply(&mut c, t, 1, false);
        assert_eq!((c.total_emails, c.unread_emails), (2, 1));
        assert_eq!((c.total_threads, c.unread_threads), (1, 1));
        let t = apply(&mut c, t, -1, true);
        assert_eq!((c.total_threads, c.unread_threads), (1, 0));
        let t = apply(&mut c, t, -1, false);
        assert_eq!(t, (0, 0));
        assert_eq!(c, MailboxCounts::default());
    }
}
