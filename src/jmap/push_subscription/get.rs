//! PushSubscription/get (RFC 8620 §7.2.1) and the JSON form of a subscription (never its url
//! or keys unless asked, and then refused).

use crate::date;
use crate::jmap::Ctx;
use crate::jmap::args::{self, Args};
use crate::jmap::error::MethodError;
use crate::jmap::get;
use crate::jmap::set::Obj;
use crate::store::model::PushSubscription;
use serde_json::{Value, json};

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
    let now = crate::ingest::now();
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
