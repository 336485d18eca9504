//! Thread order (RFC 8621 §3): a thread's emails in receivedAt order, ties by id, except that a
//! draft (`$draft`) goes right after the message it replies to (its In-Reply-To names that
//! message's Message-ID), after earlier drafts of the same reply; a draft whose parent is not in
//! the thread keeps its receivedAt place.
//!
//! A backend stores the order and a tail summary (members, drafts, receivedAt and id of the
//! last member) so that a new message joins a long thread without reading every member
//! (issue #20): [`appends`] says when that shortcut gives the same order as [`order`].

use super::tables::{Records, exists};
use crate::store::backend::{Table, TableMut};
use crate::store::error::{Result, StoreError};
use crate::store::model::{AccountId, EmailMeta, EmailState};

/// The thread a new message joins (DESIGN.md "Threading"): the first of its keys (hashes of a
/// message id it carries and its base subject, `ingest/thread.rs`) that names a thread still
/// in existence (table `THREAD_REFS`, checked against `THREADS`).
pub fn join(
    refs: &impl Table<(u32, u128), u32>,
    threads: &impl Table<(u32, u32), &'static [u8]>,
    acct: AccountId,
    keys: &[u128],
) -> Result<Option<u32>> {
    for key in keys {
        if let Some(t) = refs.get((acct, *key), |v| v)?
            && exists(threads, (acct, t))?
        {
            return Ok(Some(t));
        }
    }
    Ok(None)
}

/// Points every key of a new message that names no live thread at `thread`, so later replies
/// find it; a key already naming a live thread keeps it (thread ids never change).
pub fn remember(
    refs: &mut impl TableMut<(u32, u128), u32>,
    threads: &impl Table<(u32, u32), &'static [u8]>,
    acct: AccountId,
    keys: &[u128],
    thread: u32,
) -> Result<()> {
    for key in keys {
        let live = match refs.get((acct, *key), |v| v)? {
            Some(t) => exists(threads, (acct, t))?,
            None => false,
        };
        if !live {
            refs.insert((acct, *key), thread)?;
        }
    }
    Ok(())
}

/// Reorders a thread from its members' records and stores the order and tail (tables
/// `EMAILS`, `EMAIL_META` read; `THREADS`, `THREAD_TAILS` written), over the backend interface.
pub fn rebuild(
    emails: &impl Table<(u32, u32), &'static [u8]>,
    email_meta: &impl Table<(u32, u32), &'static [u8]>,
    threads: &mut impl TableMut<(u32, u32), &'static [u8]>,
    tails: &mut impl TableMut<(u32, u32), Tail>,
    acct: AccountId,
    thread: u32,
    members: Vec<u32>,
) -> Result<()> {
    // Tests count these lines: a delivery that appends must not come here (issue #20).
    log::debug!(
        "store: thread {thread}: order rebuilt from {} members",
        members.len()
    );
    let mut all = Vec::with_capacity(members.len());
    for m in members {
        let st: EmailState = emails.record((acct, m))?.ok_or(StoreError::NotFound)?;
        let meta: EmailMeta = email_meta.record((acct, m))?.unwrap_or_default();
        all.push(Member {
            id: m,
            at: st.received_at,
            draft: st.keywords.contains_key("$draft"),
            message_id: meta.message_id.unwrap_or_default(),
            in_reply_to: meta.in_reply_to.unwrap_or_default(),
        });
    }
    let (ids, tail) = order(all);
    match tail {
        Some(t) => tails.insert((acct, thread), t)?,
        None => tails.remove((acct, thread))?,
    };
    threads.insert((acct, thread), &encode_members(&ids))?;
    Ok(())
}

/// What ordering needs to know of one member.
pub struct Member {
    pub id: u32,
    pub at: i64,
    pub draft: bool,
    pub message_id: Vec<String>,
    pub in_reply_to: Vec<String>,
}

/// (members, drafts among them, receivedAt of the last member, last member).
pub type Tail = (u32, u32, i64, u32);

