//! The receive step: what happens to a message a transport handed over for local recipients
//! (DESIGN.md, "Ingest is a pipeline with one entry"). The SMTP session only reads the
//! envelope and the bytes; every decision after DATA is taken here, in this order:
//!
//! 1. **Sender authentication** (`auth.rs`: SPF, DKIM, ARC, DMARC within `auth_timeout_ms`):
//!    our `Authentication-Results:` header and an action. A DMARC `p=reject` failure refuses
//!    the whole message ([`Verdict::Rejected`], SMTP `550 5.7.1`); `Junk` files it in each
//!    account's Junk mailbox.
//! 2. **Junk score** (`junk_gate.rs`): one parse and one store snapshot; the parse's summary
//!    goes on to the store, so the message is parsed once.
//! 3. **The owner's Sieve script** (`ingest/sieve.rs`, [`super::sieve::deliver_filtered`]):
//!    fileinto/keep/discard/imap4flags shape the targets; reject of every recipient refuses
//!    the message ([`Verdict::SieveRejected`]); redirect, vacation and DSNs follow the commit.
//! 4. **Delivery**: one copy per distinct account in one durable commit (`ingest::deliver`).
//!    RFC 8601 §5: `Authentication-Results:` claiming our host name that came with the
//!    message are removed first, even when sender authentication is off.
//! 5. **After the commit**: vacation replies (RFC 3834) through [`Outgoing`], never for Junk.
//!    Sieve's redirect/notify would go here too.
//!
//! The outcome is per recipient ([`Receipt::recipients`]) so a Sieve reject or a per-account
//! junk verdict can differ between recipients; SMTP still answers DATA with one reply
//! ([`Receipt::verdict`]), which is what RFC 5321 allows (LMTP, RFC 2033, would not).

use super::auth::{Action, Authenticator, Envelope};
use super::{IngestError, Target};
use crate::activity::AuthVerdicts;
use crate::store::model::AccountId;
use crate::store::{Recipient, Store, StoreError};
use std::net::IpAddr;
use std::sync::Arc;

/// Where mail for a recipient goes: account addresses, aliases, plus-addressing (`user+tag`)
/// and catch-alls, case-insensitively (`store/redb/read_addresses.rs`). Used at RCPT TO and by
/// the outbound queue for local recipients.
pub async fn resolve(store: &Store, address: &str) -> crate::store::Result<Recipient> {
    let address = address.to_string();
    store.read(move |r| r.resolve_recipient(&address)).await
}

/// Effects after a delivery that need the outbound queue. `outbound::Outbound` implements it,
/// so ingest does not depend on outbound (outbound delivers locally through ingest).
pub trait Outgoing: Send + Sync {
    /// The message from `sender` (the envelope sender, empty for `<>`) with this header
    /// section was committed for `accounts`: send their vacation replies, in the background.
    fn delivered(&self, sender: &str, header: Vec<u8>, accounts: Vec<AccountId>);
    /// The queue itself, for Sieve's redirects, vacation replies and rejection notices
    /// (`ingest/sieve_effects.rs`). None: those effects are logged and dropped.
    fn outbound(&self) -> Option<crate::outbound::Outbound> {
        None
    }
}

/// What the receive step works with: the store, our name, the authenticator (None when
/// `sender_auth` is off) and the outbound queue (None in tests without one).
pub struct Receiver<'a> {
    pub store: &'a Store,
    pub hostname: &'a str,
    pub auth: Option<&'a Authenticator>,
    pub outgoing: Option<&'a dyn Outgoing>,
    /// The junk filter's settings (`src/junk/`); None runs no filter.
    pub junk: Option<&'a crate::junk::JunkConfig>,
}

/// One recipient as accepted at RCPT TO, with the accounts it delivers to (aliases fan out).
#[derive(Debug, Clone)]
pub struct Rcpt {
    pub address: String,
    pub accounts: Vec<AccountId>,
}

/// A message handed over, with the facts of its connection.
pub struct Incoming {
    /// The client's address (SPF, the trace header).
    pub ip: IpAddr,
    /// What it said at HELO/EHLO (SPF's HELO identity).
    pub helo: String,
    /// The envelope sender; empty for the null sender `<>`.
    pub mail_from: String,
    pub rcpts: Vec<Rcpt>,
    /// The message as received (unstuffed, CRLF line ends).
    pub message: Vec<u8>,
}

/// What happened to the message as a whole: the one reply a transaction gets.
#[derive(Debug)]
pub enum Verdict {
    /// Committed for every recipient; `id` names it in logs and the reply.
    Accepted { id: String },
    /// The sender's domain publishes DMARC `p=reject` and the message failed DMARC.
    Rejected { policy_domain: String },
    /// Every recipient's Sieve script rejected it (RFC 5429 §2.1: refused in the transaction;
    /// nothing was stored).
    SieveRejected { reason: String },
    /// Every recipient's junk filter scored it above its reject threshold.
    JunkRejected { score: f64 },
    /// Nobody to deliver to.
    NoRecipients,
    /// The store could not take it (full disk, database error): try again later.
    Failed(StoreError),
}

