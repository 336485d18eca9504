//! The shared `/set` (RFC 8620 §5.3): one implementation of everything that is the same for
//! every type, so a type's `Foo/set` only says how to create, patch-check and destroy a Foo.
//!
//! What this module does for every type:
//! - parses `accountId`, `ifInState`, `create`, `update`, `destroy` (and the type's extra
//!   arguments), with `requestTooLarge` past maxObjectsInSet and invalidArguments for wrong types;
//! - runs the whole call in ONE store write transaction, so `ifInState` (`stateMismatch`) is
//!   checked against the state the changes are applied to, and `oldState`/`newState` are exact;
//! - orders creates so that a create referring to another create's `#creationId` runs after it
//!   (§5.3 "the server MUST order the creates"), then runs updates, then destroys;
//! - resolves `#creationId` in update/destroy ids, and gives the type [`SetCx::resolve`] for
//!   foreign keys inside objects; records new creation ids in the request's map (`createdIds`,
//!   §3.3/§5.3) so later calls can use them;
//! - applies each PatchObject (`patch.rs`: paths, `~0`/`~1`, `invalidPatch`) to the current
//!   object and hands the type the old and the patched object;
//! - skips updates of objects destroyed in the same call (`willDestroy`), reports unknown ids as
//!   `notFound`, and builds the SetResponse (`created` with server-set properties, `updated`,
//!   `destroyed`, `notCreated`/`notUpdated`/`notDestroyed`; each `null` when empty).
//!
//! What a type provides: an impl of [`SetHandler`]. Its methods run inside the write
//! transaction on the store's writer thread, so they must be quick and must not do anything
//! outside the transaction (the store may run a job twice, see `store/redb/commit.rs`).
//! **Reject before you write**: check everything, then mutate, so a rejected object leaves no
//! trace (each object is atomic, §5.3). A `StoreError` that is not about the object (I/O,
//! corruption) becomes a SetError of kind `serverFail`; the machinery then aborts the whole
//! transaction and answers the method with `serverFail`.
//!
//! # Example: a type's `/set` in a few lines
//!
//! ```ignore
//! use crate::jmap::set::{self, Created, SetCx, SetHandler};
//!
//! struct MailboxSet;
//! impl SetHandler for MailboxSet {
//!     fn data_type(&self) -> Option<DataType> { Some(DataType::Mailbox) }
//!     fn extra_args(&self) -> &'static [&'static str] { &["onDestroyRemoveEmails"] }
//!     fn create(&self, w: &mut Writer<'_>, cx: &mut SetCx, obj: Obj) -> Result<Created, SetError> {
//!         set::only_props(&obj, &["name", "parentId", "role", "sortOrder", "isSubscribed"])?;
//!         let parent = match obj.get("parentId") {
//!             Some(Value::String(p)) => Some(cx.resolve_ref("parentId", p)?), // "#c1" works
//!             _ => None,
//!         };
//!         // ... validate everything, then write:
//!         let id = w.put_mailbox(cx.account, mb, true)?;
//!         Ok(Created::new(IdKind::Mailbox.encode(id)).with("totalEmails", json!(0)))
//!     }
//!     fn load(&self, w: &mut Writer<'_>, cx: &SetCx, id: &str) -> Result<Option<Obj>, SetError> {
//!         // The current object as JSON (what Mailbox/get returns); None = notFound.
//!     }
//!     fn update(&self, w: &mut Writer<'_>, cx: &mut SetCx, id: &str, old: &Obj, new: Obj)
//!         -> Result<Option<Obj>, SetError> {
//!         set::same_server_set(old, &new, &["totalEmails", "myRights"])?; // invalidProperties
//!         // ... validate `new`, write it; return server-changed properties or None.
//!     }
//!     fn destroy(&self, w: &mut Writer<'_>, cx: &mut SetCx, id: &str) -> Result<(), SetError> {
//!         let remove = cx.bool_arg("onDestroyRemoveEmails");
//!         // ... Err(SetError::new("mailboxHasEmail", ..)) or w.remove_mailbox(..)
//!     }
//! }
//!
//! // dispatch.rs row: "Mailbox/set" => one(set::set(ctx, args, MailboxSet).await?.response),
//! ```
//!
//! [`set`] returns a [`SetOutcome`]: the response plus what succeeded, for types whose /set has
//! follow-up work after the commit (implicit calls, pushes).

