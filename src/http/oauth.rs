//! The OAuth 2.0 endpoints (issue #15; the logic is in `src/oauth/`):
//!
//! - `GET /.well-known/oauth-authorization-server`: metadata (RFC 8414).
//! - `GET /oauth/authorize`: checks the request and shows the sign-in + consent page;
//!   `POST /oauth/authorize`: the page's form (same-origin only, a per-request token, the
//!   account password through the login door's budget), answered by a redirect to the app
//!   with `code`, `state` and `iss` (RFC 9207), or `error=access_denied`.
//! - `POST /oauth/token`: `authorization_code` and `refresh_token` grants (RFC 6749 §4.1.3,
//!   §6), JSON answers with `no-store` (§5.1, §5.2).
//! - `POST /oauth/revoke`: RFC 7009.
//!
//! The token and revocation endpoints and the metadata allow any origin (CORS without
//! credentials): browser apps are public clients that prove themselves with PKCE, and no
//! cookie is ever read there.

use super::State;
use super::admin::{self, html};
use super::admin_session::{peer_ip, same_origin};
use super::oauth_html::{self, Consent};
use crate::oauth::exchange::{self, GrantError};
use crate::oauth::grants::{self, Pending};
use crate::oauth::{clients, pkce};
use serde_json::json;
use std::collections::HashMap;
use tide::{Request, Response, StatusCode};

/// Largest form body the token and revocation endpoints read.
const MAX_FORM: usize = 8 * 1024;
/// Largest value of one authorization request parameter (`state` included).
const MAX_PARAM: usize = 1024;

pub fn mount(app: &mut tide::Server<State>) {
    app.at("/.well-known/oauth-authorization-server")
        .get(metadata);
    app.at("/oauth/authorize").get(authorize).post(consent);
    app.at("/oauth/token").post(token);
    app.at("/oauth/revoke").post(revoke);
}

/// Our issuer identifier (RFC 8414 §2): the configured public URL, else https and the Host the
/// client used.
fn issuer(req: &Request<State>) -> String {
    if let Some(u) = &req.state().config.public_url {
        return u.trim_end_matches('/').to_string();
    }
    let host = req
        .header("Host")
        .map(|h| h.as_str().to_string())
        .unwrap_or_else(|| req.state().config.hostname.clone());
    format!("https://{host}")
}

fn json_response(status: StatusCode, v: serde_json::Value) -> Response {
    let mut res = Response::new(status);
    res.set_body(v.to_string());
    res.insert_header("Content-Type", "application/json");
    // §5.1: token responses must not be cached.
    res.insert_header("Cache-Control", "no-store");
    res.insert_header("Pragma", "no-cache");
    res.insert_header("Access-Control-Allow-Origin", "*");
    res.insert_header("X-Content-Type-Options", "nosniff");
    res
}

async fn metadata(req: Request<State>) -> tide::Result {
    let iss = issuer(&req);
    let mut res = json_response(
        StatusCode::Ok,
        json!({
            "issuer": iss,
            "authorization_endpoint": format!("{iss}/oauth/authorize"),
            "token_endpoint": format!("{iss}/oauth/token"),
            "revocation_endpoint": format!("{iss}/oauth/revoke"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "revocation_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": [crate::oauth::SCOPE],
            "authorization_response_iss_parameter_supported": true,
        }),
    );
    res.insert_header("Cache-Control", "max-age=3600");
    res.remove_header("Pragma");
    Ok(res)
}

/// Parameters of a query or form, refusing repeated names (RFC 6749 §3.1, §3.2) and oversized
/// values.
fn params(
    pairs: impl Iterator<Item = (String, String)>,
) -> Result<HashMap<String, String>, &'static str> {
    let mut out = HashMap::new();
    for (k, v) in pairs {
        if v.len() > MAX_PARAM || out.len() >= 32 {
            return Err("a parameter is too long, or there are too many");
        }
        if out.insert(k, v).is_some() {
            return Err("a parameter was sent more than once");
        }
    }
    Ok(out)
}

fn form(body: &[u8]) -> Result<HashMap<String, String>, &'static str> {
    params(url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())))
}

/// The refused-without-redirect page.
fn refuse_here(req: &Request<State>, status: StatusCode, why: &str) -> Response {
    log::warn!(
        "oauth: refused an authorization request from {}: {why}",
        crate::logging::Peer(peer_ip(req))
    );
    html(
        status,
        oauth_html::error_page(&req.state().config.hostname, why),
    )
}

