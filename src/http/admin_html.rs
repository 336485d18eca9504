//! Server-rendered HTML for the admin page: the sign-in form and the signed-in page, complete
//! and readable without JavaScript. `assets/admin.js` adds the actions (add, delete, reset,
//! install, copy) and refreshes the figures through the JSON API; table rows are rendered only
//! here (`*_rows`), and the script fetches them as HTML from `/admin/rows/*`. No message content ever appears: only addresses, counts, sizes and dates.

use super::admin::Lists;
use super::admin_setup::{Record, Setup};
use super::admin_status::{Status, human_bytes, human_duration};
use crate::accounts::{AccountSummary, AliasSummary, DomainSummary};
use crate::activity::Transaction;
use std::fmt::Write;

/// Escapes text for HTML element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `2026-11-23 10:00 UTC`
pub fn when(secs: i64) -> String {
    let t = crate::date::rfc3339(secs);
    format!("{} {} UTC", &t[..10], &t[11..16])
}

pub(crate) fn head(title: &str, csrf: Option<&str>) -> String {
    let meta = csrf
        .map(|c| format!("<meta name=\"csrf\" content=\"{}\">", esc(c)))
        .unwrap_or_default();
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">{meta}\
         <title>{}</title><link rel=\"icon\" href=\"data:,\">\
         <link rel=\"stylesheet\" href=\"/admin/assets/admin.css\">\
         <script src=\"/admin/assets/admin.js\" defer></script></head>",
        esc(title)
    )
}

/// The sign-in form; `address` is what was typed last, kept after a refusal so a wrong password
/// costs retyping only the password.
pub fn login_page(hostname: &str, message: Option<&str>, address: &str) -> String {
    let msg = message
        .map(|m| format!("<p class=\"flash bad\" role=\"alert\">{}</p>", esc(m)))
        .unwrap_or_default();
    format!(
        "{}<body class=\"login\"><main><h1>mailnook <span>admin</span></h1>\
         <p class=\"muted\">{}</p>{msg}\
         <form method=\"post\" action=\"/admin/login\" id=\"login\">\
         <label>Address<input name=\"address\" type=\"email\" autocomplete=\"username\" required{} \
         value=\"{}\"></label>\
         <label>Password<input name=\"password\" type=\"password\" autocomplete=\"current-password\" required{}></label>\
         <button type=\"submit\">Sign in</button></form>\
         <p class=\"muted small\">Admin accounts only (<code>mailnook user add --admin</code>).</p>\
         </main></body></html>",
        head(&format!("Sign in · mailnook admin · {hostname}"), None),
        esc(hostname),
        if address.is_empty() { " autofocus" } else { "" },
        esc(address),
        if address.is_empty() { "" } else { " autofocus" },
    )
}

fn account_row(a: &AccountSummary, me: &str) -> String {
    let last = a.last_delivery.map(when).unwrap_or_else(|| "never".into());
    let aliases = if a.aliases.is_empty() {
        String::new()
    } else {
        format!(
            "<small class=\"muted\">aliases: {}</small>",
            esc(&a.aliases.join(", "))
        )
    };
    let (you, del) = if a.address == me {
        (" <span class=\"badge\">you</span>", String::new())
    } else {
        (
            "",
            format!(
                "<button type=\"button\" class=\"danger\" data-act=\"del\" data-addr=\"{0}\">Delete</button>",
                esc(&a.address)
            ),
        )
    };
    format!(
        "<tr data-addr=\"{0}\"><td data-l=\"Address\"><b>{0}</b>{you}{aliases}</td>\
         <td data-l=\"Admin\">{1}</td><td data-l=\"Messages\" class=\"num\">{2}</td>\
         <td data-l=\"Storage\" class=\"num\">{3}</td><td data-l=\"Last delivery\">{4}</td>\
         <td class=\"actions js-only\"><button type=\"button\" data-act=\"passwd\" data-addr=\"{0}\">Reset password</button>\
         <button type=\"button\" data-act=\"app-add\" data-addr=\"{0}\">New app password</button>\
         <button type=\"button\" data-act=\"app-list\" data-addr=\"{0}\">App passwords</button>{del}</td></tr>",
        esc(&a.address),
        if a.admin { "admin" } else { "—" },
        a.emails,
        human_bytes(a.storage_bytes),
        esc(&last),
    )
}

