//! Email/copy (RFC 8621 §4.7, RFC 8620 §5.4): copies emails from another account the user can
//! access, setting only mailboxIds, keywords and receivedAt. §5.4 requires `accountId` to differ
//! from `fromAccountId`. Either side may be an account shared with the user (issue #16,
//! `access.rs`): the source message must be readable there (else notFound), and a shared target
//! checks its rights like Email/set (`share_set::Guarded`: mayAddItems on the mailboxes,
//! maySetSeen/maySetKeywords for the keywords). The source message is read and parsed before
//! the transaction and stored in the target through `ingest::insert`, like an import;
//! `onSuccessDestroyOriginal` then destroys the originals with an implicit Email/set in the
//! source account, which needs mayRemoveItems there.

use super::set::{PREPARED_KEY, store_prepared, take_prepared};
use crate::ingest::{self, Prepared};
use crate::jmap::args::{self, Args};
use crate::jmap::dispatch::Responses;
use crate::jmap::error::{MethodError, SetError};
use crate::jmap::set::{self, Created, Obj, SetCx, SetHandler};
use crate::jmap::{Ctx, parse_state};
use crate::store::Writer;
use crate::store::model::{DataType, IdKind};
use serde_json::{Map, Value, json};
use std::sync::Arc;

struct Copy {
    prepared: Arc<Vec<Result<(Prepared, i64), SetError>>>,
}

impl SetHandler for Copy {
    fn data_type(&self) -> Option<DataType> {
        Some(DataType::Email)
    }
    fn create(
        &self,
        w: &mut Writer<'_>,
        cx: &mut SetCx,
        mut obj: Obj,
    ) -> Result<Created, SetError> {
        let (p, received) = take_prepared(&mut obj, &self.prepared)?;
        set::only_props(&obj, &["id", "mailboxIds", "keywords", "receivedAt"])?;
        store_prepared(w, cx, &obj, &p, received)
    }
}

pub async fn copy(ctx: &mut Ctx<'_>, a: Args) -> Result<Responses, MethodError> {
    args::only(
        &a,
        &[
            "fromAccountId",
            "ifFromInState",
            "accountId",
            "ifInState",
            "create",
            "onSuccessDestroyOriginal",
            "destroyFromIfInState",
        ],
    )?;
    let from_s = args::req_str(&a, "fromAccountId")?.to_string();
    let not_found = || {
        MethodError::new(
            "fromAccountNotFound",
            "The fromAccountId does not name an account you can access",
        )
    };
    let from = IdKind::Account.decode(&from_s).ok_or_else(not_found)?;
    let from_access = crate::jmap::access::load_for(ctx, from)
        .await?
        .ok_or_else(not_found)?;
    let (to, to_access) = ctx.access(&a)?;
    if from == to {
        return Err(MethodError::invalid_arguments(
            "accountId must differ from fromAccountId (RFC 8620 §5.4); to file an email in \
             another mailbox of the same account, use Email/set on its mailboxIds",
        ));
    }
    let destroy_original = args::opt_bool(&a, "onSuccessDestroyOriginal", false)?;
    let creates = match a.get("create") {
        Some(Value::Object(m)) => m.clone(),
        _ => return Err(MethodError::invalid_arguments("'create' must be an object")),
    };
    if let Some(s) = args::opt_str(&a, "ifFromInState")? {
        let state = ctx
            .jmap
            .store
            .read(move |r| r.state(from, DataType::Email))
            .await?;
        if parse_state(s) != Some(state) {
            return Err(MethodError::new(
                "stateMismatch",
                "ifFromInState does not match",
            ));
        }
    }
    let mut prepared = Vec::new();
    let mut create = Map::new();
    let mut sources: Vec<(String, String)> = Vec::new();
    for (cid, obj) in creates {
        let Value::Object(mut obj) = obj else {
            return Err(MethodError::invalid_arguments("a create must be an object"));
        };
        obj.remove(PREPARED_KEY);
        let src = obj.get("id").and_then(Value::as_str).map(str::to_string);
        let found = match src.as_deref().and_then(|s| IdKind::Email.decode(s)) {
            Some(n) => {
                let fa = from_access.clone();
                ctx.jmap
                    .store
                    .read(move |r| match r.email_state(from, n)? {
                        // Only a message the user may read in the source account.
                        Some(st) if fa.reads(&st) => {
                            Ok(r.blob(from, &st.blob)?.map(|b| (b, st.received_at)))
                        }
                        _ => Ok(None),
                    })
                    .await?
            }
            None => None,
        };
        let r = match found {
            Some((bytes, at)) => {
                Ok(crate::pool::unblock(move || (ingest::prepare(bytes), at)).await)
            }
            None => Err(SetError::not_found()),
        };
        if let Some(s) = src {
            sources.push((cid.clone(), s));
        }
        obj.insert(PREPARED_KEY.into(), json!(prepared.len()));
        prepared.push(r);
        create.insert(cid, Value::Object(obj));
    }
    let mut set_args = Map::new();
    if let Some(id) = a.get("accountId") {
        set_args.insert("accountId".into(), id.clone());
    }
    if let Some(s) = a.get("ifInState") {
        set_args.insert("ifInState".into(), s.clone());
    }
    set_args.insert("create".into(), Value::Object(create));
    let handler = Copy {
        prepared: Arc::new(prepared),
    };
    let out = match to_access {
        crate::jmap::access::Access::Own => set::set(ctx, set_args, handler).await?,
        access => {
            let grantee = ctx.user.id;
            set::set(
                ctx,
                set_args,
                crate::jmap::share_set::Guarded {
                    inner: handler,
                    access,
                    kind: crate::jmap::share_set::Kind::Email,
                    grantee,
                },
            )
            .await?
        }
    };
    let _ = to;
    let r = &out.response;
    let mut responses = vec![(
        "Email/copy".to_string(),
        json!({
            "fromAccountId": from_s,
            "accountId": r["accountId"],
            "oldState": r["oldState"],
            "newState": r["newState"],
            "created": r["created"],
            "notCreated": r["notCreated"],
        }),
    )];
    if destroy_original && !out.created.is_empty() {
        let done: Vec<String> = sources
            .into_iter()
            .filter(|(cid, _)| out.created.iter().any(|(c, _)| c == cid))
            .map(|(_, s)| s)
            .collect();
        let mut d = Map::new();
        d.insert("accountId".into(), json!(from_s));
        d.insert("destroy".into(), json!(done));
        if let Some(s) = a.get("destroyFromIfInState") {
            d.insert("ifInState".into(), s.clone());
        }
        // The implicit Email/set runs in the source account, with its access (access.rs).
        let saved = ctx.shared.take();
        if !matches!(from_access, crate::jmap::access::Access::Own) {
            ctx.shared = Some((from, Arc::new(from_access)));
        }
        let r = super::set::set(ctx, d).await;
        ctx.shared = saved;
        responses.push(("Email/set".to_string(), r?));
    }
    Ok(responses)
}
