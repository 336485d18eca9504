//! The shared `/copy` (RFC 8620 §5.4): copying objects from one account to another, with
//! `ifFromInState`, `ifInState`, creation ids, and `onSuccessDestroyOriginal` (an implicit
//! `Foo/set` destroying the originals, with `destroyFromIfInState` as its `ifInState`, whose
//! response follows the copy's).
//!
//! In mailnook every user has exactly one account, and §5.4 requires `fromAccountId` and
//! `accountId` to differ, so today every /copy ends in `fromAccountNotFound`,
//! `accountNotFound` or invalidArguments; the machinery is complete for when accounts can be
//! shared. A type plugs in a [`CopyHandler`] (copy one object, inside the write transaction)
//! and the [`SetHandler`] of its /set for the destroys.

use super::args::{self, Args};
use super::dispatch::Responses;
use super::error::{MethodError, SetError};
use super::set::{self, Created, Obj, SetCx, SetHandler};
use super::{Ctx, IdKind, parse_state, state_string};
use crate::store::model::{AccountId, DataType};
use crate::store::{StoreError, Writer};
use serde_json::{Value, json};
use std::sync::Arc;

pub trait CopyHandler: Send + Sync + 'static {
    /// The type whose state `ifInState`/`ifFromInState` and old/newState are about.
    fn data_type(&self) -> DataType;
    /// Further arguments of the type's /copy.
    fn extra_args(&self) -> &'static [&'static str] {
        &[]
    }
    /// Copies the object `id` of `from` into `cx.account`, with `overrides` replacing its
    /// properties (everything of the create object except `id`).
    fn copy(
        &self,
        w: &mut Writer<'_>,
        cx: &mut SetCx,
        from: AccountId,
        id: &str,
        overrides: Obj,
    ) -> Result<Created, SetError>;
}

fn account_of(ctx: &Ctx<'_>, id: &str) -> Option<AccountId> {
    IdKind::Account.decode(id).filter(|n| *n == ctx.user.id)
}

