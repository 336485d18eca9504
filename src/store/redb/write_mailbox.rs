//! Mailbox and email reads inside a write transaction, for JMAP Mailbox/set and Email/set
//! (RFC 8621 §2.5, §4.6), which validate against exactly the state they change.

use super::write::Writer;
use crate::store::error::Result;
use crate::store::model::{AccountId, EmailMeta, EmailState, Mailbox};
use redb::ReadableTable;

impl Writer<'_> {
    /// Every mailbox of the account, as of this transaction.
    pub fn all_mailboxes(&self, acct: AccountId) -> Result<Vec<Mailbox>> {
        let mut out = Vec::new();
        for row in self.mailboxes.range((acct, 0)..=(acct, u32::MAX))? {
            let (_, v) = row?;
            out.push(serde_json::from_slice(v.value())?);
        }
        Ok(out)
    }

    /// The ids of the emails in a mailbox.
    pub fn mailbox_email_ids(&self, acct: AccountId, mailbox: u32) -> Result<Vec<u32>> {
        let mut out = Vec::new();
        for row in self
            .mailbox_emails
            .range((acct, mailbox, i64::MIN, 0)..=(acct, mailbox, i64::MAX, u32::MAX))?
        {
            let (k, _) = row?;
            out.push(k.value().3);
        }
        Ok(out)
    }

    /// An email's mutable state, if it exists.
    pub fn find_email(&self, acct: AccountId, id: u32) -> Result<Option<EmailState>> {
        match self.emails.get((acct, id))? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value())?)),
            None => Ok(None),
        }
    }

    /// An email's stored summary, if it exists.
    pub fn find_email_meta(&self, acct: AccountId, id: u32) -> Result<Option<EmailMeta>> {
        match self.email_meta.get((acct, id))? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value())?)),
            None => Ok(None),
        }
    }
}