/// The redirect back to the app, with `extra` parameters plus `state` and `iss`.
fn back_to_app(
    req: &Request<State>,
    redirect_uri: &str,
    state: Option<&str>,
    extra: &[(&str, &str)],
) -> Response {
    let Ok(mut u) = url::Url::parse(redirect_uri) else {
        return refuse_here(
            req,
            StatusCode::BadRequest,
            "The redirect URI is not valid.",
        );
    };
    {
        let mut q = u.query_pairs_mut();
        for (k, v) in extra {
            q.append_pair(k, v);
        }
        if let Some(s) = state {
            q.append_pair("state", s);
        }
        // RFC 9207: tells the app which server answered (mix-up defence).
        q.append_pair("iss", &issuer(req));
    }
    let mut res = Response::new(StatusCode::SeeOther);
    res.insert_header("Location", u.as_str());
    admin::harden(&mut res);
    res
}

/// The CSP source of the redirect target, so `form-action` lets the consent form's redirect
/// through (CSP3 checks form-action on redirects too).
fn form_target(redirect_uri: &str) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u.origin().ascii_serialization(),
        Ok(u) => format!("{}:", u.scheme()),
        Err(_) => String::new(),
    }
}

fn consent_html(status: StatusCode, c: &Consent, redirect: &str) -> Response {
    let mut res = html(status, oauth_html::consent_page(c));
    let csp = format!(
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self' {}; \
         frame-ancestors 'none'; base-uri 'none'",
        form_target(redirect)
    );
    res.insert_header("Content-Security-Policy", csp);
    res
}

/// What the consent page says the browser returns to.
fn returns_to(redirect_uri: &str) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => u.origin().ascii_serialization(),
        Ok(u) => format!("{}:", u.scheme()),
        Err(_) => redirect_uri.to_string(),
    }
}

/// `GET /oauth/authorize` (RFC 6749 §4.1.1, RFC 7636 §4.3).
async fn authorize(req: Request<State>) -> tide::Result {
    let p = match params(
        req.url()
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned())),
    ) {
        Ok(p) => p,
        Err(why) => return Ok(refuse_here(&req, StatusCode::BadRequest, why)),
    };
    let get = |k: &str| p.get(k).map(String::as_str).filter(|v| !v.is_empty());
    // §4.1.2.1: without a known client and one of its redirect URIs, tell the user, never
    // redirect.
    let Some(client_id) = get("client_id") else {
        return Ok(refuse_here(
            &req,
            StatusCode::BadRequest,
            "The request names no app (client_id).",
        ));
    };
    let store = &req.state().jmap.store;
    let client = match clients::get(store, client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return Ok(refuse_here(
                &req,
                StatusCode::BadRequest,
                "This app is not registered with this server.",
            ));
        }
        Err(e) => {
            log::error!("oauth: store error: {e}");
            return Ok(refuse_here(
                &req,
                StatusCode::ServiceUnavailable,
                "The server cannot answer right now.",
            ));
        }
    };
    let redirect_uri = match get("redirect_uri") {
        Some(r) if clients::redirect_allowed(&client, r) => r.to_string(),
        Some(_) => {
            return Ok(refuse_here(
                &req,
                StatusCode::BadRequest,
                "The app asked to return to an address it did not register.",
            ));
        }
        // §3.1.2.3: may be left out when the client registered exactly one.
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        None => {
            return Ok(refuse_here(
                &req,
                StatusCode::BadRequest,
                "The request names no redirect_uri.",
            ));
        }
    };
    let state = get("state");
    let fail = |error: &str, why: &str| {
        Ok(back_to_app(
            &req,
            &redirect_uri,
            state,
            &[("error", error), ("error_description", why)],
        ))
    };
    if get("response_type") != Some("code") {
        return fail(
            "unsupported_response_type",
            "only response_type=code is supported",
        );
    }
    // RFC 7636 §4.4.1: PKCE is required, and only S256 (a missing method means "plain").
    let Some(challenge) = get("code_challenge") else {
        return fail("invalid_request", "code_challenge is required (PKCE, S256)");
    };
    if get("code_challenge_method") != Some("S256") {
        return fail(
            "invalid_request",
            "transform algorithm not supported: use code_challenge_method=S256",
        );
    }
    if !pkce::valid_challenge(challenge) {
        return fail(
            "invalid_request",
            "code_challenge is not a base64url SHA-256",
        );
    }
    if let Some(scope) = get("scope")
        && scope
            .split(' ')
            .any(|s| !s.is_empty() && s != crate::oauth::SCOPE)
    {
        return fail("invalid_scope", "the only scope is \"mail\"");
    }
    let pending = Pending {
        client_id: client.id.clone(),
        client_name: client.name.clone(),
        redirect_uri: redirect_uri.clone(),
        state: state.map(str::to_string),
        challenge: challenge.to_string(),
    };
    let Some(token) = grants::begin(pending) else {
        return fail("server_error", "could not start the sign-in");
    };
    let back = returns_to(&redirect_uri);
    Ok(consent_html(
        StatusCode::Ok,
        &Consent {
            hostname: &req.state().config.hostname,
            client_name: &client.name,
            returns_to: &back,
            request: &token,
            message: None,
            address: "",
        },
        &redirect_uri,
    ))
}

