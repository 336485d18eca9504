//! Sharing (issue #16): grants of a mailbox, or of a whole account, from an owner to a grantee
//! with [`Rights`]; and the ShareNotification records (RFC 9670 §5) a grant change leaves for
//! the grantee.
//!
//! Layout: `SHARES (owner, mailbox, grantee)` and its mirror `SHARED_WITH (grantee, owner,
//! mailbox)`, written together, so "what did I share" and "what is shared with me" are each one
//! range scan. A grant of the whole account uses mailbox [`WHOLE_ACCOUNT`]. The value carries
//! the owner's modseq at the last change of the grant (the *epoch*): a grantee's state strings
//! in the owner's account are never below it, and `/changes` from an older state is
//! cannotCalculateChanges (what the grantee may see changed, so its copy must be rebuilt).
//! Revoking keeps the row with rights 0 for that reason (one row per pair ever shared).
//!
//! A grant change also logs a Mailbox update in the owner's account (its `shareWith` moved)
//! and wakes the grantee's push connections (`touched`), so unsharing is seen at once.

use super::changes;
use super::read::{Reader, table};
use super::tables::{SHARE_NOTES, SHARED_WITH, SHARES, WHOLE_ACCOUNT, slot};
use super::write::Writer;
use crate::store::error::{Result, StoreError};
use crate::store::mail::rights::Rights;
use crate::store::model::{AccountId, ChangeKind, DataType};
use redb::ReadableTable;
use serde::{Deserialize, Serialize};

/// How many notifications an account keeps; the oldest goes first (RFC 9670 §5.1 allows it).
pub const MAX_NOTES: usize = 200;
/// How many grants one owner may give (a household needs dozens; the bound keeps a loop of
/// Mailbox/set from growing the tables without end).
pub const MAX_GRANTS_PER_OWNER: usize = 1000;

/// One grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub owner: AccountId,
    /// `None`: the whole account.
    pub mailbox: Option<u32>,
    pub grantee: AccountId,
    pub rights: Rights,
    /// The owner's modseq when the grant last changed.
    pub epoch: u64,
}

/// A ShareNotification (RFC 9670 §5) as stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShareNote {
    pub id: u32,
    pub created: i64,
    /// Who made the change (an account; `None`: the administrator from the command line).
    pub changed_by: Option<AccountId>,
    pub object_account: AccountId,
    /// The mailbox; `None` for a grant of the whole account.
    pub object_id: Option<u32>,
    /// The mailbox's (or account's) name at the time.
    pub name: String,
    pub old_rights: u16,
    pub new_rights: u16,
}

fn mb_key(mailbox: Option<u32>) -> u32 {
    mailbox.unwrap_or(WHOLE_ACCOUNT)
}

fn grant(owner: u32, mailbox: u32, grantee: u32, v: (u16, u64)) -> Grant {
    Grant {
        owner,
        mailbox: (mailbox != WHOLE_ACCOUNT).then_some(mailbox),
        grantee,
        rights: Rights(v.0),
        epoch: v.1,
    }
}

/// A row of `SHARES` or `SHARED_WITH` as redb reads it.
type Row<'a> = std::result::Result<
    (
        redb::AccessGuard<'a, (u32, u32, u32)>,
        redb::AccessGuard<'a, (u16, u64)>,
    ),
    redb::StorageError,
>;

/// Which table the rows come from: the key order differs.
#[derive(Clone, Copy)]
enum Keys {
    /// `SHARES`: (owner, mailbox, grantee).
    ByOwner,
    /// `SHARED_WITH`: (grantee, owner, mailbox).
    ByGrantee,
}

/// The live grants among `rows`, and the highest epoch among all of them (revoked ones too).
fn live<'a>(rows: impl Iterator<Item = Row<'a>>, keys: Keys) -> Result<(Vec<Grant>, u64)> {
    let mut out = Vec::new();
    let mut epoch = 0;
    for row in rows {
        let (k, v) = row?;
        let (o, m, g) = match (keys, k.value()) {
            (Keys::ByOwner, (o, m, g)) | (Keys::ByGrantee, (g, o, m)) => (o, m, g),
        };
        let v = v.value();
        epoch = epoch.max(v.1);
        if !Rights(v.0).is_empty() {
            out.push(grant(o, m, g, v));
        }
    }
    Ok((out, epoch))
}

