//! GET /jmap/ws: the JMAP WebSocket upgrade (RFC 8887 §4 on RFC 6455 §4.2). The handshake is
//! checked and answered here, on the same TLS listener as the API; after the 101 the
//! connection is handed to `websocket_conn.rs`.
//!
//! Authentication is the API's (`authenticate`: Basic, Bearer, or the webmail's cookie, with
//! the same failed-login limits). A browser cannot set headers on a WebSocket, so with the
//! cookie it is the Origin (which browsers always send on a WebSocket, RFC 6455 §4.1) that
//! must be ours: otherwise any site could open a socket with the user's cookie (cross-site
//! WebSocket hijacking).

use super::bridge::PendingUpgrade;
use super::{State, admin_session, authenticate, problem, webmail_session};
use crate::store::model::AccountId;
use base64::Engine;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;
use tide::{Request, Response, StatusCode};

/// The capability's name (RFC 8887 §4.1).
pub const CAPABILITY: &str = crate::jmap::CAP_WEBSOCKET;
/// The path the session advertises.
pub const PATH: &str = "/jmap/ws";
/// RFC 6455 §1.3: appended to the client's key before hashing.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Open WebSocket connections per user, as for the event source; more are refused with 429.
pub const MAX_PER_USER: usize = 256;
static OPEN: Mutex<Option<HashMap<AccountId, usize>>> = Mutex::new(None);

/// WebSocket connections open right now, over all users.
pub fn open_connections() -> u64 {
    OPEN.lock()
        .ok()
        .and_then(|g| g.as_ref().map(|m| m.values().sum::<usize>() as u64))
        .unwrap_or(0)
}

/// One of a user's WebSocket slots, given back when the connection ends.
pub struct Slot(AccountId);

impl Slot {
    fn take(user: AccountId) -> Option<Slot> {
        let mut g = OPEN.lock().ok()?;
        let n = g.get_or_insert_with(HashMap::new).entry(user).or_insert(0);
        if *n >= MAX_PER_USER {
            return None;
        }
        *n += 1;
        Some(Slot(user))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut g) = OPEN.lock()
            && let Some(m) = g.as_mut()
            && let Some(n) = m.get_mut(&self.0)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(&self.0);
            }
        }
    }
}

fn refuse(status: u16, detail: &str) -> Response {
    problem(&json!({"type": "about:blank", "status": status, "detail": detail}))
}

fn header<'a>(req: &'a Request<State>, name: &str) -> Option<&'a str> {
    req.header(name).map(|h| h.last().as_str())
}

/// Whether a comma-separated header holds `token` (case-insensitively when `ci`).
fn has_token(value: Option<&str>, token: &str, ci: bool) -> bool {
    value.is_some_and(|v| {
        v.split(',').map(str::trim).any(|t| {
            if ci {
                t.eq_ignore_ascii_case(token)
            } else {
                t == token
            }
        })
    })
}

/// RFC 6455 §4.2.2 step 5: base64(SHA-1(key + GUID)).
pub fn accept_key(key: &str) -> String {
    let d = ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        format!("{key}{GUID}").as_bytes(),
    );
    base64::engine::general_purpose::STANDARD.encode(d.as_ref())
}

/// The handshake's own checks (RFC 6455 §4.2.1), before any credential is looked at; the
/// error is the response to send.
fn check_handshake(req: &Request<State>) -> Result<String, Box<Response>> {
    if !has_token(header(req, "Upgrade"), "websocket", true)
        || !req.header("Connection").is_some_and(|h| {
            h.iter()
                .any(|v| has_token(Some(v.as_str()), "upgrade", true))
        })
    {
        return Err(Box::new(refuse(
            400,
            "a WebSocket upgrade is expected here",
        )));
    }
    // §4.2.2: an unsupported version is answered 426 with the versions we speak.
    if header(req, "Sec-WebSocket-Version").map(str::trim) != Some("13") {
        let mut res = refuse(426, "WebSocket version 13 is required");
        res.set_status(StatusCode::UpgradeRequired);
        res.insert_header("Sec-WebSocket-Version", "13");
        return Err(Box::new(res));
    }
    // §4.1: the key is 16 random bytes, base64-encoded.
    let key = header(req, "Sec-WebSocket-Key").unwrap_or_default().trim();
    let decoded = base64::engine::general_purpose::STANDARD.decode(key);
    if !decoded.is_ok_and(|k| k.len() == 16) {
        return Err(Box::new(refuse(400, "a bad Sec-WebSocket-Key")));
    }
    // RFC 8887 §4.2: the client MUST ask for the "jmap" subprotocol.
    let protocols: Vec<_> = req
        .header("Sec-WebSocket-Protocol")
        .map(|h| h.iter().map(|v| v.as_str().to_string()).collect())
        .unwrap_or_default();
    if !protocols.iter().any(|p| has_token(Some(p), "jmap", false)) {
        return Err(Box::new(refuse(
            400,
            "the 'jmap' WebSocket subprotocol is required (RFC 8887)",
        )));
    }
    Ok(key.to_string())
}

pub async fn upgrade(req: Request<State>) -> tide::Result {
    let key = match check_handshake(&req) {
        Ok(k) => k,
        Err(r) => return Ok(*r),
    };
    let Some(pending) = req.ext::<PendingUpgrade>().cloned() else {
        return Ok(refuse(400, "this connection cannot be upgraded"));
    };
    // The cookie alone is not enough: the page that opened the socket must be ours.
    if req.header("Authorization").is_none()
        && webmail_session::has_cookie(&req)
        && (header(&req, "Origin").is_none() || !admin_session::same_origin(&req))
    {
        log::warn!("websocket: refused a cookie upgrade from another origin");
        return Ok(refuse(403, "a cross-site WebSocket"));
    }
    let user = match authenticate(&req).await {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let Some(slot) = Slot::take(user.id) else {
        return Ok(refuse(
            429,
            &format!("at most {MAX_PER_USER} WebSocket connections per user"),
        ));
    };
    let state = req.state().clone();
    smol::spawn(async move {
        let upgraded = match pending.0.await {
            Ok(u) => u,
            Err(e) => {
                log::debug!("websocket: upgrade failed: {e}");
                return;
            }
        };
        let Some((io, read)) = super::conn::upgraded_io(upgraded) else {
            log::error!("websocket: the upgraded connection is not ours");
            return;
        };
        super::websocket_conn::run(state, user, io, read, slot).await;
    })
    .detach();
    let mut res = Response::new(StatusCode::SwitchingProtocols);
    res.insert_header("Upgrade", "websocket");
    res.insert_header("Connection", "Upgrade");
    res.insert_header("Sec-WebSocket-Accept", accept_key(&key));
    res.insert_header("Sec-WebSocket-Protocol", "jmap");
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6455_sample_key() {
        // RFC 6455 §1.3's example.
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn tokens() {
        assert!(has_token(Some("keep-alive, Upgrade"), "upgrade", true));
        assert!(!has_token(Some("jmapx, other"), "jmap", false));
        assert!(has_token(Some("other, jmap"), "jmap", false));
        assert!(!has_token(None, "jmap", false));
    }
}
