//! Who may do what in which account (issue #16, sharing). `Ctx::account` used to map
//! `accountId` to the user's own account or accountNotFound; it still is the gate every method
//! passes, and this module decides what it lets through:
//!
//! - the user's own account: everything ([`Access::Own`]);
//! - an account someone shared with the user: [`Access::Shared`], the grants of the whole
//!   account (a shared account such as family@) and of single mailboxes, with their rights.
//!
//! [`admit`] runs before every method call (one line in `dispatch.rs`). A member holding every
//! right on the whole account uses the account as if it were their own (every method, Identity
//! and EmailSubmission included: sending from family@). Anyone else reaches only the methods in
//! [`SHARE_AWARE`], which read [`Ctx::view`] and show or change only what the rights allow; all
//! other methods answer accountNotFound, as before sharing existed. So a method that has not
//! been taught about sharing is closed, never open.
//!
//! What a grantee sees (docs/ARCHITECTURE.md "Sharing"): the mailboxes with any right; the
//! messages in mailboxes with mayReadItems (and only those mailbox ids in `mailboxIds`); a
//! thread as its visible members; blobs of visible messages. State strings in the shared
//! account are never below the grant's epoch (the owner's modseq when the grants last changed),
//! and `/changes` from an older state is cannotCalculateChanges.

use super::Ctx;
use super::args::Args;
use super::error::MethodError;
use crate::store::mail::rights::Rights;
use crate::store::model::{AccountId, EmailState, IdKind};
use crate::store::{Reader, Result as StoreResult};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Methods that apply [`Access::Shared`] themselves (everything else needs full access).
pub const SHARE_AWARE: [&str; 16] = [
    "Mailbox/get",
    "Mailbox/changes",
    "Mailbox/query",
    "Mailbox/queryChanges",
    "Mailbox/set",
    "Email/get",
    "Email/changes",
    "Email/query",
    "Email/queryChanges",
    "Email/set",
    "Email/copy",
    "Email/import",
    "Thread/get",
    "Thread/changes",
    "SearchSnippet/get",
    "Blob/copy",
];

/// What the user may do in one account.
#[derive(Debug, Clone, PartialEq)]
pub enum Access {
    Own,
    Shared(Shared),
}

/// The grants of one owner to the user.
#[derive(Debug, Clone, PartialEq)]
pub struct Shared {
    pub owner: AccountId,
    /// Rights on every mailbox (a grant of the whole account); NONE if there is none.
    pub whole: Rights,
    /// Rights per mailbox.
    pub mailboxes: BTreeMap<u32, Rights>,
    /// The owner's modseq when the grants last changed.
    pub epoch: u64,
}

impl Access {
    /// The user's rights on one mailbox (RFC 8621 `myRights`).
    pub fn rights(&self, mailbox: u32) -> Rights {
        match self {
            Access::Own => Rights::ALL,
            Access::Shared(s) => s
                .whole
                .union(s.mailboxes.get(&mailbox).copied().unwrap_or_default()),
        }
    }

    /// The mailbox is listed (any right at all).
    pub fn sees_mailbox(&self, mailbox: u32) -> bool {
        !self.rights(mailbox).is_empty()
    }

    /// The message is readable: one of its mailboxes grants mayReadItems.
    pub fn reads(&self, st: &EmailState) -> bool {
        match self {
            Access::Own => true,
            _ => st
                .mailbox_ids
                .iter()
                .any(|m| self.rights(*m).has(Rights::READ)),
        }
    }

    /// Every right on every mailbox: the account works as the user's own.
    pub fn full(&self) -> bool {
        match self {
            Access::Own => true,
            Access::Shared(s) => s.whole == Rights::ALL,
        }
    }

    /// Every mailbox is readable (no filtering of messages needed).
    pub fn reads_all(&self) -> bool {
        match self {
            Access::Own => true,
            Access::Shared(s) => s.whole.has(Rights::READ),
        }
    }

    /// The union of all rights the user holds in the account (session `isReadOnly`,
    /// account capabilities).
    pub fn any_rights(&self) -> Rights {
        match self {
            Access::Own => Rights::ALL,
            Access::Shared(s) => s.mailboxes.values().fold(s.whole, |a, r| a.union(*r)),
        }
    }

