//! Push for shared accounts (issue #16): what one push connection of a grantee watches besides
//! its own account. At every wake-up the grants are read again, so a newly shared account is
//! announced (all its states) and an unshared one falls silent at once: no StateChange of an
//! account the user can no longer reach is ever sent. A grant change wakes the grantee's
//! connections (the store marks its own account touched, `store/redb/shares.rs`).
//!
//! States are the ones the grantee's methods report (never below the grant's epoch,
//! `access.rs`). A partial grantee hears of Mailbox, Email, Thread and EmailDelivery only; a
//! full member of every type it asked for. `Last-Event-ID` replays the user's own account;
//! a reconnecting client learns the shared accounts' states from the first event.

use super::Jmap;
use super::access::{self, Access};
use crate::store::model::{AccountId, DataType};
use std::collections::BTreeMap;

/// The types a grantee without full access hears of.
const PARTIAL: [DataType; 4] = [
    DataType::Mailbox,
    DataType::Email,
    DataType::Thread,
    DataType::EmailDelivery,
];

pub struct Watch {
    user: AccountId,
    types: Vec<DataType>,
    /// Per shared account: the states last sent, by type.
    sent: BTreeMap<AccountId, Vec<(DataType, u64)>>,
    due: Vec<(AccountId, Vec<(DataType, u64)>)>,
}

impl Watch {
    /// Starts watching; the accounts shared now are a baseline (nothing due).
    pub async fn start(jmap: &Jmap, user: AccountId, types: &[DataType]) -> Watch {
        let mut w = Watch {
            user,
            types: types.to_vec(),
            sent: BTreeMap::new(),
            due: Vec::new(),
        };
        w.sent = w.read(jmap).await.unwrap_or_default();
        w
    }

    async fn read(&self, jmap: &Jmap) -> Option<BTreeMap<AccountId, Vec<(DataType, u64)>>> {
        let (user, types) = (self.user, self.types.clone());
        jmap.store
            .read(move |r| {
                let mut out = BTreeMap::new();
                for (acct, a) in access::shared_accounts(r, user)? {
                    let mut v = Vec::new();
                    for t in &types {
                        if a.full() || PARTIAL.contains(t) {
                            let s = r.state(acct, *t)?;
                            let s = match (&a, t) {
                                (
                                    Access::Shared(_),
                                    DataType::Mailbox
                                    | DataType::Email
                                    | DataType::Thread
                                    | DataType::EmailDelivery,
                                ) => a.state(s),
                                _ => s,
                            };
                            v.push((*t, s));
                        }
                    }
                    out.insert(acct, v);
                }
                Ok(out)
            })
            .await
            .ok()
    }

    /// Re-reads the grants and states; what moved becomes due.
    pub async fn refresh(&mut self, jmap: &Jmap) {
        let Some(now) = self.read(jmap).await else {
            return;
        };
        for (acct, states) in &now {
            let before = self.sent.get(acct);
            let moved: Vec<(DataType, u64)> = states
                .iter()
                .filter(|(t, s)| {
                    before.is_none_or(|b| !b.iter().any(|(bt, bs)| bt == t && bs == s))
                })
                .copied()
                .collect();
            if !moved.is_empty() {
                self.due.push((*acct, moved));
            }
        }
        self.sent = now;
    }

    /// The accounts now watched.
    pub fn accounts(&self) -> Vec<AccountId> {
        self.sent.keys().copied().collect()
    }

    pub fn take_due(&mut self) -> Vec<(AccountId, Vec<(DataType, u64)>)> {
        std::mem::take(&mut self.due)
    }
}
