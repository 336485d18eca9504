//! The stored data model: plain structs, serialised as JSON values in redb tables.
//!
//! Numeric ids are per account (u32) and are turned into short, URL-safe, stable strings for the
//! wire by [`IdKind::encode`]: a one-letter prefix for the type and the number in base 32.
//! A blob id is `b` + the hex SHA-256 of the bytes, so equal bytes share one blob.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub type AccountId = u32;

/// The kinds of object that carry a state string and a changelog (RFC 8620 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[repr(u8)]
pub enum DataType {
    Mailbox = 1,
    Email = 2,
    Thread = 3,
    Identity = 4,
    EmailSubmission = 5,
    VacationResponse = 6,
    PushSubscription = 7,
    /// Deliveries and flag changes that alter Email/query results; used for queryState.
    EmailDelivery = 8,
    /// Sieve scripts (RFC 9661).
    SieveScript = 12,
    /// Quota objects (RFC 9425): their `used` figures and limits.
    Quota = 20,
}

impl DataType {
    pub const ALL: [DataType; 10] = [
        DataType::Mailbox,
        DataType::Email,
        DataType::Thread,
        DataType::Identity,
        DataType::EmailSubmission,
        DataType::VacationResponse,
        DataType::PushSubscription,
        DataType::EmailDelivery,
        DataType::SieveScript,
        DataType::Quota,
    ];
    pub fn from_u8(v: u8) -> Option<DataType> {
        DataType::ALL.into_iter().find(|t| *t as u8 == v)
    }
    /// The JMAP type name used in StateChange events (RFC 8620 §7.1).
    pub fn jmap_name(self) -> &'static str {
        match self {
            DataType::Mailbox => "Mailbox",
            DataType::Email => "Email",
            DataType::Thread => "Thread",
            DataType::Identity => "Identity",
            DataType::EmailSubmission => "EmailSubmission",
            DataType::VacationResponse => "VacationResponse",
            DataType::PushSubscription => "PushSubscription",
            DataType::EmailDelivery => "EmailDelivery",
            DataType::SieveScript => "SieveScript",
            DataType::Quota => "Quota",
        }
    }
}

/// What happened to an object at one modseq.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[repr(u8)]
pub enum ChangeKind {
    Created = 1,
    Updated = 2,
    Destroyed = 3,
    /// Only server-computed counts changed (Mailbox/changes `updatedProperties`, RFC 8621 §2.2).
    CountsUpdated = 4,
}

impl ChangeKind {
    pub fn from_u8(v: u8) -> Option<ChangeKind> {
        match v {
            1 => Some(ChangeKind::Created),
            2 => Some(ChangeKind::Updated),
            3 => Some(ChangeKind::Destroyed),
            4 => Some(ChangeKind::CountsUpdated),
            _ => None,
        }
    }
}

/// The wire id prefixes. One letter per type keeps ids short and makes a wrong-type id obvious.
#[derive(Debug, Clone, Copy)]
pub enum IdKind {
    Account,
    Mailbox,
    Email,
    Thread,
    Identity,
    Submission,
    /// Quota objects (RFC 9425): `qa` storage, `qb` message count.
    Quota,
}

const B32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

impl IdKind {
    fn prefix(self) -> char {
        match self {
            IdKind::Account => 'a',
            IdKind::Mailbox => 'f',
            IdKind::Email => 'm',
            IdKind::Thread => 't',
            IdKind::Identity => 'i',
            IdKind::Submission => 's',
            IdKind::Quota => 'q',
        }
    }
    pub fn encode(self, n: u32) -> String {
        let mut s = String::with_capacity(8);
        s.push(self.prefix());
        let mut digits = Vec::with_capacity(7);
        let mut v = n;
        loop {
            digits.push(B32[(v % 32) as usize]);
            v /= 32;
            if v == 0 {
                break;
            }
        }
        digits.reverse();
        s.extend(digits.into_iter().map(char::from));
        s
    }
    /// Decodes a wire id; `None` for anything malformed (callers report notFound).
    pub fn decode(self, s: &str) -> Option<u32> {
        let rest = s.strip_prefix(self.prefix())?;
        if rest.is_empty() || rest.len() > 7 || (rest.len() > 1 && rest.starts_with('a')) {
            return None;
        }
        let mut v: u64 = 0;
        for c in rest.bytes() {
            let d = B32.iter().position(|b| *b == c)? as u64;
            v = v * 32 + d;
        }
        u32::try_from(v).ok()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub id: AccountId,
    /// The login name: the account's primary address, lower-cased.
    pub name: String,
    /// PHC string of an argon2id hash.
    pub password_hash: String,
    pub admin: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Mailbox {
    pub id: u32,
    pub name: String,
    pub parent_id: Option<u32>,
    pub role: Option<String>,
    pub sort_order: u32,
    pub is_subscribed: bool,
    #[serde(default)]
    pub counts: MailboxCounts,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct MailboxCounts {
    pub total_emails: u32,
    pub unread_emails: u32,
    pub total_threads: u32,
    pub unread_threads: u32,
}

/// An address as JMAP's EmailAddress (RFC 8621 §4.1.2.3).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EmailAddress {
    pub name: Option<String>,
    pub email: String,
}

/// The immutable, parsed facts about a message, computed once at ingest.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EmailMeta {
    pub message_id: Option<Vec<String>>,
    pub in_reply_to: Option<Vec<String>>,
    pub references: Option<Vec<String>>,
    pub sender: Option<Vec<EmailAddress>>,
    pub from: Option<Vec<EmailAddress>>,
    pub to: Option<Vec<EmailAddress>>,
    pub cc: Option<Vec<EmailAddress>>,
    pub bcc: Option<Vec<EmailAddress>>,
    pub reply_to: Option<Vec<EmailAddress>>,
    pub subject: Option<String>,
    /// RFC 3339 with the sender's offset, from the Date header.
    pub sent_at: Option<String>,
    pub preview: String,
    pub has_attachment: bool,
    /// Subject with Re:/Fwd:/[list] prefixes stripped, lower-cased: the thread key.
    pub base_subject: String,
}

/// A sending identity (RFC 8621 §6).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Identity {
    pub id: u32,
    pub name: String,
    pub email: String,
    pub reply_to: Option<Vec<EmailAddress>>,
    pub bcc: Option<Vec<EmailAddress>>,
    pub text_signature: String,
    pub html_signature: String,
    pub may_delete: bool,
}