/// What happened for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Filed in the mailbox with this role ("inbox", "junk").
    Filed(&'static str),
    Rejected,
    Deferred,
}

/// The result of [`receive`].
#[derive(Debug)]
pub struct Receipt {
    pub verdict: Verdict,
    /// Per recipient, in RCPT order.
    pub recipients: Vec<(String, Disposition)>,
    /// Sender-authentication results (None when it is off), for the admin's activity log.
    pub auth: Option<AuthVerdicts>,
    /// Octets of the message as received.
    pub size: usize,
}

/// The filing decided for one account before delivery.
struct Filing {
    account: AccountId,
    /// Mailbox role; None is the Inbox.
    role: Option<&'static str>,
    /// Vacation may answer (RFC 3834 §2: not for what we think is junk).
    vacation: bool,
}

/// Runs the receive step. `trace` makes the transport's trace header(s) (SMTP's `Received:`,
/// CRLF-terminated) for the delivery time it is given; they go below our
/// `Authentication-Results:`.
pub async fn receive(
    rx: &Receiver<'_>,
    incoming: Incoming,
    trace: impl FnOnce(i64) -> String,
) -> Receipt {
    let Incoming {
        ip,
        helo,
        mail_from,
        rcpts,
        mut message,
    } = incoming;
    let size = message.len();
    let everyone = |d: Disposition| {
        rcpts
            .iter()
            .map(|r| (r.address.clone(), d.clone()))
            .collect()
    };

    // 1. Sender authentication.
    let (auth_header, verdicts, action) = match rx.auth {
        Some(auth) => {
            let env = Envelope {
                ip,
                helo: &helo,
                mail_from: &mail_from,
            };
            let shared = Arc::new(message);
            let o = auth.check(&env, shared.clone()).await;
            // The checks are done with it (or timed out and still hold a copy).
            message = Arc::try_unwrap(shared).unwrap_or_else(|a| (*a).clone());
            if o.action == Action::Reject {
                return Receipt {
                    verdict: Verdict::Rejected {
                        policy_domain: o.policy_domain,
                    },
                    recipients: everyone(Disposition::Rejected),
                    auth: Some(o.verdicts),
                    size,
                };
            }
            (o.header, Some(o.verdicts), o.action)
        }
        None => (String::new(), None, Action::Deliver),
    };

    // 2-3. Where each account's copy goes.
    let filings = plan(&rcpts, action);

    // 4. Delivery, one durable commit.
    let now = crate::date::now();
    let message = super::auth::strip_forged_results(&message, rx.hostname).unwrap_or(message);
    let trace = trace(now);
    // Room for the junk score header too, so the copy of a single group is made in place
    // (below): a large message is copied once on its way to the store, not twice.
    let mut raw =
        Vec::with_capacity(auth_header.len() + trace.len() + message.len() + JUNK_HEADER_ROOM);
    raw.extend_from_slice(auth_header.as_bytes());
    raw.extend_from_slice(trace.as_bytes());
    raw.extend_from_slice(&message);
    let mut vacation: Vec<AccountId> = filings
        .iter()
        .filter(|f| f.vacation)
        .map(|f| f.account)
        .collect();
    let role_of = |account: &AccountId| {
        filings
            .iter()
            .find(|f| f.account == *account)
            .map_or("inbox", |f| f.role.unwrap_or("inbox"))
    };
    let targets: Vec<Target> = filings
        .iter()
        .map(|f| {
            let mut t = Target::inbox(f.account);
            t.role = f.role.map(str::to_string);
            t
        })
        .collect();

    // The junk filter (src/junk/): a score per account, Junk filing, or refusal.
    let (raw, groups, junked, meta) = match rx.junk {
        Some(cfg) => {
            match super::junk_gate::screen(rx.store, cfg, raw, targets, action == Action::Junk)
                .await
            {
                super::junk_gate::Screen::Rejected { score } => {
                    return Receipt {
                        verdict: Verdict::JunkRejected { score },
                        recipients: everyone(Disposition::Rejected),
                        auth: verdicts,
                        size,
                    };
                }
                super::junk_gate::Screen::Deliver {
                    raw,
                    groups,
                    junked,
                    meta,
                } => (raw, groups, junked, meta),
            }
        }
        None => (
            raw,
            vec![super::junk_gate::Group {
                header: String::new(),
                targets,
                spamtest: None,
            }],
            Vec::new(),
            None,
        ),
    };
    // No vacation reply for mail filed as junk (RFC 3834 §2).
    vacation.retain(|a| !junked.contains(a));
    let per_rcpt: Vec<(String, Disposition)> = rcpts
        .iter()
        .map(|r| {
            let role = match r.accounts.first() {
                Some(a) if junked.contains(a) => "junk",
                Some(a) => role_of(a),
                None => "inbox",
            };
            (r.address.clone(), Disposition::Filed(role))
        })
        .collect();
    let pairs: Vec<(String, Vec<AccountId>)> = rcpts
        .iter()
        .map(|r| (r.address.clone(), r.accounts.clone()))
        .collect();
    let outbound = rx.outgoing.and_then(|o| o.outbound());

    // Sieve, then one durable delivery per group of identical copies (usually one).
    let mut delivered = Vec::new();
    let mut sieve_rejected: Option<String> = None;
    let mut all_rejected = true;
    let mut failure = None;
    let single = groups.len() == 1;
    let mut raw = Some(raw);
    for g in groups {
        let copy = match raw.take_if(|_| single) {
            // The only copy: the header goes in front of the bytes already there.
            Some(mut own) => {
                own.splice(0..0, g.header.bytes());
                own
            }
            None => {
                let shared = raw.as_deref().unwrap_or_default();
                let mut copy = Vec::with_capacity(g.header.len() + shared.len());
                copy.extend_from_slice(g.header.as_bytes());
                copy.extend_from_slice(shared);
                copy
            }
        };
        let sieve_env = super::sieve::Envelope {
            mail_from: &mail_from,
            rcpts: &pairs,
            spamtest: g.spamtest,
            meta: meta.as_deref(),
        };
        match super::sieve::deliver_filtered(
            rx.store,
            outbound.as_ref(),
            sieve_env,
            copy,
            g.targets,
            now,
        )
        .await
        {
            Ok(super::sieve::Filtered {
                rejected: Some(reason),
                ..
            }) => sieve_rejected = Some(reason),
            Ok(f) => {
                all_rejected = false;
                delivered.extend(f.delivered);
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    if failure.is_none()
        && all_rejected
        && let Some(reason) = sieve_rejected
    {
        return Receipt {
            verdict: Verdict::SieveRejected { reason },
            recipients: everyone(Disposition::Rejected),
            auth: verdicts,
            size,
        };
    }
    let result = match failure {
        Some(e) => Err(e),
        None => Ok(delivered),
    };

    let verdict = match result {
        Ok(done) => {
            // The VacationResponse answers only for accounts that kept a copy: a Sieve
            // `discard` or `reject` (RFC 5230 §4.7 and RFC 5429 §2.1 do not auto-reply to
            // what the user threw away or refused) leaves none.
            vacation.retain(|a| done.iter().any(|d| d.account == *a));
            if let Some(out) = rx.outgoing
                && !vacation.is_empty()
            {
                out.delivered(&mail_from, header_section(&message), vacation);
            }
            let id = done
                .first()
                .map(|d| d.blob.chars().take(12).collect())
                .unwrap_or_default();
            Verdict::Accepted { id }
        }
        Err(IngestError::NoRecipients) => Verdict::NoRecipients,
        Err(IngestError::Store(e)) => {
            return Receipt {
                verdict: Verdict::Failed(e),
                recipients: everyone(Disposition::Deferred),
                auth: verdicts,
                size,
            };
        }
    };
    Receipt {
        verdict,
        recipients: per_rcpt,
        auth: verdicts,
        size,
    }
}

/// Bytes reserved in front of a delivered copy for the junk filter's score header
/// (`junk::verdict::HEADER`, about 80 bytes).
const JUNK_HEADER_ROOM: usize = 128;

/// Decides where each distinct account's copy goes, from the sender-authentication action.
/// The junk filter (`junk_gate.rs`) and the owner's Sieve script (`sieve.rs`) refine these
/// filings afterwards, in that order.
fn plan(rcpts: &[Rcpt], action: Action) -> Vec<Filing> {
    let mut filings: Vec<Filing> = Vec::new();
    for account in rcpts.iter().flat_map(|r| r.accounts.iter()) {
        if filings.iter().any(|f| f.account == *account) {
            continue;
        }
        let junk = action == Action::Junk;
        filings.push(Filing {
            account: *account,
            role: junk.then_some("junk"),
            vacation: !junk,
        });
    }
    filings
}

/// The header section of a message (up to and including the empty line), at most 64 KiB when
/// no empty line ends it.
fn header_section(raw: &[u8]) -> Vec<u8> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .unwrap_or(raw.len().min(64 * 1024));
    raw[..end].to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_filing_per_account_junk_gets_no_vacation() {
        let rcpts = vec![
            Rcpt {
                address: "a@x".into(),
                accounts: vec![1, 2],
            },
            Rcpt {
                address: "b@x".into(),
                accounts: vec![2],
            },
        ];
        let f = plan(&rcpts, Action::Deliver);
        assert_eq!(f.len(), 2);
        assert!(f.iter().all(|f| f.role.is_none() && f.vacation));
        let f = plan(&rcpts, Action::Junk);
        assert!(f.iter().all(|f| f.role == Some("junk") && !f.vacation));
    }

    #[test]
    fn header_section_ends_at_the_empty_line() {
        assert_eq!(header_section(b"A: b\r\n\r\nbody"), b"A: b\r\n\r\n");
        assert_eq!(header_section(b"A: b"), b"A: b");
    }
}
