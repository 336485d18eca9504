//! The queue runner: finds messages whose time has come, delivers them, records the outcome.
//!
//! One loop wakes when something is queued (or at the earliest `next_attempt`) and starts an
//! attempt per due message, at most `max_parallel` at once; a message is never worked on by
//! two attempts at the same time (`in_flight`). An attempt reads the message, delivers what it
//! can, then commits the new per-recipient states in one write. A crash between delivering and
//! committing means a recipient may get the message twice, never that one loses it
//! (at-least-once, as every MTA). Bounces are delivered before the queue write for the same
//! reason.

use super::client::{self, Outcome, Reply};
use super::mta_sts::Prepared;
use super::{Outbound, dkim, dsn, route};
use crate::ingest::{self, Target};
use crate::store::model::AccountId;
use crate::store::model_send::{DeliveryStatus, QueuedMessage, RcptState};
use crate::store::{QUEUE_OWNER, Recipient, StoreError};
use futures_lite::FutureExt;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

pub async fn run(out: Outbound) {
    let permits = Arc::new(smol::lock::Semaphore::new(
        out.inner.config.outbound.max_parallel,
    ));
    loop {
        let now = crate::date::now();
        let mut next = now + 3600;
        match out.inner.store.read(|r| r.queued_all()).await {
            Ok(all) => {
                for m in all {
                    if m.next_attempt > now {
                        next = next.min(m.next_attempt);
                        continue;
                    }
                    if !out.claim(m.id) {
                        continue;
                    }
                    let (o, p) = (out.clone(), permits.clone());
                    smol::spawn(async move {
                        let _permit = p.acquire().await;
                        if let Err(e) = attempt(&o, m.id).await {
                            log::warn!("outbound: attempt for queue id {} failed: {e}", m.id);
                            // Try again later rather than spin on a store problem.
                            let delay = o.inner.config.outbound.backoff(1);
                            let id = m.id;
                            let _ = o
                                .inner
                                .store
                                .write(move |w| {
                                    if let Some(mut q) = w.queued(id)? {
                                        q.next_attempt = crate::date::now() + delay;
                                        w.put_queued(&q)?;
                                    }
                                    Ok(())
                                })
                                .await;
                        }
                        o.release(m.id);
                        o.wake();
                    })
                    .detach();
                }
            }
            Err(StoreError::Closed) => return,
            Err(e) => log::error!("outbound: cannot read the queue: {e}"),
        }
        let wait = Duration::from_secs((next - now).clamp(1, 3600) as u64);
        let woken = async {
            let _ = out.inner.wake_rx.recv().await;
        };
        let timer = async {
            smol::Timer::after(wait).await;
        };
        woken.or(timer).await;
    }
}

/// What happened to each recipient in this attempt (address -> reply).
type Results = HashMap<String, Reply>;