use super::args::{self, Args};
use super::error::{MethodError, SetError};
use super::patch;
use super::{Ctx, parse_state, state_string};
use crate::store::model::{AccountId, DataType};
use crate::store::{StoreError, Writer};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// A JMAP object as a JSON map.
pub type Obj = Map<String, Value>;

/// The type-specific half of a `/set`. See the module documentation for an example.
pub trait SetHandler: Send + Sync + 'static {
    /// The type whose state `ifInState`, `oldState` and `newState` are about; `None` for types
    /// without state (PushSubscription, RFC 8620 §7.2), which then reject `ifInState`.
    fn data_type(&self) -> Option<DataType>;
    /// False for methods that take no `accountId` (PushSubscription/set).
    fn account_scoped(&self) -> bool {
        true
    }
    /// Further arguments the type's /set defines (read them with [`SetCx::args`]).
    fn extra_args(&self) -> &'static [&'static str] {
        &[]
    }
    /// Validates and creates one object.
    fn create(&self, w: &mut Writer<'_>, cx: &mut SetCx, obj: Obj) -> Result<Created, SetError>;
    /// The current object as the client sees it in `/get` (the patch is applied to it), or
    /// `None` if `id` names no object of this type (notFound).
    /// Create-only handlers (Email/import, Email/copy) keep the default: no object to update.
    fn load(&self, _w: &mut Writer<'_>, _cx: &SetCx, _id: &str) -> Result<Option<Obj>, SetError> {
        Ok(None)
    }
    /// Validates and stores the patched object. Returns the properties that changed in a way the
    /// patch did not ask for (server-set ones), or None.
    fn update(
        &self,
        _w: &mut Writer<'_>,
        _cx: &mut SetCx,
        _id: &str,
        _old: &Obj,
        _new: Obj,
    ) -> Result<Option<Obj>, SetError> {
        Err(SetError::not_found())
    }
    /// Destroys one object.
    fn destroy(&self, _w: &mut Writer<'_>, _cx: &mut SetCx, _id: &str) -> Result<(), SetError> {
        Err(SetError::not_found())
    }
}

/// A successful create: the new id and the properties the client did not send.
#[derive(Debug, Clone)]
pub struct Created {
    pub id: String,
    pub server_set: Obj,
}

impl Created {
    pub fn new(id: impl Into<String>) -> Created {
        Created {
            id: id.into(),
            server_set: Obj::new(),
        }
    }
    pub fn with(mut self, prop: &str, v: Value) -> Created {
        self.server_set.insert(prop.to_string(), v);
        self
    }
}

/// What a handler sees besides the store: the account, the call's arguments, creation ids.
pub struct SetCx {
    /// The account the call is about (the user's own account for account-less types).
    pub account: AccountId,
    /// All arguments of the call, for type-specific ones (see [`SetHandler::extra_args`]).
    pub args: Args,
    /// Unix seconds when the call started (one clock reading for the whole call).
    pub now: i64,
    created: HashMap<String, String>,
}

impl SetCx {
    /// A context for machinery built on /set (e.g. /copy).
    pub fn new(
        account: AccountId,
        args: Args,
        now: i64,
        created: HashMap<String, String>,
    ) -> SetCx {
        SetCx {
            account,
            args,
            now,
            created,
        }
    }

    /// Records a creation id made by this call, for later references in it.
    pub fn record(&mut self, creation_id: &str, id: &str) {
        self.created.insert(creation_id.to_string(), id.to_string());
    }

    /// `#creationId` -> the id created for it earlier in this request (or this call); any other
    /// string is returned as is. `None` for an unknown creation id.
    pub fn resolve(&self, id: &str) -> Option<String> {
        match id.strip_prefix('#') {
            Some(c) => self.created.get(c).cloned(),
            None => Some(id.to_string()),
        }
    }

    /// Like [`resolve`](Self::resolve) for a foreign key in property `prop`: an unknown creation
    /// id is invalidProperties naming the property (§5.3).
    pub fn resolve_ref(&self, prop: &str, id: &str) -> Result<String, SetError> {
        self.resolve(id).ok_or_else(|| {
            SetError::invalid_properties(&[prop], format!("unknown creation id {id}"))
        })
    }

