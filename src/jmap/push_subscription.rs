//! PushSubscription/get and PushSubscription/set (RFC 8620 §7.2).
//!
//! Subscriptions belong to the user who created them (no accountId, no state). The `url` must
//! be `https://` (the server refuses anything else with invalidProperties, and delivers with a
//! real HTTPS POST, see `http/pusher.rs`). On create the server makes a verification code and
//! pushes a PushVerification to the URL; nothing else is pushed until the client has set
//! `verificationCode` to that code (a wrong code is invalidProperties). Expiry is at most
//! [`MAX_LIFETIME_SECS`] ahead (the spec asks for at least 48 hours, recommends 7 days); a
//! later `expires` is clamped and the clamped value returned. Expired subscriptions are
//! removed by the periodic sweep and are never pushed to.
//!
//! With `keys`, pushes are encrypted per RFC 8291 (aes128gcm), see `http/webpush.rs`.
//!
//! The URL is the user's choice of where the server connects, so before the write
//! transaction every create's URL host is resolved and checked by `net_guard` (the server's
//! one SSRF gate, §7.2 security considerations): a host that is, or resolves to, anything but
//! a public internet address (loopback, private, link-local, unique-local, reserved, …, in any
//! notation the URL parser accepts) is refused with invalidProperties naming the URL, and no
//! connection is ever made to it. The pusher checks again before each POST (a name's answer
//! may change) and connects only to the address it checked. Admins list exceptions in
//! `[fetch] allow_private`. At most [`MAX_PER_USER`] subscriptions per user; pushes per
//! account per minute are capped by the pusher.

use super::Ctx;
use super::args::{self, Args};
use super::error::{MethodError, SetError};
use super::get;
use super::set::{self, Created, Obj, SetCx, SetHandler};
use crate::date;
use crate::store::Writer;
use crate::store::model::{ChangeKind, DataType, PushSubscription};
use base64::Engine;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// Longest lifetime of a subscription (RFC 8620 §7.2: "SHOULD be at least 7 days").
pub const MAX_LIFETIME_SECS: i64 = 7 * 24 * 3600;
/// Most subscriptions one user may hold (overQuota past it).
pub const MAX_PER_USER: usize = 50;

pub const PROPERTIES: [&str; 7] = [
    "id",
    "deviceClientId",
    "url",
    "keys",
    "verificationCode",
    "expires",
    "types",
];
/// Returned when `properties` is null (§7.2: never url or keys).
const DEFAULT_PROPERTIES: [&str; 5] = [
    "id",
    "deviceClientId",
    "verificationCode",
    "expires",
    "types",
];

/// The object as the client sees it; the verification code only once the client proved it
/// received it.
pub fn to_json(s: &PushSubscription) -> Obj {
    let mut m = Obj::new();
    m.insert("id".into(), json!(s.id));
    m.insert("deviceClientId".into(), json!(s.device_client_id));
    m.insert("url".into(), json!(s.url));
    m.insert("keys".into(), s.keys.clone().unwrap_or(Value::Null));
    m.insert(
        "verificationCode".into(),
        if s.verified {
            json!(s.code)
        } else {
            Value::Null
        },
    );
    m.insert("expires".into(), json!(date::rfc3339(s.expires)));
    m.insert("types".into(), json!(s.types));
    m
}