/// Escaped text that may wrap after each "@" (a `<wbr>`): a long address breaks between its
/// parts, never mid-word, and does not push the Result column off the table (issue #22).
fn breakable(text: &str) -> String {
    esc(text).replace('@', "@<wbr>")
}

fn smtp_row(t: &Transaction) -> String {
    let auth = t
        .auth
        .as_ref()
        .map(|v| {
            format!(
                "spf={} dkim={} dmarc={} → {}",
                v.spf, v.dkim, v.dmarc, v.disposition
            )
        })
        .unwrap_or_else(|| "—".into());
    format!(
        "<tr class=\"{}\"><td data-l=\"Time\">{}</td><td data-l=\"Client\">{}{}</td>\
         <td data-l=\"Sender\">{}</td><td data-l=\"Recipients\">{}</td>\
         <td data-l=\"Result\">{} {}</td><td data-l=\"Auth\">{}</td></tr>",
        if t.accepted() { "ok" } else { "bad" },
        esc(&when(t.time)),
        esc(&t.client_ip.to_string()),
        t.helo
            .as_ref()
            .map(|h| format!(" <small class=\"muted\">{}</small>", esc(h)))
            .unwrap_or_default(),
        breakable(
            t.sender
                .as_deref()
                .map(|s| if s.is_empty() { "<>" } else { s })
                .unwrap_or("—")
        ),
        breakable(&t.recipients.join(", ")),
        t.code,
        esc(&t.text),
        esc(&auth),
    )
}

fn figure(out: &mut String, key: &str, label: &str, value: &str) {
    let _ = write!(
        out,
        "<div><dt>{}</dt><dd data-k=\"{key}\">{}</dd></div>",
        esc(label),
        esc(value)
    );
}

fn opt_bytes(v: Option<u64>, none: &str) -> String {
    v.map(human_bytes).unwrap_or_else(|| none.into())
}

pub fn status_section(s: &Status) -> String {
    let mut out = String::from("<section id=\"status\"><h2>Status</h2><dl class=\"figures\">");
    figure(&mut out, "version", "Version", s.version);
    figure(&mut out, "uptime", "Uptime", &human_duration(s.uptime_secs));
    figure(&mut out, "storage", "Storage", &s.storage);
    if let Some(a) = &s.acme {
        figure(
            &mut out,
            "acme",
            "Certificate (ACME)",
            &crate::acme::state::summary(a),
        );
    }
    figure(
        &mut out,
        "rss",
        "Memory (RSS)",
        &opt_bytes(s.rss_bytes, "unknown"),
    );
    figure(
        &mut out,
        "db",
        "Database",
        &opt_bytes(s.db_bytes, "unknown"),
    );
    figure(
        &mut out,
        "index",
        "Search index",
        &opt_bytes(s.index_bytes, "none yet"),
    );
    figure(&mut out, "accounts", "Accounts", &s.accounts.to_string());
    figure(
        &mut out,
        "logins",
        "Sign-ins refused unchecked",
        &format!(
            "{} of {}",
            s.logins_refused,
            s.logins_refused + s.logins_checked
        ),
    );
    figure(
        &mut out,
        "today",
        "Received today",
        &s.messages_today.to_string(),
    );
    figure(
        &mut out,
        "refused",
        "Refused today",
        &s.refused_today.to_string(),
    );
    figure(
        &mut out,
        "push",
        "Push connections",
        &s.push_connections
            .map(|n| n.to_string())
            .unwrap_or_else(|| "unavailable".into()),
    );
    out.push_str(
        "</dl><h3>Last SMTP transactions</h3><div class=\"scroll\"><table class=\"smtp\">\
         <thead><tr><th>Time</th><th>Client</th><th>Sender</th><th>Recipients</th>\
         <th>Result</th><th>Auth</th></tr></thead><tbody id=\"smtp-rows\">",
    );
    out.push_str(&smtp_rows(&s.smtp));
    out.push_str("</tbody></table></div></section>");
    out
}

