//! Rights on writes in a shared account (issue #16): Email/set and Mailbox/set run their own
//! handlers wrapped in [`Guarded`], which checks RFC 8621 `myRights` before the handler may
//! touch anything and answers `forbidden` (RFC 8620 §5.3) otherwise. The checks run inside the
//! write transaction with the grants read at the start of the call; a grant revoked meanwhile
//! is seen by the next request.
//!
//! - Email: create needs mayAddItems on every mailbox (and maySetSeen / maySetKeywords for
//!   the keywords it starts with); adding to a mailbox mayAddItems there, removing
//!   mayRemoveItems; `$seen` maySetSeen and other keywords maySetKeywords on every mailbox the
//!   message is in (RFC 8621 §2 "for all of the Mailboxes"); destroy mayRemoveItems on all.
//!   A message the grantee cannot read is notFound.
//! - Mailbox: create needs mayCreateChild on the parent (top level: on the whole account);
//!   the new child inherits the creator's grant of its parent, so it can see what it made;
//!   any change of name, parent, order or subscription mayRename; destroy mayDelete (and
//!   mayRemoveItems with onDestroyRemoveEmails). A mailbox not shared is notFound.

use super::access::Access;
use super::error::SetError;
use super::set::{Created, Obj, SetCx, SetHandler};
use crate::store::Writer;
use crate::store::mail::rights::Rights;
use crate::store::model::{AccountId, DataType, IdKind};
use serde_json::Value;
use std::collections::BTreeSet;

#[derive(Clone, Copy, PartialEq)]
pub enum Kind {
    Email,
    Mailbox,
}

pub struct Guarded<H> {
    pub inner: H,
    pub access: Access,
    pub kind: Kind,
    /// The user (a new child mailbox is shared with it).
    pub grantee: AccountId,
}

fn forbidden(what: &str) -> SetError {
    SetError::new("forbidden", format!("the share does not allow {what}"))
}

/// The mailbox ids named by keys of a `mailboxIds` value (creation ids resolved).
fn mailbox_keys(cx: &SetCx, v: Option<&Value>) -> BTreeSet<u32> {
    let mut out = BTreeSet::new();
    if let Some(Value::Object(m)) = v {
        for (k, on) in m {
            if on == &Value::Bool(true)
                && let Some(id) = cx.resolve(k)
                && let Some(n) = IdKind::Mailbox.decode(&id)
            {
                out.insert(n);
            }
        }
    }
    out
}

fn keywords(v: Option<&Value>) -> BTreeSet<String> {
    match v {
        Some(Value::Object(m)) => m
            .iter()
            .filter(|(_, on)| **on == Value::Bool(true))
            .map(|(k, _)| k.to_ascii_lowercase())
            .collect(),
        _ => BTreeSet::new(),
    }
}

impl<H> Guarded<H> {
    fn on_all(&self, mailboxes: &BTreeSet<u32>, r: Rights) -> bool {
        mailboxes.iter().all(|m| self.access.rights(*m).has(r))
    }

    /// The rights a change of keywords needs, on every mailbox of the message.
    fn keyword_rights(
        &self,
        changed: &BTreeSet<String>,
        on: &BTreeSet<u32>,
    ) -> Result<(), SetError> {
        if changed.contains("$seen") && !self.on_all(on, Rights::SEEN) {
            return Err(forbidden("changing $seen (maySetSeen)"));
        }
        if changed.iter().any(|k| k != "$seen") && !self.on_all(on, Rights::KEYWORDS) {
            return Err(forbidden("changing keywords (maySetKeywords)"));
        }
        Ok(())
    }
}