/// The order of a thread's members, and its tail (None for an empty thread).
pub fn order(all: Vec<Member>) -> (Vec<u32>, Option<Tail>) {
    let mut all = all;
    all.sort_unstable_by_key(|m| (m.at, m.id));
    let (drafts, rest): (Vec<Member>, Vec<Member>) = all.into_iter().partition(|m| m.draft);
    let draft_count = drafts.len() as u32;
    let mut order: Vec<Member> = rest;
    for d in drafts {
        let parent = order
            .iter()
            .rposition(|m| !m.draft && m.message_id.iter().any(|id| d.in_reply_to.contains(id)));
        let at = match parent {
            Some(p) => {
                let mut i = p + 1;
                while i < order.len() && order[i].draft {
                    i += 1;
                }
                i
            }
            None => order
                .iter()
                .position(|m| (m.at, m.id) > (d.at, d.id))
                .unwrap_or(order.len()),
        };
        order.insert(at, d);
    }
    let tail = order
        .last()
        .map(|last| (order.len() as u32, draft_count, last.at, last.id));
    (order.into_iter().map(|m| m.id).collect(), tail)
}

/// Whether a new non-draft message (`at`, `id`) simply goes after the last member: the stored
/// tail agrees with `members`, the thread holds no drafts, and the new message sorts after the
/// last one (receivedAt, then id).
pub fn appends(tail: Option<Tail>, members: &[u32], at: i64, id: u32) -> bool {
    match tail {
        Some((len, drafts, last_at, last_id)) => {
            drafts == 0
                && len as usize == members.len()
                && members.last() == Some(&last_id)
                && (at, id) > (last_at, last_id)
        }
        None => false,
    }
}

/// The marker byte of a `THREADS` value in the binary form.
const BINARY: u8 = 0xFF;

/// A `THREADS` value: the members in order, four bytes each (little-endian) after a [`BINARY`]
/// marker. It was a JSON array, which a delivery into a 10,000-message thread parsed and wrote
/// again whole, 60 KB of text per message (the bench's one-thread figure, issue #20); this is a
/// plain copy. JSON never starts with 0xFF, so a value written by an older version is still
/// read ([`decode_members`]) and is rewritten in this form by the next change to its thread.
pub fn encode_members(ids: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + 4 * ids.len());
    out.push(BINARY);
    for id in ids {
        out.extend_from_slice(&id.to_le_bytes());
    }
    out
}

/// The members of a `THREADS` value, in either form ([`encode_members`]).
pub fn decode_members(bytes: &[u8]) -> Result<Vec<u32>> {
    match bytes.split_first() {
        Some((&BINARY, rest)) if rest.len() % 4 == 0 => Ok(rest
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()),
        Some((&BINARY, _)) => Err(StoreError::Corrupt("thread member list".into())),
        _ => serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string())),
    }
}

/// The members of thread `thread` (None when there is no such thread).
pub fn members(
    threads: &impl Table<(u32, u32), &'static [u8]>,
    acct: AccountId,
    thread: u32,
) -> Result<Option<Vec<u32>>> {
    threads.get((acct, thread), decode_members)?.transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: u32, at: i64, draft: bool, mid: &str, irt: &str) -> Member {
        Member {
            id,
            at,
            draft,
            message_id: vec![mid.to_string()],
            in_reply_to: vec![irt.to_string()],
        }
    }

    #[test]
    fn a_draft_follows_its_parent() {
        let (ids, tail) = order(vec![
            m(1, 10, false, "a", ""),
            m(2, 30, false, "b", "a"),
            m(3, 40, true, "c", "a"),
        ]);
        assert_eq!(ids, vec![1, 3, 2]);
        assert_eq!(tail, Some((3, 1, 30, 2)));
        assert!(
            !appends(tail, &ids, 50, 4),
            "a thread with drafts is rebuilt"
        );
        let (ids, tail) = order(vec![m(1, 10, false, "a", ""), m(2, 20, false, "b", "a")]);
        assert!(appends(tail, &ids, 30, 3));
        assert!(
            !appends(tail, &ids, 5, 3),
            "an older message is placed, not appended"
        );
        assert_eq!(order(Vec::new()), (Vec::new(), None));
    }

    #[test]
    fn member_lists_in_both_forms() {
        let ids = vec![1, 91, 0x5B5B_5B5B, u32::MAX];
        assert_eq!(decode_members(&encode_members(&ids)).ok(), Some(ids));
        assert_eq!(
            decode_members(b"[3,4]").ok(),
            Some(vec![3, 4]),
            "older JSON form"
        );
        assert_eq!(decode_members(&encode_members(&[])).ok(), Some(vec![]));
        assert!(decode_members(&[BINARY, 1, 2]).is_err());
    }
}
