//! Push (RFC 8620 §7) without HTTP: the StateChange object and the event-source producer.
//!
//! Every committed change is published by the store (`Store::subscribe`) as "these types of
//! this account moved". A producer does not trust the message itself to say what changed:
//! on every wake-up it reads the current state of each type it pushes and sends those that
//! differ from what it last sent. So events dropped under load (the subscription queue is
//! tiny and lossy on purpose) are never changes lost, and a burst of commits becomes one
//! event (§7: "changes may be coalesced").
//!
//! The event id is the account's modseq, which "encodes the entire server state visible to
//! the user" (§7.3): a client reconnecting with `Last-Event-ID` gets, at once, a state event
//! for every type whose state moved past it.

use super::{Jmap, state_string};
use crate::store::model::{AccountId, DataType, IdKind};
use serde_json::{Map, Value, json};
use std::time::Duration;

/// Types with a state that are pushed (PushSubscription has none, §7.2).
pub const PUSHED: [DataType; 8] = [
    DataType::Mailbox,
    DataType::Email,
    DataType::Thread,
    DataType::Identity,
    DataType::EmailSubmission,
    DataType::VacationResponse,
    DataType::EmailDelivery,
    // RFC 9425 §6: Quota state changes are pushed too.
    DataType::Quota,
];

/// Ping interval bounds (§7.3: a minimum no higher than 30, a maximum no lower than 300).
pub const MIN_PING: u64 = 5;
pub const MAX_PING: u64 = 600;

/// The event-source query (§7.3), validated.
#[derive(Debug, Clone)]
pub struct EventSourceParams {
    pub types: Vec<DataType>,
    pub close_after_state: bool,
    /// 0 = no pings; otherwise clamped to MIN_PING..=MAX_PING.
    pub ping: u64,
}

/// Parses `types`, `closeafter` and `ping`; the error is a message for a 400 problem.
pub fn parse_params(
    types: Option<&str>,
    closeafter: Option<&str>,
    ping: Option<&str>,
) -> Result<EventSourceParams, String> {
    let types = match types.map(str::trim) {
        None | Some("") => return Err("'types' is required: '*' or a comma-separated list".into()),
        Some("*") => PUSHED.to_vec(),
        // Names of types this server does not have are allowed and simply never pushed.
        Some(list) => PUSHED
            .into_iter()
            .filter(|t| list.split(',').any(|n| n.trim() == t.jmap_name()))
            .collect(),
    };
    let close_after_state = match closeafter {
        None | Some("no") => false,
        Some("state") => true,
        Some(_) => return Err("'closeafter' must be 'state' or 'no'".into()),
    };
    let ping = match ping {
        None | Some("") => 0,
        Some(p) => match p.parse::<u64>() {
            Ok(0) => 0,
            Ok(n) => n.clamp(MIN_PING, MAX_PING),
            Err(_) => return Err("'ping' must be a non-negative integer (seconds)".into()),
        },
    };
    Ok(EventSourceParams {
        types,
        close_after_state,
        ping,
    })
}

/// The current states of `types`, and the account's modseq.
pub async fn states(jmap: &Jmap, acct: AccountId, types: Vec<DataType>) -> Option<(u64, Vec<u64>)> {
    jmap.store
        .read(move |r| {
            let mut v = Vec::with_capacity(types.len());
            for t in &types {
                v.push(r.state(acct, *t)?);
            }
            Ok((r.modseq(acct)?, v))
        })
        .await
        .ok()
}

/// A StateChange object (§7.1) for one account.
pub fn state_change(acct: AccountId, changed: &[(DataType, u64)]) -> Value {
    let mut m = Map::new();
    for (t, s) in changed {
        m.insert(t.jmap_name().to_string(), json!(state_string(*s)));
    }
    json!({
        "@type": "StateChange",
        "changed": { IdKind::Account.encode(acct): m },
    })
}

/// What a push producer hands its connection: a StateChange (with the modseq it is current
/// to, the event-source `id` and the WebSocket `pushState`) or a ping.
pub enum PushEvent {
    State { modseq: u64, change: Value },
    Ping { interval: u64 },
}