impl<H: SetHandler> SetHandler for Guarded<H> {
    fn data_type(&self) -> Option<DataType> {
        self.inner.data_type()
    }
    fn extra_args(&self) -> &'static [&'static str] {
        self.inner.extra_args()
    }

    fn create(&self, w: &mut Writer<'_>, cx: &mut SetCx, obj: Obj) -> Result<Created, SetError> {
        match self.kind {
            Kind::Email => {
                let mbs = mailbox_keys(cx, obj.get("mailboxIds"));
                if mbs.is_empty() || !self.on_all(&mbs, Rights::ADD) {
                    return Err(forbidden(
                        "adding messages to these mailboxes (mayAddItems)",
                    ));
                }
                self.keyword_rights(&keywords(obj.get("keywords")), &mbs)?;
                self.inner.create(w, cx, obj)
            }
            Kind::Mailbox => {
                let parent = match obj.get("parentId") {
                    Some(Value::String(p)) => {
                        cx.resolve(p).and_then(|p| IdKind::Mailbox.decode(&p))
                    }
                    _ => None,
                };
                let may = match (&self.access, parent) {
                    (_, Some(p)) => self.access.rights(p),
                    (Access::Shared(s), None) => s.whole,
                    (Access::Own, None) => Rights::ALL,
                };
                if !may.has(Rights::CREATE_CHILD) {
                    return Err(forbidden("creating a mailbox here (mayCreateChild)"));
                }
                let c = self.inner.create(w, cx, obj)?;
                // The child inherits the creator's grant of its parent (not needed when the
                // whole account is shared: the grant covers it already).
                if let (Access::Shared(s), Some(p)) = (&self.access, parent)
                    && let Some(r) = s.mailboxes.get(&p)
                    && let Some(id) = IdKind::Mailbox.decode(&c.id)
                {
                    w.set_share(
                        cx.account,
                        Some(id),
                        self.grantee,
                        *r,
                        Some(self.grantee),
                        cx.now,
                    )?;
                }
                Ok(c)
            }
        }
    }

    fn load(&self, w: &mut Writer<'_>, cx: &SetCx, id: &str) -> Result<Option<Obj>, SetError> {
        let Some(o) = self.inner.load(w, cx, id)? else {
            return Ok(None);
        };
        let visible = match self.kind {
            Kind::Email => mailbox_keys(cx, o.get("mailboxIds"))
                .iter()
                .any(|m| self.access.rights(*m).has(Rights::READ)),
            Kind::Mailbox => IdKind::Mailbox
                .decode(id)
                .is_some_and(|m| self.access.sees_mailbox(m)),
        };
        Ok(visible.then_some(o))
    }

    fn update(
        &self,
        w: &mut Writer<'_>,
        cx: &mut SetCx,
        id: &str,
        old: &Obj,
        new: Obj,
    ) -> Result<Option<Obj>, SetError> {
        match self.kind {
            Kind::Email => {
                let before = mailbox_keys(cx, old.get("mailboxIds"));
                let after = mailbox_keys(cx, new.get("mailboxIds"));
                let added: BTreeSet<u32> = after.difference(&before).copied().collect();
                let removed: BTreeSet<u32> = before.difference(&after).copied().collect();
                if !self.on_all(&added, Rights::ADD) {
                    return Err(forbidden("adding messages to that mailbox (mayAddItems)"));
                }
                if !self.on_all(&removed, Rights::REMOVE) {
                    return Err(forbidden(
                        "removing messages from that mailbox (mayRemoveItems)",
                    ));
                }
                let (k0, k1) = (keywords(old.get("keywords")), keywords(new.get("keywords")));
                let changed: BTreeSet<String> = k0.symmetric_difference(&k1).cloned().collect();
                self.keyword_rights(&changed, &before)?;
            }
            Kind::Mailbox => {
                let m = IdKind::Mailbox.decode(id).ok_or_else(SetError::not_found)?;
                let touched = ["name", "parentId", "sortOrder", "isSubscribed", "role"]
                    .iter()
                    .any(|p| old.get(*p) != new.get(*p));
                if touched && !self.access.rights(m).has(Rights::RENAME) {
                    return Err(forbidden("renaming or moving this mailbox (mayRename)"));
                }
            }
        }
        self.inner.update(w, cx, id, old, new)
    }

    fn destroy(&self, w: &mut Writer<'_>, cx: &mut SetCx, id: &str) -> Result<(), SetError> {
        let Some(o) = self.load(w, cx, id)? else {
            return Err(SetError::not_found());
        };
        match self.kind {
            Kind::Email => {
                if !self.on_all(&mailbox_keys(cx, o.get("mailboxIds")), Rights::REMOVE) {
                    return Err(forbidden("destroying this message (mayRemoveItems)"));
                }
            }
            Kind::Mailbox => {
                let m = IdKind::Mailbox.decode(id).ok_or_else(SetError::not_found)?;
                let r = self.access.rights(m);
                if !r.has(Rights::DELETE) {
                    return Err(forbidden("destroying this mailbox (mayDelete)"));
                }
                if cx.bool_arg("onDestroyRemoveEmails") && !r.has(Rights::REMOVE) {
                    return Err(forbidden("removing its messages (mayRemoveItems)"));
                }
            }
        }
        self.inner.destroy(w, cx, id)
    }
}