fn accounts_section(accounts: &[AccountSummary], me: &str) -> String {
    let mut out = String::from(
        "<section id=\"accounts\"><h2>Accounts</h2><div class=\"scroll\"><table class=\"accounts\">\
         <thead><tr><th>Address</th><th>Admin</th><th class=\"num\">Messages</th>\
         <th class=\"num\">Storage</th><th>Last delivery</th><th class=\"js-only\"></th></tr></thead>\
         <tbody id=\"account-rows\">",
    );
    out.push_str(&account_rows(accounts, me));
    out.push_str(
        "</tbody></table></div>\
         <form id=\"add-user\" class=\"js-only card\"><h3>Add an account</h3>\
         <label>Address<input name=\"address\" type=\"email\" required autocomplete=\"off\"></label>\
         <label>Password<input name=\"password\" type=\"password\" autocomplete=\"new-password\" \
         placeholder=\"empty: generate one\" minlength=\"8\"></label>\
         <label class=\"check\"><input name=\"admin\" type=\"checkbox\"> Administrator</label>\
         <button type=\"submit\">Add account</button></form>\
         <noscript><p class=\"note\">Changing accounts here needs JavaScript. The command line \
         does all of it: <code>mailnook user add|list|passwd|del</code>.</p></noscript></section>",
    );
    out
}

fn record_rows(out: &mut String, records: &[Record]) {
    for r in records {
        let _ = write!(
            out,
            "<tr><td data-l=\"Name\"><code>{}</code></td><td data-l=\"Type\" class=\"t\">{}</td>\
             <td data-l=\"Value\"><code class=\"v\">{}</code> <button type=\"button\" class=\"copy js-only\" \
             data-copy=\"{}\">Copy</button></td><td data-l=\"Why\" class=\"small muted\">{}</td></tr>",
            esc(&r.name),
            r.kind,
            esc(&r.value),
            esc(&r.value),
            esc(&r.note),
        );
    }
}

fn records_table(out: &mut String, title: &str, records: &[Record]) {
    let zone: Vec<String> = records.iter().map(Record::zone_line).collect();
    let _ = write!(
        out,
        "<h3>{} <button type=\"button\" class=\"copy js-only small\" data-copy=\"{}\">Copy all as zone lines</button></h3>\
         <div class=\"scroll\"><table class=\"dns\"><thead><tr><th>Name</th><th>Type</th><th>Value</th><th>Why</th></tr></thead><tbody>",
        esc(title),
        esc(&zone.join("\n")),
    );
    record_rows(out, records);
    out.push_str("</tbody></table></div>");
}

