//! Quota (RFC 9425, `urn:ietf:params:jmap:quota`): `get.rs`, `changes.rs`, `query.rs`,
//! `query_changes.rs`, one file per method.
//!
//! Every account has two Quota objects with fixed ids: `qa`, its storage in octets, and `qb`,
//! its message count (scope `account`, types `["Email"]`). Both exist whether or not a limit
//! is set: without one, `hardLimit` is 2^53-1 (the largest UnsignedInt, RFC 8620 §1.3) and
//! the description says so, so a client can always show `used` and ids never come and go
//! when an admin sets or removes a limit. `used` is the store's figure, kept in the same
//! transaction as every email insert and destroy (`store/redb/quota.rs`); those changes are
//! logged as count-only, so Quota/changes gives `updatedProperties: ["used"]` when nothing
//! else changed. Limits are set by the admin (`mailnook quota`), never through JMAP.
//!
//! RFC 9425 §4: Quota objects whose types the client did not ask for in `using` are not
//! returned: without `urn:ietf:params:jmap:mail` (type Email) the account has none.

pub mod changes;
pub mod get;
pub mod query;
pub mod query_changes;

use super::{CAP_MAIL, Ctx};
use crate::store::model::{AccountId, DataType, IdKind};
use crate::store::model_quota::{Limit, QUOTA_COUNT, QUOTA_STORAGE, QuotaStatus};
use serde_json::{Map, Value, json};

pub const CAP_QUOTA: &str = "urn:ietf:params:jmap:quota";

/// RFC 8620 §1.3: the largest UnsignedInt, the hardLimit of a quota without a limit.
pub const NO_LIMIT: u64 = (1 << 53) - 1;

pub const PROPERTIES: [&str; 10] = [
    "id",
    "resourceType",
    "used",
    "hardLimit",
    "warnLimit",
    "softLimit",
    "scope",
    "name",
    "types",
    "description",
];

/// One Quota object, as the methods see it.
#[derive(Debug, Clone)]
pub struct Quota {
    pub id: u32,
    pub resource_type: &'static str,
    pub used: u64,
    pub limit: Limit,
    pub name: String,
}

impl Quota {
    pub fn to_json(&self) -> Map<String, Value> {
        let hard = self.limit.hard.unwrap_or(NO_LIMIT).min(NO_LIMIT);
        let what = if self.resource_type == "octets" {
            "octets of mail (the sum of the messages' sizes)"
        } else {
            "messages"
        };
        let description = match self.limit.hard {
            Some(h) => format!("At most {h} {what} in this account; new mail is refused beyond."),
            None => format!("No limit is set on the {what} in this account."),
        };
        let v = json!({
            "id": IdKind::Quota.encode(self.id),
            "resourceType": self.resource_type,
            "used": self.used.min(NO_LIMIT),
            "hardLimit": hard,
            "warnLimit": self.limit.warn.map(|w| w.min(NO_LIMIT)),
            "softLimit": null,
            "scope": "account",
            "name": self.name,
            "types": ["Email"],
            "description": description,
        });
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }
}

/// The account's Quota objects, in id order (none if the client cannot see type Email).
pub fn objects(ctx: &Ctx<'_>, account_name: &str, q: &QuotaStatus) -> Vec<Quota> {
    if !ctx.uses(CAP_MAIL) {
        return Vec::new();
    }
    vec![
        Quota {
            id: QUOTA_STORAGE,
            resource_type: "octets",
            used: q.octets,
            limit: q.storage,
            name: format!("{account_name} storage"),
        },
        Quota {
            id: QUOTA_COUNT,
            resource_type: "count",
            used: q.messages,
            limit: q.count,
            name: format!("{account_name} messages"),
        },
    ]
}

/// The account's Quota state and objects, from one snapshot.
pub async fn load(
    ctx: &Ctx<'_>,
    acct: AccountId,
) -> Result<(u64, Vec<Quota>), super::error::MethodError> {
    let (state, q, account) = ctx
        .jmap
        .store
        .read(move |r| {
            Ok((
                r.state(acct, DataType::Quota)?,
                r.quota(acct)?,
                r.account(acct)?,
            ))
        })
        .await?;
    let name = account.map(|a| a.name).unwrap_or_default();
    Ok((state, objects(ctx, &name, &q)))
}

/// The account capability (RFC 9425 §3: an empty object).
pub fn account_capability() -> Value {
    json!({})
}
