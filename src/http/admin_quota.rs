//! The admin API for quotas and sending limits (`quota/admin.rs` behind it, as behind
//! `mailnook quota`):
//!
//! | CLI | API |
//! | --- | --- |
//! | `mailnook quota show` | `GET /admin/api/quota/list` (every account: usage, limits, sent counts) |
//! | `mailnook quota set ADDR --storage S ...` | `POST /admin/api/quota/set {"address","storage"?,"storage_warn"?,"messages"?,"messages_warn"?}` |

use super::State;
use super::admin_api::{bad, body, ok, run};
use super::admin_session::require_admin;
use crate::accounts::Command;
use crate::quota::admin::QuotaCommand;
use serde::Deserialize;
use serde_json::json;
use tide::Request;

pub fn mount(app: &mut tide::Server<State>) {
    app.at("/admin/api/quota/list").get(list);
    app.at("/admin/api/quota/set").post(set);
}

/// The command as the log names it (`admin_api::describe`).
pub fn describe(q: &QuotaCommand) -> String {
    match q {
        QuotaCommand::Show { address } => {
            format!("quota show {}", address.as_deref().unwrap_or(""))
        }
        QuotaCommand::Set { address, .. } => format!("quota set {address}"),
    }
}

async fn list(req: Request<State>) -> tide::Result {
    if let Err(r) = require_admin(&req, false).await {
        return Ok(r);
    }
    match crate::quota::admin::summaries(&req.state().jmap.store).await {
        Ok(l) => Ok(ok(json!({ "quotas": l }))),
        Err(e) => Ok(bad(e.to_string())),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetReq {
    address: String,
    storage: Option<String>,
    storage_warn: Option<String>,
    messages: Option<String>,
    messages_warn: Option<String>,
}

async fn set(mut req: Request<State>) -> tide::Result {
    let admin = match require_admin(&req, true).await {
        Ok(a) => a,
        Err(r) => return Ok(r),
    };
    let r: SetReq = match body(&mut req).await {
        Ok(b) => b,
        Err(r) => return Ok(r),
    };
    // An empty form field keeps the value, like an option left out on the command line.
    let keep = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    let cmd = Command::Quota {
        quota: QuotaCommand::Set {
            address: r.address,
            storage: keep(r.storage),
            storage_warn: keep(r.storage_warn),
            messages: keep(r.messages),
            messages_warn: keep(r.messages_warn),
        },
    };
    Ok(run(req.state(), Some(&admin), cmd, json!({})).await)
}