impl Writer<'_> {
    /// Sets (or, with `Rights::NONE`, revokes) a grant; returns the rights it had. No change,
    /// no write. `by` is who did it (for the notification); `name` the object's name.
    pub fn set_share(
        &mut self,
        owner: AccountId,
        mailbox: Option<u32>,
        grantee: AccountId,
        rights: Rights,
        by: Option<AccountId>,
        now: i64,
    ) -> Result<Rights> {
        if owner == grantee {
            return Err(StoreError::Invalid(
                "an account cannot be shared with its owner".into(),
            ));
        }
        if self.accounts.get(owner)?.is_none() || self.accounts.get(grantee)?.is_none() {
            return Err(StoreError::NotFound);
        }
        let name = match mailbox {
            Some(m) => match self.mailboxes.get((owner, m))? {
                Some(v) => serde_json::from_slice::<crate::store::model::Mailbox>(v.value())?.name,
                None => return Err(StoreError::NotFound),
            },
            None => match self.accounts.get(owner)? {
                Some(v) => serde_json::from_slice::<crate::store::model::Account>(v.value())?.name,
                None => return Err(StoreError::NotFound),
            },
        };
        let key = (owner, mb_key(mailbox), grantee);
        let shares = self.tx.open_table(SHARES)?;
        let old = shares
            .get(key)?
            .map(|v| Rights(v.value().0))
            .unwrap_or_default();
        if old == rights {
            return Ok(old);
        }
        if old.is_empty() {
            let mut n = 0;
            for row in shares.range((owner, 0, 0)..=(owner, u32::MAX, u32::MAX))? {
                if Rights(row?.1.value().0).is_empty() {
                    continue;
                }
                n += 1;
            }
            if n >= MAX_GRANTS_PER_OWNER {
                return Err(StoreError::Invalid(format!(
                    "an account may give at most {MAX_GRANTS_PER_OWNER} grants"
                )));
            }
        }
        drop(shares);
        // The epoch: a fresh modseq of the owner. A mailbox grant is a change of the
        // mailbox's shareWith (RFC 9670 §3), logged as such.
        let epoch = match mailbox {
            Some(m) => self.log(owner, DataType::Mailbox, m, ChangeKind::Updated)?,
            None => {
                let m = changes::counter(&self.counters, owner, slot::MODSEQ)? + 1;
                self.counters.insert((owner, slot::MODSEQ), m)?;
                m
            }
        };
        let v = (rights.0, epoch);
        self.tx.open_table(SHARES)?.insert(key, v)?;
        self.tx
            .open_table(SHARED_WITH)?
            .insert((grantee, owner, mb_key(mailbox)), v)?;
        // Wakes the grantee's push connections (no changelog row in its own account).
        self.touched.insert((grantee, DataType::Mailbox));
        self.add_share_note(
            grantee,
            ShareNote {
                id: 0,
                created: now,
                changed_by: by,
                object_account: owner,
                object_id: mailbox,
                name,
                old_rights: old.0,
                new_rights: rights.0,
            },
        )?;
        Ok(old)
    }

    fn add_share_note(&mut self, acct: AccountId, mut note: ShareNote) -> Result<()> {
        let mut t = self.tx.open_table(SHARE_NOTES)?;
        let ids: Vec<u32> = t
            .range((acct, 0)..=(acct, u32::MAX))?
            .map(|r| r.map(|(k, _)| k.value().1))
            .collect::<std::result::Result<_, _>>()?;
        let over = (ids.len() + 1).saturating_sub(MAX_NOTES);
        let dropped: Vec<u32> = ids.into_iter().take(over).collect();
        for id in &dropped {
            t.remove((acct, *id))?;
        }
        drop(t);
        for id in dropped {
            self.log(acct, DataType::ShareNotification, id, ChangeKind::Destroyed)?;
        }
        note.id = self.next_id(acct, slot::NEXT_SHARE_NOTE)?;
        let bytes = serde_json::to_vec(&note)?;
        self.tx
            .open_table(SHARE_NOTES)?
            .insert((acct, note.id), bytes.as_slice())?;
        self.log(
            acct,
            DataType::ShareNotification,
            note.id,
            ChangeKind::Created,
        )?;
        Ok(())
    }

    /// Destroys one notification; false if there was none.
    pub fn remove_share_note(&mut self, acct: AccountId, id: u32) -> Result<bool> {
        let gone = self
            .tx
            .open_table(SHARE_NOTES)?
            .remove((acct, id))?
            .is_some();
        if gone {
            self.log(acct, DataType::ShareNotification, id, ChangeKind::Destroyed)?;
        }
        Ok(gone)
    }

    /// Drops every grant of a destroyed mailbox.
    pub fn forget_mailbox_shares(&mut self, owner: AccountId, mailbox: u32) -> Result<()> {
        let mut shares = self.tx.open_table(SHARES)?;
        let grantees: Vec<u32> = shares
            .range((owner, mailbox, 0)..=(owner, mailbox, u32::MAX))?
            .map(|r| r.map(|(k, _)| k.value().2))
            .collect::<std::result::Result<_, _>>()?;
        for g in &grantees {
            shares.remove((owner, mailbox, *g))?;
        }
        drop(shares);
        let mut with = self.tx.open_table(SHARED_WITH)?;
        for g in grantees {
            with.remove((g, owner, mailbox))?;
            self.touched.insert((g, DataType::Mailbox));
        }
        Ok(())
    }

    /// Drops every grant to or from a deleted account, and its notifications.
    pub fn forget_shares(&mut self, acct: AccountId) -> Result<()> {
        let mut shares = self.tx.open_table(SHARES)?;
        shares.retain(|k, _| k.0 != acct && k.2 != acct)?;
        drop(shares);
        let mut with = self.tx.open_table(SHARED_WITH)?;
        with.retain(|k, _| k.0 != acct && k.1 != acct)?;
        drop(with);
        let mut notes = self.tx.open_table(SHARE_NOTES)?;
        notes.retain_in((acct, 0)..=(acct, u32::MAX), |_, _| false)?;
        Ok(())
    }
}