/// `POST /oauth/authorize`: the consent form.
async fn consent(mut req: Request<State>) -> tide::Result {
    let ip = peer_ip(&req);
    if !same_origin(&req) {
        log::warn!(
            "oauth: refused a cross-site consent from {} (Origin {:?})",
            crate::logging::Peer(ip),
            req.header("Origin").map(|h| h.as_str())
        );
        return Ok(refuse_here(
            &req,
            StatusCode::Forbidden,
            "Cross-site request refused.",
        ));
    }
    let body = match super::read_body(&mut req, MAX_FORM).await {
        Ok(b) => b,
        Err(Some(res)) => return Ok(res),
        Err(None) => {
            return Ok(refuse_here(
                &req,
                StatusCode::PayloadTooLarge,
                "The form is too large.",
            ));
        }
    };
    let f = match form(&body) {
        Ok(f) => f,
        Err(why) => return Ok(refuse_here(&req, StatusCode::BadRequest, why)),
    };
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or_default();
    let token = get("request");
    let Some(p) = grants::pending(token) else {
        return Ok(refuse_here(
            &req,
            StatusCode::BadRequest,
            "This sign-in page expired or was already used.",
        ));
    };
    if get("decision") != "allow" {
        grants::finish(token);
        log::info!(
            "oauth: a user denied {} from {}",
            p.client_name,
            crate::logging::Peer(ip)
        );
        return Ok(back_to_app(
            &req,
            &p.redirect_uri,
            p.state.as_deref(),
            &[
                ("error", "access_denied"),
                ("error_description", "the user denied the request"),
            ],
        ));
    }
    let user = get("address").trim().to_string();
    let pass = get("password").to_string();
    let back = returns_to(&p.redirect_uri);
    let again = |status, message: &str| {
        let host = req.state().config.hostname.clone();
        let page = Consent {
            hostname: &host,
            client_name: &p.client_name,
            returns_to: &back,
            request: token,
            message: Some(message),
            address: &user,
        };
        consent_html(status, &page, &p.redirect_uri)
    };
    if user.is_empty() || pass.is_empty() {
        return Ok(again(
            StatusCode::BadRequest,
            "Enter an address and a password.",
        ));
    }
    let state = req.state();
    match state
        .auth
        .check_account_password(&state.jmap.store, ip, &user, &pass)
        .await
    {
        super::auth::AuthResult::Ok(account) => {
            if grants::finish(token).is_none() {
                return Ok(refuse_here(
                    &req,
                    StatusCode::BadRequest,
                    "This sign-in page expired or was already used.",
                ));
            }
            let code = grants::issue_code(grants::Code {
                account: account.id,
                password_fp: crate::tokens::password_fp(&account),
                client_id: p.client_id.clone(),
                redirect_uri: p.redirect_uri.clone(),
                challenge: p.challenge.clone(),
            });
            let Some(code) = code else {
                return Ok(back_to_app(
                    &req,
                    &p.redirect_uri,
                    p.state.as_deref(),
                    &[("error", "server_error")],
                ));
            };
            log::info!(
                "oauth: {} allowed {} ({}) from {}",
                account.name,
                p.client_name,
                p.client_id,
                crate::logging::Peer(ip)
            );
            Ok(back_to_app(
                &req,
                &p.redirect_uri,
                p.state.as_deref(),
                &[("code", &code)],
            ))
        }
        super::auth::AuthResult::Denied | super::auth::AuthResult::InvalidToken(_) => {
            log::warn!(
                "oauth: failed sign-in for {:?} from {}",
                crate::wire::printable(&user),
                crate::logging::Peer(ip)
            );
            Ok(again(
                StatusCode::Unauthorized,
                "Wrong address or password.",
            ))
        }
        super::auth::AuthResult::Throttled(secs) => {
            let mut res = again(
                StatusCode::TooManyRequests,
                &format!("Too many failed sign-ins. Try again in {secs} seconds."),
            );
            res.insert_header("Retry-After", secs.to_string());
            Ok(res)
        }
    }
}

