//! `mailnook share ...` (issue #16): grant and revoke mailboxes and whole accounts, and list
//! who shares what. One implementation behind the CLI, the control socket
//! (`accounts::Command::Share`) and the admin page.
//!
//! A mailbox is named by its name, a `/`-separated path of names (`Family/Receipts`), or its
//! role (`inbox`, `archive`, ...), case-insensitively. Rights are words (`Rights::parse_words`):
//! `read-only`, `read-write`, `all`, or a list such as `read,seen,flag`.

use crate::accounts::Outcome;
use crate::store::mail::rights::Rights;
use crate::store::model::{AccountId, Mailbox};
use crate::store::{Grant, Store, StoreError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ShareCommand {
    /// Share `owner`'s `mailbox` with each grantee.
    Add {
        owner: String,
        mailbox: String,
        grantees: Vec<String>,
        rights: String,
    },
    /// Stop sharing `owner`'s `mailbox` with each grantee.
    Remove {
        owner: String,
        mailbox: String,
        grantees: Vec<String>,
    },
    /// Make members of the whole account (a shared account such as family@).
    AccountAdd {
        account: String,
        members: Vec<String>,
        rights: String,
    },
    AccountRemove {
        account: String,
        members: Vec<String>,
    },
    /// Every grant, or those from or to `address`.
    List { address: Option<String> },
}

/// One grant, for the CLI, the control socket and the admin page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShareSummary {
    pub owner: String,
    /// The mailbox path; None for the whole account.
    pub mailbox: Option<String>,
    pub grantee: String,
    pub rights: String,
}

async fn find(store: &Store, address: &str) -> Result<AccountId, StoreError> {
    let name = address.trim().to_lowercase();
    let n2 = name.clone();
    store
        .read(move |r| r.account_by_name(&n2))
        .await?
        .map(|a| a.id)
        .ok_or_else(|| StoreError::Invalid(format!("no account {name}")))
}

/// The `/`-joined names from the top down to `m`.
fn path(all: &[Mailbox], m: &Mailbox) -> String {
    let mut names = vec![m.name.clone()];
    let mut cur = m.parent_id;
    // Bounded: a tree deeper than the mailboxes there are would be a cycle.
    for _ in 0..all.len() {
        let Some(p) = cur.and_then(|p| all.iter().find(|x| x.id == p)) else {
            break;
        };
        names.push(p.name.clone());
        cur = p.parent_id;
    }
    names.reverse();
    names.join("/")
}

fn find_mailbox(all: &[Mailbox], which: &str) -> Option<u32> {
    let w = which.trim().trim_matches('/').to_lowercase();
    all.iter()
        .find(|m| path(all, m).to_lowercase() == w)
        .or_else(|| all.iter().find(|m| m.name.to_lowercase() == w))
        .or_else(|| all.iter().find(|m| m.role.as_deref() == Some(w.as_str())))
        .map(|m| m.id)
}

async fn grant(
    store: &Store,
    owner: &str,
    mailbox: Option<&str>,
    grantees: &[String],
    rights: Rights,
) -> Result<Vec<String>, StoreError> {
    let o = find(store, owner).await?;
    let mb = match mailbox {
        Some(name) => {
            let all = store.read(move |r| r.mailboxes(o)).await?;
            Some(
                find_mailbox(&all, name)
                    .ok_or_else(|| StoreError::Invalid(format!("{owner} has no mailbox {name}")))?,
            )
        }
        None => None,
    };
    let mut done = Vec::new();
    for g in grantees {
        let id = find(store, g).await?;
        let now = crate::date::now();
        let old = store
            .write(move |w| w.set_share(o, mb, id, rights, None, now))
            .await?;
        let what = mailbox.map_or_else(|| format!("account {owner}"), |m| format!("{owner}'s {m}"));
        done.push(if rights.is_empty() {
            if old.is_empty() {
                format!("{what} was not shared with {g}")
            } else {
                format!("stopped sharing {what} with {g}")
            }
        } else {
            format!("shared {what} with {g}: {}", rights.words())
        });
        log::info!("share: {}", done.last().map(String::as_str).unwrap_or(""));
    }
    Ok(done)
}

/// Every live grant (filtered to those from or to `address`), named.
pub async fn list(store: &Store, address: Option<String>) -> Result<Vec<ShareSummary>, StoreError> {
    let only = match &address {
        Some(a) => Some(find(store, a).await?),
        None => None,
    };
    store
        .read(move |r| {
            let grants: Vec<Grant> = r
                .all_shares()?
                .into_iter()
                .filter(|g| only.is_none_or(|a| g.owner == a || g.grantee == a))
                .collect();
            let mut out = Vec::with_capacity(grants.len());
            for g in grants {
                let name = |a| -> crate::store::Result<String> {
                    Ok(r.account(a)?
                        .map(|x| x.name)
                        .unwrap_or_else(|| format!("#{a}")))
                };
                let mailbox = match g.mailbox {
                    Some(m) => {
                        let all = r.mailboxes(g.owner)?;
                        Some(match all.iter().find(|x| x.id == m) {
                            Some(x) => path(&all, x),
                            None => format!("#{m}"),
                        })
                    }
                    None => None,
                };
                out.push(ShareSummary {
                    owner: name(g.owner)?,
                    mailbox,
                    grantee: name(g.grantee)?,
                    rights: g.rights.words(),
                });
            }
            Ok(out)
        })
        .await
}

pub async fn run(store: &Store, cmd: ShareCommand) -> Result<Outcome, StoreError> {
    let words = |s: &str| Rights::parse_words(s).map_err(StoreError::Invalid);
    let lines = match cmd {
        ShareCommand::Add {
            owner,
            mailbox,
            grantees,
            rights,
        } => grant(store, &owner, Some(&mailbox), &grantees, words(&rights)?).await?,
        ShareCommand::Remove {
            owner,
            mailbox,
            grantees,
        } => grant(store, &owner, Some(&mailbox), &grantees, Rights::NONE).await?,
        ShareCommand::AccountAdd {
            account,
            members,
            rights,
        } => grant(store, &account, None, &members, words(&rights)?).await?,
        ShareCommand::AccountRemove { account, members } => {
            grant(store, &account, None, &members, Rights::NONE).await?
        }
        ShareCommand::List { address } => list(store, address)
            .await?
            .into_iter()
            .map(|s| {
                format!(
                    "{}\t{}\t{}\t{}",
                    s.owner,
                    s.mailbox.as_deref().unwrap_or("(whole account)"),
                    s.grantee,
                    s.rights
                )
            })
            .collect(),
    };
    Ok(Outcome::Done(lines.join("\n")))
}