    /// A boolean extra argument (false when absent or not a boolean; `set` checked its type).
    pub fn bool_arg(&self, name: &str) -> bool {
        matches!(self.args.get(name), Some(Value::Bool(true)))
    }
}

/// The parsed arguments.
#[derive(Clone)]
struct SetRequest {
    account: AccountId,
    if_in_state: Option<u64>,
    /// A malformed ifInState can never match: stateMismatch.
    bad_if_in_state: bool,
    create: Vec<(String, Obj)>,
    update: Vec<(String, Obj)>,
    destroy: Vec<String>,
}

/// The result of a `/set`: its response and what succeeded.
pub struct SetOutcome {
    pub response: Value,
    /// (creation id, new id) of each object created.
    pub created: Vec<(String, String)>,
    /// Ids updated and destroyed.
    pub updated: Vec<String>,
    pub destroyed: Vec<String>,
}

/// Everything one run of the write closure produces.
#[derive(Default)]
struct Results {
    old_state: u64,
    new_state: u64,
    created: Obj,
    created_ids: Vec<(String, String)>,
    updated: Obj,
    destroyed: Vec<String>,
    not_created: Obj,
    not_updated: Obj,
    not_destroyed: Obj,
}

fn obj_map(a: &Args, name: &str) -> Result<Vec<(String, Obj)>, MethodError> {
    match a.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::Object(o) => Ok((k.clone(), o.clone())),
                _ => Err(MethodError::invalid_arguments(format!(
                    "'{name}' values must be objects"
                ))),
            })
            .collect(),
        Some(_) => Err(MethodError::invalid_arguments(format!(
            "'{name}' must be an object or null"
        ))),
    }
}

fn parse(ctx: &Ctx<'_>, a: &Args, handler: &dyn SetHandler) -> Result<SetRequest, MethodError> {
    let mut allowed = vec!["create", "update", "destroy"];
    if handler.account_scoped() {
        allowed.push("accountId");
    }
    if handler.data_type().is_some() {
        allowed.push("ifInState");
    }
    allowed.extend_from_slice(handler.extra_args());
    args::only(a, &allowed)?;
    let account = if handler.account_scoped() {
        ctx.account(a)?
    } else {
        ctx.user.id
    };
    let if_in_state_s = args::opt_str(a, "ifInState")?;
    let create = obj_map(a, "create")?;
    let update = obj_map(a, "update")?;
    let mut destroy = args::opt_str_list(a, "destroy")?.unwrap_or_default();
    let total = create.len() + update.len() + destroy.len();
    let max = ctx.jmap.limits.max_objects_in_set;
    if total > max {
        return Err(MethodError::request_too_large(format!(
            "{total} objects in one /set; the limit (maxObjectsInSet) is {max}"
        )));
    }
    let mut seen = HashSet::new();
    destroy.retain(|d| seen.insert(d.clone()));
    Ok(SetRequest {
        account,
        if_in_state: if_in_state_s.and_then(parse_state),
        bad_if_in_state: if_in_state_s.is_some_and(|s| parse_state(s).is_none()),
        create,
        update,
        destroy,
    })
}

/// Every `#name` string anywhere in a value (bounded depth), for create ordering.
fn references(v: &Value, depth: usize, out: &mut Vec<String>) {
    if depth > 32 {
        return;
    }
    match v {
        Value::String(s) => {
            if let Some(r) = s.strip_prefix('#') {
                out.push(r.to_string());
            }
        }
        Value::Array(a) => a.iter().for_each(|x| references(x, depth + 1, out)),
        Value::Object(m) => {
            for (k, x) in m {
                // Id-keyed maps such as mailboxIds {"#c1": true} refer through their keys.
                if let Some(r) = k.strip_prefix('#') {
                    out.push(r.to_string());
                }
                references(x, depth + 1, out);
            }
        }
        _ => {}
    }
}

