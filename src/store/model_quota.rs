//! Quota records (RFC 9425): the limits an admin set and the figures the store keeps.
//! The arithmetic (effective limits, what a write may do) is in `store/mail/quota.rs`.

use serde::{Deserialize, Serialize};

/// Limits as set for one account (`mailnook quota set`), or the server-wide default (the
/// config's `[quota]` table, stored as the row of account 0 at every start).
///
/// Each field: `None` takes the server default; `Some(0)` means "no limit" (for a warning
/// limit: no warning). `warn_percent` makes the warning limit of a hard limit that has no
/// explicit warning limit (default 90).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaLimits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_warn: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messages_warn: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warn_percent: Option<u8>,
}

/// One effective limit: `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    pub hard: Option<u64>,
    pub warn: Option<u64>,
}

/// Whether the owner has been told they crossed a warning limit. One message per crossing:
/// `Pending` is set by the write that crosses, `Sent` by the write that files the warning,
/// `Armed` again once usage is below every warning limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[repr(u8)]
pub enum WarnState {
    #[default]
    Armed = 0,
    Pending = 1,
    Sent = 2,
}

impl WarnState {
    pub fn from_u8(v: u8) -> WarnState {
        match v {
            1 => WarnState::Pending,
            2 => WarnState::Sent,
            _ => WarnState::Armed,
        }
    }
}

/// An account's figures and limits, as Quota/get, the CLI and the admin page show them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaStatus {
    /// Sum of the sizes of the account's emails (RFC 8621 `size`), octets.
    pub octets: u64,
    /// Number of emails.
    pub messages: u64,
    pub storage: Limit,
    pub count: Limit,
    pub warn: WarnState,
    /// What was set for the account itself (None fields follow the default).
    pub own: QuotaLimits,
}

/// Quota object ids in the changelog (`DataType::Quota`): rendered `qa` and `qb`.
pub const QUOTA_STORAGE: u32 = 0;
pub const QUOTA_COUNT: u32 = 1;

/// Outbound limits per account (table `[send_limits]` of the config); 0 is no limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SendLimits {
    pub messages_per_hour: u32,
    pub messages_per_day: u32,
    pub recipients_per_hour: u32,
    pub recipients_per_day: u32,
}

impl Default for SendLimits {
    /// A busy family member sends a few dozen messages a day, a note to a school class has 30
    /// recipients; a compromised phone sending spam sends thousands an hour.
    fn default() -> Self {
        SendLimits {
            messages_per_hour: 100,
            messages_per_day: 500,
            recipients_per_hour: 300,
            recipients_per_day: 1000,
        }
    }
}

/// What an account sent in the current clock hour and UTC day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentCounts {
    pub messages_hour: u32,
    pub recipients_hour: u32,
    pub messages_day: u32,
    pub recipients_day: u32,
}
