//! Learning from what the user does over JMAP, with no client support needed (issue #17):
//!
//! - moving a message into the mailbox with role `junk` (RFC 8621 §2), or adding the
//!   `$junk` keyword (§4.1.1), trains it as spam;
//! - moving it out of Junk, or adding `$notjunk`, trains it as ham.
//!
//! A mailbox move wins over a keyword in the same update (clients that move to Junk and set
//! `$junk` agree anyway). The Email/set transaction only queues the wish (`JUNK_PENDING`, a
//! few bytes) through [`on_email_update`]; the trainer task ([`run`]) reads the message,
//! tokenizes it and updates the model afterwards, off the request's critical path.
//! Training is idempotent per message: `JUNK_TRAINED` remembers each message's label, the same
//! label again does nothing, the other label first takes the old one off (a flip).

use super::JunkConfig;
use super::tokenizer;
use crate::store::model::{AccountId, EmailState};
use crate::store::{HAM, SPAM, Store, StoreError, Writer};
use std::collections::BTreeMap;
use std::time::Duration;

/// Messages read and tokenized per store round trip.
const BATCH: usize = 64;
/// Batches one drain does before it yields to other accounts (bounds a flood of flips).
const MAX_BATCHES: usize = 1_000;
/// Messages a rebuild trains per account (the newest).
pub const MAX_REBUILD: usize = 10_000;
/// The trainer also looks at the queue this often (a change notice can be dropped when the
/// subscriber's channel is full, and a CLI rebuild queues without one).
const POLL: Duration = Duration::from_secs(30);

/// The label a change asks for, if any (see the module header for the rules).
pub fn wanted(
    junk_box: Option<u32>,
    old_boxes: &[u32],
    old_kw: &BTreeMap<String, bool>,
    new_boxes: &[u32],
    new_kw: &BTreeMap<String, bool>,
) -> Option<u8> {
    if let Some(j) = junk_box {
        let (was, is) = (old_boxes.contains(&j), new_boxes.contains(&j));
        if !was && is {
            return Some(SPAM);
        }
        if was && !is {
            return Some(HAM);
        }
    }
    let added = |k: &str| new_kw.contains_key(k) && !old_kw.contains_key(k);
    if added("$junk") {
        Some(SPAM)
    } else if added("$notjunk") {
        Some(HAM)
    } else {
        None
    }
}

/// Called by Email/set update inside its transaction, before the new state is written:
/// queues a training if the change asks for one.
pub fn on_email_update(
    w: &mut Writer<'_>,
    acct: AccountId,
    email: u32,
    old: &EmailState,
    new_boxes: &[u32],
    new_kw: &BTreeMap<String, bool>,
) -> Result<(), StoreError> {
    let junk = w.mailbox_id_by_role(acct, "junk")?;
    if let Some(label) = wanted(junk, &old.mailbox_ids, &old.keywords, new_boxes, new_kw) {
        w.junk_want(acct, email, label)?;
    }
    Ok(())
}

fn today() -> u32 {
    u32::try_from(crate::date::now().max(0) / 86_400).unwrap_or(u32::MAX)
}

/// Trains everything queued for one account; returns how many messages changed the model.
pub async fn drain(store: &Store, cfg: &JunkConfig, acct: AccountId) -> Result<u32, StoreError> {
    let mut changed = 0;
    for _ in 0..MAX_BATCHES {
        let batch = store
            .read(move |r| {
                let mut out = Vec::new();
                for (email, label) in r.junk_pending(acct, BATCH)? {
                    // Already trained so: nothing to read (idempotent, and cheap).
                    let raw = if r.junk_trained(acct, email)? == Some(label) {
                        None
                    } else {
                        match r.email_state(acct, email)? {
                            Some(st) => r.blob(acct, &st.blob)?,
                            None => None,
                        }
                    };
                    out.push((email, label, raw));
                }
                Ok(out)
            })
            .await?;
        if batch.is_empty() {
            break;
        }
        let learned: Vec<(u32, u8, Option<Vec<u64>>)> = crate::pool::unblock(move || {
            batch
                .into_iter()
                .map(|(e, l, raw)| (e, l, raw.map(|r| tokenizer::tokenize(&r))))
                .collect()
        })
        .await;
        let day = today();
        changed += store
            .write(move |w| {
                let mut n = 0;
                for (email, label, tokens) in &learned {
                    match tokens {
                        Some(t) => {
                            let v = tokenizer::VERSION;
                            n += u32::from(w.junk_learn(acct, *email, *label, t, day, v)?)
                        }
                        None => w.junk_unqueue(acct, *email, *label)?,
                    }
                }
                Ok(n)
            })
            .await?;
    }
    if changed > 0 {
        let max = cfg.max_tokens;
        let dropped = store.write(move |w| w.junk_prune(acct, max)).await?;
        if dropped > 0 {
            log::info!("junk: account {acct}: pruned {dropped} rare tokens");
        }
    }
    Ok(changed)
}

