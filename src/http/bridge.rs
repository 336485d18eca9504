//! The adapter between hyper (HTTP/1.1 on the wire) and tide (routes and handlers): one hyper
//! request becomes one `tide::http::Request` for `tide::Server::respond`, and tide's response
//! goes back as a streaming hyper body.
//!
//! Two things are decided here rather than in a handler:
//! - Message framing that hyper accepts but that could be read two ways by a proxy in front of
//!   us is refused with 400 and the connection closed (RFC 9112 §6.1, §6.3; request smuggling).
//! - The request body reader (`bridge_body.rs`) gives up when the client stops sending for
//!   `http_body_timeout_secs`, so a handler waiting for a body never waits forever.

use super::State;
use super::bridge_body::{InBody, OutBody};
use super::conn_timer::ConnActivity;
use hyper::body::{Body, Incoming};
use hyper::header::{CONTENT_LENGTH, HOST, HeaderValue, TRANSFER_ENCODING, UPGRADE};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// What every request of one connection shares.
pub struct ConnCtx {
    pub peer: SocketAddr,
    pub local: Option<SocketAddr>,
    pub activity: Arc<ConnActivity>,
    pub body_timeout: Duration,
}

/// A protocol upgrade the client asked for (RFC 9110 §7.8), left in the tide request's
/// extensions. A handler that answers 101 Switching Protocols awaits this to get the raw
/// connection (the future WebSocket endpoint); hyper hands it over after the 101 is written.
#[derive(Clone)]
pub struct PendingUpgrade(pub hyper::upgrade::OnUpgrade);

pub type HyperResponse = hyper::Response<OutBody>;

/// Serves one request: framing checks, then tide.
pub async fn respond(
    app: tide::Server<State>,
    ctx: Arc<ConnCtx>,
    mut req: hyper::Request<Incoming>,
) -> Result<HyperResponse, Infallible> {
    ctx.activity.requests.fetch_add(1, Ordering::Relaxed);
    if let Err(why) = check_framing(req.headers()) {
        log::debug!("https {}: refused: {why}", ctx.peer);
        return Ok(refusal(hyper::StatusCode::BAD_REQUEST, why));
    }
    let upgrade = req
        .headers()
        .contains_key(UPGRADE)
        .then(|| PendingUpgrade(hyper::upgrade::on(&mut req)));
    let mut treq = match to_tide(req, &ctx) {
        Ok(r) => r,
        Err((status, why)) => {
            log::debug!("https {}: refused: {why}", ctx.peer);
            return Ok(refusal(status, why));
        }
    };
    if let Some(u) = upgrade {
        treq.ext_mut().insert(u);
    }
    let res: tide::http::Response = match app.respond(treq).await {
        Ok(r) => r,
        Err(e) => {
            log::error!("https {}: handler failed: {e}", ctx.peer);
            tide::http::Response::new(tide::http::StatusCode::InternalServerError)
        }
    };
    Ok(from_tide(res))
}

/// RFC 9112 §6.1 and §6.3 for requests, beyond what hyper already refuses (differing
/// Content-Length values, Transfer-Encoding in HTTP/1.0, a final coding other than chunked):
/// - a transfer coding other than one `chunked` (`identity, chunked`, `gzip, chunked`, two
///   Transfer-Encoding lines): we implement no other coding, and a proxy may have framed such
///   a message differently (§6.1 lets a server answer 501 or refuse; a 400 and a closed
///   connection leave nothing for a second request to hide in);
/// - Transfer-Encoding together with Content-Length: "ought to be handled as an error", and
///   "the server MUST close the connection after responding" (§6.1). hyper already removes the
///   Content-Length when it reads `chunked` and closes the connection after the answer, so in
///   practice the check below only sees this when a coding other than chunked came first
///   (refused above); it stays as a guard should hyper change.
fn check_framing(h: &hyper::HeaderMap) -> Result<(), &'static str> {
    let mut codings = Vec::new();
    for v in h.get_all(TRANSFER_ENCODING) {
        let v = v.to_str().map_err(|_| "unreadable Transfer-Encoding")?;
        codings.extend(v.split(',').map(str::trim).filter(|c| !c.is_empty()));
    }
    if h.contains_key(TRANSFER_ENCODING) {
        if codings.len() != 1 || !codings[0].eq_ignore_ascii_case("chunked") {
            return Err("only the chunked transfer coding is accepted");
        }
        if h.contains_key(CONTENT_LENGTH) {
            return Err("both Transfer-Encoding and Content-Length");
        }
    }
    Ok(())
}

