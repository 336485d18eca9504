//! Mailbox and email reads inside a write transaction, for JMAP Mailbox/set and Email/set
//! (RFC 8621 §2.5, §4.6), which validate against exactly the state they change. Read through
//! the backend interface (`store/mail/read.rs`).

use super::write::Writer;
use crate::store::error::Result;
use crate::store::mail::read;
use crate::store::mail::tables::Records;
use crate::store::model::{AccountId, EmailMeta, EmailState, Mailbox};

impl Writer<'_> {
    /// Every mailbox of the account, as of this transaction.
    pub fn all_mailboxes(&self, acct: AccountId) -> Result<Vec<Mailbox>> {
        read::mailboxes(&self.mailboxes, acct)
    }

    /// The ids of the emails in a mailbox.
    pub fn mailbox_email_ids(&self, acct: AccountId, mailbox: u32) -> Result<Vec<u32>> {
        read::mailbox_email_ids(&self.mailbox_emails, acct, mailbox)
    }

    /// An email's mutable state, if it exists.
    pub fn find_email(&self, acct: AccountId, id: u32) -> Result<Option<EmailState>> {
        self.emails.record((acct, id))
    }

    /// An email's stored summary, if it exists.
    pub fn find_email_meta(&self, acct: AccountId, id: u32) -> Result<Option<EmailMeta>> {
        self.email_meta.record((acct, id))
    }
}
