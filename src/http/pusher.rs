//! Delivers pushes to PushSubscription URLs (RFC 8620 §7.2), as a store subscriber.
//!
//! - A new (unverified) subscription gets one PushVerification POST; nothing else is sent to
//!   its URL until the client has set the verification code.
//! - A verified subscription gets a StateChange POST whenever one of its types moved. Like the
//!   event source, the pusher compares current states with what it last delivered, so bursts
//!   coalesce into one push and a failed push is retried (every [`TICK`]) until delivered.
//! - One delivery in flight per subscription. 429 or 5xx or a network failure backs off
//!   (`Retry-After` honoured up to an hour; §7.2 "A 429 MUST cause the server to reduce the
//!   frequency"). 404 or 410 mean the push service dropped the subscription (RFC 8030 §7.3):
//!   it is destroyed.
//! - With `keys`, bodies are encrypted (RFC 8291, `webpush.rs`).
//! - Every POST goes through `net_guard` (in `push_client.rs`): a URL whose host is, or now
//!   resolves to, an address that is not public internet (and not an admin exception) gets no
//!   connection; the subscription is destroyed, as for 410. PushSubscription/set already
//!   refused such URLs at create time; this catches names that changed their answer since.
//! - Each account may cause at most `[fetch] pushes_per_minute` POSTs (a token bucket over all
//!   its subscriptions, verifications included); what is over waits, and coalesces meanwhile.

use super::push_client::{Answer, Failure, PushClient};
use super::webpush;
use crate::jmap::push::{PUSHED, state_change};
use crate::rate::TokenBucket;
use crate::store::Store;
use crate::store::model::{AccountId, DataType, PushSubscription};
use base64::Engine;
use futures_lite::FutureExt;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often subscriptions with undelivered changes are looked at again.
pub const TICK: Duration = Duration::from_secs(30);
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// Per-subscription memory of the pusher.
#[derive(Default)]
struct Sub {
    /// States last delivered, per type in PUSHED order (None before the first baseline).
    delivered: Option<Vec<u64>>,
    in_flight: bool,
    verification_sent: bool,
    not_before: Option<Instant>,
    failures: u32,
}

/// What the pusher keeps between wake-ups.
struct Pusher {
    subs: HashMap<(AccountId, String), Sub>,
    /// Per-account allowance of POSTs: `rate` per minute, bursts up to `rate`.
    buckets: HashMap<AccountId, TokenBucket>,
    /// POSTs per account per minute (`[fetch] pushes_per_minute`).
    rate: u32,
}

/// Takes one POST from the account's allowance, or says to wait.
fn allow(buckets: &mut HashMap<AccountId, TokenBucket>, rate: u32, acct: AccountId) -> bool {
    let now = Instant::now();
    let rate = f64::from(rate.max(1));
    buckets
        .entry(acct)
        .or_insert(TokenBucket::full(rate, now))
        .take(now, rate, rate)
}

enum Wake {
    Changed(AccountId),
    Done(AccountId, String, Option<Vec<u64>>, Result<Answer, Failure>),
    Tick,
    Closed,
}

/// Headers for one push (RFC 8030 §5.2 TTL is required; §5.3 Urgency).
/// With Web Push encryption the URL is a browser's push service, which wants our VAPID token
/// (RFC 8292 §3); JMAP clients' own push URLs get it too, harmlessly.
fn headers(encrypted: bool, vapid: Option<String>) -> Vec<(&'static str, String)> {
    let mut h = vec![
        ("Content-Type", "application/json".to_string()),
        ("TTL", "86400".to_string()),
        ("Urgency", "normal".to_string()),
    ];
    if encrypted {
        h.push(("Content-Encoding", "aes128gcm".to_string()));
        if let Some(v) = vapid {
            h.push(("Authorization", v));
        }
    }
    h
}

/// The body as sent: JSON, encrypted when the subscription has keys.
fn body(s: &PushSubscription, v: &Value) -> Result<(Vec<u8>, bool), String> {
    let plain = v.to_string().into_bytes();
    let Some(keys) = &s.keys else {
        return Ok((plain, false));
    };
    let dec = |name: &str| {
        keys.get(name)
            .and_then(Value::as_str)
            .and_then(|k| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(k.trim_end_matches('='))
                    .ok()
            })
            .ok_or_else(|| format!("bad keys.{name}"))
    };
    Ok((
        webpush::encrypt(&plain, &dec("p256dh")?, &dec("auth")?)?,
        true,
    ))
}