/// Runs a complete `Foo/copy` (and the implicit `Foo/set` if asked). `name` is the type name.
pub async fn copy<H: CopyHandler, S: SetHandler>(
    ctx: &mut Ctx<'_>,
    name: &str,
    a: Args,
    handler: H,
    destroyer: S,
) -> Result<Responses, MethodError> {
    let mut allowed = vec![
        "fromAccountId",
        "ifFromInState",
        "accountId",
        "ifInState",
        "create",
        "onSuccessDestroyOriginal",
        "destroyFromIfInState",
    ];
    allowed.extend_from_slice(handler.extra_args());
    args::only(&a, &allowed)?;
    let from_s = args::req_str(&a, "fromAccountId")?.to_string();
    let from = account_of(ctx, &from_s).ok_or_else(|| {
        MethodError::new(
            "fromAccountNotFound",
            "The fromAccountId does not name an account you can access",
        )
    })?;
    let to = ctx.account(&a)?;
    if from == to {
        return Err(MethodError::invalid_arguments(
            "fromAccountId and accountId must differ (RFC 8620 §5.4)",
        ));
    }
    let state_arg = |k: &str| -> Result<Option<Option<u64>>, MethodError> {
        Ok(args::opt_str(&a, k)?.map(parse_state))
    };
    let (if_from, if_in) = (state_arg("ifFromInState")?, state_arg("ifInState")?);
    let destroy_if = args::opt_str(&a, "destroyFromIfInState")?.map(str::to_string);
    let destroy_original = args::opt_bool(&a, "onSuccessDestroyOriginal", false)?;
    let creates: Vec<(String, Obj)> = match a.get("create") {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::Object(o) => Ok((k.clone(), o.clone())),
                _ => Err(MethodError::invalid_arguments(
                    "'create' values must be objects",
                )),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(MethodError::invalid_arguments("'create' must be an object")),
    };
    if creates.len() > ctx.jmap.limits.max_objects_in_set {
        return Err(MethodError::request_too_large(format!(
            "at most {} objects per /copy",
            ctx.jmap.limits.max_objects_in_set
        )));
    }
    let ty = handler.data_type();
    let handler = Arc::new(handler);
    let known = ctx.created_ids.clone();
    let now = crate::ingest::now();
    let a2 = a.clone();
    let out = ctx
        .jmap
        .store
        .write(move |w| {
            let old = w.state(to, ty)?;
            let from_state = w.state(from, ty)?;
            if if_from.is_some_and(|s| s != Some(from_state))
                || if_in.is_some_and(|s| s != Some(old))
            {
                return Ok(Err(MethodError::new(
                    "stateMismatch",
                    "a state argument does not match",
                )));
            }
            let mut cx = SetCx::new(to, a2.clone(), now, known.clone());
            let (mut created, mut not_created, mut pairs) = (Obj::new(), Obj::new(), Vec::new());
            for (cid, mut obj) in creates.clone() {
                let Some(Value::String(id)) = obj.remove("id") else {
                    not_created.insert(
                        cid,
                        SetError::invalid_properties(&["id"], "the id of the original is required")
                            .to_value(),
                    );
                    continue;
                };
                let id = cx.resolve(&id).unwrap_or(id);
                match handler.copy(w, &mut cx, from, &id, obj) {
                    Ok(c) => {
                        let mut props = c.server_set;
                        props.insert("id".into(), json!(c.id));
                        cx.record(&cid, &c.id);
                        pairs.push((cid.clone(), c.id, id));
                        created.insert(cid, Value::Object(props));
                    }
                    Err(e) if e.kind == "serverFail" => {
                        return Err(StoreError::Db(format!("/copy aborted: {e:?}")));
                    }
                    Err(e) => {
                        not_created.insert(cid, e.to_value());
                    }
                }
            }
            Ok(Ok((old, w.state(to, ty)?, created, not_created, pairs)))
        })
        .await??;
    let (old, new, created, not_created, pairs) = out;
    for (cid, id, _) in &pairs {
        ctx.created_ids.insert(cid.clone(), id.clone());
    }
    let or_null = |m: Obj| {
        if m.is_empty() {
            Value::Null
        } else {
            Value::Object(m)
        }
    };
    let mut responses = vec![(
        format!("{name}/copy"),
        json!({
            "fromAccountId": from_s,
            "accountId": IdKind::Account.encode(to),
            "oldState": state_string(old),
            "newState": state_string(new),
            "created": or_null(created),
            "notCreated": or_null(not_created),
        }),
    )];
    if destroy_original && !pairs.is_empty() {
        let mut set_args = Args::new();
        set_args.insert("accountId".into(), json!(from_s));
        if let Some(s) = destroy_if {
            set_args.insert("ifInState".into(), json!(s));
        }
        set_args.insert(
            "destroy".into(),
            json!(
                pairs
                    .iter()
                    .map(|(_, _, orig)| orig.clone())
                    .collect::<Vec<_>>()
            ),
        );
        // The implicit call's outcome (including its errors) is its own response (§5.4).
        let r = match set::set(ctx, set_args, destroyer).await {
            Ok(o) => (format!("{name}/set"), o.response),
            Err(e) => ("error".to_string(), e.to_value()),
        };
        responses.push(r);
    }
    Ok(responses)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jmap::push_subscription::PushSubscriptionSet;
    use crate::jmap::{Jmap, Limits};
    use crate::store::Store;
    use std::collections::HashMap;

    struct Nothing;
    impl CopyHandler for Nothing {
        fn data_type(&self) -> DataType {
            DataType::Mailbox
        }
        fn copy(
            &self,
            _: &mut Writer<'_>,
            _: &mut SetCx,
            _: AccountId,
            _: &str,
            _: Obj,
        ) -> Result<Created, SetError> {
            Err(SetError::not_found())
        }
    }

    #[test]
    fn single_account_users_get_the_right_errors() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db"), 1 << 20).unwrap();
        let user = store
            .write_blocking(|w| w.create_account("u@example.org", "x", false, 0))
            .unwrap();
        let jmap = Jmap {
            store,
            index: crate::index::SearchIndex::in_ram().unwrap(),
            limits: Limits::default(),
        };
        let me = IdKind::Account.encode(user.id);
        let using = vec![crate::jmap::CAP_CORE.to_string()];
        let mut ids = HashMap::new();
        let mut run = |a: Value| {
            let mut ctx = Ctx {
                jmap: &jmap,
                user: &user,
                using: &using,
                created_ids: &mut ids,
            };
            let Value::Object(a) = a else { panic!() };
            smol::block_on(copy(&mut ctx, "Foo", a, Nothing, PushSubscriptionSet))
                .unwrap_err()
                .kind
        };
        assert_eq!(
            run(json!({"fromAccountId": me, "accountId": me, "create": {}})),
            "invalidArguments"
        );
        assert_eq!(
            run(json!({"fromAccountId": "az", "accountId": me, "create": {}})),
            "fromAccountNotFound"
        );
        assert_eq!(
            run(json!({"fromAccountId": me, "accountId": "az", "create": {}})),
            "accountNotFound"
        );
        assert_eq!(
            run(json!({"fromAccountId": me, "accountId": me, "bogus": 1})),
            "invalidArguments"
        );
    }
}