/// A 400 (or other) problem answer after which the connection is closed: once framing is in
/// doubt, nothing more read from it can be trusted.
fn refusal(status: hyper::StatusCode, why: &str) -> HyperResponse {
    let body = serde_json::json!({
        "type": "about:blank",
        "status": status.as_u16(),
        "detail": why,
    })
    .to_string();
    let mut res = hyper::Response::new(OutBody::bytes(body.into_bytes()));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(
        "content-type",
        HeaderValue::from_static("application/problem+json"),
    );
    h.insert("connection", HeaderValue::from_static("close"));
    res
}

type Refused = (hyper::StatusCode, &'static str);

fn to_tide(req: hyper::Request<Incoming>, ctx: &ConnCtx) -> Result<tide::http::Request, Refused> {
    let bad = |why| (hyper::StatusCode::BAD_REQUEST, why);
    let (parts, body) = req.into_parts();
    let method: tide::http::Method = parts
        .method
        .as_str()
        .parse()
        .map_err(|_| (hyper::StatusCode::NOT_IMPLEMENTED, "unknown method"))?;
    let http10 = parts.version == hyper::Version::HTTP_10;
    // RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host; HTTP/1.0 may have none.
    let mut hosts = parts.headers.get_all(HOST).iter();
    let host = match (hosts.next(), hosts.next()) {
        (Some(h), None) => h.to_str().map_err(|_| bad("unreadable Host"))?,
        (None, _) if http10 => parts
            .uri
            .authority()
            .map(|a| a.as_str())
            .unwrap_or("localhost"),
        (None, _) => return Err(bad("missing Host")),
        (Some(_), Some(_)) => return Err(bad("more than one Host")),
    };
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    if !target.starts_with('/') {
        return Err(bad("unsupported request target"));
    }
    // RFC 9110 §7.2: Host is `uri-host [ ":" port ]`. Anything else (`x/admin?`, `a@b`, `x#`)
    // would rewrite the URL built below and route the request to another path than its
    // target (found in review): refused.
    let authority: hyper::http::uri::Authority = host.parse().map_err(|_| bad("bad Host"))?;
    if authority.as_str().contains('@') || authority.as_str().is_empty() {
        return Err(bad("bad Host"));
    }
    let url =
        url::Url::parse(&format!("https://{authority}{target}")).map_err(|_| bad("bad Host"))?;
    let mut treq = tide::http::Request::new(method, url);
    treq.set_version(Some(if http10 {
        tide::http::Version::Http1_0
    } else {
        tide::http::Version::Http1_1
    }));
    treq.set_peer_addr(Some(ctx.peer));
    treq.set_local_addr(ctx.local);
    for (name, value) in &parts.headers {
        let name = tide::http::headers::HeaderName::from_bytes(name.as_str().as_bytes().to_vec())
            .map_err(|_| bad("bad header name"))?;
        // http-types keeps ASCII values only; a non-ASCII value is a client error here.
        let value = tide::http::headers::HeaderValue::from_bytes(value.as_bytes().to_vec())
            .map_err(|_| bad("non-ASCII header value"))?;
        treq.append_header(name, value);
    }
    if !body.is_end_stream() {
        let len = body
            .size_hint()
            .exact()
            .and_then(|n| usize::try_from(n).ok());
        let reader = InBody::new(body, ctx.body_timeout);
        treq.set_body(tide::http::Body::from_reader(reader, len));
    }
    Ok(treq)
}

fn from_tide(mut res: tide::http::Response) -> HyperResponse {
    let status = hyper::StatusCode::from_u16(res.status() as u16)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let mut out = hyper::Response::new(OutBody::new(res.take_body()));
    *out.status_mut() = status;
    let h = out.headers_mut();
    for (name, values) in res.iter() {
        // hyper frames the body itself from its size hint.
        let name = name.as_str();
        if name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            continue;
        }
        let Ok(name) = hyper::header::HeaderName::from_bytes(name.as_bytes()) else {
            continue;
        };
        for v in values.iter() {
            if let Ok(v) = HeaderValue::from_bytes(v.as_str().as_bytes()) {
                h.append(name.clone(), v);
            }
        }
    }
    out
}
