//! Server-rendered HTML of the OAuth sign-in + consent page (`http/oauth.rs`), in the admin
//! page's style (`assets/admin.css`, the `login` layout) and without any script.

use super::admin_html::esc;

fn head(title: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><link rel=\"icon\" href=\"data:,\">\
         <link rel=\"stylesheet\" href=\"/admin/assets/admin.css\"></head>",
        esc(title)
    )
}

/// What the consent page shows about a request.
pub struct Consent<'a> {
    pub hostname: &'a str,
    pub client_name: &'a str,
    /// Where the browser goes afterwards (scheme, host and port of the redirect URI).
    pub returns_to: &'a str,
    /// The per-request token of the form (`oauth/grants.rs`).
    pub request: &'a str,
    pub message: Option<&'a str>,
    pub address: &'a str,
}

/// The sign-in + consent form: the user signs in with the account password (never an app
/// password) and allows or denies in one step.
pub fn consent_page(c: &Consent) -> String {
    let msg = c
        .message
        .map(|m| format!("<p class=\"flash bad\" role=\"alert\">{}</p>", esc(m)))
        .unwrap_or_default();
    format!(
        "{}<body class=\"login oauth\"><main><h1>mailnook <span>sign in</span></h1>\
         <p class=\"muted\">{host}</p>{msg}\
         <p id=\"asks\"><strong id=\"client\">{client}</strong> wants to use your mail account.</p>\
         <p>If you allow it, the app will be able to:</p>\
         <ul id=\"grants\"><li>read, search, file and delete your mail</li>\
         <li>send mail as you</li>\
         <li>stay signed in until you revoke it or change your password</li></ul>\
         <p class=\"muted small\">It gets a token, never your password. Afterwards this page \
         returns to <code>{back}</code>.</p>\
         <form method=\"post\" action=\"/oauth/authorize\" id=\"consent\">\
         <input type=\"hidden\" name=\"request\" value=\"{req}\">\
         <label>Address<input name=\"address\" type=\"email\" autocomplete=\"username\" required \
         value=\"{addr}\"{af1}></label>\
         <label>Password<input name=\"password\" type=\"password\" autocomplete=\"current-password\" \
         required{af2}></label>\
         <button type=\"submit\" name=\"decision\" value=\"allow\" id=\"allow\">Sign in and allow</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\" id=\"deny\" class=\"quiet\" \
         formnovalidate>Deny</button></form>\
         <p class=\"muted small\">Use your account password here, not an app password.</p>\
         </main></body></html>",
        head(&format!("Allow {} · mailnook", c.client_name)),
        host = esc(c.hostname),
        client = esc(c.client_name),
        back = esc(c.returns_to),
        req = esc(c.request),
        addr = esc(c.address),
        af1 = if c.address.is_empty() {
            " autofocus"
        } else {
            ""
        },
        af2 = if c.address.is_empty() {
            ""
        } else {
            " autofocus"
        },
    )
}

/// A request we will not send back to the app (RFC 6749 §4.1.2.1: unknown client or redirect
/// URI), or one whose form expired.
pub fn error_page(hostname: &str, message: &str) -> String {
    format!(
        "{}<body class=\"login oauth\"><main><h1>mailnook <span>sign in</span></h1>\
         <p class=\"muted\">{}</p><p class=\"flash bad\" role=\"alert\" id=\"error\">{}</p>\
         <p class=\"muted small\">Go back to the app and start the sign-in again. If this keeps \
         happening, the app is not registered with this server: ask its administrator \
         (<code>mailnook oauth client add</code>).</p></main></body></html>",
        head("Sign-in refused · mailnook"),
        esc(hostname),
        esc(message)
    )
}
