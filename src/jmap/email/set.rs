//! Email/set (RFC 8621 §4.6) on the shared /set machinery, and the parts Email/import and
//! Email/copy share with it.
//!
//! Create: the message is built (`build.rs`) and parsed (`ingest::prepare`) *before* the write
//! transaction, since building may read attachment blobs and parsing is slow; inside the
//! transaction the create only validates mailboxIds/keywords/receivedAt and stores the prepared
//! message through `ingest::insert`, the same path as SMTP delivery (threading, counts,
//! changelog). Each create object carries the index of its prepared message under a key no
//! client value can survive (it is overwritten before the machinery sees the object).
//!
//! Update: only `keywords` and `mailboxIds` may change, as whole values or by patch paths
//! (`keywords/$seen`, `mailboxIds/<id>`, `#creationId` keys resolved). Destroy removes the email
//! from every mailbox. The store keeps counts and thread membership exact.

use super::build;
use crate::ingest::{self, Prepared};
use crate::jmap::error::{MethodError, SetError};
use crate::jmap::set::{self, Created, Obj, SetCx, SetHandler};
use crate::jmap::{Ctx, args::Args, blob};
use crate::store::Writer;
use crate::store::model::{DataType, IdKind};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Where a create object carries the index of its prepared message.
pub const PREPARED_KEY: &str = "\u{0}prepared";

/// A server-defined maximum (RFC 8621 §4.6 tooManyKeywords).
pub const MAX_KEYWORDS: usize = 128;

/// `mailboxIds` of a create or update: ids (or `#creationId`s) mapped to true, at least one,
/// each an existing mailbox.
pub fn mailbox_ids(w: &Writer<'_>, cx: &SetCx, v: Option<&Value>) -> Result<Vec<u32>, SetError> {
    let bad = |why: &str| SetError::invalid_properties(&["mailboxIds"], why);
    let Some(Value::Object(m)) = v else {
        return Err(bad("mailboxIds is required: an object of mailbox ids"));
    };
    let existing: Vec<u32> = w.all_mailboxes(cx.account)?.iter().map(|m| m.id).collect();
    let mut out = Vec::with_capacity(m.len());
    for (k, v) in m {
        if v != &Value::Bool(true) {
            return Err(bad("mailboxIds values must be true"));
        }
        let id = cx
            .resolve(k)
            .and_then(|id| IdKind::Mailbox.decode(&id))
            .filter(|id| existing.contains(id))
            .ok_or_else(|| bad(&format!("no mailbox {k}")))?;
        out.push(id);
    }
    if out.is_empty() {
        return Err(bad("an email must be in at least one mailbox"));
    }
    Ok(out)
}

/// `keywords` (RFC 8621 §4.1.1): IMAP atoms, lower-cased, values true.
pub fn keywords(v: Option<&Value>) -> Result<BTreeMap<String, bool>, SetError> {
    let bad = |why: String| SetError::invalid_properties(&["keywords"], why);
    let m = match v {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(bad("keywords must be an object".into())),
    };
    if m.len() > MAX_KEYWORDS {
        return Err(SetError::new(
            "tooManyKeywords",
            format!("at most {MAX_KEYWORDS} keywords"),
        ));
    }
    let mut out = BTreeMap::new();
    for (k, v) in m {
        if v != &Value::Bool(true) {
            return Err(bad(format!("the value of keyword '{k}' must be true")));
        }
        let ok = (1..=255).contains(&k.len())
            && k.bytes()
                .all(|b| (0x21..=0x7e).contains(&b) && !b"(){]%*\"\\".contains(&b));
        if !ok {
            return Err(bad(format!("'{k}' is not a valid keyword")));
        }
        out.insert(k.to_ascii_lowercase(), true);
    }
    Ok(out)
}

/// `receivedAt` (UTCDate) or the default.
pub fn received_at(v: Option<&Value>, default: i64) -> Result<i64, SetError> {
    match v {
        None | Some(Value::Null) => Ok(default),
        Some(Value::String(s)) => crate::date::parse_rfc3339(s).ok_or_else(|| {
            SetError::invalid_properties(&["receivedAt"], "receivedAt must be a UTCDate")
        }),
        Some(_) => Err(SetError::invalid_properties(
            &["receivedAt"],
            "receivedAt must be a UTCDate",
        )),
    }
}

/// Stores a prepared message for a create (Email/set, Email/import, Email/copy) and returns
/// the §4.6 created properties: id, blobId, threadId, size.
pub fn store_prepared(
    w: &mut Writer<'_>,
    cx: &SetCx,
    obj: &Obj,
    p: &Prepared,
    default_received: i64,
) -> Result<Created, SetError> {
    let mbs = mailbox_ids(w, cx, obj.get("mailboxIds"))?;
    let kws = keywords(obj.get("keywords"))?;
    let at = received_at(obj.get("receivedAt"), default_received)?;
    let (id, thread) = ingest::insert(w, p, cx.account, mbs, kws, at)?;
    Ok(Created::new(IdKind::Email.encode(id))
        .with("blobId", json!(blob::blob_id(&p.blob)))
        .with("threadId", json!(IdKind::Thread.encode(thread)))
        .with("size", json!(p.raw.len())))
}

/// The prepared message a create object points at.
pub fn take_prepared(
    obj: &mut Obj,
    prepared: &[Result<(Prepared, i64), SetError>],
) -> Result<(Prepared, i64), SetError> {
    let idx = obj
        .remove(PREPARED_KEY)
        .and_then(|v| v.as_u64())
        .and_then(|i| prepared.get(i as usize))
        .ok_or_else(|| SetError::new("serverFail", "lost the prepared message"))?;
    idx.clone()
}

