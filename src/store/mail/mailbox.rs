//! Mailbox rules: the mailboxes a new account starts with and the roles a mailbox may carry.

use crate::store::model::{Mailbox, MailboxCounts};

/// The mailboxes every new account starts with (RFC 8621 §2 roles, RFC 6154 names).
pub const DEFAULT_MAILBOXES: [(&str, &str); 6] = [
    ("Inbox", "inbox"),
    ("Drafts", "drafts"),
    ("Sent", "sent"),
    ("Archive", "archive"),
    ("Junk", "junk"),
    ("Trash", "trash"),
];

/// Roles a mailbox may carry (IANA "IMAP Mailbox Name Attributes" registry, RFC 8457).
pub const VALID_ROLES: [&str; 10] = [
    "all",
    "archive",
    "drafts",
    "flagged",
    "important",
    "inbox",
    "junk",
    "sent",
    "subscribed",
    "trash",
];

/// The default mailboxes of a new account, in order, without ids (the backend numbers them).
pub fn defaults() -> Vec<Mailbox> {
    DEFAULT_MAILBOXES
        .iter()
        .zip(1u32..)
        .map(|((name, role), i)| Mailbox {
            id: 0,
            name: (*name).to_string(),
            parent_id: None,
            role: Some((*role).to_string()),
            sort_order: i * 10,
            is_subscribed: true,
            counts: MailboxCounts::default(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_carry_valid_roles_in_order() {
        let d = defaults();
        assert_eq!(d.len(), 6);
        assert_eq!(d[0].role.as_deref(), Some("inbox"));
        assert_eq!(d[5].sort_order, 60);
        for m in &d {
            assert!(VALID_ROLES.contains(&m.role.as_deref().unwrap_or("")));
        }
    }
}
