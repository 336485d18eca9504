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

// ---- the admin page's section (server-rendered; `admin_html::dashboard` places it) ---------

use super::admin_html::esc;
use super::admin_status::human_bytes;
use crate::quota::admin::QuotaSummary;

fn of(used: String, hard: Option<String>) -> String {
    match hard {
        Some(h) => format!("{used} of {h}"),
        None => format!("{used} (no limit)"),
    }
}

/// One row per account: storage and messages against their limits, what it sent.
pub fn rows(quotas: &[QuotaSummary]) -> String {
    let mut out = String::new();
    for q in quotas {
        out.push_str(&format!(
            "<tr{}><td data-l=\"Account\"><b>{}</b></td><td data-l=\"Storage\" class=\"num\">{}</td>\
             <td data-l=\"Messages\" class=\"num\">{}</td>\
             <td data-l=\"Sent (hour)\" class=\"num\">{} / {}</td>\
             <td data-l=\"Sent (day)\" class=\"num\">{} / {}</td></tr>",
            if q.full { " class=\"full\"" } else { "" },
            esc(&q.address),
            esc(&of(human_bytes(q.used_octets), q.storage.map(human_bytes))),
            esc(&of(
                q.used_messages.to_string(),
                q.messages.map(|m| m.to_string())
            )),
            q.sent.messages_hour,
            q.sent.recipients_hour,
            q.sent.messages_day,
            q.sent.recipients_day,
        ));
    }
    out
}

/// The "Quotas and sending" section with its form (the form needs JavaScript; the CLI's
/// `mailnook quota set` does the same).
pub fn section(quotas: &[QuotaSummary]) -> String {
    format!(
        "<section id=\"quotas\"><h2>Quotas and sending</h2><div class=\"scroll\"><table class=\"quotas\">\
         <thead><tr><th>Account</th><th class=\"num\">Storage</th><th class=\"num\">Messages</th>\
         <th class=\"num\">Sent this hour (messages / recipients)</th><th class=\"num\">Sent today</th>\
         </tr></thead><tbody id=\"quota-rows\">{}</tbody></table></div>\
         <form id=\"set-quota\" class=\"js-only card\"><h3>Set an account's limits</h3>\
         <label>Account<input name=\"address\" required autocomplete=\"off\"></label>\
         <label>Storage (e.g. 5G; none; default)<input name=\"storage\" autocomplete=\"off\"></label>\
         <label>Storage warning<input name=\"storage_warn\" autocomplete=\"off\"></label>\
         <label>Messages<input name=\"messages\" autocomplete=\"off\"></label>\
         <label>Messages warning<input name=\"messages_warn\" autocomplete=\"off\"></label>\
         <button type=\"submit\">Set limits</button></form>\
         <noscript><p class=\"note\">Setting limits here needs JavaScript; the command line does \
         it too: <code>mailnook quota set ADDRESS --storage 5G</code>.</p></noscript></section>",
        rows(quotas)
    )
}
