//! Mailbox rules: the mailboxes a new account starts with and the roles a mailbox may carry.

use super::tables::{Records, Schema, Tables, any, json};
use crate::store::backend::TableMut;
use crate::store::error::{Result, StoreError};
use crate::store::model::{AccountId, ChangeKind, DataType, Mailbox, MailboxCounts};
use crate::store::slot;

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

impl<S: Schema> Tables<'_, S> {
    fn mailbox(&self, acct: AccountId, id: u32) -> Result<Mailbox> {
        self.mailboxes
            .record((acct, id))?
            .ok_or(StoreError::NotFound)
    }

    /// Creates or replaces a mailbox record after the caller validated it (jmap/mailbox.rs).
    /// Counts are kept from the stored record: they are server-set.
    pub fn put_mailbox(&mut self, acct: AccountId, mut mb: Mailbox, created: bool) -> Result<u32> {
        if created {
            mb.id = self.next_id(acct, slot::NEXT_MAILBOX)?;
            mb.counts = MailboxCounts::default();
        } else {
            mb.counts = self.mailbox(acct, mb.id)?.counts;
        }
        self.mailboxes.insert((acct, mb.id), &json(&mb)?)?;
        let kind = if created {
            ChangeKind::Created
        } else {
            ChangeKind::Updated
        };
        self.log(acct, DataType::Mailbox, mb.id, kind)?;
        Ok(mb.id)
    }

    /// Removes an empty mailbox record (callers move or destroy its emails first).
    pub fn remove_mailbox(&mut self, acct: AccountId, id: u32) -> Result<()> {
        let (lo, hi) = ((acct, id, i64::MIN, 0), (acct, id, i64::MAX, u32::MAX));
        if any(&*self.mailbox_emails, lo, hi)? {
            return Err(StoreError::Conflict("mailboxHasEmail".into()));
        }
        if !super::tables::exists(&*self.mailboxes, (acct, id))? {
            return Err(StoreError::NotFound);
        }
        self.mailboxes.remove((acct, id))?;
        self.log(acct, DataType::Mailbox, id, ChangeKind::Destroyed)?;
        Ok(())
    }

    /// The default mailboxes of a new account, numbered and logged as created.
    pub fn create_default_mailboxes(&mut self, acct: AccountId) -> Result<()> {
        for mut mb in defaults() {
            mb.id = self.next_id(acct, slot::NEXT_MAILBOX)?;
            self.mailboxes.insert((acct, mb.id), &json(&mb)?)?;
            self.log(acct, DataType::Mailbox, mb.id, ChangeKind::Created)?;
        }
        Ok(())
    }
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