fn setup_section(s: &Setup) -> String {
    let mut out = String::from("<section id=\"setup\"><h2>Setup</h2>");
    for w in &s.warnings {
        let _ = write!(out, "<p class=\"note\">{}</p>", esc(w));
    }
    out.push_str("<p class=\"muted small\">Publish these records at your DNS provider. Values in &lt;angle brackets&gt; are for you to fill in.</p>");
    out.push_str("<p><a href=\"/admin/dns-check\">Check what is published now</a> (the same as <code>mailnook dns check</code>).</p>");
    records_table(
        &mut out,
        &format!("This server: {}", s.hostname),
        &s.host_records,
    );
    if s.domains.is_empty() {
        out.push_str("<p class=\"muted\">No mail domains yet: add an account first.</p>");
    }
    for d in &s.domains {
        records_table(&mut out, &format!("Domain {}", d.domain), &d.records);
    }
    let _ = write!(out, "<p class=\"note\">{}</p>", esc(&s.dkim));
    let c = &s.certificate;
    out.push_str("<h3>Certificate</h3><dl class=\"cert\">");
    let _ = write!(
        out,
        "<div><dt>SHA-256 fingerprint</dt><dd><code class=\"v\" id=\"fp\">{0}</code> \
         <button type=\"button\" class=\"copy js-only\" data-copy=\"{0}\">Copy</button></dd></div>",
        esc(&c.fingerprint_sha256)
    );
    for (k, v) in [
        ("Names", c.names.join(", ")),
        ("Subject", c.subject.clone()),
        ("Issuer", c.issuer.clone()),
        (
            "Valid until",
            format!(
                "{} ({} days left)",
                c.not_after.replace('T', " "),
                c.days_left
            ),
        ),
        (
            "Source",
            format!(
                "{}{} · {}",
                c.source,
                if c.self_signed { ", self-signed" } else { "" },
                c.cert_path
            ),
        ),
    ] {
        let _ = write!(out, "<div><dt>{k}</dt><dd>{}</dd></div>", esc(&v));
    }
    out.push_str("</dl>");
    if c.config_overrides {
        out.push_str("<p class=\"note\">The config file names tls_cert and tls_key: a certificate installed here is used until the next restart, then the configured one wins again.</p>");
    }
    out.push_str(
        "<form id=\"cert-install\" class=\"js-only card\"><h3>Install a certificate</h3>\
         <p class=\"muted small\">Takes effect for new HTTPS and SMTP STARTTLS connections at once, \
         and is kept across restarts. Either paste or choose the PEM files…</p>\
         <label>Certificate chain (PEM)<textarea name=\"cert_pem\" rows=\"3\" spellcheck=\"false\" \
         placeholder=\"-----BEGIN CERTIFICATE-----\"></textarea></label>\
         <input type=\"file\" data-fill=\"cert_pem\" accept=\".pem,.crt,.cer\">\
         <label>Private key (PEM)<textarea name=\"key_pem\" rows=\"3\" spellcheck=\"false\" \
         placeholder=\"-----BEGIN PRIVATE KEY-----\"></textarea></label>\
         <input type=\"file\" data-fill=\"key_pem\" accept=\".pem,.key\">\
         <p class=\"muted small\">…or give absolute paths on the server (e.g. certbot's \
         fullchain.pem and privkey.pem), read by the mailnook user:</p>\
         <label>Certificate path<input name=\"cert_path\" autocomplete=\"off\"></label>\
         <label>Key path<input name=\"key_path\" autocomplete=\"off\"></label>\
         <button type=\"submit\">Install</button></form></section>",
    );
    out
}

fn domain_row(d: &DomainSummary) -> String {
    let catch_all = if d.catch_all.is_empty() {
        "—".to_string()
    } else {
        d.catch_all.join(", ")
    };
    format!(
        "<tr data-domain=\"{0}\"><td data-l=\"Domain\"><b>{0}</b></td><td data-l=\"Accounts\" class=\"num\">{1}</td>\
         <td data-l=\"Catch-all\">{2}</td><td data-l=\"Added\">{3}</td>\
         <td class=\"actions js-only\"><button type=\"button\" class=\"danger\" data-act=\"domain-del\" data-addr=\"{0}\">Remove</button></td></tr>",
        esc(&d.domain),
        d.accounts,
        esc(&catch_all),
        esc(&when(d.added_at)),
    )
}

fn alias_row(a: &AliasSummary) -> String {
    format!(
        "<tr data-alias=\"{0}\"><td data-l=\"Alias\"><b>{0}</b></td><td data-l=\"Delivers to\">{1}</td>\
         <td class=\"actions js-only\"><button type=\"button\" class=\"danger\" data-act=\"alias-del\" data-addr=\"{0}\">Remove</button></td></tr>",
        esc(&a.address),
        esc(&a.targets.join(", ")),
    )
}

/// The one row an empty table shows, so it never reads as bare headers.
fn empty_row(columns: usize, text: &str) -> String {
    format!(
        "<tr class=\"empty\"><td colspan=\"{columns}\" class=\"muted\">{}</td></tr>",
        esc(text)
    )
}

