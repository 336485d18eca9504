//! The Sieve step of delivery (issue #17): after sender authentication and the junk verdict,
//! before the message is stored, each recipient account's active script decides where its
//! copy goes. [`deliver_filtered`] is the one call the delivery path makes; it replaces a
//! plain [`super::deliver`] and does, in order:
//!
//! 1. read each account's active script (its compiled form: no reparse), mailbox names and
//!    login address in one store snapshot;
//! 2. run the scripts off the executor (`crate::pool::unblock`), each within `sieve::Limits`;
//! 3. turn the actions into delivery targets: keep -> the target as given (Inbox, or Junk
//!    when the junk/auth verdict said so), fileinto -> that mailbox (a name that does not
//!    exist falls back to the Inbox, logged and noted in the owner's report), imap4flags ->
//!    keywords, discard -> no copy;
//! 4. store every copy in one durable commit ([`super::deliver`]);
//! 5. after the commit: redirects and vacation replies go through the outbound queue, rejects
//!    of some recipients become DSNs (when *every* recipient rejected, nothing is stored and
//!    the caller answers the SMTP transaction with the reason instead), and a failing script
//!    is reported to its owner once (`sieve_effects.rs`).
//!
//! A script that fails (a limit, a run-time error, an undecodable stored program) never loses
//! mail: that account's copy is kept as if there were no script (RFC 5228 §2.10.6).

use super::sieve_effects::{self, Effect};
use super::{Delivered, IngestError, Target};
use crate::outbound::Outbound;
use crate::sieve::{self, Action, Limits, Program};
use crate::store::Store;
use crate::store::model::{AccountId, Mailbox};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The envelope and junk verdict of one message, as the delivery path knows them.
pub struct Envelope<'a> {
    /// MAIL FROM ("" for the null sender).
    pub mail_from: &'a str,
    /// Each accepted RCPT TO and the accounts it delivers to.
    pub rcpts: &'a [(String, Vec<AccountId>)],
    /// The junk filter's RFC 5235 value (1..10), None when no filter ran.
    pub spamtest: Option<u8>,
    /// The stored summary of the message if the junk filter already parsed it.
    pub meta: Option<&'a crate::store::model::EmailMeta>,
}

/// What happened: the stored copies, and the reason when every recipient's script rejected
/// the message (the SMTP layer answers 550 with it; nothing was stored).
#[derive(Debug)]
pub struct Filtered {
    pub delivered: Vec<Delivered>,
    pub rejected: Option<String>,
}

/// One account's script and what the script may look at.
struct AccountScript {
    account: AccountId,
    login: String,
    program: Option<Result<Program, String>>,
    mailboxes: Vec<Mailbox>,
    /// The account's other scripts by name, for `include :personal` (RFC 6609 §3.2); loaded
    /// only when the active script requires "include" (at most `Limits::max_scripts`).
    personal: HashMap<String, Arc<Program>>,
}

/// The mailbox a `fileinto` name means: "INBOX" (any case) is the Inbox; otherwise the full
/// path with "/" or "." between levels, or a bare name that is unique.
pub fn mailbox_by_name(mailboxes: &[Mailbox], name: &str) -> Option<u32> {
    if name.eq_ignore_ascii_case("inbox") {
        return mailboxes
            .iter()
            .find(|m| m.role.as_deref() == Some("inbox"))
            .map(|m| m.id);
    }
    let path = |m: &Mailbox, sep: char| -> String {
        let mut parts = vec![m.name.clone()];
        let mut parent = m.parent_id;
        let mut hops = 0;
        while let (Some(p), true) = (parent, hops < 64) {
            match mailboxes.iter().find(|x| x.id == p) {
                Some(x) => {
                    parts.push(x.name.clone());
                    parent = x.parent_id;
                }
                None => break,
            }
            hops += 1;
        }
        parts.reverse();
        parts.join(&sep.to_string())
    };
    // "INBOX.lists.club" and "INBOX/club" as IMAP-minded editors write them.
    let stripped = name
        .strip_prefix("INBOX.")
        .or_else(|| name.strip_prefix("INBOX/"))
        .unwrap_or(name);
    for candidate in [name, stripped] {
        if let Some(m) = mailboxes
            .iter()
            .find(|m| path(m, '/') == candidate || path(m, '.') == candidate)
        {
            return Some(m.id);
        }
    }
    None
}

struct StoreEnv<'a> {
    mailboxes: &'a [Mailbox],
    personal: &'a HashMap<String, Arc<Program>>,
    now: i64,
}