/// Orders creates so each runs after the creates it refers to (§5.3), keeping the client's
/// order otherwise. Cycles are left in the client's order (their references then fail).
fn order_creates(creates: Vec<(String, Obj)>) -> Vec<(String, Obj)> {
    let keys: HashSet<&str> = creates.iter().map(|(k, _)| k.as_str()).collect();
    let deps: Vec<Vec<String>> = creates
        .iter()
        .map(|(k, o)| {
            let mut r = Vec::new();
            for v in o.values() {
                references(v, 0, &mut r);
            }
            r.retain(|x| x != k && keys.contains(x.as_str()));
            r
        })
        .collect();
    let mut done: HashSet<String> = HashSet::new();
    let mut order: Vec<usize> = Vec::with_capacity(creates.len());
    let mut left: Vec<usize> = (0..creates.len()).collect();
    while !left.is_empty() {
        let before = left.len();
        left.retain(|&i| {
            if deps[i].iter().all(|d| done.contains(d)) {
                done.insert(creates[i].0.clone());
                order.push(i);
                false
            } else {
                true
            }
        });
        if left.len() == before {
            order.append(&mut left);
        }
    }
    let mut slots: Vec<Option<(String, Obj)>> = creates.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

fn server_fail(e: &SetError) -> bool {
    e.kind == "serverFail"
}

/// The marker a store failure inside a handler becomes (see the module docs).
struct Abort(String);

fn run(
    w: &mut Writer<'_>,
    handler: &dyn SetHandler,
    req: &SetRequest,
    cx: &mut SetCx,
) -> Result<Result<Results, MethodError>, StoreError> {
    let ty = handler.data_type();
    let state = |w: &Writer<'_>| -> Result<u64, StoreError> {
        match ty {
            Some(t) => w.state(req.account, t),
            None => Ok(0),
        }
    };
    let mut r = Results {
        old_state: state(w)?,
        ..Default::default()
    };
    if req.bad_if_in_state || req.if_in_state.is_some_and(|s| s != r.old_state) {
        return Ok(Err(MethodError::new(
            "stateMismatch",
            format!(
                "ifInState does not match the current state {}",
                state_string(r.old_state)
            ),
        )));
    }
    let abort = |e: Abort| StoreError::Aborted(format!("/set: {}", e.0));
    for (cid, obj) in order_creates(req.create.clone()) {
        match handler.create(w, cx, obj) {
            Ok(c) => {
                let mut props = c.server_set;
                props.insert("id".into(), json!(c.id));
                cx.created.insert(cid.clone(), c.id.clone());
                r.created_ids.push((cid.clone(), c.id));
                r.created.insert(cid, Value::Object(props));
            }
            Err(e) if server_fail(&e) => {
                return Err(abort(Abort(e.description.unwrap_or_default())));
            }
            Err(e) => {
                r.not_created.insert(cid, e.to_value());
            }
        }
    }
    let destroying: HashSet<String> = req.destroy.iter().filter_map(|d| cx.resolve(d)).collect();
    for (key, patch_obj) in &req.update {
        let Some(id) = cx.resolve(key) else {
            r.not_updated
                .insert(key.clone(), SetError::not_found().to_value());
            continue;
        };
        if destroying.contains(&id) {
            r.not_updated.insert(
                key.clone(),
                SetError::new("willDestroy", "the object is destroyed in the same call").to_value(),
            );
            continue;
        }
        let outcome = handler.load(w, cx, &id).and_then(|old| {
            let old = old.ok_or_else(SetError::not_found)?;
            let new = patch::apply(&old, patch_obj)?;
            handler.update(w, cx, &id, &old, new)
        });
        match outcome {
            Ok(extra) => {
                r.updated
                    .insert(id, extra.map(Value::Object).unwrap_or(Value::Null));
            }
            Err(e) if server_fail(&e) => {
                return Err(abort(Abort(e.description.unwrap_or_default())));
            }
            Err(e) => {
                r.not_updated.insert(key.clone(), e.to_value());
            }
        }
    }
    for key in &req.destroy {
        let outcome = match cx.resolve(key) {
            Some(id) => handler.destroy(w, cx, &id).map(|()| id),
            None => Err(SetError::not_found()),
        };
        match outcome {
            Ok(id) => r.destroyed.push(id),
            Err(e) if server_fail(&e) => {
                return Err(abort(Abort(e.description.unwrap_or_default())));
            }
            Err(e) => {
                r.not_destroyed.insert(key.clone(), e.to_value());
            }
        }
    }
    r.new_state = state(w)?;
    Ok(Ok(r))
}

fn or_null(m: Obj) -> Value {
    if m.is_empty() {
        Value::Null
    } else {
        Value::Object(m)
    }
}

