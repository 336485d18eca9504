//! Mailbox counts (RFC 8621 §2 totalEmails, unreadEmails, totalThreads, unreadThreads), moved
//! one email at a time. A backend keeps, per (mailbox, thread), how many of the thread's emails
//! are in the mailbox and how many of those are unread; a thread counts in a mailbox while it
//! has at least one email there, and as unread while one of those is unread.

use crate::store::model::MailboxCounts;

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