async fn drain_all(store: &Store, cfg: &JunkConfig) {
    let accounts = match store.read(|r| r.junk_pending_accounts()).await {
        Ok(a) => a,
        Err(e) => {
            log::warn!("junk: cannot read the training queue: {e}");
            return;
        }
    };
    for acct in accounts {
        if let Err(e) = drain(store, cfg, acct).await {
            log::warn!("junk: training account {acct} failed: {e}");
        }
    }
}

/// The trainer task: trains queued messages after each committed Email change, and polls.
pub async fn run(store: Store, cfg: JunkConfig) {
    use crate::store::watch::{Wake, Watch};
    let watch = Watch::new(&store, crate::store::model::DataType::Email, POLL);
    rebuild_outdated(&store, &cfg).await;
    drain_all(&store, &cfg).await;
    while let Some(wake) = watch.next().await {
        match wake {
            Wake::Changed(acct) => {
                if let Err(e) = drain(&store, &cfg, acct).await {
                    log::warn!("junk: training account {acct} failed: {e}");
                }
            }
            Wake::Poll => drain_all(&store, &cfg).await,
        }
    }
}

/// Retrains every model whose counts an older tokenizer made (after an upgrade that changed
/// `tokenizer::VERSION`): untraining a message subtracts the tokens the current tokenizer
/// reads, which an old model never added. Only a model whose every trained message is still
/// there is retrained, from those messages ([`labels`], [`relearn`]): spam deleted after
/// training cannot be read again, and wiping its evidence would lose what the user taught.
/// Such a model is kept as it is, and said so; `mailnook junk rebuild` relearns it from the
/// mail on request.
/// Once per start, before the trainer's loop: a model made since carries the current version.
async fn rebuild_outdated(store: &Store, cfg: &JunkConfig) {
    let outdated = store
        .read(|r| {
            let mut out = Vec::new();
            for a in r.accounts()? {
                let j = r.junk_account(a.id)?;
                if (j.spam > 0 || j.ham > 0) && j.tokenizer != tokenizer::VERSION {
                    out.push((a.id, j.tokenizer, u64::from(j.spam) + u64::from(j.ham)));
                }
            }
            Ok(out)
        })
        .await;
    let outdated = match outdated {
        Ok(o) => o,
        Err(e) => {
            log::warn!("junk: cannot check the models' versions: {e}");
            return;
        }
    };
    let now = tokenizer::VERSION;
    for (acct, v, trained) in outdated {
        let labels = match labels(store, acct, true).await {
            Ok(l) => l,
            Err(e) => {
                log::warn!("junk: account {acct}: cannot read what it was taught: {e}");
                continue;
            }
        };
        if (labels.len() as u64) < trained {
            log::info!(
                "junk: account {acct}: model of tokenizer version {v} kept (version {now} reads mail differently, but only {} of its {trained} trained messages are still there to read again; `mailnook junk rebuild` relearns it from the mail)",
                labels.len()
            );
            continue;
        }
        match relearn(store, cfg, acct, labels).await {
            Ok((spam, ham)) => log::info!(
                "junk: account {acct}: model of tokenizer version {v} rebuilt for version {now} from {spam} spam and {ham} ham"
            ),
            Err(e) => log::warn!("junk: account {acct}: cannot rebuild the model: {e}"),
        }
    }
}