fn wanted(s: &PushSubscription) -> Vec<DataType> {
    PUSHED
        .into_iter()
        .filter(|t| {
            s.types
                .as_ref()
                .is_none_or(|ts| ts.iter().any(|n| n == t.jmap_name()))
        })
        .collect()
}

/// Runs until the store closes. `pushes_per_minute`: POSTs one account may cause per minute.
pub async fn run(store: Store, client: Arc<PushClient>, pushes_per_minute: u32) {
    let changes = store.subscribe(64);
    let (done_tx, done_rx) = async_channel::bounded::<Wake>(64);
    let mut p = Pusher {
        subs: HashMap::new(),
        buckets: HashMap::new(),
        rate: pushes_per_minute,
    };
    // Accounts to look at: every account with subscriptions, found at start and on change.
    let mut dirty: HashSet<AccountId> = match store.read(|r| r.accounts()).await {
        Ok(a) => a.into_iter().map(|a| a.id).collect(),
        Err(_) => HashSet::new(),
    };
    loop {
        for acct in std::mem::take(&mut dirty) {
            visit(&store, &client, acct, &mut p, &done_tx).await;
        }
        let wake = async {
            match changes.recv().await {
                Ok(c) => Wake::Changed(c.account),
                Err(_) => Wake::Closed,
            }
        }
        .or(async { done_rx.recv().await.unwrap_or(Wake::Closed) })
        .or(async {
            smol::Timer::after(TICK).await;
            Wake::Tick
        })
        .await;
        match wake {
            Wake::Closed => return,
            Wake::Changed(a) => {
                dirty.insert(a);
                while let Ok(c) = changes.try_recv() {
                    dirty.insert(c.account);
                }
            }
            Wake::Tick => {
                // Retry what is owed: accounts of subscriptions that are not up to date.
                if let Ok(a) = store.read(|r| r.accounts()).await {
                    dirty.extend(a.into_iter().map(|a| a.id));
                }
            }
            Wake::Done(acct, id, sent, answer) => {
                let key = (acct, id.clone());
                let remove = finish(p.subs.entry(key.clone()).or_default(), &id, sent, answer);
                if remove {
                    p.subs.remove(&key);
                    let i2 = id.clone();
                    if let Err(e) = store
                        .write(move |w| w.remove_push_subscription(acct, &i2))
                        .await
                    {
                        log::warn!("push: cannot remove subscription {id}: {e}");
                    }
                }
            }
        }
    }
}

/// Books the outcome of one delivery. Returns true if the subscription must be destroyed.
fn finish(
    sub: &mut Sub,
    id: &str,
    sent: Option<Vec<u64>>,
    answer: Result<Answer, Failure>,
) -> bool {
    sub.in_flight = false;
    match answer {
        Ok(a) if (200..300).contains(&a.status) => {
            sub.failures = 0;
            sub.not_before = None;
            if let Some(s) = sent {
                sub.delivered = Some(s);
            }
            false
        }
        Ok(a) if a.status == 404 || a.status == 410 => {
            log::info!(
                "push: {id}: the push service answered {}; destroying the subscription",
                a.status
            );
            true
        }
        Err(Failure::Refused(why)) => {
            // net_guard: the URL's host is not a public internet address (any more).
            log::warn!("push: {id}: not delivered, {why}; destroying the subscription");
            true
        }
        other => {
            sub.failures += 1;
            let base = Duration::from_secs(30u64 << sub.failures.min(7));
            let wait = match &other {
                Ok(a) => a.retry_after.map(Duration::from_secs).unwrap_or(base),
                Err(_) => base,
            }
            .min(MAX_BACKOFF);
            log::info!(
                "push: {id}: delivery failed ({other:?}); next try in {} s",
                wait.as_secs()
            );
            sub.not_before = Some(Instant::now() + wait);
            if sent.is_none() {
                // A verification that failed is sent again after the wait.
                sub.verification_sent = false;
            }
            false
        }
    }
}