/// Runs a complete `/set` for `handler`'s type. See the module documentation.
pub async fn set<H: SetHandler>(
    ctx: &mut Ctx<'_>,
    a: Args,
    handler: H,
) -> Result<SetOutcome, MethodError> {
    let handler: Arc<dyn SetHandler> = Arc::new(handler);
    let req = parse(ctx, &a, handler.as_ref())?;
    let known: HashMap<String, String> = ctx.created_ids.clone();
    let now = crate::date::now();
    let (req2, h2) = (req.clone(), handler.clone());
    let results = ctx
        .jmap
        .store
        .write(move |w| {
            // A fresh context per run: the store may run this closure twice.
            let mut cx = SetCx {
                account: req2.account,
                args: a.clone(),
                now,
                created: known.clone(),
            };
            run(w, h2.as_ref(), &req2, &mut cx)
        })
        .await
        .map_err(|e| match e {
            StoreError::Aborted(d) => {
                log::error!("jmap: aborted {d}");
                MethodError::server_fail("internal storage error; nothing was changed")
            }
            other => MethodError::from(other),
        })??;
    for (cid, id) in &results.created_ids {
        ctx.created_ids.insert(cid.clone(), id.clone());
    }
    let destroyed = if results.destroyed.is_empty() {
        Value::Null
    } else {
        json!(results.destroyed)
    };
    let mut response = json!({
        "created": or_null(results.created),
        "updated": or_null(results.updated.clone()),
        "destroyed": destroyed,
        "notCreated": or_null(results.not_created),
        "notUpdated": or_null(results.not_updated),
        "notDestroyed": or_null(results.not_destroyed),
    });
    if handler.account_scoped() {
        response["accountId"] = json!(super::IdKind::Account.encode(req.account));
    }
    if handler.data_type().is_some() {
        response["oldState"] = json!(state_string(results.old_state));
        response["newState"] = json!(state_string(results.new_state));
    }
    Ok(SetOutcome {
        response,
        created: results.created_ids,
        updated: results.updated.keys().cloned().collect(),
        destroyed: results.destroyed,
    })
}

// ---- helpers for handlers -------------------------------------------------------------------

/// invalidProperties for every property of `obj` not in `known` (§5.3).
pub fn only_props(obj: &Obj, known: &[&str]) -> Result<(), SetError> {
    let bad: Vec<&str> = obj
        .keys()
        .filter(|k| !known.contains(&k.as_str()))
        .map(String::as_str)
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(SetError::invalid_properties(
            &bad,
            format!("unknown or server-set properties: {}", bad.join(", ")),
        ))
    }
}