impl sieve::Env for StoreEnv<'_> {
    fn mailbox_exists(&self, name: &str) -> bool {
        mailbox_by_name(self.mailboxes, name).is_some()
    }
    /// `include :personal` reads the account's own stored scripts (RFC 6609 §3.2; names
    /// compare exactly, as ManageSieve's do). There are no server-wide scripts, so
    /// `:global` finds none (an error unless `:optional`). The interpreter bounds nesting
    /// (`Limits::max_include_depth`), which also stops a script that includes itself.
    fn script(&self, name: &str, global: bool) -> Option<Arc<Program>> {
        if global {
            return None;
        }
        self.personal.get(name).cloned()
    }
    fn now(&self) -> i64 {
        self.now
    }
}

/// The compiled form of a stored script. One written by a binary with another
/// `program::VERSION` (or unreadable) is compiled again from its text, so a format change
/// needs no migration; only if that fails too is the script an error.
fn stored_program(
    r: &crate::store::Reader,
    account: AccountId,
    s: &crate::store::model::SieveScript,
) -> crate::store::Result<Result<Program, String>> {
    if let Ok(p) = serde_json::from_str::<Program>(&s.compiled)
        && p.version == crate::sieve::program::VERSION
    {
        return Ok(Ok(p));
    }
    let Some(text) = r.blob(account, &s.blob)? else {
        return Ok(Err(format!("the text of script \"{}\" is missing", s.name)));
    };
    Ok(std::str::from_utf8(&text)
        .map_err(|_| format!("script \"{}\" is not UTF-8", s.name))
        .and_then(|t| {
            sieve::compile(t, &Limits::default()).map_err(|e| format!("script \"{}\": {e}", s.name))
        }))
}