async fn visit(
    store: &Store,
    client: &Arc<PushClient>,
    acct: AccountId,
    p: &mut Pusher,
    done: &async_channel::Sender<Wake>,
) {
    let now = crate::ingest::now();
    let Ok((list, states)) = store
        .read(move |r| {
            let list = r.push_subscriptions(acct)?;
            let mut st = Vec::with_capacity(PUSHED.len());
            if !list.is_empty() {
                for t in PUSHED {
                    st.push(r.state(acct, t)?);
                }
            }
            Ok((list, st))
        })
        .await
    else {
        return;
    };
    let live: HashSet<&str> = list.iter().map(|s| s.id.as_str()).collect();
    p.subs
        .retain(|(a, id), _| *a != acct || live.contains(id.as_str()));
    for s in list {
        if s.expires < now {
            continue;
        }
        let sub = p.subs.entry((acct, s.id.clone())).or_default();
        if sub.in_flight || sub.not_before.is_some_and(|t| t > Instant::now()) {
            continue;
        }
        let (payload, sent) = if !s.verified {
            if sub.verification_sent {
                continue;
            }
            sub.verification_sent = true;
            let v = json!({
                "@type": "PushVerification",
                "pushSubscriptionId": s.id,
                "verificationCode": s.code,
            });
            (v, None)
        } else {
            let Some(prev) = sub.delivered.clone() else {
                // First sight of a verified subscription: its baseline is now.
                sub.delivered = Some(states.clone());
                continue;
            };
            let types = wanted(&s);
            let changed: Vec<(DataType, u64)> = PUSHED
                .iter()
                .enumerate()
                .filter(|(i, t)| types.contains(t) && prev.get(*i) != states.get(*i))
                .filter_map(|(i, t)| states.get(i).map(|v| (*t, *v)))
                .collect();
            if changed.is_empty() {
                // Keep the baseline current for types the client does not want.
                sub.delivered = Some(states.clone());
                continue;
            }
            (state_change(acct, &changed), Some(states.clone()))
        };
        let (bytes, encrypted) = match body(&s, &payload) {
            Ok(b) => b,
            Err(e) => {
                log::warn!("push: {}: cannot encode: {e}", s.id);
                continue;
            }
        };
        if !allow(&mut p.buckets, p.rate, acct) {
            // Over the account's rate: wait for a later wake-up (a change or the next TICK);
            // state changes coalesce meanwhile.
            if sent.is_none() {
                sub.verification_sent = false;
            }
            continue;
        }
        sub.in_flight = true;
        let (client, done, id, url) = (client.clone(), done.clone(), s.id.clone(), s.url.clone());
        smol::spawn(async move {
            let vapid = client
                .vapid
                .as_ref()
                .and_then(|v| v.authorization(&url, crate::date::now().max(0) as u64));
            let answer = client.post(&url, &headers(encrypted, vapid), &bytes).await;
            let _ = done.send(Wake::Done(acct, id, sent, answer)).await;
        })
        .detach();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_address_destroys_and_a_network_failure_backs_off() {
        let mut sub = Sub::default();
        let refused = Err(Failure::Refused("10.0.0.1 is private".into()));
        assert!(finish(&mut sub, "P1", None, refused));
        let mut sub = Sub {
            verification_sent: true,
            ..Sub::default()
        };
        assert!(!finish(
            &mut sub,
            "P1",
            None,
            Err(Failure::Failed("connection refused".into()))
        ));
        assert!(sub.not_before.is_some() && !sub.verification_sent);
    }

    #[test]
    fn the_bucket_allows_rate_per_minute() {
        let mut buckets = HashMap::new();
        let granted = (0..10).filter(|_| allow(&mut buckets, 3, 7)).count();
        assert_eq!(granted, 3);
        // Another account has its own allowance.
        assert!(allow(&mut buckets, 3, 8));
        // A minute later the allowance is back (refill is proportional to the time passed).
        let b = buckets.get_mut(&7).unwrap();
        let later = b.refilled + Duration::from_secs(60);
        assert!(b.take(later, 3.0, 3.0));
        assert!(b.take(later, 3.0, 3.0));
        assert!(b.take(later, 3.0, 3.0));
        assert!(!b.take(later, 3.0, 3.0));
    }
}
