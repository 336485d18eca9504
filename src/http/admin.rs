//! The admin page at `/admin`, over the same TLS listener as JMAP.
//!
//! - `GET /admin`: the sign-in form, or (signed in) the whole page rendered on the server, so
//!   the status view reads without JavaScript.
//! - `POST /admin/login` (a plain form) and `POST /admin/logout`: sessions, see
//!   `admin_session.rs` for the cookie and CSRF rules.
//! - `/admin/assets/*`: the CSS and JavaScript from `assets/`, compiled into the binary.
//! - `/admin/api/*`: the JSON API (`admin_api.rs`), used by the page and by scripts.
//!
//! Every admin response carries a strict Content-Security-Policy (no inline script or style,
//! nothing from elsewhere, no framing), `no-store` caching and `nosniff`.

use super::admin_session::{self as session, Admin};
use super::{State, admin_api, admin_html, admin_setup, admin_status};
use crate::accounts::{self, Outcome};
use futures_lite::AsyncReadExt;
use tide::{Request, Response, StatusCode};

pub const CSS: &str = include_str!("../../assets/admin.css");
pub const JS: &str = include_str!("../../assets/admin.js");

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn mount(app: &mut tide::Server<State>) {
    app.at("/admin").get(page);
    app.at("/admin/").get(page);
    app.at("/admin/login").post(login);
    app.at("/admin/logout").post(logout);
    app.at("/admin/rows/lists").get(rows_lists);
    app.at("/admin/rows/status").get(rows_status);
    app.at("/admin/assets/admin.css")
        .get(|_| async { Ok(asset(CSS, "text/css; charset=utf-8")) });
    app.at("/admin/assets/admin.js")
        .get(|_| async { Ok(asset(JS, "text/javascript; charset=utf-8")) });
    admin_api::mount(app);
    super::admin_dns::mount(app);
}

/// Security headers for every admin response.
pub fn harden(res: &mut Response) {
    res.insert_header("Content-Security-Policy", CSP);
    res.insert_header("X-Content-Type-Options", "nosniff");
    res.insert_header("X-Frame-Options", "DENY");
    // Not "no-referrer": with it browsers send `Origin: null` on our own POSTs (Fetch §3.2.5).
    res.insert_header("Referrer-Policy", "same-origin");
    res.insert_header("Cache-Control", "no-store");
    // No Strict-Transport-Security: after a real certificate, going back to the self-signed
    // one (or reaching the box by IP) would lock browsers out with no way to click through.
}

fn asset(body: &'static str, ctype: &str) -> Response {
    let mut res = Response::new(StatusCode::Ok);
    res.set_body(body);
    res.insert_header("Content-Type", ctype);
    harden(&mut res);
    res
}

pub fn html(status: StatusCode, body: String) -> Response {
    let mut res = Response::new(status);
    res.set_body(body);
    res.insert_header("Content-Type", "text/html; charset=utf-8");
    harden(&mut res);
    res
}

fn see_other(to: &str) -> Response {
    let mut res = Response::new(StatusCode::SeeOther);
    res.insert_header("Location", to);
    harden(&mut res);
    res
}

async fn page(req: Request<State>) -> tide::Result {
    let state = req.state().clone();
    let Some(admin) = session::session_admin(&req).await else {
        return Ok(html(
            StatusCode::Ok,
            admin_html::login_page(&state.config.hostname, None, ""),
        ));
    };
    let csrf = admin
        .session
        .as_ref()
        .map(|s| s.1.clone())
        .unwrap_or_default();
    let status = admin_status::gather(&state).await;
    let lists = Lists::load(&state).await;
    let setup = setup_for(&req, &lists).await;
    Ok(html(
        StatusCode::Ok,
        admin_html::dashboard(&admin.account.name, &csrf, &status, &lists, &setup),
    ))
}

/// The account, domain and alias table bodies as the page renders them (`admin_html::*_rows`),
/// keyed by their `<tbody>` id, for `assets/admin.js` after a change.
async fn rows_lists(req: Request<State>) -> tide::Result {
    let Some(admin) = session::session_admin(&req).await else {
        return Ok(html(StatusCode::Unauthorized, String::new()));
    };
    let lists = Lists::load(req.state()).await;
    Ok(rows_json(serde_json::json!({
        "account-rows": admin_html::account_rows(&lists.accounts, &admin.account.name),
        "domain-rows": admin_html::domain_rows(&lists.domains),
        "alias-rows": admin_html::alias_rows(&lists.aliases),
        "quota-rows": super::admin_quota::rows(&lists.quotas),
    })))
}

/// The last SMTP transactions' table body, for the page's periodic refresh.
async fn rows_status(req: Request<State>) -> tide::Result {
    if session::session_admin(&req).await.is_none() {
        return Ok(html(StatusCode::Unauthorized, String::new()));
    }
    let status = admin_status::gather(req.state()).await;
    Ok(rows_json(
        serde_json::json!({ "smtp-rows": admin_html::smtp_rows(&status.smtp) }),
    ))
}

