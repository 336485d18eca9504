//! Stored records of the sending side (`src/outbound/`, `jmap/email_submission.rs`): the
//! outbound queue, DKIM keys and EmailSubmission objects (RFC 8621 §7).

use super::model::AccountId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where one recipient of a queued message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RcptState {
    /// Not delivered yet; tried again at `next_attempt`.
    Pending,
    /// Accepted by the next hop (or delivered locally).
    Delivered,
    /// Permanently refused, or given up after the retry period.
    Failed,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct QueuedRecipient {
    pub address: String,
    pub state: RcptState,
    /// The last SMTP reply (or our own text for local and connection failures).
    pub reply: String,
    /// Delivered into a mailbox on this server (not relayed): RFC 8621 §7 deliveryStatus can
    /// then say "yes" rather than "unknown".
    #[serde(default)]
    pub local: bool,
}

/// One message in the outbound queue with its envelope and per-recipient status.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct QueuedMessage {
    pub id: u64,
    /// The local account that sent it (bounces go there); None for mail the server makes.
    pub account: Option<AccountId>,
    /// The EmailSubmission whose deliveryStatus follows this message.
    pub submission: Option<u32>,
    /// MAIL FROM; empty for the null sender (bounces, auto-replies).
    pub mail_from: String,
    /// Hex SHA-256 of the message in `BLOBS` (referenced by the queue owner).
    pub blob: String,
    pub size: u64,
    pub created: i64,
    /// Unix seconds of the next delivery attempt.
    pub next_attempt: i64,
    pub attempts: u32,
    pub recipients: Vec<QueuedRecipient>,
    /// Mail not written here, passed on: a bounce to an SRS address forwarded to the sender
    /// it stands for (`smtp/mx.rs`). Never DKIM-signed: a signature would vouch for whatever
    /// `From:` a stranger put in it.
    #[serde(default)]
    pub relayed: bool,
}

impl QueuedMessage {
    pub fn pending(&self) -> impl Iterator<Item = &QueuedRecipient> {
        self.recipients
            .iter()
            .filter(|r| r.state == RcptState::Pending)
    }
}

/// A DKIM signing key (RFC 6376 §3.6; ed25519 per RFC 8463).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DkimKey {
    pub domain: String,
    pub selector: String,
    /// "rsa" or "ed25519" (the `k=` tag).
    pub algorithm: String,
    /// PKCS#1 DER (RSA) or PKCS#8 DER (ed25519), base64.
    pub private_key: String,
    /// The `p=` value: SubjectPublicKeyInfo DER (RSA) or the raw key (ed25519), base64.
    pub public_key: String,
    pub created: i64,
}

/// An SMTP envelope address with its parameters (RFC 8621 §7 Address).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EnvelopeAddress {
    pub email: String,
    pub parameters: Option<BTreeMap<String, Option<String>>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeliveryStatus {
    pub smtp_reply: String,
    /// "queued", "yes", "no" or "unknown".
    pub delivered: String,
    /// "unknown" or "yes".
    pub displayed: String,
}

impl DeliveryStatus {
    /// A recipient's status; `displayed` stays "unknown" (no MDNs are processed).
    pub fn new(smtp_reply: &str, delivered: &str) -> DeliveryStatus {
        DeliveryStatus {
            smtp_reply: smtp_reply.to_string(),
            delivered: delivered.to_string(),
            displayed: "unknown".into(),
        }
    }
}

/// An EmailSubmission (RFC 8621 §7).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Submission {
    pub id: u32,
    pub identity_id: String,
    pub email_id: u32,
    pub thread_id: u32,
    pub mail_from: EnvelopeAddress,
    pub rcpt_to: Vec<EnvelopeAddress>,
    pub send_at: i64,
    /// "pending", "final" or "canceled".
    pub undo_status: String,
    /// Keyed by recipient address.
    pub delivery_status: BTreeMap<String, DeliveryStatus>,
    pub dsn_blob_ids: Vec<String>,
    /// The queue entry while it exists.
    pub queue_id: Option<u64>,
}