/// The account's vacation response settings (RFC 8621 §8); dates are Unix seconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct VacationResponse {
    pub is_enabled: bool,
    pub from_date: Option<i64>,
    pub to_date: Option<i64>,
    pub subject: Option<String>,
    pub text_body: Option<String>,
    pub html_body: Option<String>,
}

/// The mutable part of an email: what JMAP Email/set may change.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EmailState {
    pub blob: String,
    pub thread_id: u32,
    pub mailbox_ids: Vec<u32>,
    pub keywords: BTreeMap<String, bool>,
    pub received_at: i64,
    pub size: u64,
}

impl EmailState {
    /// RFC 8621 §2: unread means neither `$seen` nor `$draft`.
    pub fn is_unread(&self) -> bool {
        !self.keywords.contains_key("$seen") && !self.keywords.contains_key("$draft")
    }
}

/// A new message on its way into the store (built by ingest).
#[derive(Debug, Clone)]
pub struct NewEmail {
    pub account: AccountId,
    pub mailbox_ids: Vec<u32>,
    pub keywords: BTreeMap<String, bool>,
    pub received_at: i64,
    pub meta: EmailMeta,
}

/// One entry of a changelog read: the object's id and what happened to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub modseq: u64,
    pub id: u32,
    pub kind: ChangeKind,
}

/// Summary of changes since a modseq, per RFC 8620 §5.2 rules.
#[derive(Debug, Clone, Default)]
pub struct ChangeSet {
    /// True when every update in `updated` only changed server-computed counts.
    pub only_counts: bool,
    pub created: Vec<u32>,
    pub updated: Vec<u32>,
    pub destroyed: Vec<u32>,
    pub new_modseq: u64,
    pub has_more: bool,
}

/// A push subscription (RFC 8620 §7.2). Not tied to an account's data, but to the user who
/// created it (stored under the user's account id).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PushSubscription {
    pub id: String,
    pub device_client_id: String,
    /// Where pushes go (https only).
    pub url: String,
    /// Client keys for RFC 8291 encryption ({"p256dh", "auth"}), stored as given.
    pub keys: Option<serde_json::Value>,
    /// The code the server sent in the PushVerification object.
    pub code: String,
    /// True once the client set `verificationCode` to `code`.
    pub verified: bool,
    /// Unix seconds after which the subscription is dead.
    pub expires: i64,
    /// Type names to push, or None for all.
    pub types: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn ids_round_trip() {
        for n in [0u32, 1, 31, 32, 1000, u32::MAX] {
            let s = IdKind::Email.encode(n);
            assert_eq!(IdKind::Email.decode(&s), Some(n), "{s}");
        }
        assert_eq!(IdKind::Email.decode("t1"), None);
        assert_eq!(IdKind::Email.decode("m"), None);
        assert_eq!(IdKind::Email.decode("maab"), None);
        assert_eq!(IdKind::Email.decode("m!"), None);
    }
}

/// A Sieve script of an account (RFC 9661 SieveScript, RFC 5804 scripts). The text is a blob
/// (content-addressed, referenced by the account); `compiled` is the serialised compiled form
/// (`sieve::Program` as JSON, made when the script is stored) so a delivery never reparses it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SieveScript {
    pub id: u32,
    pub name: String,
    /// Hex SHA-256 of the script text in `BLOBS`.
    pub blob: String,
    pub is_active: bool,
    pub compiled: String,
}
