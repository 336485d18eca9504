//! ShareNotification (RFC 9670 §5; issue #16): what the store recorded when a grant to the
//! user was made, changed or taken away (`store/redb/shares.rs` writes them in the same
//! transaction as the grant). Files: `get.rs` /get and /changes (the changelog type
//! `ShareNotification`), `query.rs` /query and /queryChanges, `set.rs` /set (destroy only).
//!
//! Decisions where RFC 9670 is silent: a grant of a whole account (a shared account) is
//! `objectType` "Account" with `objectId` the account id; `changedBy` is the account that
//! changed it, or "administrator" (principalId null) for `mailnook share`; an account keeps its
//! newest 200 notifications.

pub mod get;
pub mod query;
pub mod set;

use crate::store::ShareNote;
use crate::store::mail::rights::Rights;
use crate::store::model::IdKind;
use crate::store::{Reader, Result as StoreResult};
use serde_json::{Map, Value, json};

pub fn object_type(n: &ShareNote) -> &'static str {
    if n.object_id.is_some() {
        "Mailbox"
    } else {
        "Account"
    }
}

fn rights(r: u16) -> Value {
    if Rights(r).is_empty() {
        Value::Null
    } else {
        json!(Rights(r).to_map())
    }
}

/// The JSON form; `r` names who changed it.
pub fn to_json(r: &Reader, n: &ShareNote) -> StoreResult<Map<String, Value>> {
    let changed_by = match n.changed_by {
        Some(a) => {
            let name = r.account(a)?.map(|x| x.name).unwrap_or_default();
            json!({"name": name, "email": name, "principalId": IdKind::Account.encode(a)})
        }
        None => json!({"name": "administrator", "email": null, "principalId": null}),
    };
    let v = json!({
        "id": IdKind::ShareNote.encode(n.id),
        "created": crate::date::rfc3339(n.created),
        "changedBy": changed_by,
        "objectType": object_type(n),
        "objectAccountId": IdKind::Account.encode(n.object_account),
        "objectId": match n.object_id {
            Some(m) => IdKind::Mailbox.encode(m),
            None => IdKind::Account.encode(n.object_account),
        },
        "name": n.name,
        "oldRights": rights(n.old_rights),
        "newRights": rights(n.new_rights),
    });
    Ok(match v {
        Value::Object(m) => m,
        _ => Map::new(),
    })
}