/// invalidProperties if an update changed any of `props` (server-set or immutable properties may
/// be sent only with their current value, §5.3).
pub fn same_server_set(old: &Obj, new: &Obj, props: &[&str]) -> Result<(), SetError> {
    let bad: Vec<&str> = props
        .iter()
        .copied()
        .filter(|p| old.get(*p) != new.get(*p))
        .collect();
    if bad.is_empty() {
        Ok(())
    } else {
        Err(SetError::invalid_properties(
            &bad,
            format!("cannot change {}", bad.join(", ")),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(v: Value) -> Obj {
        match v {
            Value::Object(m) => m,
            _ => Obj::new(),
        }
    }

    #[test]
    fn creates_are_ordered_by_reference() {
        let c = vec![
            ("a".to_string(), o(json!({"parentId": "#b"}))),
            ("b".to_string(), o(json!({"parentId": "#c"}))),
            ("c".to_string(), o(json!({"parentId": null}))),
            ("d".to_string(), o(json!({"mailboxIds": {"#a": true}}))),
        ];
        let order: Vec<String> = order_creates(c).into_iter().map(|(k, _)| k).collect();
        assert_eq!(order, vec!["c", "b", "a", "d"]);
        // A cycle keeps the client's order instead of looping.
        let c = vec![
            ("x".to_string(), o(json!({"p": "#y"}))),
            ("y".to_string(), o(json!({"p": "#x"}))),
        ];
        assert_eq!(order_creates(c).len(), 2);
    }

    #[test]
    fn helpers() {
        let old = o(json!({"id": "x", "n": 1}));
        let new = o(json!({"id": "y", "n": 2}));
        assert_eq!(
            same_server_set(&old, &new, &["id"]).unwrap_err().properties,
            Some(vec!["id".to_string()])
        );
        assert!(only_props(&o(json!({"a": 1})), &["a"]).is_ok());
        assert!(only_props(&o(json!({"b": 1})), &["a"]).is_err());
    }
}

/// The machinery against a real store, with a small test type kept in the push-subscription
/// table but given a state (so ifInState, oldState and newState are exercised).
#[cfg(test)]
mod store_tests {
    use super::*;
    use crate::jmap::{Jmap, Limits};
    use crate::store::Store;
    use crate::store::model::{Account, ChangeKind, PushSubscription};

    struct Notes;
    fn to_obj(s: &PushSubscription) -> Obj {
        let mut m = Obj::new();
        m.insert("id".into(), json!(s.id));
        m.insert("title".into(), json!(s.device_client_id));
        m.insert("tags".into(), json!({}));
        if let Some(t) = &s.keys {
            m.insert("tags".into(), t.clone());
        }
        m.insert("ref".into(), json!(s.url));
        m
    }
    impl SetHandler for Notes {
        fn data_type(&self) -> Option<DataType> {
            Some(DataType::PushSubscription)
        }
        fn create(
            &self,
            w: &mut Writer<'_>,
            cx: &mut SetCx,
            obj: Obj,
        ) -> Result<Created, SetError> {
            only_props(&obj, &["title", "ref"])?;
            let Some(Value::String(title)) = obj.get("title") else {
                return Err(SetError::invalid_properties(
                    &["title"],
                    "title is required",
                ));
            };
            let r = match obj.get("ref") {
                Some(Value::String(r)) => cx.resolve_ref("ref", r)?,
                _ => String::new(),
            };
            let n = w.push_subscription_count(cx.account)?;
            let id = format!("n{n}");
            let s = PushSubscription {
                id: id.clone(),
                device_client_id: title.clone(),
                url: r,
                keys: None,
                code: String::new(),
                verified: false,
                expires: 0,
                types: None,
            };
            w.put_push_subscription(cx.account, &s)?;
            w.log(
                cx.account,
                DataType::PushSubscription,
                n as u32,
                ChangeKind::Created,
            )?;
            Ok(Created::new(id).with("tags", json!({})))
        }
        fn load(&self, w: &mut Writer<'_>, cx: &SetCx, id: &str) -> Result<Option<Obj>, SetError> {
            Ok(w.push_subscription(cx.account, id)?.as_ref().map(to_obj))
        }
        fn update(
            &self,
            w: &mut Writer<'_>,
            cx: &mut SetCx,
            id: &str,
            old: &Obj,
            new: Obj,
        ) -> Result<Option<Obj>, SetError> {
            same_server_set(old, &new, &["id", "ref"])?;
            let mut s = w
                .push_subscription(cx.account, id)?
                .ok_or_else(SetError::not_found)?;
            s.device_client_id = new["title"].as_str().unwrap_or_default().to_string();
            s.keys = Some(new["tags"].clone());
            w.put_push_subscription(cx.account, &s)?;
            w.log(
                cx.account,
                DataType::PushSubscription,
                0,
                ChangeKind::Updated,
            )?;
            Ok(None)
        }
        fn destroy(&self, w: &mut Writer<'_>, cx: &mut SetCx, id: &str) -> Result<(), SetError> {
            if !w.remove_push_subscription(cx.account, id)? {
                return Err(SetError::not_found());
            }
            w.log(
                cx.account,
                DataType::PushSubscription,
                0,
                ChangeKind::Destroyed,
            )?;
            Ok(())
        }
    }

    fn call(
        jmap: &Jmap,
        user: &Account,
        ids: &mut HashMap<String, String>,
        a: Value,
    ) -> Result<SetOutcome, MethodError> {
        let using = vec![crate::jmap::CAP_CORE.to_string()];
        let mut ctx = Ctx {
            jmap,
            user,
            using: &using,
            created_ids: ids,
            budget: crate::jmap::response::Budget::unlimited(),
            index_deadline: std::time::Instant::now(),
            shared: None,
        };
        let Value::Object(a) = a else { panic!() };
        smol::block_on(set(&mut ctx, a, Notes))
    }

    #[test]
    fn end_to_end_on_a_store() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), 1 << 20).unwrap();
        let user = store
            .write_blocking(|w| w.create_account("u@example.org", "x", false, 0))
            .unwrap();
        let jmap = Jmap {
            store,
            index: crate::index::SearchIndex::in_ram().unwrap(),
            limits: Limits {
                max_objects_in_set: 6,
                ..Limits::default()
            },
            outbound: None,
            net_guard: std::sync::Arc::new(crate::net_guard::NetGuard::public_only()),
        };
        let acct = crate::store::model::IdKind::Account.encode(user.id);
        let mut ids = HashMap::new();

        // Creates in dependency order, with #references inside and across calls.
        let out = call(&jmap, &user, &mut ids, json!({
            "accountId": acct,
            "create": {"b": {"title": "B", "ref": "#a"}, "a": {"title": "A"}, "bad": {"nope": 1}},
        })).unwrap();
        let r = &out.response;
        // The modseq is per account: the six default mailboxes and the default identity took 1..=7.
        assert_eq!(r["oldState"], json!("0"));
        assert_eq!(r["newState"], json!("9"));
        let a_id = r["created"]["a"]["id"].as_str().unwrap().to_string();
        assert_eq!(r["created"]["a"]["tags"], json!({}));
        assert_eq!(r["notCreated"]["bad"]["type"], json!("invalidProperties"));
        assert_eq!(r["notCreated"]["bad"]["properties"], json!(["nope"]));
        assert_eq!(ids.get("a"), Some(&a_id));
        let b_id = ids["b"].clone();

        // ifInState mismatch: nothing happens.
        let e = call(
            &jmap,
            &user,
            &mut ids,
            json!({
                "accountId": acct, "ifInState": "1", "destroy": [a_id],
            }),
        )
        .err()
        .unwrap();
        assert_eq!(e.kind, "stateMismatch");

        // Patch paths, #id update keys, willDestroy, notFound, server-set checks.
        let out = call(
            &jmap,
            &user,
            &mut ids,
            json!({
                "accountId": acct, "ifInState": "9",
                "update": {
                    "#b": {"tags/x~1y": true, "title": "B2"},
                    "#a": {"title": "gone"},
                    "zz": {"title": "x"},
                    "#a2": {"title": "x"},
                },
                "destroy": ["#a", "nothing"],
            }),
        )
        .unwrap();
        let r = &out.response;
        assert_eq!(r["updated"], json!({ b_id.clone(): null }));
        assert_eq!(r["notUpdated"]["#a"]["type"], json!("willDestroy"));
        assert_eq!(r["notUpdated"]["zz"]["type"], json!("notFound"));
        assert_eq!(r["notUpdated"]["#a2"]["type"], json!("notFound"));
        assert_eq!(r["destroyed"], json!([a_id]));
        assert_eq!(r["notDestroyed"]["nothing"]["type"], json!("notFound"));
        assert_eq!(r["oldState"], json!("9"));
        assert_eq!(r["newState"], json!("11"));

        let out = call(
            &jmap,
            &user,
            &mut ids,
            json!({
                "accountId": acct,
                "update": { b_id.clone(): {"ref": "changed"}, },
            }),
        )
        .unwrap();
        assert_eq!(
            out.response["notUpdated"][&b_id]["type"],
            json!("invalidProperties")
        );
        let out = call(
            &jmap,
            &user,
            &mut ids,
            json!({
                "accountId": acct,
                "update": { b_id.clone(): {"tags/x~1y/deeper": 1}, },
            }),
        )
        .unwrap();
        assert_eq!(
            out.response["notUpdated"][&b_id]["type"],
            json!("invalidPatch")
        );
        assert_eq!(out.response["newState"], json!("11"));

        // Limits and argument types.
        let e = call(
            &jmap,
            &user,
            &mut ids,
            json!({
                "accountId": acct, "destroy": ["1", "2", "3", "4", "5", "6", "7"],
            }),
        )
        .err()
        .unwrap();
        assert_eq!(e.kind, "requestTooLarge");
        for bad in [
            json!({"accountId": acct, "create": []}),
            json!({"accountId": acct, "update": {"x": 1}}),
            json!({"accountId": acct, "destroy": "x"}),
            json!({"accountId": acct, "bogus": 1}),
            json!({"accountId": null}),
        ] {
            let e = call(&jmap, &user, &mut ids, bad.clone()).err().unwrap();
            assert!(
                matches!(e.kind, "invalidArguments" | "accountNotFound"),
                "{bad}: {}",
                e.kind
            );
        }
    }
}