impl Reader {
    /// Live grants to `grantee`, by owner.
    pub fn shared_with(&self, grantee: AccountId) -> Result<Vec<Grant>> {
        let Some(t) = table!(self, SHARED_WITH) else {
            return Ok(Vec::new());
        };
        let rows = t.range((grantee, 0, 0)..=(grantee, u32::MAX, u32::MAX))?;
        Ok(live(rows, Keys::ByGrantee)?.0)
    }

    /// The grants from `owner` to `grantee` (live ones) and the highest epoch among every
    /// grant the pair ever had (revoked ones too); `(vec![], 0)` if never shared.
    pub fn grants_between(
        &self,
        owner: AccountId,
        grantee: AccountId,
    ) -> Result<(Vec<Grant>, u64)> {
        let Some(t) = table!(self, SHARED_WITH) else {
            return Ok((Vec::new(), 0));
        };
        live(
            t.range((grantee, owner, 0)..=(grantee, owner, u32::MAX))?,
            Keys::ByGrantee,
        )
    }

    /// Live grants given by `owner`.
    pub fn shares_of(&self, owner: AccountId) -> Result<Vec<Grant>> {
        let Some(t) = table!(self, SHARES) else {
            return Ok(Vec::new());
        };
        let rows = t.range((owner, 0, 0)..=(owner, u32::MAX, u32::MAX))?;
        Ok(live(rows, Keys::ByOwner)?.0)
    }

    /// Every live grant on the server (the admin page and `mailnook share list`).
    pub fn all_shares(&self) -> Result<Vec<Grant>> {
        let Some(t) = table!(self, SHARES) else {
            return Ok(Vec::new());
        };
        Ok(live(t.iter()?, Keys::ByOwner)?.0)
    }

    /// The account's share notifications, oldest first.
    pub fn share_notes(&self, acct: AccountId) -> Result<Vec<ShareNote>> {
        let Some(t) = table!(self, SHARE_NOTES) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in t.range((acct, 0)..=(acct, u32::MAX))? {
            out.push(serde_json::from_slice(row?.1.value())?);
        }
        Ok(out)
    }
}

impl Writer<'_> {
    /// The live grants of one mailbox (Mailbox/set reads `shareWith` with it).
    pub fn mailbox_grants(&self, owner: AccountId, mailbox: u32) -> Result<Vec<Grant>> {
        let t = self.tx.open_table(SHARES)?;
        let rows = t.range((owner, mailbox, 0)..=(owner, mailbox, u32::MAX))?;
        Ok(live(rows, Keys::ByOwner)?.0)
    }

    /// Whether an account exists (a `shareWith` principal).
    pub fn account_exists(&self, acct: AccountId) -> Result<bool> {
        Ok(self.accounts.get(acct)?.is_some())
    }
}