async fn attempt(out: &Outbound, id: u64) -> Result<(), StoreError> {
    let inner = &out.inner;
    let store = &inner.store;
    let Some(msg) = store.read(move |r| r.queued(id)).await? else {
        return Ok(());
    };
    let blob = msg.blob.clone();
    let raw = store
        .read(move |r| r.blob(QUEUE_OWNER, &blob))
        .await?
        .unwrap_or_default();
    let now = crate::date::now();
    let mut results: Results = HashMap::new();
    let mut local_addrs: HashSet<String> = HashSet::new();
    if raw.is_empty() {
        for r in msg.pending() {
            results.insert(
                r.address.clone(),
                Reply {
                    code: 554,
                    text: "5.3.0 the queued message is missing".into(),
                },
            );
        }
    } else {
        let received = format!(
            "Received: by {} (mailnook) id q{id};\r\n\t{}\r\n",
            inner.config.hostname,
            crate::date::rfc5322(now)
        );
        let mut local: Vec<(String, AccountId)> = Vec::new();
        let mut remote: Vec<String> = Vec::new();
        for r in msg.pending() {
            match crate::ingest::resolve(store, &r.address).await? {
                Recipient::Local(accounts) => {
                    for a in accounts {
                        local.push((r.address.clone(), a));
                    }
                }
                Recipient::NoSuchUser => {
                    results.insert(
                        r.address.clone(),
                        Reply {
                            code: 550,
                            text: "5.1.1 no such user here".into(),
                        },
                    );
                }
                Recipient::NotLocal => remote.push(r.address.clone()),
            }
        }
        local_addrs.extend(local.iter().map(|(a, _)| a.clone()));
        if !local.is_empty() {
            deliver_local(out, &msg, &local, &received, &raw, now, &mut results).await;
        }
        if !remote.is_empty() {
            deliver_remote(out, &msg, &remote, &received, &raw, &mut results).await;
        }
    }
    let give_up = i64::try_from(inner.config.outbound.give_up_secs).unwrap_or(i64::MAX);
    let backoff = inner.config.outbound.backoff(msg.attempts + 1);
    let (mut updated, newly_failed) = apply(&msg, &results, now, give_up, backoff);
    for r in updated.recipients.iter_mut() {
        if r.state == RcptState::Delivered && local_addrs.contains(&r.address) {
            r.local = true;
        }
    }
    let dsn_blob = if !newly_failed.is_empty() && !msg.mail_from.is_empty() {
        bounce(out, &msg, &newly_failed, &raw, now).await
    } else {
        None
    };
    for f in &newly_failed {
        log::info!(
            "outbound: q{id} to <{}> failed: {}",
            crate::wire::printable(&f.address),
            f.reply
        );
    }
    let finished = updated.pending().next().is_none();
    store
        .write(move |w| {
            // The message may have been canceled meanwhile: then there is nothing to record.
            if w.queued(id)?.is_none() {
                return Ok(());
            }
            if let (Some(acct), Some(sid)) = (updated.account, updated.submission) {
                update_submission(w, acct, sid, &updated, finished, dsn_blob.as_deref())?;
            }
            if finished {
                w.remove_queued(id)
            } else {
                w.put_queued(&updated)
            }
        })
        .await?;
    Ok(())
}

/// The message after this attempt, and the recipients that failed in it.
fn apply(
    msg: &QueuedMessage,
    results: &Results,
    now: i64,
    give_up: i64,
    backoff: i64,
) -> (
    QueuedMessage,
    Vec<crate::store::model_send::QueuedRecipient>,
) {
    let mut m = msg.clone();
    m.attempts += 1;
    m.next_attempt = now.saturating_add(backoff);
    let expired = now.saturating_sub(m.created) >= give_up;
    let mut failed = Vec::new();
    for r in m.recipients.iter_mut() {
        if r.state != RcptState::Pending {
            continue;
        }
        if let Some(reply) = results.get(&r.address) {
            r.reply = reply.line();
            if reply.is_positive() {
                r.state = RcptState::Delivered;
            } else if reply.is_permanent() {
                r.state = RcptState::Failed;
            }
        }
        if r.state == RcptState::Pending && expired {
            r.state = RcptState::Failed;
            r.reply = format!(
                "{} (gave up after {} attempts)",
                if r.reply.is_empty() {
                    "4.4.7 delivery time expired"
                } else {
                    &r.reply
                },
                m.attempts
            );
        }
        if r.state == RcptState::Failed {
            failed.push(r.clone());
        }
    }
    (m, failed)
}

