//! PushSubscription/set (RFC 8620 §7.2.2) on the shared /set machinery: URL, keys, expiry and
//! verification checks (see `mod.rs`).

use super::get::{PROPERTIES, to_json};
use crate::date;
use crate::jmap::Ctx;
use crate::jmap::args::Args;
use crate::jmap::error::{MethodError, SetError};
use crate::jmap::set::{self, Created, Obj, SetCx, SetHandler};
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
