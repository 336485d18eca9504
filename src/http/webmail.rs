//! The server side of the built-in webmail (issue #14): only what a browser needs that JMAP
//! does not give. Sign-in and sign-out (a cookie session, `webmail_session.rs`), the app shell
//! and its static files (`webmail_assets.rs`), a password change, and the empty document the
//! reader renders HTML mail into, with a strict Content-Security-Policy. Everything about mail
//! goes through the public JMAP API (`/jmap/*`), as any other client's would.

use super::admin::{form_value, small_body};
use super::admin_html::esc;
use super::admin_session::{peer_ip, same_origin};
use super::auth::AuthResult;
use super::webmail_assets as assets;
use super::webmail_session::{self as session, WebUser};
use super::{State, problem};
use futures_lite::AsyncReadExt;
use serde_json::json;
use tide::{Request, Response, StatusCode};

/// The app shell: scripts and styles from us only; images also from data:/blob: URLs (inline
/// parts); frames only our own (the HTML-mail frame); nothing else.
const SHELL_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; connect-src 'self'; frame-src 'self'; worker-src 'self'; \
     manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The HTML-mail frame (RFC 8621 says nothing of rendering; this is the browser's contract).
/// No script runs (`sandbox` without allow-scripts, here and on the iframe), no form submits,
/// no plugin, and no fetch leaves the box: images only from data: URLs (inline `cid:` parts
/// are turned into those by the reader), styles only inline, fonts only data:.
const FRAME_CSP: &str = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; \
     font-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'; \
     sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox";
/// The same, once the reader allowed remote content for this message or sender.
const FRAME_CSP_REMOTE: &str = "default-src 'none'; img-src data: https: http:; \
     style-src 'unsafe-inline'; font-src data: https:; form-action 'none'; base-uri 'none'; \
     frame-ancestors 'self'; sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox";

pub fn mount(app: &mut tide::Server<State>) {
    app.at("/").get(root);
    app.at("/webmail/login").post(login);
    app.at("/webmail/logout").post(logout);
    app.at("/webmail/password").post(password);
    app.at("/webmail/frame").get(frame);
    app.at("/webmail/push-key").get(push_key);
    app.at("/webmail/v/:version/:name").get(file);
    app.at("/sw.js").get(service_worker);
    app.at("/manifest.webmanifest").get(manifest);
}

fn harden(res: &mut Response, csp: &str) {
    res.insert_header("Content-Security-Policy", csp);
    res.insert_header("X-Content-Type-Options", "nosniff");
    res.insert_header("Referrer-Policy", "same-origin");
}

fn page(status: StatusCode, body: String) -> Response {
    let mut res = Response::new(status);
    res.set_body(body);
    res.insert_header("Content-Type", "text/html; charset=utf-8");
    res.insert_header("Cache-Control", "no-store");
    res.insert_header("X-Frame-Options", "DENY");
    harden(&mut res, SHELL_CSP);
    res
}

fn login_page(state: &State, message: Option<&str>, address: &str) -> String {
    let msg = message
        .map(|m| format!("<p class=\"flash bad\" role=\"alert\">{}</p>", esc(m)))
        .unwrap_or_default();
    assets::LOGIN
        .replace("{{v}}", assets::version())
        .replace("{{host}}", &esc(&state.config.hostname))
        .replace("{{message}}", &msg)
        .replace("{{address}}", &esc(address))
}

/// `/`: the app for a signed-in user, else the sign-in form.
async fn root(req: Request<State>) -> tide::Result {
    let Some(user) = session::session_user(&req).await else {
        return Ok(page(StatusCode::Ok, login_page(req.state(), None, "")));
    };
    Ok(page(StatusCode::Ok, shell(&user)))
}

fn shell(user: &WebUser) -> String {
    assets::SHELL
        .replace("{{v}}", assets::version())
        .replace("{{csrf}}", &esc(&user.csrf))
        .replace("{{user}}", &esc(&user.account.name))
}

fn see_other(to: &str) -> Response {
    let mut res = Response::new(StatusCode::SeeOther);
    res.insert_header("Location", to);
    res.insert_header("Cache-Control", "no-store");
    res
}

/// The sign-in form's target: the shared login door (`src/login.rs`) counts failures per
/// client and per account, exactly as for JMAP, SMTP AUTH and the admin page. The account
/// password or an app password (the mail scope, as JMAP takes) opens the webmail.
async fn login(mut req: Request<State>) -> tide::Result {
    let state = req.state().clone();
    let ip = peer_ip(&req);
    if !same_origin(&req) {
        log::warn!(
            "webmail: refused a cross-site sign-in from {}",
            crate::logging::Peer(ip)
        );
        return Ok(page(
            StatusCode::Forbidden,
            login_page(&state, Some("Cross-site sign-in refused."), ""),
        ));
    }
    let body = small_body(&mut req).await.unwrap_or_default();
    let user = form_value(&body, "address").unwrap_or_default();
    let pass = form_value(&body, "password").unwrap_or_default();
    let user = user.trim().to_string();
    if user.is_empty() || pass.is_empty() {
        return Ok(page(
            StatusCode::BadRequest,
            login_page(&state, Some("Enter your address and password."), &user),
        ));
    }
    match state
        .auth
        .check_password(&state.jmap.store, ip, &user, &pass)
        .await
    {
        AuthResult::Ok(account) => {
            // Which app password it was, if the account password it was not.
            let app_password = match crate::app_passwords::parse(&pass) {
                Some((selector, _)) => crate::app_passwords::list(&state.jmap.store, account.id)
                    .await
                    .ok()
                    .and_then(|l| l.into_iter().find(|p| p.id == selector))
                    .map(|p| p.id),
                None => None,
            };
            let Some((token, _)) = state.web_sessions.create_with(&account, app_password) else {
                return Ok(page(
                    StatusCode::InternalServerError,
                    login_page(&state, Some("Could not start a session."), &user),
                ));
            };
            log::info!(
                "webmail: {} signed in from {}",
                account.name,
                crate::logging::Peer(ip)
            );
            let mut res = see_other("/");
            res.insert_header("Set-Cookie", session::set_cookie(&token));
            Ok(res)
        }
        AuthResult::Denied | AuthResult::InvalidToken(_) => {
            log::warn!(
                "webmail: failed sign-in for {user} from {}",
                crate::logging::Peer(ip)
            );
            Ok(page(
                StatusCode::Unauthorized,
                login_page(&state, Some("Wrong address or password."), &user),
            ))
        }
        AuthResult::Throttled(secs) => {
            let mut res = page(
                StatusCode::TooManyRequests,
                login_page(
                    &state,
                    Some(&format!(
                        "Too many failed sign-ins; try again in {secs} seconds."
                    )),
                    &user,
                ),
            );
            res.insert_header("Retry-After", secs.to_string());
            Ok(res)
        }
    }
}

/// A signed-in user making a state change (`webmail_session::changing`), or the refusal.
async fn changing_user(req: &Request<State>) -> Result<WebUser, Response> {
    session::changing(req).await.map_err(|why| why.response())
}

/// Sign-out ends the session on the server, not just in the browser.
async fn logout(req: Request<State>) -> tide::Result {
    let user = match changing_user(&req).await {
        Ok(u) => u,
        Err(res) => return Ok(res),
    };
    req.state().web_sessions.remove(&user.token);
    log::info!("webmail: {} signed out", user.account.name);
    let mut res = Response::new(StatusCode::NoContent);
    res.insert_header("Set-Cookie", session::clear_cookie());
    Ok(res)
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    current: String,
    new: String,
}

/// Changes the signed-in user's password: the current one is checked through the login door
/// (so this is no way around its limits); other sessions of the account end, this one stays.
async fn password(mut req: Request<State>) -> tide::Result {
    let user = match changing_user(&req).await {
        Ok(u) => u,
        Err(res) => return Ok(res),
    };
    let bad = |status: u16, detail: &str| {
        Ok(problem(
            &json!({"type": "about:blank", "status": status, "detail": detail}),
        ))
    };
    let mut body = Vec::new();
    if req
        .take_body()
        .take(4096)
        .read_to_end(&mut body)
        .await
        .is_err()
    {
        return bad(400, "could not read the request");
    }
    let Ok(change) = serde_json::from_slice::<PasswordChange>(&body) else {
        return bad(400, "send {\"current\": ..., \"new\": ...}");
    };
    if let Err(e) = crate::accounts::check_password(&change.new) {
        return bad(400, &e);
    }
    let state = req.state().clone();
    let ip = peer_ip(&req);
    match state
        .auth
        .check_account_password(&state.jmap.store, ip, &user.account.name, &change.current)
        .await
    {
        AuthResult::Ok(_) => {}
        AuthResult::Denied | AuthResult::InvalidToken(_) => {
            return bad(403, "the current password is wrong");
        }
        AuthResult::Throttled(secs) => {
            return bad(
                429,
                &format!("too many failed attempts; try again in {secs} seconds"),
            );
        }
    }
    let new = change.new;
    let hash = match crate::pool::unblock(move || crate::password::hash(&new)).await {
        Ok(h) => h,
        Err(e) => return bad(500, &e),
    };
    let cmd = crate::accounts::Command::Passwd {
        address: user.account.name.clone(),
        password_hash: hash.clone(),
    };
    match crate::accounts::run(&state.jmap.store, cmd).await {
        crate::accounts::Outcome::Done(_) => {}
        crate::accounts::Outcome::Error(e) => return bad(400, &e),
        _ => {}
    }
    state.auth.forget_all();
    state
        .web_sessions
        .remove_account(user.account.id, Some(&user.token));
    state.web_sessions.refresh_password(&user.token, &hash);
    state.admin_sessions.remove_account(user.account.id, None);
    log::info!("webmail: {} changed their password", user.account.name);
    Ok(Response::new(StatusCode::NoContent))
}

/// The server's VAPID public key (RFC 8292 §3.2), the browser's `applicationServerKey` when
/// the webmail asks for notifications. Public, but only handed to signed-in users.
async fn push_key(req: Request<State>) -> tide::Result {
    if session::session_user(&req).await.is_none() {
        return Ok(Response::new(StatusCode::Unauthorized));
    }
    let Some(v) = &req.state().vapid else {
        return Ok(Response::new(StatusCode::NotFound));
    };
    let mut res = Response::new(StatusCode::Ok);
    res.set_body(json!({ "publicKey": v.public_key() }).to_string());
    res.insert_header("Content-Type", "application/json");
    res.insert_header("Cache-Control", "no-store");
    Ok(res)
}

/// The empty document HTML mail is rendered into (see FRAME_CSP).
async fn frame(req: Request<State>) -> tide::Result {
    let remote = req
        .url()
        .query_pairs()
        .any(|(k, v)| k == "remote" && v == "1");
    let mut res = Response::new(StatusCode::Ok);
    res.set_body("<!doctype html><html><head><meta charset=\"utf-8\"></head><body></body></html>");
    res.insert_header("Content-Type", "text/html; charset=utf-8");
    res.insert_header("Cache-Control", "no-store");
    res.insert_header("X-Frame-Options", "SAMEORIGIN");
    harden(&mut res, if remote { FRAME_CSP_REMOTE } else { FRAME_CSP });
    Ok(res)
}

fn accepts_gzip(req: &Request<State>) -> bool {
    req.header("Accept-Encoding")
        .is_some_and(|v| v.iter().any(|h| h.as_str().contains("gzip")))
}

fn serve(req: &Request<State>, a: &assets::Asset, cache: &str) -> Response {
    let mut res = Response::new(StatusCode::Ok);
    match assets::gzipped(a.name).filter(|_| accepts_gzip(req)) {
        Some(gz) => {
            res.set_body(gz);
            res.insert_header("Content-Encoding", "gzip");
        }
        None => res.set_body(a.body),
    }
    res.insert_header("Content-Type", a.ctype);
    res.insert_header("Vary", "Accept-Encoding");
    res.insert_header("Cache-Control", cache);
    harden(&mut res, SHELL_CSP);
    res
}

/// `/webmail/v/<version>/<file>`: immutable for a year under the current version; an old
/// version's URL (a page open across an upgrade) still gets today's file, uncached.
async fn file(req: Request<State>) -> tide::Result {
    let name = req.param("name").unwrap_or_default();
    let Some(a) = assets::get(name).filter(|a| !matches!(a.name, "sw.js")) else {
        return Ok(Response::new(StatusCode::NotFound));
    };
    let current = req.param("version").ok() == Some(assets::version());
    let cache = if current {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    Ok(serve(&req, a, cache))
}

/// The service worker lives at the root so its scope is the whole app; always revalidated so
/// an upgrade reaches installed apps.
async fn service_worker(req: Request<State>) -> tide::Result {
    let Some(a) = assets::get("sw.js") else {
        return Ok(Response::new(StatusCode::NotFound));
    };
    let mut res = serve(&req, a, "no-cache");
    res.insert_header("Service-Worker-Allowed", "/");
    Ok(res)
}

async fn manifest(req: Request<State>) -> tide::Result {
    let Some(a) = assets::get("manifest.webmanifest") else {
        return Ok(Response::new(StatusCode::NotFound));
    };
    Ok(serve(&req, a, "no-cache"))
}