/// Each table body, rendered once, here: the page embeds them and `/admin/rows/*` serves them
/// to `assets/admin.js`, which puts them in place after a change or on a refresh (issue #21: no
/// second renderer in JavaScript to drift from this one).
pub fn account_rows(accounts: &[AccountSummary], me: &str) -> String {
    accounts.iter().map(|a| account_row(a, me)).collect()
}

pub fn smtp_rows(transactions: &[Transaction]) -> String {
    if transactions.is_empty() {
        return empty_row(6, "None since the server started.");
    }
    transactions.iter().map(smtp_row).collect()
}

pub fn domain_rows(domains: &[DomainSummary]) -> String {
    if domains.is_empty() {
        return empty_row(5, "No domains yet: adding an account adds its domain.");
    }
    domains.iter().map(domain_row).collect()
}

pub fn alias_rows(aliases: &[AliasSummary]) -> String {
    if aliases.is_empty() {
        return empty_row(3, "No aliases yet.");
    }
    aliases.iter().map(alias_row).collect()
}

fn domains_section(l: &Lists) -> String {
    let mut out = String::from(
        "<section id=\"domains\"><h2>Domains and aliases</h2><div class=\"scroll\"><table class=\"domains\">\
         <thead><tr><th>Domain</th><th class=\"num\">Accounts</th><th>Catch-all</th><th>Added</th>\
         <th class=\"js-only\"></th></tr></thead><tbody id=\"domain-rows\">",
    );
    out.push_str(&domain_rows(&l.domains));
    out.push_str(
        "</tbody></table></div>\
         <form id=\"add-domain\" class=\"js-only card\"><h3>Receive mail for a domain</h3>\
         <label>Domain<input name=\"domain\" required autocomplete=\"off\" placeholder=\"example.org\"></label>\
         <button type=\"submit\">Add domain</button></form>\
         <h3>Aliases</h3><div class=\"scroll\"><table class=\"aliases\"><thead><tr><th>Alias</th>\
         <th>Delivers to</th><th class=\"js-only\"></th></tr></thead><tbody id=\"alias-rows\">",
    );
    out.push_str(&alias_rows(&l.aliases));
    out.push_str(
        "</tbody></table></div>\
         <form id=\"add-alias\" class=\"js-only card\"><h3>Add an alias</h3>\
         <label>Alias (name@domain, or @domain for a catch-all)<input name=\"address\" required autocomplete=\"off\"></label>\
         <label>Delivers to (account addresses, comma-separated)<input name=\"targets\" required autocomplete=\"off\"></label>\
         <button type=\"submit\">Add alias</button></form>\
         <noscript><p class=\"note\">Changing domains and aliases here needs JavaScript; the command \
         line does it too: <code>mailnook domain|alias add|del|list</code>.</p></noscript></section>",
    );
    out
}

pub fn dashboard(me: &str, csrf: &str, status: &Status, lists: &Lists, setup: &Setup) -> String {
    format!(
        "{}<body data-me=\"{}\"><header><h1>mailnook <span>admin</span></h1><p class=\"who\">{}<br>\
         <small>signed in as {}</small></p>\
         <form method=\"post\" action=\"/admin/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
         <button type=\"submit\" class=\"quiet\">Sign out</button></form></header>\
         <nav><a href=\"#status\">Status</a><a href=\"#accounts\">Accounts</a><a href=\"#quotas\">Quotas</a><a href=\"#domains\">Domains</a><a href=\"#sharing\">Sharing</a><a href=\"#setup\">Setup</a></nav>\
         <main><p id=\"flash\" class=\"flash\" role=\"status\" hidden></p>{}{}{}{}{}{}</main></body></html>",
        head(&format!("mailnook admin · {}", status.hostname), Some(csrf)),
        esc(me),
        esc(&status.hostname),
        esc(me),
        esc(csrf),
        status_section(status),
        accounts_section(&lists.accounts, me),
        super::admin_quota::section(&lists.quotas),
        domains_section(lists),
        super::admin_share::section(&lists.shares),
        setup_section(setup),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes_markup() {
        assert_eq!(
            super::esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(super::when(0), "1970-01-01 00:00 UTC");
    }
}