pub async fn get(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    args::only(&a, &["ids", "properties"])?;
    let ids = args::opt_str_list(&a, "ids")?
        .map(|ids| ids.iter().map(|id| ctx.resolve_id(id)).collect::<Vec<_>>());
    if let Some(ids) = &ids
        && ids.len() > ctx.jmap.limits.max_objects_in_get
    {
        return Err(MethodError::request_too_large(format!(
            "at most {} ids per /get",
            ctx.jmap.limits.max_objects_in_get
        )));
    }
    let props = match args::opt_str_list(&a, "properties")? {
        None => DEFAULT_PROPERTIES.iter().map(|s| s.to_string()).collect(),
        Some(p) => {
            if let Some(bad) = p.iter().find(|p| !PROPERTIES.contains(&p.as_str())) {
                return Err(MethodError::invalid_arguments(format!(
                    "unknown property '{bad}'"
                )));
            }
            // §7.2: url and keys MUST NOT be returned; asking for them is forbidden.
            if p.iter().any(|p| p == "url" || p == "keys") {
                return Err(MethodError::new(
                    "forbidden",
                    "the url and keys of a push subscription are never returned",
                ));
            }
            p
        }
    };
    let acct = ctx.user.id;
    let now = crate::date::now();
    let all = ctx
        .jmap
        .store
        .read(move |r| r.push_subscriptions(acct))
        .await?;
    let live: Vec<&PushSubscription> = all.iter().filter(|s| s.expires >= now).collect();
    let mut list = Vec::new();
    let mut not_found = Vec::new();
    match ids {
        None => list.extend(live.iter().map(|s| get::select(to_json(s), Some(&props)))),
        Some(ids) => {
            let mut seen = std::collections::HashSet::new();
            for id in ids {
                if !seen.insert(id.clone()) {
                    continue;
                }
                match live.iter().find(|s| s.id == id) {
                    Some(s) => list.push(get::select(to_json(s), Some(&props))),
                    None => not_found.push(id),
                }
            }
        }
    }
    Ok(json!({ "list": list, "notFound": not_found }))
}

/// A random string with 128 bits of entropy (hex), for ids and verification codes.
fn random_hex() -> Result<String, SetError> {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| SetError::new("serverFail", "no randomness"))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// `https://` with a host, and nothing a header could be smuggled with.
fn check_url(u: &str) -> Result<(), SetError> {
    let bad = |why: &str| SetError::invalid_properties(&["url"], why);
    let parsed = url::Url::parse(u).map_err(|e| bad(&format!("not a URL: {e}")))?;
    if parsed.scheme() != "https" {
        return Err(bad("push URLs must begin with https:// (RFC 8620 §7.2)"));
    }
    if parsed.host_str().is_none_or(str::is_empty) || u.len() > 2048 {
        return Err(bad("the URL needs a host and at most 2048 characters"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("credentials in push URLs are not supported"));
    }
    Ok(())
}

/// RFC 8291 keys: p256dh is an uncompressed P-256 point (65 bytes), auth 16 bytes, both
/// URL-safe base64 (padding optional).
fn check_keys(v: &Value) -> Result<Option<Value>, SetError> {
    let bad = |why: &str| SetError::invalid_properties(&["keys"], why);
    match v {
        Value::Null => Ok(None),
        Value::Object(m) => {
            let dec = |name: &str| -> Result<Vec<u8>, SetError> {
                let s = m
                    .get(name)
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(&format!("keys.{name} must be a string")))?;
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(s.trim_end_matches('='))
                    .map_err(|_| bad(&format!("keys.{name} is not URL-safe base64")))
            };
            let (p, a) = (dec("p256dh")?, dec("auth")?);
            if p.len() != 65 || p[0] != 4 || a.len() != 16 {
                return Err(bad(
                    "keys.p256dh must be a 65-byte P-256 point and keys.auth 16 bytes",
                ));
            }
            if m.len() != 2 {
                return Err(bad("keys has exactly p256dh and auth"));
            }
            Ok(Some(v.clone()))
        }
        _ => Err(bad("keys must be an object or null")),
    }
}

