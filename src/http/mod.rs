//! HTTPS: TCP on smol, TLS by futures-rustls, HTTP/1.1 by hyper (`conn.rs`), requests handed to
//! tide through `bridge.rs`. This is the only module that imports tide (DESIGN.md): tide and
//! async-std are unmaintained, so everything HTTP-specific stays here where it can be swapped
//! out. tide is the application framework only (routes, handlers); it never touches the wire.

pub mod admin;
pub mod admin_api;
pub mod admin_dns;
pub mod admin_html;
pub mod admin_quota;
pub mod admin_session;
pub mod admin_setup;
pub mod admin_share;
pub mod admin_status;
pub mod auth;
pub mod autoconfig;
pub mod body_budget;
pub mod bridge;
pub mod bridge_body;
pub mod conn;
pub mod conn_timer;
pub mod eventsource;
pub mod jmap;
pub mod mta_sts;
pub mod oauth;
pub mod oauth_html;
pub mod plain;
pub mod push_client;
pub mod pusher;
pub mod upload;
pub mod vapid;
pub mod webmail;
pub mod webmail_assets;
pub mod webmail_session;
pub mod webpush;
pub mod websocket;
pub mod websocket_conn;

use crate::config::Config;
use crate::jmap::Jmap;
use crate::store::model::Account;
use crate::tls::Tls;
use futures_lite::AsyncReadExt;
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;
use tide::{Request, Response, StatusCode};

#[derive(Clone)]
pub struct State {
    pub jmap: Arc<Jmap>,
    pub config: Arc<Config>,
    pub auth: Arc<auth::Authenticator>,
    pub requests: Arc<smol::lock::Semaphore>,
    pub tls: Tls,
    pub started: Instant,
    /// Recent SMTP transactions and counters (`activity.rs`), read by the admin page.
    pub activity: Arc<crate::activity::Activity>,
    /// Signed-in admin page sessions (`admin_session.rs`).
    pub admin_sessions: Arc<admin_session::Sessions>,
    /// Bytes of API request bodies held while they are read (`body_budget.rs`).
    pub bodies: Arc<body_budget::BodyBudget>,
    /// Signed-in webmail sessions (`webmail_session.rs`).
    pub web_sessions: Arc<admin_session::Sessions>,
    /// The server's Web Push identity (`vapid.rs`), whose public key the webmail gives browsers.
    pub vapid: Option<Arc<vapid::Vapid>>,
    /// The port the submission listener is bound to (what client autoconfiguration names).
    pub submission_port: u16,
}

pub fn routes(state: State) -> tide::Server<State> {
    let mut app = tide::with_state(state);
    webmail::mount(&mut app);
    app.at("/.well-known/jmap").get(jmap::well_known);
    // Client autoconfiguration (Thunderbird format), by path and by `autoconfig.<domain>` Host.
    app.at("/.well-known/autoconfig/mail/config-v1.1.xml")
        .get(autoconfig::config);
    app.at("/mail/config-v1.1.xml").get(autoconfig::config);
    // MTA-STS policy (RFC 8461 §3.3), by `mta-sts.<domain>` Host.
    app.at("/.well-known/mta-sts.txt").get(mta_sts::policy);
    app.at("/jmap/session").get(jmap::session);
    app.at("/jmap/api").post(jmap::api);
    app.at("/jmap/upload/:account").post(upload::upload);
    app.at("/jmap/eventsource").get(eventsource::eventsource);
    app.at(websocket::PATH).get(websocket::upgrade);
    app.at("/jmap/download/:account/:blob/:name")
        .get(jmap::download);
    admin::mount(&mut app);
    oauth::mount(&mut app);
    app
}

pub use conn::serve;

/// The authenticated account, or the response to send instead (401 or 429).
pub async fn authenticate(req: &Request<State>) -> Result<Account, Response> {
    let ip = req
        .peer_addr()
        .and_then(|p| p.parse::<std::net::SocketAddr>().ok())
        .map(|s| s.ip());
    let header = req.header("Authorization").map(|h| h.as_str().to_string());
    // The webmail's session cookie, for same-origin browser requests (issue #14); explicit
    // credentials win over it.
    if header.is_none() && webmail_session::has_cookie(req) {
        return webmail_session::authenticate(req)
            .await
            .map_err(|why| why.response());
    }
    match req
        .state()
        .auth
        .header(
            &req.state().jmap.store,
            ip,
            header.as_deref(),
            auth::Scope::Mail,
        )
        .await
    {
        auth::AuthResult::Ok(a) => Ok(a),
        auth::AuthResult::Denied => Err(unauthorized(None)),
        auth::AuthResult::InvalidToken(why) => Err(unauthorized(Some(why))),
        auth::AuthResult::Throttled(secs) => {
            let mut res = Response::new(StatusCode::TooManyRequests);
            res.insert_header("Retry-After", secs.to_string());
            res.set_content_type("application/problem+json");
            res.set_body(r#"{"type":"about:blank","status":429,"detail":"Too many failed logins; try again later"}"#);
            Err(res)
        }
    }
}

/// 401 with the Basic and Bearer challenges (`auth::challenges`).
fn unauthorized(invalid_token: Option<&str>) -> Response {
    let mut res = Response::new(StatusCode::Unauthorized);
    for c in auth::challenges(invalid_token) {
        res.append_header("WWW-Authenticate", c);
    }
    res.set_content_type("application/problem+json");
    let detail = invalid_token.unwrap_or("Authentication required");
    res.set_body(
        serde_json::json!({"type": "about:blank", "status": 401, "detail": detail}).to_string(),
    );
    res
}

/// An RFC 7807 problem response; the status comes from the problem object.
pub fn problem(v: &Value) -> Response {
    let status = v
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|s| StatusCode::try_from(s as u16).ok());
    let mut res = Response::new(status.unwrap_or(StatusCode::BadRequest));
    res.set_content_type("application/problem+json");
    res.set_body(v.to_string());
    res
}

/// Reads the body up to `limit` bytes, stopping as soon as it is larger (never buffering more
/// than `limit + 1`). `Err(None)` means it is larger than the limit; `Err(Some(r))` that it
/// could not be read: malformed chunking (400) or a client that stopped sending (408, RFC 9110
/// §15.5.9). Either way the connection is closed after the answer, as the rest of the body is
/// still unread.
pub async fn read_body(
    req: &mut Request<State>,
    limit: usize,
) -> Result<Vec<u8>, Option<Response>> {
    if let Some(len) = req.len()
        && len > limit
    {
        return Err(None);
    }
    let body = req.take_body();
    let mut buf = Vec::new();
    match body.take(limit as u64 + 1).read_to_end(&mut buf).await {
        Ok(_) if buf.len() > limit => Err(None),
        Ok(_) => Ok(buf),
        Err(e) => {
            let (status, detail) = if e.kind() == std::io::ErrorKind::TimedOut {
                (
                    StatusCode::RequestTimeout,
                    "The request body stopped arriving",
                )
            } else {
                (StatusCode::BadRequest, "The request body could not be read")
            };
            let mut res = problem(&serde_json::json!({
                "type": "about:blank",
                "status": status as u16,
                "detail": detail,
            }));
            res.insert_header("Connection", "close");
            Err(Some(res))
        }
    }
}