fn rows_json(rows: serde_json::Value) -> Response {
    let mut res = Response::new(StatusCode::Ok);
    res.set_body(rows.to_string());
    res.insert_header("Content-Type", "application/json");
    harden(&mut res);
    res
}

/// Accounts, domains and aliases, each from the CLI's `list` command.
pub struct Lists {
    pub accounts: Vec<accounts::AccountSummary>,
    pub domains: Vec<accounts::DomainSummary>,
    pub aliases: Vec<accounts::AliasSummary>,
    /// Usage, limits and sending counts per account (`http/admin_quota.rs`).
    pub quotas: Vec<crate::quota::admin::QuotaSummary>,
    /// Who shares what (`share_admin::list`).
    pub shares: Vec<crate::share_admin::ShareSummary>,
}

impl Lists {
    pub async fn load(state: &State) -> Lists {
        let store = &state.jmap.store;
        let mut l = Lists {
            accounts: Vec::new(),
            domains: Vec::new(),
            aliases: Vec::new(),
            quotas: Vec::new(),
            shares: crate::share_admin::list(store, None)
                .await
                .unwrap_or_else(|e| {
                    log::error!("admin: listing shares failed: {e}");
                    Vec::new()
                }),
        };
        match crate::quota::admin::summaries(store).await {
            Ok(q) => l.quotas = q,
            Err(e) => log::error!("admin: quota figures failed: {e}"),
        }
        for cmd in [
            accounts::Command::List,
            accounts::Command::DomainList,
            accounts::Command::AliasList,
        ] {
            match accounts::run(store, cmd).await {
                Outcome::Accounts(a) => l.accounts = a,
                Outcome::Domains(d) => l.domains = d,
                Outcome::Aliases(a) => l.aliases = a,
                Outcome::Error(e) => log::error!("admin: listing failed: {e}"),
                Outcome::Done(_) | Outcome::AppPasswords(_) => {}
            }
        }
        l
    }
}

/// The IP address in the `Host` header, when the admin reached us by address.
pub(crate) fn host_ip(req: &Request<State>) -> Option<std::net::IpAddr> {
    let host = req.header("Host")?.as_str().to_string();
    let bare = match host.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h.to_string(),
        _ => host,
    };
    bare.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

pub async fn setup_for(req: &Request<State>, lists: &Lists) -> admin_setup::Setup {
    let state = req.state();
    let domains = lists
        .accounts
        .iter()
        .flat_map(|a| std::iter::once(&a.address).chain(a.aliases.iter()))
        .chain(lists.aliases.iter().map(|a| &a.address))
        .filter_map(|addr| addr.rsplit_once('@').map(|(_, d)| d.to_lowercase()))
        .chain(lists.domains.iter().map(|d| d.domain.to_lowercase()))
        .filter(|d| !d.is_empty())
        .collect();
    let (host_records, mut domains) = admin_setup::records(&state.config, host_ip(req), &domains);
    let mut without_keys = Vec::new();
    for d in &mut domains {
        let name = d.domain.clone();
        let keys = state
            .jmap
            .store
            .read(move |r| {
                let mut keys = Vec::new();
                for algo in [
                    crate::outbound::dkim::ALGO_RSA,
                    crate::outbound::dkim::ALGO_ED25519,
                ] {
                    keys.extend(r.dkim_key(&name, algo)?);
                }
                Ok(keys)
            })
            .await
            .unwrap_or_default();
        if keys.is_empty() {
            without_keys.push(d.domain.clone());
        }
        // After SPF, before DMARC: the order `mailnook dns` prints them in.
        let at = d.records.len().min(2);
        d.records.splice(at..at, admin_setup::dkim_records(&keys));
    }
    admin_setup::Setup {
        hostname: state.config.hostname.clone(),
        warnings: admin_setup::warnings(&state.config),
        host_records,
        domains,
        dkim: admin_setup::dkim_note(&without_keys),
        certificate: admin_setup::certificate(&state.tls.info(), &state.config),
    }
}

/// `application/x-www-form-urlencoded` (WHATWG URL §5.1): `+` is a space, `%XX` a byte.
pub fn form_value(body: &str, name: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k)? == name).then(|| decode(v)).flatten()
    })
}

fn decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

pub async fn small_body(req: &mut Request<State>) -> Option<String> {
    let mut buf = Vec::new();
    req.take_body()
        .take(16 * 1024)
        .read_to_end(&mut buf)
        .await
        .ok()?;
    String::from_utf8(buf).ok()
}