/// RFC 8621 §7: deliveryStatus per recipient and undoStatus follow the queue.
fn update_submission(
    w: &mut crate::store::Writer<'_>,
    acct: AccountId,
    sid: u32,
    m: &QueuedMessage,
    finished: bool,
    dsn_blob: Option<&str>,
) -> Result<(), StoreError> {
    use crate::store::model::{ChangeKind, DataType};
    let Some(mut s) = w.submission(acct, sid)? else {
        return Ok(());
    };
    let mut status = BTreeMap::new();
    for r in &m.recipients {
        // §7 delivered: "yes" only for our own mail store; a relay's 250 is not a delivery.
        let delivered = match r.state {
            RcptState::Delivered if r.local => "yes",
            RcptState::Delivered => "unknown",
            RcptState::Failed => "no",
            RcptState::Pending => "queued",
        };
        let reply = if r.reply.is_empty() {
            "250 2.0.0 queued"
        } else {
            &r.reply
        };
        status.insert(r.address.clone(), DeliveryStatus::new(reply, delivered));
    }
    s.delivery_status = status;
    // §7 dsnBlobIds: the bounce we made for this submission (its blob hash).
    if let Some(b) = dsn_blob {
        s.dsn_blob_ids.push(b.to_string());
    }
    // Once any copy left, the submission can no longer be recalled (§7 undoStatus "final").
    if finished || m.recipients.iter().any(|r| r.state != RcptState::Pending) {
        s.undo_status = "final".into();
    }
    if finished {
        s.queue_id = None;
    }
    w.put_submission(acct, &s)?;
    w.log(acct, DataType::EmailSubmission, sid, ChangeKind::Updated)?;
    Ok(())
}

async fn deliver_local(
    out: &Outbound,
    msg: &QueuedMessage,
    local: &[(String, AccountId)],
    received: &str,
    raw: &[u8],
    now: i64,
    results: &mut Results,
) {
    let mut accounts: Vec<AccountId> = local.iter().map(|(_, a)| *a).collect();
    accounts.sort_unstable();
    accounts.dedup();
    let targets = accounts.iter().map(|a| Target::inbox(*a)).collect();
    let mut bytes = received.as_bytes().to_vec();
    bytes.extend_from_slice(raw);
    let reply = match ingest::deliver(&out.inner.store, bytes, targets, now).await {
        Ok(_) => Reply {
            code: 250,
            text: "2.0.0 delivered locally".into(),
        },
        Err(e) => {
            log::warn!("outbound: local delivery of q{} failed: {e}", msg.id);
            Reply {
                code: 451,
                text: "4.3.0 local delivery failed, will retry".into(),
            }
        }
    };
    for (addr, _) in local {
        results.insert(addr.clone(), reply.clone());
    }
    if reply.is_positive() {
        super::vacation::on_delivery(out, &msg.mail_from, header_of(raw), &accounts).await;
    }
}

/// The domain of the From: header's first address (the DKIM signing domain).
fn from_domain(raw: &[u8]) -> Option<String> {
    let parsed = mail_parser::MessageParser::new().parse_headers(raw)?;
    let addr = parsed.from()?.first()?.address()?.to_string();
    addr.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase())
}

/// Whether we sign for `domain`: one of the domains we receive mail for, or our host name.
/// Never anyone else's (a redirected message's `From:`): DNS does not publish our key for
/// it, so the signature would fail (RFC 6376 §6.1.2), and making keys on a sender's say-so
/// would let any sender make the server generate and store RSA keys at will.
async fn signs_for(out: &Outbound, domain: &str) -> bool {
    if domain.eq_ignore_ascii_case(&out.inner.config.hostname) {
        return true;
    }
    let d = domain.to_string();
    out.inner
        .store
        .read(move |r| r.is_local_domain(&d))
        .await
        .unwrap_or(false)
}

/// `received` + the DKIM-Signature fields for `message` (when signing is on and the From:
/// domain is ours, [`signs_for`]) + `message`: the bytes as they go out.
async fn sign_for_sending(
    out: &Outbound,
    msg: &QueuedMessage,
    received: &str,
    message: Vec<u8>,
) -> Vec<u8> {
    let inner = &out.inner;
    let mut signed = received.as_bytes().to_vec();
    if inner.config.outbound.dkim_sign
        && !msg.relayed
        && let Some(domain) = from_domain(&message)
        && signs_for(out, &domain).await
    {
        match dkim::keys(&inner.store, &domain).await {
            Ok(keys) => {
                let (header, message_back) = crate::pool::unblock(move || {
                    let h = dkim::sign(&keys, &message);
                    (h, message)
                })
                .await;
                match header {
                    Ok(h) => signed.extend_from_slice(h.as_bytes()),
                    Err(e) => log::warn!("outbound: q{}: {e}; sending unsigned", msg.id),
                }
                signed.extend_from_slice(&message_back);
                return signed;
            }
            Err(e) => log::warn!(
                "outbound: q{}: no DKIM key for {domain}: {e}; sending unsigned",
                msg.id
            ),
        }
    }
    signed.extend_from_slice(&message);
    signed
}