fn check_types(v: Option<&Value>) -> Result<Option<Vec<String>>, SetError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) if a.len() <= 64 => a
            .iter()
            .map(|t| match t {
                Value::String(s) if s.len() <= 64 => Ok(s.clone()),
                _ => Err(SetError::invalid_properties(
                    &["types"],
                    "types are strings",
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(SetError::invalid_properties(
            &["types"],
            "types must be an array of strings or null",
        )),
    }
}

/// The expiry to store: the client's wish, no later than now + MAX_LIFETIME_SECS.
fn check_expires(v: Option<&Value>, now: i64) -> Result<i64, SetError> {
    let max = now + MAX_LIFETIME_SECS;
    match v {
        None | Some(Value::Null) => Ok(max),
        Some(Value::String(s)) => {
            let t = date::parse_rfc3339(s).ok_or_else(|| {
                SetError::invalid_properties(&["expires"], "expires must be a UTCDate")
            })?;
            if t <= now {
                return Err(SetError::invalid_properties(
                    &["expires"],
                    "expires is in the past",
                ));
            }
            Ok(t.min(max))
        }
        Some(_) => Err(SetError::invalid_properties(
            &["expires"],
            "expires must be a UTCDate or null",
        )),
    }
}

/// Compares without an early exit, so timing does not reveal how much of a guess was right.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Marks the change so the pusher (a store subscriber) sends the verification push.
fn touch(w: &mut Writer<'_>, acct: u32, kind: ChangeKind) -> Result<(), SetError> {
    w.log(acct, DataType::PushSubscription, 0, kind)?;
    Ok(())
}

/// The outcome of the `net_guard` check per create URL (made before the write transaction,
/// because resolving a name is slow and the /set handlers must not wait on the network).
type UrlChecks = HashMap<String, Result<(), String>>;

pub struct PushSubscriptionSet {
    checked: Arc<UrlChecks>,
}

/// Resolves and checks the URL of every create: distinct URLs, at most [`MAX_PER_USER`] of
/// them (no call can create more), all within the guard's exchange time limit.
async fn check_create_urls(ctx: &Ctx<'_>, a: &Args) -> UrlChecks {
    let guard = ctx.jmap.net_guard.clone();
    let mut out = UrlChecks::new();
    let Some(Value::Object(creates)) = a.get("create") else {
        return out;
    };
    let deadline = std::time::Instant::now() + guard.timeout;
    let urls = creates
        .values()
        .filter_map(|o| o.get("url").and_then(Value::as_str))
        .filter(|u| check_url(u).is_ok());
    for u in urls {
        if out.contains_key(u) {
            continue;
        }
        if out.len() >= MAX_PER_USER {
            break;
        }
        let Ok(parsed) = url::Url::parse(u) else {
            continue;
        };
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let check = async {
            guard
                .check_url(&parsed)
                .await
                .map(|_| ())
                .map_err(|r| format!("{u}: {r}"))
        };
        let limit = async {
            smol::Timer::after(left).await;
            Err(format!("{u}: the host could not be checked in time"))
        };
        let r = futures_lite::FutureExt::or(check, limit).await;
        out.insert(u.to_string(), r);
    }
    out
}

impl SetHandler for PushSubscriptionSet {
    fn data_type(&self) -> Option<DataType> {
        None
    }
    fn account_scoped(&self) -> bool {
        false
    }

    fn create(&self, w: &mut Writer<'_>, cx: &mut SetCx, obj: Obj) -> Result<Created, SetError> {
        set::only_props(
            &obj,
            &[
                "deviceClientId",
                "url",
                "keys",
                "verificationCode",
                "expires",
                "types",
            ],
        )?;
        let device = match obj.get("deviceClientId") {
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 255 => s.clone(),
            _ => {
                return Err(SetError::invalid_properties(
                    &["deviceClientId"],
                    "deviceClientId is a required string (at most 255 characters)",
                ));
            }
        };
        let url = match obj.get("url") {
            Some(Value::String(s)) => s.clone(),
            _ => return Err(SetError::invalid_properties(&["url"], "url is required")),
        };
        check_url(&url)?;
        match self.checked.get(&url) {
            Some(Ok(())) => {}
            Some(Err(why)) => {
                return Err(SetError::invalid_properties(
                    &["url"],
                    format!("push URL refused: {why}"),
                ));
            }
            None => {
                return Err(SetError::invalid_properties(
                    &["url"],
                    format!(
                        "push URL refused: {url} was not checked (at most {MAX_PER_USER} \
                         distinct URLs per call)"
                    ),
                ));
            }
        }
        let keys = check_keys(obj.get("keys").unwrap_or(&Value::Null))?;
        if !matches!(obj.get("verificationCode"), None | Some(Value::Null)) {
            return Err(SetError::invalid_properties(
                &["verificationCode"],
                "verificationCode must be null when creating",
            ));
        }
        let types = check_types(obj.get("types"))?;
        let expires = check_expires(obj.get("expires"), cx.now)?;
        if w.push_subscription_count(cx.account)? >= MAX_PER_USER {
            return Err(SetError::new(
                "overQuota",
                format!("at most {MAX_PER_USER} push subscriptions per user"),
            ));
        }
        let s = PushSubscription {
            id: format!("P{}", random_hex()?),
            device_client_id: device,
            url,
            keys,
            code: random_hex()?,
            verified: false,
            expires,
            types,
        };
        w.put_push_subscription(cx.account, &s)?;
        touch(w, cx.account, ChangeKind::Created)?;
        let mut c = Created::new(s.id.clone()).with("expires", json!(date::rfc3339(expires)));
        for p in ["keys", "types", "verificationCode"] {
            if !obj.contains_key(p) {
                c = c.with(p, Value::Null);
            }
        }
        Ok(c)
    }

    fn load(&self, w: &mut Writer<'_>, cx: &SetCx, id: &str) -> Result<Option<Obj>, SetError> {
        Ok(w.push_subscription(cx.account, id)?
            .filter(|s| s.expires >= cx.now)
            .as_ref()
            .map(to_json))
    }

    fn update(
        &self,
        w: &mut Writer<'_>,
        cx: &mut SetCx,
        id: &str,
        old: &Obj,
        new: Obj,
    ) -> Result<Option<Obj>, SetError> {
        set::only_props(&new, &PROPERTIES)?;
        set::same_server_set(old, &new, &["id", "deviceClientId", "url", "keys"])?;
        let mut s = w
            .push_subscription(cx.account, id)?
            .ok_or_else(SetError::not_found)?;
        let mut extra = Obj::new();
        if old.get("verificationCode") != new.get("verificationCode") {
            match new.get("verificationCode") {
                // Constant-time compare: the code is a secret the client must prove it holds.
                Some(Value::String(c)) if same_secret(c.as_bytes(), s.code.as_bytes()) => {
                    s.verified = true;
                }
                _ => {
                    return Err(SetError::invalid_properties(
                        &["verificationCode"],
                        "the verification code does not match",
                    ));
                }
            }
        }
        if old.get("expires") != new.get("expires") {
            s.expires = check_expires(new.get("expires"), cx.now)?;
            let shown = json!(date::rfc3339(s.expires));
            if new.get("expires") != Some(&shown) {
                extra.insert("expires".into(), shown);
            }
        }
        if old.get("types") != new.get("types") {
            s.types = check_types(new.get("types"))?;
        }
        w.put_push_subscription(cx.account, &s)?;
        touch(w, cx.account, ChangeKind::Updated)?;
        Ok((!extra.is_empty()).then_some(extra))
    }

    fn destroy(&self, w: &mut Writer<'_>, cx: &mut SetCx, id: &str) -> Result<(), SetError> {
        // Removing the row erases url and keys from storage (§7.2 "securely erase").
        if !w.remove_push_subscription(cx.account, id)? {
            return Err(SetError::not_found());
        }
        touch(w, cx.account, ChangeKind::Destroyed)
    }
}

pub async fn set(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let checked = Arc::new(check_create_urls(ctx, &a).await);
    Ok(set::set(ctx, a, PushSubscriptionSet { checked })
        .await?
        .response)
}