/// Forgets the account's model and trains it again from the mail: each message keeps the
/// label it was trained with if that record survived; otherwise spam is what is in Junk or
/// marked `$junk`, ham what is marked `$notjunk`, or read (`$seen`) and kept outside Junk and
/// Trash. The newest [`MAX_REBUILD`] such messages count. Returns (spam, ham) queued.
pub async fn rebuild(
    store: &Store,
    cfg: &JunkConfig,
    acct: AccountId,
) -> Result<(u32, u32), StoreError> {
    let labels = labels(store, acct, false).await?;
    relearn(store, cfg, acct, labels).await
}

/// The (email, label) pairs a rebuild trains with, newest first, at most [`MAX_REBUILD`]
/// (the rules at [`rebuild`]); with `only_trained`, only the messages the model was trained
/// with (a tokenizer upgrade: the same teaching, read anew), none guessed from the mail.
async fn labels(
    store: &Store,
    acct: AccountId,
    only_trained: bool,
) -> Result<Vec<(u32, u8)>, StoreError> {
    store
        .read(move |r| {
            let junk = r.mailbox_by_role(acct, "junk")?.map(|m| m.id);
            let trash = r.mailbox_by_role(acct, "trash")?.map(|m| m.id);
            let mut all = r.all_emails(acct)?;
            all.sort_unstable_by(|a, b| b.cmp(a));
            let mut out = Vec::new();
            for (_, id) in all {
                if out.len() >= MAX_REBUILD {
                    break;
                }
                let Some(st) = r.email_state(acct, id)? else {
                    continue;
                };
                let in_box = |b: Option<u32>| b.is_some_and(|b| st.mailbox_ids.contains(&b));
                let kw = |k: &str| st.keywords.contains_key(k);
                // What the user taught stays what it was, if that record survived.
                let label = if let Some(l) = r.junk_trained(acct, id)? {
                    Some(l)
                } else if only_trained {
                    None
                } else if in_box(junk) || kw("$junk") {
                    Some(SPAM)
                } else if kw("$notjunk") || (kw("$seen") && !in_box(trash)) {
                    Some(HAM)
                } else {
                    None
                };
                if let Some(l) = label {
                    out.push((id, l));
                }
            }
            Ok(out)
        })
        .await
}

/// Forgets the account's model and trains it with `labels`: (spam, ham) trained.
async fn relearn(
    store: &Store,
    cfg: &JunkConfig,
    acct: AccountId,
    labels: Vec<(u32, u8)>,
) -> Result<(u32, u32), StoreError> {
    let spam = labels.iter().filter(|(_, l)| *l == SPAM).count() as u32;
    let ham = labels.len() as u32 - spam;
    store
        .write(move |w| {
            w.junk_forget_model(acct)?;
            for (id, l) in &labels {
                w.junk_want(acct, *id, *l)?;
            }
            Ok(())
        })
        .await?;
    drain(store, cfg, acct).await?;
    Ok((spam, ham))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw(list: &[&str]) -> BTreeMap<String, bool> {
        list.iter().map(|k| (k.to_string(), true)).collect()
    }

    #[test]
    fn which_changes_train() {
        let none = kw(&[]);
        // Into Junk (id 5) / out of it.
        assert_eq!(wanted(Some(5), &[1], &none, &[5], &none), Some(SPAM));
        assert_eq!(wanted(Some(5), &[5], &none, &[1], &none), Some(HAM));
        // Keywords.
        assert_eq!(
            wanted(Some(5), &[1], &none, &[1], &kw(&["$junk"])),
            Some(SPAM)
        );
        assert_eq!(
            wanted(Some(5), &[1], &none, &[1], &kw(&["$notjunk"])),
            Some(HAM)
        );
        // Already there: nothing new.
        assert_eq!(
            wanted(
                Some(5),
                &[1],
                &kw(&["$junk"]),
                &[1],
                &kw(&["$junk", "$seen"])
            ),
            None
        );
        assert_eq!(wanted(Some(5), &[1], &none, &[1], &kw(&["$seen"])), None);
        // The move wins over a contradicting keyword.
        assert_eq!(
            wanted(Some(5), &[5], &none, &[1], &kw(&["$junk"])),
            Some(HAM)
        );
        // No Junk mailbox: keywords still work.
        assert_eq!(wanted(None, &[1], &none, &[2], &kw(&["$junk"])), Some(SPAM));
    }
}
