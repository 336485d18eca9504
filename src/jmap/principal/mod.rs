//! Principals (RFC 9670 §4; issue #16): one Principal per account on the server, so a user can
//! find whom to share with by name or address. Files: `get.rs` Principal/get and /changes,
//! `query.rs` Principal/query and /queryChanges on the shared /query path. Principal/set is
//! not offered (accounts are managed with `mailnook user`; RFC 9670 §4.3 allows refusing).
//!
//! The id of a principal is its account id. `type` is `individual`, or `group` for an account
//! shared in full with members (a shared account such as family@). `accounts` names the
//! principal's account when the user can reach it (its own, or one shared with it).
//!
//! Principals have no changelog: the state is a digest of the account list (ids, names and
//! whether shared in full), so `/changes` and `/queryChanges` answer "no change" for the
//! current state and cannotCalculateChanges for any other (RFC 8620 §5.2 allows it): a
//! household adds an account rarely.

pub mod get;
pub mod query;

use super::access;
use crate::store::model::{Account, AccountId, IdKind};
use crate::store::{Reader, Result as StoreResult};
use serde_json::{Map, Value, json};

/// A principal as loaded: the account, whether it has whole-account members, and the
/// Account object the user sees for it (if any).
pub struct Loaded {
    pub account: Account,
    pub group: bool,
    pub reachable: Option<Value>,
}

/// Every principal as `user` sees it, and the principals' state.
pub fn load(r: &Reader, user: AccountId) -> StoreResult<(u64, Vec<Loaded>)> {
    let accounts = r.accounts()?;
    let grants = r.all_shares()?;
    let mut basis = String::new();
    let mut out = Vec::with_capacity(accounts.len());
    for a in accounts {
        let group = grants
            .iter()
            .any(|g| g.owner == a.id && g.mailbox.is_none());
        basis.push_str(&format!("{}:{}:{group}|", a.id, a.name));
        let reachable = if a.id == user {
            Some(json!({"name": a.name, "isPersonal": true, "isReadOnly": false}))
        } else {
            access::load(r, user, a.id)?.map(|acc| {
                json!({
                    "name": a.name,
                    "isPersonal": false,
                    "isReadOnly": acc.any_rights().read_only(),
                })
            })
        };
        out.push(Loaded {
            account: a,
            group,
            reachable,
        });
    }
    let d = ring::digest::digest(&ring::digest::SHA256, basis.as_bytes());
    let mut n = [0u8; 8];
    n[1..].copy_from_slice(&d.as_ref()[..7]);
    Ok((u64::from_be_bytes(n), out))
}

pub fn kind(p: &Loaded) -> &'static str {
    if p.group { "group" } else { "individual" }
}

pub fn to_json(p: &Loaded) -> Map<String, Value> {
    let id = IdKind::Account.encode(p.account.id);
    let accounts = match &p.reachable {
        Some(a) => json!({ id.clone(): a }),
        None => Value::Null,
    };
    let v = json!({
        "id": id,
        "type": kind(p),
        "name": p.account.name,
        "description": null,
        "email": p.account.name,
        "timeZone": null,
        "capabilities": {},
        "accounts": accounts,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}