/// oldState/newState of a /set as the grantee sees them (never below the grant's epoch).
pub fn shared_states(response: &mut Value, access: &Access) {
    for k in ["oldState", "newState"] {
        if let Some(s) = response
            .get(k)
            .and_then(Value::as_str)
            .and_then(super::parse_state)
        {
            response[k] = Value::String(super::state_string(access.state(s)));
        }
    }
}

/// Mailbox/set: the owner's handler with `shareWith`, guarded in a shared account.
pub async fn mailbox_set(
    ctx: &mut super::Ctx<'_>,
    mut a: super::args::Args,
) -> Result<Value, super::error::MethodError> {
    let (acct, access) = ctx.access(&a)?;
    translate_if_in_state(ctx, acct, &access, DataType::Mailbox, &mut a).await?;
    let handler = ShareWith {
        inner: super::mailbox::set::MailboxSet,
        may_share: access.full(),
        by: ctx.user.id,
    };
    match access {
        Access::Own => Ok(super::set::set(ctx, a, handler).await?.response),
        access => {
            let (state, grantee) = (access.clone(), ctx.user.id);
            let mut out = super::set::set(
                ctx,
                a,
                Guarded {
                    inner: handler,
                    access,
                    kind: Kind::Mailbox,
                    grantee,
                },
            )
            .await?;
            shared_states(&mut out.response, &state);
            Ok(out.response)
        }
    }
}

/// `shareWith` on Mailbox (RFC 9670 §3): a map of principal id (the grantee's account id) to
/// a `myRights`-shaped rights object, or null. Read and written by the owner only (and a full
/// member, who acts as the owner); a grantee changing it gets `forbidden`. Every grant it adds,
/// changes or removes goes through `Writer::set_share` (which leaves the ShareNotification).
pub struct ShareWith<H> {
    pub inner: H,
    /// The caller may change sharing (own account or full member).
    pub may_share: bool,
    /// Who is changing it (`changedBy` of the notifications).
    pub by: AccountId,
}

/// The current `shareWith` of a mailbox as JSON (null when not shared).
pub fn share_with_json(grants: &[crate::store::Grant]) -> Value {
    if grants.is_empty() {
        return Value::Null;
    }
    let mut m = serde_json::Map::new();
    for g in grants {
        m.insert(
            IdKind::Account.encode(g.grantee),
            serde_json::json!(g.rights.to_map()),
        );
    }
    Value::Object(m)
}

fn parse_share_with(v: &Value) -> Result<Vec<(AccountId, Rights)>, SetError> {
    let bad = |d: String| SetError::invalid_properties(&["shareWith"], d);
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Object(m) => {
            if m.len() > crate::store::MAX_GRANTS_PER_OWNER {
                return Err(bad("too many principals".into()));
            }
            let mut out = Vec::with_capacity(m.len());
            for (k, r) in m {
                let acct = IdKind::Account
                    .decode(k)
                    .ok_or_else(|| bad(format!("unknown principal {k}")))?;
                let Value::Object(r) = r else {
                    return Err(bad(format!("the rights of {k} must be an object")));
                };
                out.push((acct, Rights::from_map(r).map_err(bad)?));
            }
            Ok(out)
        }
        _ => Err(bad("shareWith must be an object or null".into())),
    }
}

