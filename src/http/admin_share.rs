//! The admin page's "Sharing" section (issue #16): who shares what, from
//! `share_admin::list` (the implementation behind `mailnook share list`), server-rendered so
//! it reads without JavaScript. Changes go through `POST /admin/api/share` (`admin_api.rs`)
//! or the command line.

use super::admin_html::esc;
use crate::share_admin::ShareSummary;

pub fn rows(shares: &[ShareSummary]) -> String {
    if shares.is_empty() {
        return "<tr class=\"empty\"><td colspan=\"4\" class=\"muted\">Nothing is shared.</td></tr>"
            .into();
    }
    shares
        .iter()
        .map(|s| {
            format!(
                "<tr><td data-l=\"Owner\"><b>{}</b></td><td data-l=\"What\">{}</td>\
                 <td data-l=\"Shared with\">{}</td><td data-l=\"Rights\">{}</td></tr>",
                esc(&s.owner),
                esc(s.mailbox.as_deref().unwrap_or("the whole account")),
                esc(&s.grantee),
                esc(&s.rights),
            )
        })
        .collect()
}

pub fn section(shares: &[ShareSummary]) -> String {
    format!(
        "<section id=\"sharing\"><h2>Sharing</h2><div class=\"scroll\"><table class=\"shares\">\
         <thead><tr><th>Owner</th><th>What</th><th>Shared with</th><th>Rights</th></tr></thead>\
         <tbody id=\"share-rows\">{}</tbody></table></div>\
         <p class=\"note\">Change it with <code>mailnook share add|remove OWNER MAILBOX USER</code> \
         and <code>mailnook share account add|remove ACCOUNT MEMBER</code>, or \
         <code>POST /admin/api/share</code>.</p></section>",
        rows(shares)
    )
}