    /// Mailboxes whose messages are readable, when not all are.
    pub fn readable_mailboxes(&self) -> Option<Vec<u32>> {
        match self {
            _ if self.reads_all() => None,
            Access::Own => None,
            Access::Shared(s) => Some(
                s.mailboxes
                    .iter()
                    .filter(|(_, r)| r.has(Rights::READ))
                    .map(|(m, _)| *m)
                    .collect(),
            ),
        }
    }

    /// A state string's modseq as this user sees it: never below the grant's epoch.
    pub fn state(&self, s: u64) -> u64 {
        match self {
            Access::Own => s,
            Access::Shared(sh) => s.max(sh.epoch),
        }
    }

    /// A `/changes` from `since` can be answered (the grants did not change after it).
    pub fn since_ok(&self, since: u64) -> bool {
        match self {
            Access::Own => true,
            Access::Shared(s) => since >= s.epoch,
        }
    }
}

/// What `user` may do in `acct`; `None` when nothing is shared (accountNotFound).
pub fn load(r: &Reader, user: AccountId, acct: AccountId) -> StoreResult<Option<Access>> {
    if user == acct {
        return Ok(Some(Access::Own));
    }
    let (grants, epoch) = r.grants_between(acct, user)?;
    if grants.is_empty() {
        return Ok(None);
    }
    let mut s = Shared {
        owner: acct,
        whole: Rights::NONE,
        mailboxes: BTreeMap::new(),
        epoch,
    };
    for g in grants {
        match g.mailbox {
            None => s.whole = s.whole.union(g.rights),
            Some(m) => {
                s.mailboxes.insert(m, g.rights);
            }
        }
    }
    Ok(Some(Access::Shared(s)))
}

/// The accounts shared with `user`, with what it may do in each, by owner.
pub fn shared_accounts(r: &Reader, user: AccountId) -> StoreResult<Vec<(AccountId, Access)>> {
    let mut owners: Vec<AccountId> = r.shared_with(user)?.iter().map(|g| g.owner).collect();
    owners.dedup();
    let mut out = Vec::with_capacity(owners.len());
    for o in owners {
        if let Some(a) = load(r, user, o)? {
            out.push((o, a));
        }
    }
    Ok(out)
}

