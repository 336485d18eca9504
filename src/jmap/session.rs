//! The Session resource (RFC 8620 §2): capabilities with their limits, the user's accounts,
//! and absolute URLs built from the base URL the client used to reach us.

use super::{CAP_CORE, CAP_MAIL, CAP_SUBMISSION, CAP_VACATION, Jmap};
use crate::store::model::{Account, IdKind};
use serde_json::{Value, json};

/// Sort properties Email/query understands (RFC 8621 §4.4.2).
pub const EMAIL_SORT_OPTIONS: [&str; 9] = crate::jmap::email::query_sort::SORT_OPTIONS;

fn capabilities(jmap: &Jmap) -> Value {
    let l = &jmap.limits;
    json!({
        CAP_CORE: {
            "maxSizeUpload": l.max_size_upload,
            "maxConcurrentUpload": l.max_concurrent_upload,
            "maxSizeRequest": l.max_size_request,
            "maxConcurrentRequests": l.max_concurrent_requests,
            "maxCallsInRequest": l.max_calls_in_request,
            "maxObjectsInGet": l.max_objects_in_get,
            "maxObjectsInSet": l.max_objects_in_set,
            "collationAlgorithms": crate::jmap::query::sort::COLLATIONS,
        },
        CAP_MAIL: {},
        CAP_SUBMISSION: {},
        CAP_VACATION: {},
        super::sieve::CAP_SIEVE: {},
        super::quota::CAP_QUOTA: {},
    })
}

/// RFC 8887 §4.1: where the JMAP WebSocket is; `base` is https:// (or http://) and becomes
/// wss:// (ws://).
fn websocket_capability(base: &str) -> Value {
    let ws = match base.split_once("://") {
        Some(("http", rest)) => format!("ws://{rest}"),
        Some((_, rest)) => format!("wss://{rest}"),
        None => format!("wss://{base}"),
    };
    json!({ "url": format!("{ws}/jmap/ws"), "supportsPush": true })
}

/// RFC 8621 §1.3.2: how long a send may be delayed, and the SMTP extensions a client may use in
/// an envelope. FUTURERELEASE (RFC 4865) takes the longest interval and the latest date-time.
fn submission_account_capability(jmap: &Jmap) -> Value {
    let (max_delay, max_size) = match &jmap.outbound {
        Some(o) => (
            o.config().outbound.max_delayed_send_secs,
            o.config().max_message_size,
        ),
        None => (0, 0),
    };
    let mut extensions = json!({ "SIZE": [max_size.to_string()] });
    if max_delay > 0 {
        let latest = crate::date::now().saturating_add(i64::try_from(max_delay).unwrap_or(0));
        extensions["FUTURERELEASE"] = json!([max_delay.to_string(), crate::date::rfc3339(latest)]);
    }
    json!({ "maxDelayedSend": max_delay, "submissionExtensions": extensions })
}

fn mail_account_capability() -> Value {
    json!({
        "maxMailboxesPerEmail": null,
        "maxMailboxDepth": 10,
        "maxSizeMailboxName": 255,
        "maxSizeAttachmentsPerEmail": 50 * 1024 * 1024,
        "emailQuerySortOptions": EMAIL_SORT_OPTIONS,
        "mayCreateTopLevelMailbox": true,
    })
}

/// The Session state: changes when the account list or the capabilities change (§2).
pub fn state(jmap: &Jmap, user: &Account) -> String {
    let basis = format!(
        "{}|{}|{}|{}",
        user.id,
        user.name,
        capabilities(jmap),
        mail_account_capability()
    );
    let d = ring::digest::digest(&ring::digest::SHA256, basis.as_bytes());
    d.as_ref()[..6].iter().map(|b| format!("{b:02x}")).collect()
}

pub fn session(jmap: &Jmap, user: &Account, base_url: &str) -> Value {
    let account_id = IdKind::Account.encode(user.id);
    let base = base_url.trim_end_matches('/');
    let mut caps = capabilities(jmap);
    caps[super::CAP_WEBSOCKET] = websocket_capability(base);
    json!({
        "capabilities": caps,
        "accounts": {
            account_id.clone(): {
                "name": user.name,
                "isPersonal": true,
                "isReadOnly": false,
                "accountCapabilities": {
                    CAP_MAIL: mail_account_capability(),
                    CAP_SUBMISSION: submission_account_capability(jmap),
                    CAP_VACATION: {},
                    super::sieve::CAP_SIEVE: super::sieve::account_capability(),
                    super::quota::CAP_QUOTA: super::quota::account_capability(),
                },
            }
        },
        "primaryAccounts": {
            CAP_MAIL: account_id,
            CAP_SUBMISSION: account_id,
            CAP_VACATION: account_id,
            super::sieve::CAP_SIEVE: account_id,
            super::quota::CAP_QUOTA: account_id,
        },
        "username": user.name,
        "apiUrl": format!("{base}/jmap/api"),
        "downloadUrl": format!("{base}/jmap/download/{{accountId}}/{{blobId}}/{{name}}?accept={{type}}"),
        "uploadUrl": format!("{base}/jmap/upload/{{accountId}}"),
        "eventSourceUrl": format!("{base}/jmap/eventsource?types={{types}}&closeafter={{closeafter}}&ping={{ping}}"),
        "state": state(jmap, user),
    })
}