/// The sign-in form's target. Failures are counted per client and per account by the shared
/// login door (`src/login.rs`: a budget per client and per account, then 429) and logged; a correct password of an account
/// that is not an admin gets 403.
async fn login(mut req: Request<State>) -> tide::Result {
    let state = req.state().clone();
    let host = state.config.hostname.clone();
    let ip = session::peer_ip(&req);
    if !session::same_origin(&req) {
        log::warn!(
            "admin: refused a cross-site sign-in from {peer} (Origin {:?}, Host {:?}, Sec-Fetch-Site {:?})",
            req.header("Origin").map(|h| h.as_str()),
            req.header("Host").map(|h| h.as_str()),
            req.header("Sec-Fetch-Site").map(|h| h.as_str()),
            peer = crate::logging::Peer(ip)
        );
        return Ok(html(
            StatusCode::Forbidden,
            admin_html::login_page(&host, Some("Cross-site sign-in refused."), ""),
        ));
    }
    let body = small_body(&mut req).await.unwrap_or_default();
    let user = form_value(&body, "address").unwrap_or_default();
    let pass = form_value(&body, "password").unwrap_or_default();
    if user.trim().is_empty() || pass.is_empty() {
        return Ok(html(
            StatusCode::BadRequest,
            admin_html::login_page(&host, Some("Enter an address and a password."), user.trim()),
        ));
    }
    let user = user.trim().to_string();
    match state
        .auth
        .check_account_password(&state.jmap.store, ip, &user, &pass)
        .await
    {
        super::auth::AuthResult::Ok(account) if account.admin => {
            let Some((token, _csrf)) = state.admin_sessions.create(&account) else {
                return Ok(html(
                    StatusCode::InternalServerError,
                    admin_html::login_page(&host, Some("Could not start a session."), &user),
                ));
            };
            log::info!(
                "admin: {} signed in from {peer}",
                account.name,
                peer = crate::logging::Peer(ip)
            );
            let mut res = see_other("/admin");
            res.insert_header("Set-Cookie", session::set_cookie(&token));
            Ok(res)
        }
        super::auth::AuthResult::Ok(account) => {
            log::warn!(
                "admin: {} is not an admin (sign-in from {peer})",
                account.name,
                peer = crate::logging::Peer(ip)
            );
            Ok(html(
                StatusCode::Forbidden,
                admin_html::login_page(&host, Some("This account is not an administrator."), &user),
            ))
        }
        super::auth::AuthResult::Denied | super::auth::AuthResult::InvalidToken(_) => {
            log::warn!(
                "admin: failed sign-in for {:?} from {peer}",
                crate::wire::printable(&user),
                peer = crate::logging::Peer(ip)
            );
            Ok(html(
                StatusCode::Unauthorized,
                admin_html::login_page(&host, Some("Wrong address or password."), &user),
            ))
        }
        super::auth::AuthResult::Throttled(secs) => {
            log::warn!(
                "admin: sign-in throttled for {peer}",
                peer = crate::logging::Peer(ip)
            );
            let mut res = html(
                StatusCode::TooManyRequests,
                admin_html::login_page(
                    &host,
                    Some(&format!(
                        "Too many failed sign-ins. Try again in {secs} seconds."
                    )),
                    &user,
                ),
            );
            res.insert_header("Retry-After", secs.to_string());
            Ok(res)
        }
    }
}

/// Ends the session. Takes the CSRF token from the `X-CSRF-Token` header or, for the plain
/// form on the page (which works without JavaScript), from a `csrf` form field.
async fn logout(mut req: Request<State>) -> tide::Result {
    if !session::same_origin(&req) {
        return Ok(session::refusal(
            StatusCode::Forbidden,
            "cross-site request refused",
        ));
    }
    let Some(Admin {
        session: Some((token, csrf)),
        account,
    }) = session::session_admin(&req).await
    else {
        let mut res = see_other("/admin");
        res.insert_header("Set-Cookie", session::clear_cookie());
        return Ok(res);
    };
    let header = req.header("X-CSRF-Token").map(|h| h.as_str().to_string());
    let sent = match header {
        Some(h) => h,
        None => small_body(&mut req)
            .await
            .and_then(|b| form_value(&b, "csrf"))
            .unwrap_or_default(),
    };
    if !session::same_secret(&sent, &csrf) {
        return Ok(session::refusal(
            StatusCode::Forbidden,
            "missing or wrong CSRF token; reload the page",
        ));
    }
    req.state().admin_sessions.remove(&token);
    log::info!("admin: {} signed out", account.name);
    let mut res = see_other("/admin");
    res.insert_header("Set-Cookie", session::clear_cookie());
    Ok(res)
}

#[cfg(test)]
mod tests {
    #[test]
    fn form_decoding() {
        let body = "address=a%40b.org&password=p+w%26%3D&x";
        assert_eq!(
            super::form_value(body, "address").as_deref(),
            Some("a@b.org")
        );
        assert_eq!(
            super::form_value(body, "password").as_deref(),
            Some("p w&=")
        );
        assert_eq!(super::form_value(body, "x").as_deref(), Some(""));
        assert_eq!(super::form_value(body, "y"), None);
        assert_eq!(super::form_value("a=%4", "a"), Some("%4".into()));
        assert_eq!(super::form_value("a=%zz", "a"), None);
    }
}
