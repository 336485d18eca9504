//! GET /jmap/eventsource?types=&closeafter=&ping= (RFC 8620 §7.3): a `text/event-stream`
//! response that stays open. The events come from `jmap::push::event_source` through a
//! small channel; the response body reads from it without a buffer of its own, so an idle
//! connection costs its TLS state, one parked task and a few small allocations.

use super::{State, authenticate, problem};
use crate::jmap::push;
use crate::store::model::AccountId;
use futures_lite::{AsyncBufRead, AsyncRead, Stream};
use serde_json::json;
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use tide::{Body, Request, Response, StatusCode};

/// Open event-source connections per user; more are refused with 429 so one client cannot
/// hold unbounded server memory.
pub const MAX_PER_USER: usize = 256;
static OPEN: Mutex<Option<HashMap<AccountId, usize>>> = Mutex::new(None);

/// Event-source connections open right now, over all users (the admin page's status view).
pub fn open_connections() -> u64 {
    OPEN.lock()
        .ok()
        .and_then(|g| g.as_ref().map(|m| m.values().sum::<usize>() as u64))
        .unwrap_or(0)
}

struct Slot(AccountId);

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

/// The response body: frames from the producer, handed out without copying.
struct Events {
    rx: Pin<Box<async_channel::Receiver<Vec<u8>>>>,
    cur: Vec<u8>,
    pos: usize,
    _slot: Slot,
}

impl AsyncBufRead for Events {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<&[u8]>> {
        let this = self.get_mut();
        while this.pos >= this.cur.len() {
            match this.rx.as_mut().poll_next(cx) {
                Poll::Ready(Some(frame)) => {
                    this.cur = frame;
                    this.pos = 0;
                }
                Poll::Ready(None) => return Poll::Ready(Ok(&[])),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(&this.cur[this.pos..]))
    }
    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        this.pos = (this.pos + amt).min(this.cur.len());
        if this.pos >= this.cur.len() {
            // Give the frame's memory back while idle.
            this.cur = Vec::new();
            this.pos = 0;
        }
    }
}

impl AsyncRead for Events {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        let n = match self.as_mut().poll_fill_buf(cx) {
            Poll::Ready(Ok(b)) => {
                let n = b.len().min(buf.len());
                buf[..n].copy_from_slice(&b[..n]);
                n
            }
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Pending => return Poll::Pending,
        };
        self.consume(n);
        Poll::Ready(Ok(n))
    }
}

fn bad_request(detail: &str) -> Response {
    problem(&json!({"type": "about:blank", "status": 400, "detail": detail}))
}

pub async fn eventsource(req: Request<State>) -> tide::Result {
    let user = match authenticate(&req).await {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let q: HashMap<String, String> = req.url().query_pairs().into_owned().collect();
    let params = match push::parse_params(
        q.get("types").map(String::as_str),
        q.get("closeafter").map(String::as_str),
        q.get("ping").map(String::as_str),
    ) {
        Ok(p) => p,
        Err(d) => return Ok(bad_request(&d)),
    };
    let last_event_id = req
        .header("Last-Event-ID")
        .and_then(|h| h.as_str().trim().parse::<u64>().ok());
    let Some(slot) = Slot::take(user.id) else {
        return Ok(problem(&json!({
            "type": "about:blank",
            "status": 429,
            "detail": format!("at most {MAX_PER_USER} event-source connections per user"),
        })));
    };
    let (tx, rx) = async_channel::bounded(2);
    smol::spawn(push::event_source(
        req.state().jmap.clone(),
        user.id,
        params,
        last_event_id,
        tx,
    ))
    .detach();
    let mut res = Response::new(StatusCode::Ok);
    res.set_body(Body::from_reader(
        Events {
            rx: Box::pin(rx),
            cur: Vec::new(),
            pos: 0,
            _slot: slot,
        },
        None,
    ));
    res.set_content_type("text/event-stream; charset=utf-8");
    res.insert_header("Cache-Control", "no-cache");
    // Tell buffering proxies (nginx) to pass events through at once.
    res.insert_header("X-Accel-Buffering", "no");
    Ok(res)
}