/// An RFC 6749 §5.2 error.
fn grant_error(e: &GrantError) -> Response {
    let status = match e {
        GrantError::InvalidClient(_) => StatusCode::Unauthorized,
        GrantError::Server => StatusCode::InternalServerError,
        _ => StatusCode::BadRequest,
    };
    json_response(
        status,
        json!({"error": e.code(), "error_description": e.describe()}),
    )
}

/// Reads a form body of the token or revocation endpoint.
async fn form_body(req: &mut Request<State>) -> Result<HashMap<String, String>, Response> {
    let is_form = req
        .content_type()
        .is_some_and(|m| m.essence() == "application/x-www-form-urlencoded");
    if !is_form {
        return Err(grant_error(&GrantError::InvalidRequest(
            "send the parameters as application/x-www-form-urlencoded",
        )));
    }
    let body = match super::read_body(req, MAX_FORM).await {
        Ok(b) => b,
        Err(Some(res)) => return Err(res),
        Err(None) => {
            return Err(grant_error(&GrantError::InvalidRequest(
                "the body is too large",
            )));
        }
    };
    form(&body).map_err(|why| grant_error(&GrantError::InvalidRequest(why)))
}

/// `POST /oauth/token`.
async fn token(mut req: Request<State>) -> tide::Result {
    let ip = peer_ip(&req);
    if let Err(d) = req.state().auth.admit(ip) {
        let mut res = json_response(
            StatusCode::TooManyRequests,
            json!({"error": "invalid_request", "error_description": "too many refused requests; try again later"}),
        );
        res.insert_header("Retry-After", d.as_secs().max(1).to_string());
        return Ok(res);
    }
    let f = match form_body(&mut req).await {
        Ok(f) => f,
        Err(res) => return Ok(res),
    };
    let get = |k: &str| f.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let state = req.state();
    let store = &state.jmap.store;
    let ttl = state.config.oauth_access_ttl_secs;
    let result = match (get("grant_type"), get("client_id")) {
        (None, _) => Err(GrantError::InvalidRequest("grant_type is required")),
        (Some("authorization_code" | "refresh_token"), None) => {
            Err(GrantError::InvalidRequest("client_id is required"))
        }
        (Some("authorization_code"), Some(client)) => {
            match (get("code"), get("redirect_uri"), get("code_verifier")) {
                (Some(code), Some(redirect), Some(verifier)) => {
                    exchange::from_code(store, ttl, client, code, redirect, verifier).await
                }
                _ => Err(GrantError::InvalidRequest(
                    "code, redirect_uri and code_verifier are required",
                )),
            }
        }
        (Some("refresh_token"), Some(client)) => match get("refresh_token") {
            Some(rt) => exchange::refresh(store, ttl, client, rt).await,
            None => Err(GrantError::InvalidRequest("refresh_token is required")),
        },
        (Some(_), _) => Err(GrantError::UnsupportedGrantType),
    };
    match result {
        Ok(t) => Ok(json_response(
            StatusCode::Ok,
            json!({
                "access_token": t.access_token,
                "token_type": "Bearer",
                "expires_in": t.expires_in,
                "refresh_token": t.refresh_token,
                "scope": crate::oauth::SCOPE,
            }),
        )),
        Err(e) => {
            if matches!(
                e,
                GrantError::InvalidGrant(_) | GrantError::InvalidClient(_)
            ) {
                state.auth.failed(ip);
            }
            log::info!(
                "oauth: token request from {} refused: {} ({})",
                crate::logging::Peer(ip),
                e.code(),
                e.describe()
            );
            Ok(grant_error(&e))
        }
    }
}

/// `POST /oauth/revoke` (RFC 7009 §2): 200 whether or not the token was known (§2.2).
async fn revoke(mut req: Request<State>) -> tide::Result {
    let f = match form_body(&mut req).await {
        Ok(f) => f,
        Err(res) => return Ok(res),
    };
    let Some(token) = f.get("token").filter(|t| !t.is_empty()) else {
        return Ok(grant_error(&GrantError::InvalidRequest(
            "token is required",
        )));
    };
    let client = f
        .get("client_id")
        .map(String::as_str)
        .filter(|c| !c.is_empty());
    match exchange::revoke(&req.state().jmap.store, client, token).await {
        Ok(()) => Ok(json_response(StatusCode::Ok, json!({}))),
        Err(e) => Ok(grant_error(&e)),
    }
}
