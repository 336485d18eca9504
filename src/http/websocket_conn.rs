//! One JMAP WebSocket connection after the upgrade (RFC 8887 §4.3): Request objects in,
//! Response / RequestError / StateChange objects out, pings to keep NAT mappings alive.
//!
//! One task owns the socket. It waits for whichever comes first: a frame from the client, a
//! finished answer or a push (one small channel), or the next ping. Each Request runs in its
//! own task, so several are in flight at once (answered as they finish, RFC 8887 §4.3.3),
//! at most `MAX_IN_FLIGHT` per connection, each under the same limits as an HTTP POST to the
//! API: maxSizeRequest, the shared maxConcurrentRequests slots, the per-account body budget,
//! and the response size cap inside `jmap::handle`.
//!
//! Idle, a connection holds its TLS state, a 4 KiB frame read buffer, this parked task and
//! (with push on) one parked producer: about what an idle event-source connection holds.

use super::State;
use super::conn::ConnIo;
use super::websocket::Slot;
use crate::jmap::{self, error::RequestError, push};
use crate::store::model::{Account, DataType};
use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use async_tungstenite::tungstenite::{Error as WsError, Message};
use futures_lite::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Requests one connection may have in flight; more are answered with a RequestError.
pub const MAX_IN_FLIGHT: usize = 4;
/// The server pings this often. Mobile carriers and home routers drop TCP mappings idle for a
/// few minutes (RFC 5382 asks for two hours, few comply); a ping a minute keeps them, and is
/// rare enough for a phone's radio.
pub const PING: Duration = Duration::from_secs(60);
/// A client that sends nothing at all (not even the Pong every WebSocket stack returns,
/// RFC 6455 §5.5.2) for this long is gone, and its connection is closed.
pub const IDLE: Duration = Duration::from_secs(3 * 60);
/// The frame read buffer is allocated up front by tungstenite: kept small, since most
/// connections sit idle, and grown only while a large message arrives.
const READ_BUFFER: usize = 4 * 1024;

/// The fields of a client message that say what it is (RFC 8887 §4.3); the rest of a Request
/// is read by `jmap::handle`. Unknown fields are skipped without being kept.
#[derive(Deserialize)]
struct Head {
    #[serde(rename = "@type")]
    kind: Option<String>,
    id: Option<Value>,
    #[serde(rename = "dataTypes", default)]
    data_types: Option<Vec<String>>,
    #[serde(rename = "pushState")]
    push_state: Option<String>,
}

/// A RequestError object (RFC 8887 §4.3.4): the RFC 7807 problem with `@type` and, when the
/// message's id could be read, `requestId`.
fn request_error(problem: Value, request_id: Option<&str>) -> String {
    let mut v = problem;
    v["@type"] = json!("RequestError");
    if let Some(id) = request_id {
        v["requestId"] = json!(id);
    }
    v.to_string()
}

fn limit(limit: &'static str, detail: String) -> Value {
    RequestError::Limit { limit, detail }.problem()
}

/// Gives back one of the connection's in-flight places when a request task ends.
struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

struct Conn {
    state: State,
    user: Arc<Account>,
    out: async_channel::Sender<String>,
    in_flight: Arc<AtomicUsize>,
    push: Option<smol::Task<()>>,
}

enum Event {
    Frame(Option<Result<Message, WsError>>),
    Out(String),
    Tick,
}

pub async fn run(state: State, user: Account, io: ConnIo, read: Vec<u8>, _slot: Slot) {
    // maxSizeRequest is answered with a RequestError; a message past twice that is not read
    // at all (tungstenite stops it, and the connection is closed with 1009).
    let max = state.jmap.limits.max_size_request;
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(Some(max.saturating_mul(2)))
        .max_frame_size(Some(max.saturating_mul(2)));
    let mut ws = WebSocketStream::from_partially_read(io, read, Role::Server, Some(config)).await;
    let (out, rx) = async_channel::bounded(MAX_IN_FLIGHT + 2);
    let mut conn = Conn {
        state,
        user: Arc::new(user),
        out,
        in_flight: Arc::new(AtomicUsize::new(0)),
        push: None,
    };
    let mut heard = Instant::now();
    let mut next_ping = Instant::now() + PING;
    loop {
        let frame = async { Event::Frame(ws.next().await) };
        let answer = async {
            match rx.recv().await {
                Ok(s) => Event::Out(s),
                // Never: `conn` holds a sender.
                Err(_) => Event::Tick,
            }
        };
        let tick = async {
            smol::Timer::at(next_ping).await;
            Event::Tick
        };
        let ev = futures_lite::future::or(frame, futures_lite::future::or(answer, tick)).await;
        let sent = match ev {
            Event::Frame(Some(Ok(msg))) => {
                heard = Instant::now();
                match msg {
                    Message::Text(t) => match conn.on_text(t.as_str()) {
                        Some(reply) => ws.send(Message::text(reply)).await,
                        None => Ok(()),
                    },
                    // RFC 8887 §4.3: JMAP messages are text; a binary one is not JSON.
                    Message::Binary(_) => {
                        let e = RequestError::NotJson("binary frames are not JMAP".into());
                        ws.send(Message::text(request_error(e.problem(), None)))
                            .await
                    }
                    // tungstenite answers pings and close frames itself.
                    Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => Ok(()),
                    Message::Close(_) => Ok(()),
                }
            }
            Event::Frame(Some(Err(e))) => {
                log::debug!("websocket {}: {e}", conn.user.name);
                if matches!(e, WsError::Capacity(_)) {
                    let _ = ws
                        .close(Some(CloseFrame {
                            code: CloseCode::Size,
                            reason: "message too large".into(),
                        }))
                        .await;
                }
                break;
            }
            Event::Frame(None) => break,
            Event::Out(s) => ws.send(Message::text(s)).await,
            Event::Tick => {
                if heard.elapsed() >= IDLE {
                    let _ = ws
                        .close(Some(CloseFrame {
                            code: CloseCode::Away,
                            reason: "idle".into(),
                        }))
                        .await;
                    break;
                }
                next_ping = Instant::now() + PING;
                ws.send(Message::Ping(Default::default())).await
            }
        };
        if let Err(e) = sent {
            log::debug!("websocket {}: {e}", conn.user.name);
            break;
        }
    }
    // Dropping the push task cancels its producer at once.
    conn.push = None;
}