impl<H> ShareWith<H> {
    fn apply(
        &self,
        w: &mut Writer<'_>,
        cx: &SetCx,
        mailbox: u32,
        want: &Value,
    ) -> Result<(), SetError> {
        if !self.may_share {
            return Err(forbidden(
                "changing who it is shared with (only the owner may)",
            ));
        }
        let want = parse_share_with(want)?;
        for (acct, _) in &want {
            if *acct == cx.account || !w.account_exists(*acct)? {
                return Err(SetError::invalid_properties(
                    &["shareWith"],
                    format!(
                        "{} is not a principal it can be shared with",
                        IdKind::Account.encode(*acct)
                    ),
                ));
            }
        }
        let current = w.mailbox_grants(cx.account, mailbox)?;
        for g in &current {
            if !want.iter().any(|(a, _)| *a == g.grantee) {
                w.set_share(
                    cx.account,
                    Some(mailbox),
                    g.grantee,
                    Rights::NONE,
                    Some(self.by),
                    cx.now,
                )?;
            }
        }
        for (acct, r) in want {
            w.set_share(cx.account, Some(mailbox), acct, r, Some(self.by), cx.now)?;
        }
        Ok(())
    }
}

impl<H: SetHandler> SetHandler for ShareWith<H> {
    fn data_type(&self) -> Option<DataType> {
        self.inner.data_type()
    }
    fn extra_args(&self) -> &'static [&'static str] {
        self.inner.extra_args()
    }

    fn create(
        &self,
        w: &mut Writer<'_>,
        cx: &mut SetCx,
        mut obj: Obj,
    ) -> Result<Created, SetError> {
        let share = obj.remove("shareWith");
        if let Some(v) = &share {
            // Checked before anything is written (the object is atomic, RFC 8620 §5.3).
            if !self.may_share && !v.is_null() {
                return Err(forbidden("sharing (only the owner may)"));
            }
            parse_share_with(v)?;
        }
        let c = self.inner.create(w, cx, obj)?;
        if let (Some(v), Some(id)) = (share, IdKind::Mailbox.decode(&c.id))
            && !v.is_null()
        {
            self.apply(w, cx, id, &v)?;
        }
        Ok(c)
    }

    fn load(&self, w: &mut Writer<'_>, cx: &SetCx, id: &str) -> Result<Option<Obj>, SetError> {
        let Some(mut o) = self.inner.load(w, cx, id)? else {
            return Ok(None);
        };
        let grants = match IdKind::Mailbox.decode(id) {
            Some(m) => w.mailbox_grants(cx.account, m)?,
            None => Vec::new(),
        };
        o.insert("shareWith".into(), share_with_json(&grants));
        Ok(Some(o))
    }

    fn update(
        &self,
        w: &mut Writer<'_>,
        cx: &mut SetCx,
        id: &str,
        old: &Obj,
        mut new: Obj,
    ) -> Result<Option<Obj>, SetError> {
        let mut old = old.clone();
        let before = old.remove("shareWith").unwrap_or(Value::Null);
        let after = new.remove("shareWith").unwrap_or(Value::Null);
        let changed = before != after;
        if changed {
            if !self.may_share {
                return Err(forbidden(
                    "changing who it is shared with (only the owner may)",
                ));
            }
            parse_share_with(&after)?;
        }
        let out = self.inner.update(w, cx, id, &old, new)?;
        if changed {
            let m = IdKind::Mailbox.decode(id).ok_or_else(SetError::not_found)?;
            self.apply(w, cx, m, &after)?;
        }
        Ok(out)
    }

    fn destroy(&self, w: &mut Writer<'_>, cx: &mut SetCx, id: &str) -> Result<(), SetError> {
        self.inner.destroy(w, cx, id)
    }
}

/// `ifInState` of a grantee's /set names the state it was shown (`Access::state`: never below
/// the grant's epoch); the /set machinery compares with the stored state. When the given state
/// is what the grantee is shown for the current stored state, it is replaced by that stored
/// state, so the comparison inside the write transaction still catches any change made since.
pub async fn translate_if_in_state(
    ctx: &super::Ctx<'_>,
    acct: AccountId,
    access: &Access,
    ty: DataType,
    a: &mut super::args::Args,
) -> Result<(), super::error::MethodError> {
    if matches!(access, Access::Own) {
        return Ok(());
    }
    let Some(given) = a
        .get("ifInState")
        .and_then(Value::as_str)
        .and_then(super::parse_state)
    else {
        return Ok(());
    };
    let raw = ctx.jmap.store.read(move |r| r.state(acct, ty)).await?;
    if access.state(raw) == given {
        a.insert("ifInState".into(), Value::String(super::state_string(raw)));
    }
    Ok(())
}
