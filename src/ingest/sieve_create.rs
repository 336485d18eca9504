//! `fileinto :create` (RFC 5490 §3.2): a mailbox a Sieve script files into with `:create`
//! is made when it does not exist, before the message is stored in it.
//!
//! The name is a path with `/` between levels (as `ingest::sieve::mailbox_by_name` reads it);
//! missing levels are created under the existing ones. The same rules as JMAP Mailbox/set
//! apply (names of 1..=255 octets without control characters, at most `MAX_DEPTH` levels),
//! and at most [`MAX_PER_MESSAGE`] mailboxes are made for one message, so a hostile script
//! cannot fill an account with folders; a name that breaks a rule is not created and the
//! message goes to the Inbox as for a missing mailbox without `:create` (RFC 5490 §3.2 leaves
//! failure to the implementation; mail is never lost).

use crate::store::Store;
use crate::store::model::{AccountId, Mailbox};

/// Mailboxes `:create` may make while delivering one message.
pub const MAX_PER_MESSAGE: usize = 4;
/// The limits of JMAP Mailbox/set (`jmap/mailbox/set.rs`; ingest does not depend on jmap):
/// the session's maxSizeMailboxName, and nesting depth.
const MAX_NAME_OCTETS: usize = 255;
const MAX_DEPTH: usize = 10;

/// Whether `name` may be created: its levels are valid mailbox names and not too many.
fn valid(name: &str) -> bool {
    let levels: Vec<&str> = name.split('/').collect();
    !name.eq_ignore_ascii_case("inbox")
        && levels.len() <= MAX_DEPTH
        && levels.iter().all(|l| {
            !l.is_empty() && l.len() <= MAX_NAME_OCTETS && !l.chars().any(char::is_control)
        })
}

/// Creates the missing mailboxes of `wanted` (account, path) in one transaction; returns the
/// records made, per account. Invalid names and those past [`MAX_PER_MESSAGE`] are skipped.
pub async fn create(
    store: &Store,
    wanted: Vec<(AccountId, String)>,
) -> crate::store::Result<Vec<(AccountId, Mailbox)>> {
    let mut wanted: Vec<(AccountId, String)> = wanted
        .into_iter()
        .filter(|(_, n)| {
            let ok = valid(n);
            if !ok {
                log::info!(
                    "sieve: fileinto :create \"{}\": not a valid mailbox name",
                    crate::wire::printable(n)
                );
            }
            ok
        })
        .collect();
    wanted.dedup();
    wanted.truncate(MAX_PER_MESSAGE);
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    store
        .write(move |w| {
            let mut made = Vec::new();
            for (acct, path) in wanted.iter().cloned() {
                let mut all = w.all_mailboxes(acct)?;
                let mut parent: Option<u32> = None;
                for level in path.split('/') {
                    if let Some(m) = all
                        .iter()
                        .find(|m| m.parent_id == parent && m.name == level)
                    {
                        parent = Some(m.id);
                        continue;
                    }
                    let mut mb = Mailbox {
                        id: 0,
                        name: level.to_string(),
                        parent_id: parent,
                        role: None,
                        sort_order: 0,
                        is_subscribed: true,
                        counts: Default::default(),
                    };
                    mb.id = w.put_mailbox(acct, mb.clone(), true)?;
                    parent = Some(mb.id);
                    all.push(mb.clone());
                    made.push((acct, mb));
                }
            }
            Ok(made)
        })
        .await
}

#[cfg(test)]
mod tests {
    #[test]
    fn names() {
        assert!(super::valid("Club"));
        assert!(super::valid("Lists/Club"));
        assert!(!super::valid(""));
        assert!(!super::valid("a//b"));
        assert!(!super::valid("INBOX"));
        assert!(!super::valid("bad\u{7}name"));
        assert!(!super::valid(&"x/".repeat(20)));
    }
}