async fn deliver_remote(
    out: &Outbound,
    msg: &QueuedMessage,
    remote: &[String],
    received: &str,
    raw: &[u8],
    results: &mut Results,
) {
    let inner = &out.inner;
    let signed = sign_for_sending(out, msg, received, raw.to_vec()).await;
    // RFC 6152 §3: a hop without 8BITMIME gets a 7-bit form, signed on its own (a signature
    // covers the body as sent). Both forms are made here, once per attempt, before any
    // connection: simpler than signing inside the SMTP transaction, and the second signature
    // is made only for the few messages with an 8-bit body.
    let eight_bit = super::downgrade::body_is_8bit(raw);
    let seven_bit = if eight_bit {
        let r = raw.to_vec();
        match crate::pool::unblock(move || super::downgrade::to_seven_bit(&r)).await {
            Some(seven) => Some(sign_for_sending(out, msg, received, seven).await),
            None => {
                log::warn!(
                    "outbound: q{}: cannot convert to 7-bit (nested too deep)",
                    msg.id
                );
                None
            }
        }
    } else {
        None
    };
    let payload = client::Payload {
        message: &signed,
        eight_bit,
        seven_bit: seven_bit.as_deref(),
    };
    let timeout = Duration::from_secs(inner.config.outbound.timeout_secs);
    let helo = inner.config.hostname.clone();
    // One transaction for all recipients through a smarthost; one per domain otherwise.
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in remote {
        let key = if route::uses_smarthost(inner) {
            String::new()
        } else {
            r.rsplit_once('@')
                .map(|(_, d)| d.to_ascii_lowercase())
                .unwrap_or_default()
        };
        groups.entry(key).or_default().push(r.clone());
    }
    for (domain, rcpts) in groups {
        // RFC 8461: the domain's MTA-STS policy, for direct delivery to a named domain.
        let sts = inner
            .sts
            .as_ref()
            .filter(|_| !domain.is_empty() && !domain.starts_with('['));
        let applied = match sts {
            Some(sts) => sts.policy_for(inner, &domain).await,
            None => None,
        };
        let hops = if domain.is_empty() {
            route::smarthost(inner).await.map(|h| vec![h])
        } else {
            route::mx_hops(inner, &domain).await
        };
        let hops = match (hops, sts) {
            (Ok(hops), Some(sts)) => sts.hops(&domain, hops, applied.as_ref()),
            (Ok(hops), None) => Ok(hops.into_iter().map(Prepared::plain).collect()),
            (Err(r), _) => Err(r),
        };
        if let (Err(r), Some(a)) = (&hops, &applied)
            && r.text.starts_with("4.7.5")
        {
            log::warn!("outbound: q{} to {domain}: {}", msg.id, r.line());
            super::mta_sts::note(
                inner,
                &domain,
                "sts",
                a.policy.mode.as_str(),
                Some("validation-failure"),
            )
            .await;
        }
        let outcome = match hops {
            Err(r) => Outcome::All(r),
            Ok(hops) => {
                let mut outcome = Outcome::All(Reply {
                    code: 451,
                    text: "4.4.0 no hop tried".into(),
                });
                for prepared in &hops {
                    let hop = &prepared.hop;
                    outcome =
                        client::send(hop, &helo, &msg.mail_from, &rcpts, &payload, timeout).await;
                    if !domain.is_empty() && sts.is_some() {
                        super::mta_sts::report(
                            inner,
                            &domain,
                            applied.as_ref(),
                            prepared,
                            &outcome,
                        )
                        .await;
                    }
                    // Try the next MX only when this one did not answer the transaction.
                    match &outcome {
                        Outcome::All(r) if !r.is_permanent() => {
                            log::info!("outbound: q{} via {}: {}", msg.id, hop.host, r.line());
                            continue;
                        }
                        _ => break,
                    }
                }
                outcome
            }
        };
        match outcome {
            Outcome::All(r) => {
                for a in &rcpts {
                    results.insert(a.clone(), r.clone());
                }
            }
            Outcome::PerRecipient(list) => {
                for (a, r) in rcpts.iter().zip(list) {
                    results.insert(a.clone(), r);
                }
            }
        }
    }
}

