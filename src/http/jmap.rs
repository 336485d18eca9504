//! JMAP over HTTP (RFC 8620 §2-3, §6.2): the Session, the API endpoint and blob download.
//! Request-level errors become RFC 7807 problem JSON here, and only here.

use super::{State, authenticate, problem, read_body};
use crate::jmap::{self, blob};
use crate::store::model::IdKind;
use tide::http::mime;
use tide::{Request, Response, StatusCode};

fn base_url(req: &Request<State>) -> String {
    if let Some(u) = &req.state().config.public_url {
        return u.clone();
    }
    let host = req
        .header("Host")
        .map(|h| h.as_str().to_string())
        .unwrap_or_else(|| req.state().config.hostname.clone());
    format!("https://{host}")
}

/// `/.well-known/jmap` (RFC 8620 §2.2): a redirect to the Session resource, which a client
/// follows with its credentials. 307 keeps the method and says nothing permanent, so the
/// Session's path can change without clients remembering the old one. No authentication here:
/// discovery comes before the client knows which credentials the server takes.
pub async fn well_known(req: Request<State>) -> tide::Result {
    let mut res = Response::new(StatusCode::TemporaryRedirect);
    res.insert_header(
        "Location",
        format!("{}/jmap/session", base_url(&req).trim_end_matches('/')),
    );
    res.insert_header("Cache-Control", "no-cache");
    Ok(res)
}

pub async fn session(req: Request<State>) -> tide::Result {
    let user = match authenticate(&req).await {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let body = jmap::session::session(&req.state().jmap, &user, &base_url(&req));
    let mut res = Response::new(StatusCode::Ok);
    res.set_content_type(mime::JSON);
    res.insert_header("Cache-Control", "no-cache, no-store, must-revalidate");
    res.set_body(body.to_string());
    Ok(res)
}

pub async fn api(mut req: Request<State>) -> tide::Result {
    let user = match authenticate(&req).await {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let state = req.state().clone();
    // RFC 8620 §3.1: the request MUST be of type application/json; anything else is the
    // notJSON problem (§3.6.1). Checked before a byte of the body is read.
    let ctype = req.header("Content-Type").map(|h| h.last().as_str());
    if !is_json(ctype) {
        let e = jmap::error::RequestError::NotJson(
            "the Content-Type must be application/json (RFC 8620 §3.1)".into(),
        );
        return Ok(problem(&e.problem()));
    }
    let limit = state.jmap.limits.max_size_request;
    // Memory for the body is reserved before a byte is read (`body_budget.rs`).
    let Some(_reserved) = state
        .bodies
        .reserve(&user.name, req.len().unwrap_or(limit).min(limit))
    else {
        let e = jmap::error::RequestError::Limit {
            limit: "maxConcurrentRequests",
            detail: "too many request bodies being sent at once".into(),
        };
        return Ok(problem(&e.problem()));
    };
    let body = match read_body(&mut req, limit).await {
        Ok(b) => b,
        Err(None) => {
            let e = jmap::error::RequestError::Limit {
                limit: "maxSizeRequest",
                detail: format!("the request is larger than {limit} bytes"),
            };
            return Ok(problem(&e.problem()));
        }
        Err(Some(r)) => return Ok(r),
    };
    // The concurrency slot (maxConcurrentRequests) is taken only once the whole body is in:
    // a client that sends a body slowly, or never, must not hold a slot every user shares.
    let _permit = match state.requests.try_acquire() {
        Some(p) => p,
        None => {
            let e = jmap::error::RequestError::Limit {
                limit: "maxConcurrentRequests",
                detail: "too many concurrent requests".into(),
            };
            return Ok(problem(&e.problem()));
        }
    };
    match jmap::handle(&state.jmap, &user, &body).await {
        Ok(v) => {
            let mut res = Response::new(StatusCode::Ok);
            res.set_content_type(mime::JSON);
            res.set_body(v.to_string());
            Ok(res)
        }
        Err(e) => Ok(problem(&e.problem())),
    }
}

/// `application/json`, with or without parameters (`; charset=utf-8` is common and harmless:
/// JSON is UTF-8, RFC 8259 §8.1). Media type names are case-insensitive (RFC 9110 §8.3.1).
fn is_json(ctype: Option<&str>) -> bool {
    ctype
        .and_then(|c| c.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

pub async fn download(req: Request<State>) -> tide::Result {
    let user = match authenticate(&req).await {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let account = req.param("account").unwrap_or_default();
    let blob_id = req.param("blob").unwrap_or_default().to_string();
    // Path parameters arrive percent-encoded (the client filled a URI template, RFC 6570).
    let name = percent_decode(req.param("name").unwrap_or("download"));
    if IdKind::Account.decode(account) != Some(user.id) {
        return Ok(Response::new(StatusCode::NotFound));
    }
    let accept: Option<String> = req
        .url()
        .query_pairs()
        .find(|(k, _)| k == "accept")
        .map(|(_, v)| v.into_owned())
        .filter(|v| is_media_type(v));
    match blob::download(&req.state().jmap.store, user.id, &blob_id).await {
        Ok(Some(bytes)) => {
            let mut res = Response::new(StatusCode::Ok);
            let ctype = accept.unwrap_or_else(|| "application/octet-stream".into());
            res.insert_header("Content-Type", ctype.as_str());
            res.insert_header("Content-Disposition", content_disposition(&name));
            res.insert_header("Cache-Control", "private, immutable, max-age=31536000");
            // The bytes are the sender's, not ours: never let a browser run them as a page of
            // this origin (which also serves the admin page).
            res.insert_header("X-Content-Type-Options", "nosniff");
            res.insert_header("Content-Security-Policy", "sandbox");
            res.set_body(bytes);
            Ok(res)
        }
        Ok(None) => Ok(Response::new(StatusCode::NotFound)),
        Err(e) => {
            log::error!("download: {e}");
            Ok(Response::new(StatusCode::InternalServerError))
        }
    }
}

/// Decodes `%XX` escapes; invalid UTF-8 in the result is replaced, bad escapes kept as is.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A media type the client asked for (`type/subtype` with optional parameters), printable and
/// short; anything else falls back to application/octet-stream.
fn is_media_type(v: &str) -> bool {
    let essence = v.split(';').next().unwrap_or_default().trim();
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    v.len() <= 255
        && v.bytes().all(|b| (0x20..0x7f).contains(&b))
        && essence
            .split_once('/')
            .is_some_and(|(t, s)| token(t) && token(s))
}

/// RFC 6266 with an RFC 8187 UTF-8 filename for non-ASCII names.
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn json_content_types() {
        assert!(is_json(Some("application/json")));
        assert!(is_json(Some("application/json; charset=utf-8")));
        assert!(is_json(Some("Application/JSON;charset=UTF-8")));
        assert!(!is_json(Some("text/plain")));
        assert!(!is_json(Some("application/x-www-form-urlencoded")));
        assert!(!is_json(Some("application/jsonx")));
        assert!(!is_json(None));
    }
}