impl Conn {
    /// A text message: a Request is started (its answer comes through `out`), push is turned
    /// on or off; anything else is answered at once with the returned RequestError.
    fn on_text(&mut self, text: &str) -> Option<String> {
        let max = self.state.jmap.limits.max_size_request;
        if text.len() > max {
            let p = limit(
                "maxSizeRequest",
                format!("the request is larger than {max} bytes"),
            );
            return Some(request_error(p, None));
        }
        let head: Head = match serde_json::from_str(text) {
            Ok(h) => h,
            Err(e) if e.is_data() => {
                let e = RequestError::NotRequest(format!("not a JMAP WebSocket message: {e}"));
                return Some(request_error(e.problem(), None));
            }
            Err(e) => {
                return Some(request_error(
                    RequestError::NotJson(e.to_string()).problem(),
                    None,
                ));
            }
        };
        // RFC 8887 §4.3.1: `id` is a String; anything else cannot be echoed.
        let id = match head.id {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                let e = RequestError::NotRequest("'id' must be a string".into());
                return Some(request_error(e.problem(), None));
            }
        };
        match head.kind.as_deref() {
            Some("Request") => self.start_request(text, id),
            Some("WebSocketPushEnable") => {
                self.push_enable(head.data_types, head.push_state);
                None
            }
            Some("WebSocketPushDisable") => {
                self.push = None;
                None
            }
            _ => {
                let e = RequestError::NotRequest(
                    "'@type' must be Request, WebSocketPushEnable or WebSocketPushDisable".into(),
                );
                Some(request_error(e.problem(), id.as_deref()))
            }
        }
    }

    fn start_request(&mut self, text: &str, id: Option<String>) -> Option<String> {
        let refuse = |detail: &str| {
            let p = limit("maxConcurrentRequests", detail.into());
            Some(request_error(p, id.as_deref()))
        };
        if self.in_flight.fetch_add(1, Ordering::Relaxed) >= MAX_IN_FLIGHT {
            self.in_flight.fetch_sub(1, Ordering::Relaxed);
            return refuse(&format!(
                "at most {MAX_IN_FLIGHT} requests in flight on one WebSocket"
            ));
        }
        let place = InFlight(self.in_flight.clone());
        // The same memory budget and shared request slots as POST /jmap/api (`jmap.rs`).
        let Some(reserved) = self.state.bodies.reserve(&self.user.name, text.len()) else {
            return refuse("too many request bodies being sent at once");
        };
        let Some(permit) = self.state.requests.try_acquire_arc() else {
            return refuse("too many concurrent requests");
        };
        let body = text.as_bytes().to_vec();
        let (jmap, user, out) = (self.state.jmap.clone(), self.user.clone(), self.out.clone());
        smol::spawn(async move {
            let reply = match jmap::handle(&jmap, &user, &body).await {
                Ok(mut v) => {
                    v["@type"] = json!("Response");
                    if let Some(id) = &id {
                        v["requestId"] = json!(id);
                    }
                    v.to_string()
                }
                Err(e) => request_error(e.problem(), id.as_deref()),
            };
            drop((body, reserved, permit, place));
            // The client may have gone; then the answer has no one to go to.
            let _ = out.send(reply).await;
        })
        .detach();
        None
    }

    /// RFC 8887 §4.3.5: push the given types (all when null), starting with whatever moved
    /// after `pushState` (the modseq of the last StateChange the client saw). A second
    /// enable replaces the first.
    fn push_enable(&mut self, data_types: Option<Vec<String>>, push_state: Option<String>) {
        let types: Vec<DataType> = match data_types {
            None => push::PUSHED.to_vec(),
            Some(names) => push::PUSHED
                .into_iter()
                .filter(|t| names.iter().any(|n| n == t.jmap_name()))
                .collect(),
        };
        let since = push_state.and_then(|s| s.parse::<u64>().ok());
        let params = push::EventSourceParams {
            types,
            close_after_state: false,
            // The connection pings at the WebSocket level.
            ping: 0,
        };
        let producer = push::produce(
            self.state.jmap.clone(),
            self.user.id,
            params,
            since,
            self.out.clone(),
            |ev| match ev {
                push::PushEvent::State { modseq, mut change } => {
                    change["pushState"] = json!(jmap::state_string(modseq));
                    change.to_string()
                }
                push::PushEvent::Ping { .. } => String::new(),
            },
        );
        self.push = Some(smol::spawn(producer));
    }
}