/// Delivers a DSN for `failed` to the (local) sender and returns its blob hash. A sender that
/// is not local gets none: every path into the queue checks that the sender is one of ours.
async fn bounce(
    out: &Outbound,
    msg: &QueuedMessage,
    failed: &[crate::store::model_send::QueuedRecipient],
    raw: &[u8],
    now: i64,
) -> Option<String> {
    let inner = &out.inner;
    if super::srs::looks_like(&msg.mail_from) {
        bounce_to_srs_sender(out, msg, failed, raw, now).await;
        return None;
    }
    let accounts = match crate::ingest::resolve(&inner.store, &msg.mail_from).await {
        Ok(Recipient::Local(a)) => a,
        Ok(_) => {
            log::warn!(
                "outbound: q{}: sender <{}> is not local; no bounce sent",
                msg.id,
                crate::wire::printable(&msg.mail_from)
            );
            return None;
        }
        Err(e) => {
            log::warn!("outbound: q{}: cannot look up the sender: {e}", msg.id);
            return None;
        }
    };
    let report = dsn::bounce(
        &inner.config.hostname,
        &msg.mail_from,
        failed,
        raw,
        msg.created,
        now,
    );
    let targets = accounts.into_iter().map(Target::inbox).collect();
    match ingest::deliver(&inner.store, report, targets, now).await {
        Ok(done) => done.into_iter().next().map(|d| d.blob),
        Err(e) => {
            log::error!("outbound: q{}: the bounce could not be stored: {e}", msg.id);
            None
        }
    }
}

/// A redirect (Sieve, sent with an SRS sender: `srs.rs`) that failed: the DSN goes to the
/// original sender the SRS address stands for, from the null sender (RFC 3464 §2; RFC 5321
/// §4.5.5), as any other server's bounce to that address would (`smtp/cmd/rcpt_srs.rs`).
async fn bounce_to_srs_sender(
    out: &Outbound,
    msg: &QueuedMessage,
    failed: &[crate::store::model_send::QueuedRecipient],
    raw: &[u8],
    now: i64,
) {
    let key = match super::srs::stored_key(&out.inner.store).await {
        Ok(Some(k)) => k,
        Ok(None) => return,
        Err(e) => {
            log::warn!(
                "outbound: q{}: no bounce: cannot read the SRS key: {e}",
                msg.id
            );
            return;
        }
    };
    // The address was made when the message was queued: its age counts from then, so a
    // queue that retries longer than the SRS lifetime still finds the sender.
    let made = u64::try_from(msg.created).unwrap_or(0) / 86_400;
    let to = match super::srs::reverse(&key, &msg.mail_from, made) {
        Ok(to) => to,
        Err(e) => {
            log::info!("outbound: q{}: no bounce: {e}", msg.id);
            return;
        }
    };
    let report = dsn::bounce(
        &out.inner.config.hostname,
        &to,
        failed,
        raw,
        msg.created,
        now,
    );
    let dsn = super::NewMessage::null_sender(None, vec![to.clone()]);
    match out.enqueue(dsn, report).await {
        Ok(q) => log::info!(
            "outbound: q{}: bounce for the redirect queued to <{}> as q{q}",
            msg.id,
            crate::wire::printable(&to)
        ),
        Err(e) => log::warn!("outbound: q{}: cannot queue the bounce: {e}", msg.id),
    }
}

fn header_of(raw: &[u8]) -> &[u8] {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .unwrap_or(raw.len().min(64 * 1024));
    &raw[..end]
}
