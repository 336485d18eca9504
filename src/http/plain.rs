//! The optional plain-HTTP listener (`http_listen`, port 80 in production). It does two things
//! only: answers ACME HTTP-01 challenges (`GET /.well-known/acme-challenge/TOKEN`, RFC 8555
//! §8.3) while an order is open, and redirects everything else to HTTPS (301, same host and
//! path), so nothing is ever served in clear text.
//!
//! hyper directly (no tide): no routes, no state beyond the challenge table. Every connection
//! has one overall time limit and the same admission counts as HTTPS.

use crate::acme::challenges::Challenges;
use bytes::Bytes;
use futures_lite::FutureExt;
use http_body_util::Full;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// A plain connection lives at most this long (a validator makes one short request).
const CONN_LIMIT: Duration = Duration::from_secs(30);
const PREFIX: &str = "/.well-known/acme-challenge/";

/// The answer to one request (kept free of sockets for unit tests).
pub fn answer(
    challenges: &Challenges,
    https_port: u16,
    host: Option<&str>,
    path_and_query: &str,
) -> (u16, String, Option<String>) {
    if let Some(token) = path_and_query.strip_prefix(PREFIX) {
        return match challenges.http(token) {
            Some(key_auth) => (200, key_auth, None),
            None => (404, "no such challenge\n".into(), None),
        };
    }
    // Host without its port (an IPv6 literal keeps its brackets).
    let host = host.unwrap_or("localhost");
    let bare = match host.rfind(':') {
        Some(i) if !host[i..].contains(']') => &host[..i],
        _ => host,
    };
    let valid = !bare.is_empty()
        && bare
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.[]:".contains(&b));
    if !valid {
        return (400, "bad Host\n".into(), None);
    }
    let port = if https_port == 443 {
        String::new()
    } else {
        format!(":{https_port}")
    };
    let location = format!("https://{bare}{port}{path_and_query}");
    (301, format!("moved to {location}\n"), Some(location))
}

pub async fn serve(
    listener: smol::net::TcpListener,
    challenges: Arc<Challenges>,
    https_port: u16,
    max_connections: usize,
    max_per_ip: usize,
) {
    let admission = crate::admission::Limits::new(max_connections, max_per_ip, 0);
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                log::warn!("http accept failed: {e}");
                smol::Timer::after(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = admission.admit(peer.ip()) else {
            continue;
        };
        let challenges = challenges.clone();
        smol::spawn(async move {
            connection(tcp, peer, challenges, https_port).await;
            drop(permit);
        })
        .detach();
    }
}

async fn connection(
    tcp: smol::net::TcpStream,
    peer: SocketAddr,
    challenges: Arc<Challenges>,
    https_port: u16,
) {
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let host = req
            .headers()
            .get(hyper::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string);
        let pq = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into());
        let (status, body, location) = answer(&challenges, https_port, host.as_deref(), &pq);
        if status == 200 {
            log::info!("http {peer}: ACME HTTP-01 challenge answered");
        }
        let mut res = hyper::Response::new(Full::new(Bytes::from(body)));
        *res.status_mut() =
            hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_REQUEST);
        res.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/plain"),
        );
        if let Some(l) = location.and_then(|l| hyper::header::HeaderValue::from_str(&l).ok()) {
            res.headers_mut().insert(hyper::header::LOCATION, l);
        }
        async move { Ok::<_, Infallible>(res) }
    });
    let serve = async {
        let _ = hyper::server::conn::http1::Builder::new()
            .max_buf_size(super::conn::MAX_BUF)
            .serve_connection(smol_hyper::rt::FuturesIo::new(tcp), service)
            .await;
    };
    let limit = async {
        smol::Timer::after(CONN_LIMIT).await;
    };
    serve.or(limit).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_are_answered_and_the_rest_redirected() {
        let c = Challenges::default();
        c.add_http("tok", "tok.thumb").unwrap();
        assert_eq!(
            answer(&c, 443, Some("a.test"), "/.well-known/acme-challenge/tok").1,
            "tok.thumb"
        );
        assert_eq!(
            answer(&c, 443, Some("a.test"), "/.well-known/acme-challenge/x").0,
            404
        );
        let (s, _, l) = answer(&c, 443, Some("a.test:80"), "/jmap?x=1");
        assert_eq!((s, l.as_deref()), (301, Some("https://a.test/jmap?x=1")));
        let (_, _, l) = answer(&c, 8443, Some("[::1]:80"), "/");
        assert_eq!(l.as_deref(), Some("https://[::1]:8443/"));
        assert_eq!(answer(&c, 443, Some("a b\r\n"), "/").0, 400);
    }
}