/// Whether the blob `hash` is readable through `access` in `acct`: the user's own reference,
/// or the message blob of a readable message (a body part names its message's hash).
pub fn blob_readable(
    r: &Reader,
    acct: AccountId,
    access: &Access,
    hash: &str,
) -> StoreResult<bool> {
    if access.reads_all() {
        return Ok(true);
    }
    let Some(mailboxes) = access.readable_mailboxes() else {
        return Ok(true);
    };
    for m in mailboxes {
        for (_, id) in r.mailbox_emails(acct, m)? {
            if let Some(st) = r.email_state(acct, id)?
                && st.blob == hash
            {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Runs before every method: lets a call into a shared account through when the user may use
/// it (see the module header). An absent `accountId` is the user's own account.
pub async fn admit(ctx: &mut Ctx<'_>, name: &str, a: &Args) -> Result<(), MethodError> {
    let Some(id) = a.get("accountId").and_then(|v| v.as_str()) else {
        return Ok(());
    };
    let Some(acct) = IdKind::Account.decode(id) else {
        return Ok(());
    };
    if acct == ctx.user.id {
        return Ok(());
    }
    let user = ctx.user.id;
    let access = ctx.jmap.store.read(move |r| load(r, user, acct)).await?;
    let Some(access) = access else {
        return Ok(()); // Ctx::account answers accountNotFound
    };
    if access.full() || SHARE_AWARE.contains(&name) {
        ctx.shared = Some((acct, Arc::new(access)));
    }
    Ok(())
}

impl Ctx<'_> {
    /// What the user may do in `acct` (which `Ctx::account` returned).
    pub fn view(&self, acct: AccountId) -> Access {
        match &self.shared {
            Some((a, access)) if *a == acct => (**access).clone(),
            _ => Access::Own,
        }
    }

    /// `Ctx::account` plus what the user may do there.
    pub fn access(&self, a: &Args) -> Result<(AccountId, Access), MethodError> {
        let acct = self.account(a)?;
        Ok((acct, self.view(acct)))
    }
}

impl Access {
    /// The mailboxes the user sees, with a parent it does not see hidden (`parentId` null: the
    /// shared mailbox shows as a top-level one, as Cyrus and Stalwart show them).
    pub fn visible_mailboxes(
        &self,
        all: Vec<crate::store::model::Mailbox>,
    ) -> Vec<crate::store::model::Mailbox> {
        if matches!(self, Access::Own) {
            return all;
        }
        let mut out: Vec<_> = all
            .into_iter()
            .filter(|m| self.sees_mailbox(m.id))
            .collect();
        let seen: std::collections::HashSet<u32> = out.iter().map(|m| m.id).collect();
        for m in &mut out {
            if m.parent_id.is_some_and(|p| !seen.contains(&p)) {
                m.parent_id = None;
            }
        }
        out
    }

    /// cannotCalculateChanges for a state from before the grants last changed.
    pub fn check_since(&self, since: u64) -> Result<(), MethodError> {
        if self.since_ok(since) {
            Ok(())
        } else {
            Err(MethodError::cannot_calculate_changes())
        }
    }
}

/// A `/changes` answer as a grantee sees it: an updated object it cannot see is reported
/// destroyed (it may have been visible before: moved out of a shared mailbox), which RFC 8620
/// §5.2 allows for ids the client never knew; a created one it cannot see is left out.
pub async fn filter_changes(
    ctx: &Ctx<'_>,
    acct: AccountId,
    access: &Access,
    ty: crate::store::model::DataType,
    mut set: crate::store::model::ChangeSet,
) -> Result<crate::store::model::ChangeSet, MethodError> {
    use crate::store::model::DataType;
    if matches!(access, Access::Own) {
        return Ok(set);
    }
    set.new_modseq = access.state(set.new_modseq);
    let visible: Vec<bool> = match ty {
        DataType::Mailbox => set
            .created
            .iter()
            .chain(&set.updated)
            .map(|m| access.sees_mailbox(*m))
            .collect(),
        DataType::Email if !access.reads_all() => {
            let ids: Vec<u32> = set.created.iter().chain(&set.updated).copied().collect();
            let a2 = access.clone();
            ctx.jmap
                .store
                .read(move |r| {
                    let mut v = Vec::with_capacity(ids.len());
                    for id in ids {
                        v.push(r.email_state(acct, id)?.is_some_and(|st| a2.reads(&st)));
                    }
                    Ok(v)
                })
                .await?
        }
        _ => return Ok(set),
    };
    let n = set.created.len();
    // Created since the client's state and not visible: the client cannot hold it, so it is
    // left out (new private mail does not even show up as an id). Updated and not visible: it
    // may have been visible before (moved out of a shared mailbox), so it is destroyed.
    let created: Vec<u32> = set
        .created
        .iter()
        .zip(&visible[..n])
        .filter(|(_, ok)| **ok)
        .map(|(id, _)| *id)
        .collect();
    let mut updated = Vec::new();
    for (id, ok) in set.updated.iter().zip(&visible[n..]) {
        if *ok {
            updated.push(*id);
        } else {
            set.destroyed.push(*id);
        }
    }
    set.created = created;
    set.updated = updated;
    Ok(set)
}

/// What the user may do in `acct` (any account, not only the call's `accountId`): the source
/// account of Email/copy and Blob/copy. `None`: nothing is shared (fromAccountNotFound).
pub async fn load_for(ctx: &Ctx<'_>, acct: AccountId) -> Result<Option<Access>, MethodError> {
    let user = ctx.user.id;
    if user == acct {
        return Ok(Some(Access::Own));
    }
    Ok(ctx.jmap.store.read(move |r| load(r, user, acct)).await?)
}

/// Whether `user` may upload into `acct` (RFC 8620 §6.1): its own account, or one where it may
/// add messages somewhere (an upload is only useful to an Email/set or import that needs
/// mayAddItems anyway).
pub async fn may_upload(jmap: &super::Jmap, user: AccountId, acct: AccountId) -> bool {
    if user == acct {
        return true;
    }
    jmap.store
        .read(move |r| load(r, user, acct))
        .await
        .ok()
        .flatten()
        .is_some_and(|a| a.any_rights().has(Rights::ADD))
}