/// Produces the event stream of one event-source connection into `out` (server-sent events
/// framing, UTF-8). Ends when the client goes away (`out` closed), or after the first state
/// event with closeafter=state.
pub async fn event_source(
    jmap: std::sync::Arc<Jmap>,
    acct: AccountId,
    p: EventSourceParams,
    last_event_id: Option<u64>,
    out: async_channel::Sender<Vec<u8>>,
) {
    produce(jmap, acct, p, last_event_id, out, |ev| match ev {
        PushEvent::State { modseq, change } => {
            format!("event: state\nid: {modseq}\ndata: {change}\n\n").into_bytes()
        }
        PushEvent::Ping { interval } => {
            format!("event: ping\ndata: {{\"interval\":{interval}}}\n\n").into_bytes()
        }
    })
    .await
}

/// The push producer shared by the event source and the WebSocket (RFC 8887 §4.3.5): sends a
/// StateChange into `out` (shaped by `frame`) whenever a type in `p.types` moves. `since` is
/// the modseq the client last saw (the event source's `Last-Event-ID`, the WebSocket's
/// `pushState`): types that moved past it are due at once, so a reconnecting client gets what
/// it missed. Ends when `out` is closed, or after the first state event with closeafter=state.
pub async fn produce<T>(
    jmap: std::sync::Arc<Jmap>,
    acct: AccountId,
    p: EventSourceParams,
    since: Option<u64>,
    out: async_channel::Sender<T>,
    frame: impl Fn(PushEvent) -> T,
) {
    // Subscribe before reading the baseline, so no commit falls between the two.
    let sub = jmap.store.subscribe(4);
    let Some((modseq, mut sent)) = states(&jmap, acct, p.types.clone()).await else {
        return;
    };
    // Reconnection: types that moved past the client's last event id are due at once.
    let mut due: Vec<(DataType, u64)> = match since {
        Some(id) if id < modseq => p
            .types
            .iter()
            .zip(&sent)
            .filter(|(_, s)| **s > id)
            .map(|(t, s)| (*t, *s))
            .collect(),
        _ => Vec::new(),
    };
    let mut modseq = modseq;
    loop {
        if !due.is_empty() {
            let change = state_change(acct, &due);
            let ev = frame(PushEvent::State { modseq, change });
            if out.send(ev).await.is_err() || p.close_after_state {
                return;
            }
            due.clear();
        }
        let wake = async {
            loop {
                match sub.recv().await {
                    Ok(c) if c.account == acct => return true,
                    Ok(_) => continue,
                    Err(_) => return false,
                }
            }
        };
        let got = if p.ping == 0 {
            futures_lite::future::or(wake, async {
                out.closed_hint().await;
                false
            })
            .await
        } else {
            let ping = async {
                smol::Timer::after(Duration::from_secs(p.ping)).await;
                false
            };
            let woke = futures_lite::future::or(wake, ping).await;
            if !woke {
                let ev = frame(PushEvent::Ping { interval: p.ping });
                if out.send(ev).await.is_err() {
                    return;
                }
                continue;
            }
            woke
        };
        if !got {
            return;
        }
        // Coalesce whatever else is already queued.
        while sub.try_recv().is_ok() {}
        let Some((m, now)) = states(&jmap, acct, p.types.clone()).await else {
            return;
        };
        modseq = m;
        for (i, (t, s)) in p.types.iter().zip(&now).enumerate() {
            if sent[i] != *s {
                due.push((*t, *s));
            }
        }
        sent = now;
    }
}

/// Lets a producer notice that its consumer went away while it has nothing to send.
trait ClosedHint {
    async fn closed_hint(&self);
}

impl<T> ClosedHint for async_channel::Sender<T> {
    async fn closed_hint(&self) {
        // async-channel has no "closed" future; poll cheaply and rarely. An idle connection
        // with pings off costs one timer wake-up a minute.
        while !self.is_closed() {
            smol::Timer::after(Duration::from_secs(60)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params() {
        let p = parse_params(Some("*"), Some("no"), Some("1")).unwrap();
        assert_eq!(p.types.len(), PUSHED.len());
        assert_eq!(p.ping, MIN_PING);
        let p = parse_params(
            Some("Email,Calendar,Mailbox"),
            Some("state"),
            Some("100000"),
        )
        .unwrap();
        assert_eq!(p.types, vec![DataType::Mailbox, DataType::Email]);
        assert!(p.close_after_state);
        assert_eq!(p.ping, MAX_PING);
        assert_eq!(parse_params(Some("*"), None, Some("0")).unwrap().ping, 0);
        assert!(parse_params(None, None, None).is_err());
        assert!(parse_params(Some("*"), Some("maybe"), None).is_err());
        assert!(parse_params(Some("*"), None, Some("-1")).is_err());
        assert!(parse_params(Some("*"), None, Some("x")).is_err());
    }
}