/// Runs the recipients' Sieve scripts, stores the copies they ask for, and carries out the
/// rest after the commit. The one Sieve call of the delivery path (see the module doc).
pub async fn deliver_filtered(
    store: &Store,
    outbound: Option<&Outbound>,
    env: Envelope<'_>,
    raw: Vec<u8>,
    targets: Vec<Target>,
    received_at: i64,
) -> Result<Filtered, IngestError> {
    let accounts: Vec<AccountId> = targets.iter().map(|t| t.account).collect();
    let scripts = {
        let accounts = accounts.clone();
        store
            .read(move |r| {
                let mut out = Vec::new();
                for a in accounts {
                    let script = r.active_sieve_script(a)?;
                    let login = r.account(a)?.map(|x| x.name).unwrap_or_default();
                    let mailboxes = if script.is_some() {
                        r.mailboxes(a)?
                    } else {
                        Vec::new()
                    };
                    let program = match script {
                        None => None,
                        Some(s) => Some(stored_program(r, a, &s)?),
                    };
                    let mut personal = HashMap::new();
                    if let Some(Ok(p)) = &program
                        && p.has("include")
                    {
                        for s in r
                            .sieve_scripts(a)?
                            .into_iter()
                            .take(Limits::default().max_scripts)
                        {
                            // A stored script that does not compile is simply not there for
                            // include (the run fails and the message is kept).
                            if let Ok(p) = stored_program(r, a, &s)? {
                                personal.insert(s.name.clone(), Arc::new(p));
                            }
                        }
                    }
                    out.push(AccountScript {
                        account: a,
                        login,
                        program,
                        mailboxes,
                        personal,
                    });
                }
                Ok(out)
            })
            .await?
    };
    let meta = env.meta.cloned();
    if scripts.iter().all(|s| s.program.is_none()) {
        let delivered = super::deliver_parsed(store, raw, meta, targets, received_at).await?;
        return Ok(Filtered {
            delivered,
            rejected: None,
        });
    }
    let raw = Arc::new(raw);
    let mail_from = env.mail_from.to_string();
    let rcpt_of = |a: AccountId| -> String {
        env.rcpts
            .iter()
            .find(|(_, accts)| accts.contains(&a))
            .map(|(r, _)| r.clone())
            .unwrap_or_default()
    };
    let jobs: Vec<(AccountScript, String)> = scripts
        .into_iter()
        .map(|s| {
            let to = rcpt_of(s.account);
            (s, to)
        })
        .collect();
    let spamtest = env.spamtest;
    let raw2 = raw.clone();
    let from2 = mail_from.clone();
    // Each run is bounded by Limits::max_cost; all of them together run on one blocking thread.
    let results = crate::pool::unblock(move || {
        let limits = Limits::default();
        let now = crate::date::now();
        jobs.into_iter()
            .map(|(s, to)| {
                let outcome = match &s.program {
                    None => None,
                    Some(Err(e)) => Some(Err(e.clone())),
                    Some(Ok(p)) => {
                        let msg = sieve::Message {
                            envelope_from: &from2,
                            envelope_to: &to,
                            raw: &raw2,
                            spamtest,
                        };
                        let env = StoreEnv {
                            mailboxes: &s.mailboxes,
                            personal: &s.personal,
                            now,
                        };
                        Some(sieve::run(p, msg, &env, &limits).map_err(|e| e.0))
                    }
                };
                (s, outcome)
            })
            .collect::<Vec<_>>()
    })
    .await;

    // fileinto :create (RFC 5490 §3.2): make the missing mailboxes first, in one commit, so
    // the filing below finds them.
    let mut results = results;
    let wanted: Vec<(AccountId, String)> = results
        .iter()
        .flat_map(|(s, outcome)| {
            let actions = match outcome {
                Some(Ok(o)) => o.actions.as_slice(),
                _ => &[],
            };
            actions.iter().filter_map(move |a| match a {
                Action::FileInto {
                    mailbox,
                    create: true,
                    ..
                } if mailbox_by_name(&s.mailboxes, mailbox).is_none() => {
                    Some((s.account, mailbox.clone()))
                }
                _ => None,
            })
        })
        .collect();
    if !wanted.is_empty() {
        match super::sieve_create::create(store, wanted).await {
            Ok(made) => {
                for (acct, mb) in made {
                    if let Some((s, _)) = results.iter_mut().find(|(s, _)| s.account == acct) {
                        s.mailboxes.push(mb);
                    }
                }
            }
            // Then they are missing mailboxes: the Inbox, with a note to the owner.
            Err(e) => log::warn!("sieve: fileinto :create failed: {e}"),
        }
    }

    let mut out_targets = Vec::new();
    let mut effects: Vec<Effect> = Vec::new();
    let mut rejects: Vec<(AccountId, String, bool)> = Vec::new();
    for (s, outcome) in results {
        let Some(base) = targets.iter().find(|t| t.account == s.account).cloned() else {
            continue;
        };
        let actions = match outcome {
            None => {
                out_targets.push(base);
                continue;
            }
            Some(Err(e)) => {
                log::warn!(
                    "sieve: account {}: script failed, kept in Inbox: {e}",
                    s.account
                );
                effects.push(Effect::Report {
                    account: s.account,
                    text: format!("Your Sieve filter failed and a message was kept in the Inbox:\r\n\r\n  {e}\r\n"),
                });
                out_targets.push(base);
                continue;
            }
            Some(Ok(o)) => o.actions,
        };
        let mut mailbox_ids: Vec<u32> = Vec::new();
        let mut keywords: BTreeMap<String, bool> = base.keywords.clone();
        let mut keep_base = false;
        let add_flags = |flags: &[String], kw: &mut BTreeMap<String, bool>| {
            for f in flags {
                // IMAP system flags map to JMAP keywords (RFC 8621 §4.1.1).
                let k = match f.to_ascii_lowercase().as_str() {
                    "\\seen" => "$seen".to_string(),
                    "\\flagged" => "$flagged".to_string(),
                    "\\answered" => "$answered".to_string(),
                    "\\draft" => "$draft".to_string(),
                    "\\deleted" | "\\recent" => continue,
                    other => other.to_string(),
                };
                if k.len() <= 255
                    && k.bytes()
                        .all(|b| b.is_ascii_graphic() && !b"()]{%*\"\\".contains(&b))
                {
                    kw.insert(k, true);
                }
            }
        };
        for a in actions {
            match a {
                Action::Keep { flags } => {
                    keep_base = true;
                    add_flags(&flags, &mut keywords);
                }
                Action::FileInto { mailbox, flags, .. } => {
                    add_flags(&flags, &mut keywords);
                    match mailbox_by_name(&s.mailboxes, &mailbox) {
                        Some(id) => {
                            if !mailbox_ids.contains(&id) {
                                mailbox_ids.push(id);
                            }
                        }
                        None => {
                            log::info!(
                                "sieve: account {}: fileinto \"{}\": no such mailbox, filed in the Inbox",
                                s.account,
                                crate::wire::printable(&mailbox)
                            );
                            effects.push(Effect::Report {
                                account: s.account,
                                text: format!(
                                    "Your Sieve filter files messages into \"{mailbox}\", which does not exist; they go to the Inbox instead.\r\n"
                                ),
                            });
                            keep_base = true;
                        }
                    }
                }
                Action::Redirect { address } => {
                    // Loop check before storing, so a refused redirect keeps the message.
                    if sieve_effects::redirect_loops(&raw, &s.login, &address) {
                        log::warn!(
                            "sieve: account {}: redirect to <{}> refused: mail loop (Delivered-To), kept",
                            s.account,
                            crate::wire::printable(&address)
                        );
                        effects.push(Effect::Report {
                            account: s.account,
                            text: format!("A redirect of your Sieve filter to <{address}> was refused: the message had already passed through your account (a mail loop). It was kept in your Inbox.\r\n"),
                        });
                        keep_base = true;
                    } else {
                        effects.push(Effect::Redirect {
                            account: s.account,
                            login: s.login.clone(),
                            to: address,
                        });
                    }
                }
                Action::Reject { reason, ereject } => rejects.push((s.account, reason, ereject)),
                Action::Vacation(v) => effects.push(Effect::Vacation {
                    account: s.account,
                    login: s.login.clone(),
                    reply: v,
                }),
                Action::Discard => {}
            }
        }
        if keep_base {
            // The copy the message would have had without a script (Inbox, or Junk).
            let base_id = if base.mailbox_ids.is_empty() {
                let role = base.role.as_deref().unwrap_or("inbox");
                s.mailboxes
                    .iter()
                    .find(|m| m.role.as_deref() == Some(role))
                    .or_else(|| {
                        s.mailboxes
                            .iter()
                            .find(|m| m.role.as_deref() == Some("inbox"))
                    })
                    .map(|m| m.id)
            } else {
                base.mailbox_ids.first().copied()
            };
            match base_id {
                Some(id) if !mailbox_ids.contains(&id) => mailbox_ids.push(id),
                Some(_) => {}
                None => {
                    // No mailbox list (cannot happen with a script): let deliver pick.
                    out_targets.push(Target {
                        keywords: keywords.clone(),
                        ..base.clone()
                    });
                }
            }
        }
        if !mailbox_ids.is_empty() {
            out_targets.push(Target {
                account: s.account,
                mailbox_ids,
                role: None,
                keywords,
            });
        }
    }

    // Every recipient rejected and nothing else to store: refuse at SMTP time (RFC 5429 §2.1
    // prefers that to a DSN, which could go to a forged sender).
    if out_targets.is_empty() && !rejects.is_empty() && rejects.len() == accounts.len() {
        let reason = rejects
            .iter()
            .map(|(_, r, _)| r.as_str())
            .next()
            .unwrap_or("rejected")
            .to_string();
        sieve_effects::spawn(store.clone(), outbound.cloned(), mail_from, raw, effects);
        return Ok(Filtered {
            delivered: Vec::new(),
            rejected: Some(reason),
        });
    }
    for (account, reason, _) in rejects {
        effects.push(Effect::Dsn {
            account,
            rcpt: rcpt_of(account),
            reason,
        });
    }
    let delivered = if out_targets.is_empty() {
        Vec::new()
    } else {
        super::deliver_parsed(store, (*raw).clone(), meta, out_targets, received_at).await?
    };
    sieve_effects::spawn(store.clone(), outbound.cloned(), mail_from, raw, effects);
    Ok(Filtered {
        delivered,
        rejected: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mb(id: u32, name: &str, parent: Option<u32>, role: Option<&str>) -> Mailbox {
        Mailbox {
            id,
            name: name.into(),
            parent_id: parent,
            role: role.map(str::to_string),
            sort_order: 0,
            is_subscribed: true,
            counts: Default::default(),
        }
    }

    #[test]
    fn fileinto_names() {
        let m = vec![
            mb(1, "Inbox", None, Some("inbox")),
            mb(2, "lists", None, None),
            mb(3, "club", Some(2), None),
        ];
        assert_eq!(mailbox_by_name(&m, "INBOX"), Some(1));
        assert_eq!(mailbox_by_name(&m, "lists"), Some(2));
        assert_eq!(mailbox_by_name(&m, "lists/club"), Some(3));
        assert_eq!(mailbox_by_name(&m, "INBOX.lists.club"), Some(3));
        assert_eq!(mailbox_by_name(&m, "club"), None);
        assert_eq!(mailbox_by_name(&m, "nope"), None);
    }
}
