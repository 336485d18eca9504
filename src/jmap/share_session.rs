//! The Session with sharing (issue #16): the accounts shared with the user join `accounts`
//! (RFC 8620 §2: `isPersonal` false, `isReadOnly` when no write right is held anywhere in
//! them), each with the account capabilities its rights allow: mail always; submission, vacation
//! and sieve only for a full member (every right on the whole account, `access.rs`), who may
//! send from it; `urn:ietf:params:jmap:principals:owner` naming the owner (RFC 9670 §2.1).
//! The session state covers the shared list, so a share or unshare changes `sessionState` and
//! clients re-fetch the Session.

use super::access::{self, Access};
use super::{CAP_MAIL, CAP_SUBMISSION, CAP_VACATION, Jmap};
use crate::store::mail::rights::Rights;
use crate::store::model::{Account, AccountId, IdKind};
use serde_json::{Value, json};

pub const CAP_PRINCIPALS: &str = "urn:ietf:params:jmap:principals";
pub const CAP_PRINCIPALS_OWNER: &str = "urn:ietf:params:jmap:principals:owner";

/// The accounts shared with `user`: (id, owner's name, access). Store trouble lists none
/// (the user's own account still works).
pub async fn shared(jmap: &Jmap, user: AccountId) -> Vec<(AccountId, String, Access)> {
    jmap.store
        .read(move |r| {
            let mut out = Vec::new();
            for (acct, access) in access::shared_accounts(r, user)? {
                if let Some(a) = r.account(acct)? {
                    out.push((acct, a.name, access));
                }
            }
            Ok(out)
        })
        .await
        .unwrap_or_default()
}

/// The principals:owner account capability (RFC 9670 §2.1).
pub fn owner_capability(acct: AccountId) -> Value {
    json!({
        "accountIdForPrincipal": IdKind::Account.encode(acct),
        "principalId": IdKind::Account.encode(acct),
    })
}

fn shared_account(jmap: &Jmap, acct: AccountId, name: &str, access: &Access) -> Value {
    let rights = access.any_rights();
    let mut mail = super::session::mail_account_capability();
    let top = match access {
        Access::Own => true,
        Access::Shared(s) => s.whole.has(Rights::CREATE_CHILD),
    };
    mail["mayCreateTopLevelMailbox"] = json!(top);
    let mut caps = json!({
        CAP_MAIL: mail,
        CAP_PRINCIPALS_OWNER: owner_capability(acct),
    });
    if access.full() {
        caps[CAP_SUBMISSION] = super::session::submission_account_capability(jmap);
        caps[CAP_VACATION] = json!({});
    }
    json!({
        "name": name,
        "isPersonal": false,
        "isReadOnly": rights.read_only(),
        "accountCapabilities": caps,
    })
}

/// The Session resource with the shared accounts and the principals capability.
pub async fn session(jmap: &Jmap, user: &Account, base_url: &str) -> Value {
    let mut v = super::session::session(jmap, user, base_url);
    let list = shared(jmap, user.id).await;
    let own = IdKind::Account.encode(user.id);
    v["capabilities"][CAP_PRINCIPALS] = json!({});
    v["accounts"][own.as_str()]["accountCapabilities"][CAP_PRINCIPALS] = json!({
        "currentUserPrincipalId": own,
    });
    v["accounts"][own.as_str()]["accountCapabilities"][CAP_PRINCIPALS_OWNER] =
        owner_capability(user.id);
    v["primaryAccounts"][CAP_PRINCIPALS] = json!(own);
    for (acct, name, access) in &list {
        v["accounts"][IdKind::Account.encode(*acct)] = shared_account(jmap, *acct, name, access);
    }
    v["state"] = json!(state_of(jmap, user, &list));
    v
}

fn state_of(jmap: &Jmap, user: &Account, list: &[(AccountId, String, Access)]) -> String {
    let base = super::session::state(jmap, user);
    if list.is_empty() {
        return base;
    }
    let mut basis = base;
    for (acct, _, access) in list {
        basis.push_str(&format!("|{acct}:{:?}", access));
    }
    let d = ring::digest::digest(&ring::digest::SHA256, basis.as_bytes());
    d.as_ref()[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// The session state (`sessionState` of every API response).
pub async fn state(jmap: &Jmap, user: &Account) -> String {
    let list = shared(jmap, user.id).await;
    state_of(jmap, user, &list)
}