struct EmailSet {
    prepared: Arc<Vec<Result<(Prepared, i64), SetError>>>,
    /// Whether changes teach the account's junk filter: only its owner's own. Someone a
    /// folder is shared with may file mail in it, but the filter is the owner's (README).
    trains: bool,
}

fn load_obj(w: &Writer<'_>, acct: u32, id: &str) -> Result<Option<Obj>, SetError> {
    let Some(n) = IdKind::Email.decode(id) else {
        return Ok(None);
    };
    let Some(st) = w.find_email(acct, n)? else {
        return Ok(None);
    };
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("keywords".into(), json!(st.keywords));
    m.insert(
        "mailboxIds".into(),
        Value::Object(
            st.mailbox_ids
                .iter()
                .map(|m| (IdKind::Mailbox.encode(*m), json!(true)))
                .collect(),
        ),
    );
    Ok(Some(m))
}

impl SetHandler for EmailSet {
    fn data_type(&self) -> Option<DataType> {
        Some(DataType::Email)
    }

    fn create(
        &self,
        w: &mut Writer<'_>,
        cx: &mut SetCx,
        mut obj: Obj,
    ) -> Result<Created, SetError> {
        let (p, _) = take_prepared(&mut obj, &self.prepared)?;
        store_prepared(w, cx, &obj, &p, cx.now)
    }

    fn load(&self, w: &mut Writer<'_>, cx: &SetCx, id: &str) -> Result<Option<Obj>, SetError> {
        load_obj(w, cx.account, id)
    }

    fn update(
        &self,
        w: &mut Writer<'_>,
        cx: &mut SetCx,
        id: &str,
        _old: &Obj,
        new: Obj,
    ) -> Result<Option<Obj>, SetError> {
        set::only_props(&new, &["id", "keywords", "mailboxIds"])?;
        if new.get("id") != Some(&json!(id)) {
            return Err(SetError::invalid_properties(&["id"], "id is immutable"));
        }
        let n = IdKind::Email.decode(id).ok_or_else(SetError::not_found)?;
        let mbs = mailbox_ids(w, cx, new.get("mailboxIds"))?;
        let kws = keywords(new.get("keywords"))?;
        // RFC 8621 §4.1.1/§2: moves into/out of Junk and $junk/$notjunk teach the junk filter.
        if self.trains
            && let Some(old) = w.find_email(cx.account, n)?
        {
            crate::junk::training::on_email_update(w, cx.account, n, &old, &mbs, &kws)?;
        }
        w.update_email(cx.account, n, Some(mbs), Some(kws))?;
        Ok(None)
    }

    fn destroy(&self, w: &mut Writer<'_>, cx: &mut SetCx, id: &str) -> Result<(), SetError> {
        let n = IdKind::Email.decode(id).ok_or_else(SetError::not_found)?;
        if w.find_email(cx.account, n)?.is_none() {
            return Err(SetError::not_found());
        }
        w.destroy_email(cx.account, n)?;
        Ok(())
    }
}

/// Builds every create's message before the transaction (reading attachment blobs) and marks
/// each create object with its index.
async fn prepare_creates(
    ctx: &Ctx<'_>,
    acct: u32,
    a: &mut Args,
) -> Result<Vec<Result<(Prepared, i64), SetError>>, MethodError> {
    let mut prepared = Vec::new();
    let Some(Value::Object(creates)) = a.get_mut("create") else {
        return Ok(prepared);
    };
    let max = ctx.jmap.limits.max_objects_in_set;
    if creates.len() > max {
        return Err(MethodError::request_too_large(format!(
            "at most {max} objects per /set"
        )));
    }
    for obj in creates.values_mut() {
        let Value::Object(o) = obj else { continue };
        o.remove(PREPARED_KEY);
        let mut blobs = HashMap::new();
        for id in build::blob_ids(o) {
            if let Some(bytes) = blob::download(&ctx.jmap.store, acct, &id).await? {
                blobs.insert(id, bytes);
            }
        }
        let now = crate::date::now();
        let o2 = o.clone();
        let r = crate::pool::unblock(move || {
            build::build(&o2, &blobs, now).map(|raw| (ingest::prepare(raw), now))
        })
        .await;
        o.insert(PREPARED_KEY.into(), json!(prepared.len()));
        prepared.push(r);
    }
    Ok(prepared)
}

pub async fn set(ctx: &mut Ctx<'_>, mut a: Args) -> Result<Value, MethodError> {
    let (acct, access) = ctx.access(&a)?;
    crate::jmap::share_set::translate_if_in_state(ctx, acct, &access, DataType::Email, &mut a)
        .await?;
    let prepared = prepare_creates(ctx, acct, &mut a).await?;
    let handler = EmailSet {
        prepared: Arc::new(prepared),
        trains: matches!(access, crate::jmap::access::Access::Own),
    };
    let out = match access {
        crate::jmap::access::Access::Own => set::set(ctx, a, handler).await?,
        access => {
            let (state, grantee) = (access.clone(), ctx.user.id);
            let mut out = set::set(
                ctx,
                a,
                crate::jmap::share_set::Guarded {
                    inner: handler,
                    access,
                    kind: crate::jmap::share_set::Kind::Email,
                    grantee,
                },
            )
            .await?;
            crate::jmap::share_set::shared_states(&mut out.response, &state);
            out
        }
    };
    Ok(out.response)
}
