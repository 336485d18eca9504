//! EmailSubmission/set (RFC 8621 §7.5) on the shared /set machinery.
//!
//! - create: the checks of `envelope.rs` run first; inside the write transaction the create
//!   stores the submission and queues the message (without Bcc) in the same commit, so a
//!   submission the client was told about is always on its way (and vice versa);
//! - update: only `undoStatus` may change, from `pending` to `canceled`, while no recipient has
//!   the message yet. The queue entry is claimed from the runner while it is removed, so an
//!   attempt cannot start in between; otherwise cannotUnsend;
//! - destroy: removes the record only; deliveries go on (§7.5).
//!
//! After the commit the queue runner is woken, and the implicit Email/set of
//! `onSuccessUpdateEmail`/`onSuccessDestroyEmail` runs; its response follows this one.

use super::envelope::{self, Checked, SendLimits};
use super::get::{PROPERTIES, to_json};
use crate::jmap::dispatch::Responses;
use crate::jmap::error::{MethodError, SetError};
use crate::jmap::set::{self, Created, Obj, SetCx, SetHandler};
use crate::jmap::{Ctx, args::Args};
use crate::outbound::{NewMessage, Outbound};
use crate::store::Writer;
use crate::store::model::{ChangeKind, DataType, IdKind};
use crate::store::model_send::{DeliveryStatus, RcptState, Submission};
use crate::store::slot;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

/// Where a create object carries the index of its checked result (no client key can survive:
/// it is overwritten before the machinery sees the object).
const CHECKED_KEY: &str = "\u{0}checked";

struct SubmissionSet {
    checked: Arc<Vec<Result<Checked, SetError>>>,
    outbound: Option<Outbound>,
    /// Queue entries claimed while canceling; released after the commit.
    claimed: Arc<Mutex<Vec<u64>>>,
}

fn status(rcpts: &[String], reply: &str, delivered: &str) -> BTreeMap<String, DeliveryStatus> {
    rcpts
        .iter()
        .map(|r| (r.clone(), DeliveryStatus::new(reply, delivered)))
        .collect()
}

impl SubmissionSet {
    fn cancel(&self, w: &mut Writer<'_>, cx: &SetCx, mut s: Submission) -> Result<(), SetError> {
        let cannot = |why: &str| SetError::new("cannotUnsend", why);
        let (Some(out), Some(qid)) = (&self.outbound, s.queue_id) else {
            return Err(cannot("the message has already left the queue"));
        };
        let Some(q) = w.queued(qid)? else {
            return Err(cannot("the message has already left the queue"));
        };
        if q.recipients.iter().any(|r| r.state != RcptState::Pending) {
            return Err(cannot("some recipients already have the message"));
        }
        // A job the store re-runs (store/redb/commit.rs) finds its own claim from the first run.
        let ours = self.claimed.lock().is_ok_and(|c| c.contains(&qid));
        if !ours {
            if !out.claim(qid) {
                return Err(cannot("the message is being delivered right now"));
            }
            if let Ok(mut c) = self.claimed.lock() {
                c.push(qid);
            }
        }
        w.remove_queued(qid)?;
        let rcpts: Vec<String> = q.recipients.iter().map(|r| r.address.clone()).collect();
        s.delivery_status = status(&rcpts, "554 5.0.0 canceled by the sender", "no");
        s.undo_status = "canceled".into();
        s.queue_id = None;
        w.put_submission(cx.account, &s)?;
        w.log(
            cx.account,
            DataType::EmailSubmission,
            s.id,
            ChangeKind::Updated,
        )?;
        Ok(())
    }
}

impl SetHandler for SubmissionSet {
    fn data_type(&self) -> Option<DataType> {
        Some(DataType::EmailSubmission)
    }

    fn extra_args(&self) -> &'static [&'static str] {
        &["onSuccessUpdateEmail", "onSuccessDestroyEmail"]
    }

    fn create(
        &self,
        w: &mut Writer<'_>,
        cx: &mut SetCx,
        mut obj: Obj,
    ) -> Result<Created, SetError> {
        let c = obj
            .remove(CHECKED_KEY)
            .and_then(|v| v.as_u64())
            .and_then(|i| self.checked.get(i as usize))
            .ok_or_else(|| SetError::new("serverFail", "lost the checked submission"))?
            .clone()?;
        // The account's sending limits (quota/send.rs), before anything is written.
        if let Some(out) = &self.outbound {
            let n = u32::try_from(c.rcpt_to.len()).unwrap_or(u32::MAX);
            w.send_charge(cx.account, n, cx.now, &out.config().send_limits)?;
        }
        let id = w.next_id(cx.account, slot::NEXT_SUBMISSION)?;
        let rcpts: Vec<String> = c.rcpt_to.iter().map(|r| r.email.clone()).collect();
        let queued = NewMessage {
            account: Some(cx.account),
            submission: Some(id),
            mail_from: c.mail_from.email.clone(),
            rcpts,
            release_at: c.send_at,
            size: c.bytes.len() as u64,
        }
        .into_queued(String::new(), cx.now);
        let unique: Vec<String> = queued
            .recipients
            .iter()
            .map(|r| r.address.clone())
            .collect();
        // The junk filter never files mail from someone the account has written to.
        let lower: Vec<String> = unique.iter().map(|a| a.to_ascii_lowercase()).collect();
        w.note_sent_to(cx.account, &lower, cx.now)?;
        let queue_id = w.enqueue(queued, Some(&c.bytes))?;
        let s = Submission {
            id,
            identity_id: c.identity_id,
            email_id: c.email_id,
            thread_id: c.thread_id,
            mail_from: c.mail_from,
            rcpt_to: c.rcpt_to,
            send_at: c.send_at,
            undo_status: "pending".into(),
            delivery_status: status(&unique, "250 2.0.0 queued", "queued"),
            dsn_blob_ids: Vec::new(),
            queue_id: Some(queue_id),
        };
        w.put_submission(cx.account, &s)?;
        w.log(
            cx.account,
            DataType::EmailSubmission,
            id,
            ChangeKind::Created,
        )?;
        let full = to_json(&s);
        let mut created = Created::new(IdKind::Submission.encode(id));
        let mut server_set = vec![
            "threadId",
            "sendAt",
            "undoStatus",
            "deliveryStatus",
            "dsnBlobIds",
            "mdnBlobIds",
        ];
        if c.derived {
            server_set.push("envelope");
        }
        for p in server_set {
            if let Some(v) = full.get(p) {
                created = created.with(p, v.clone());
            }
        }
        Ok(created)
    }

    fn load(&self, w: &mut Writer<'_>, cx: &SetCx, id: &str) -> Result<Option<Obj>, SetError> {
        let Some(n) = IdKind::Submission.decode(id) else {
            return Ok(None);
        };
        Ok(w.submission(cx.account, n)?.as_ref().map(to_json))
    }

    fn update(
        &self,
        w: &mut Writer<'_>,
        cx: &mut SetCx,
        id: &str,
        old: &Obj,
        new: Obj,
    ) -> Result<Option<Obj>, SetError> {
        let fixed: Vec<&str> = PROPERTIES
            .iter()
            .copied()
            .filter(|p| *p != "undoStatus")
            .collect();
        set::only_props(&new, &PROPERTIES)?;
        set::same_server_set(old, &new, &fixed)?;
        let n = IdKind::Submission
            .decode(id)
            .ok_or_else(SetError::not_found)?;
        let s = w
            .submission(cx.account, n)?
            .ok_or_else(SetError::not_found)?;
        match new.get("undoStatus").and_then(Value::as_str) {
            Some(u) if u == s.undo_status => Ok(None),
            Some("canceled") if s.undo_status == "pending" => {
                self.cancel(w, cx, s)?;
                Ok(None)
            }
            Some("canceled") => Err(SetError::new(
                "cannotUnsend",
                format!("the submission is {}", s.undo_status),
            )),
            _ => Err(SetError::invalid_properties(
                &["undoStatus"],
                "undoStatus can only be set to \"canceled\"",
            )),
        }
    }

    fn destroy(&self, w: &mut Writer<'_>, cx: &mut SetCx, id: &str) -> Result<(), SetError> {
        let n = IdKind::Submission
            .decode(id)
            .ok_or_else(SetError::not_found)?;
        if !w.remove_submission(cx.account, n)? {
            return Err(SetError::not_found());
        }
        w.log(
            cx.account,
            DataType::EmailSubmission,
            n,
            ChangeKind::Destroyed,
        )?;
        Ok(())
    }
}

/// Runs the §7.5 checks of every create and marks each create object with its index.
async fn check_creates(
    ctx: &Ctx<'_>,
    acct: u32,
    a: &mut Args,
) -> Result<Vec<Result<Checked, SetError>>, MethodError> {
    let mut checked = Vec::new();
    let Some(Value::Object(creates)) = a.get_mut("create") else {
        return Ok(checked);
    };
    let max = ctx.jmap.limits.max_objects_in_set;
    if creates.len() > max {
        return Err(MethodError::request_too_large(format!(
            "at most {max} objects per /set"
        )));
    }
    let now = crate::date::now();
    for obj in creates.values_mut() {
        let Value::Object(o) = obj else { continue };
        o.remove(CHECKED_KEY);
        let r = match &ctx.jmap.outbound {
            None => Err(SetError::new(
                "forbiddenToSend",
                "this server process cannot send mail",
            )),
            Some(out) => {
                let c = out.config();
                let limits = SendLimits {
                    max_size: c.max_message_size,
                    max_recipients: c.max_recipients,
                    max_delay: c.outbound.max_delayed_send_secs,
                };
                envelope::check(
                    &ctx.jmap.store,
                    acct,
                    o,
                    |id| ctx.resolve_id(id),
                    limits,
                    now,
                )
                .await
                .map(|mut checked| {
                    // RFC 6409 §8.2/§8.3, as on the submission port: an imported message may
                    // lack Date: or Message-ID:; what goes out gets them (the draft keeps its
                    // bytes). Bcc: is already gone (§7.5).
                    checked.bytes =
                        std::sync::Arc::new(crate::outbound::headers::complete_for_sending(
                            &checked.bytes,
                            &c.hostname,
                            now,
                        ));
                    checked
                })
            }
        };
        o.insert(CHECKED_KEY.into(), json!(checked.len()));
        checked.push(r);
    }
    Ok(checked)
}

/// The onSuccess* arguments, type-checked before anything is done (invalidArguments).
struct OnSuccess {
    update: Option<Map<String, Value>>,
    destroy: Option<Vec<String>>,
}

fn on_success(a: &Args) -> Result<OnSuccess, MethodError> {
    let update = match a.get("onSuccessUpdateEmail") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) if m.values().all(Value::is_object) => Some(m.clone()),
        Some(_) => {
            return Err(MethodError::invalid_arguments(
                "'onSuccessUpdateEmail' must map EmailSubmission ids to PatchObjects",
            ));
        }
    };
    let destroy = crate::jmap::args::opt_str_list(a, "onSuccessDestroyEmail")?;
    Ok(OnSuccess { update, destroy })
}

/// The Email id behind an onSuccess key: `#creationId` of a create in this call, or the id of
/// a submission this call updated or destroyed (anything else did not succeed here).
fn email_for(
    key: &str,
    out: &set::SetOutcome,
    created: &HashMap<String, u32>,
    before: &HashMap<String, u32>,
) -> Option<String> {
    let email = match key.strip_prefix('#') {
        Some(cid) => {
            let sid = &out.created.iter().find(|(c, _)| c == cid)?.1;
            created.get(sid).copied()?
        }
        None if out.updated.iter().any(|u| u == key) || out.destroyed.iter().any(|d| d == key) => {
            created.get(key).or_else(|| before.get(key)).copied()?
        }
        None => return None,
    };
    Some(IdKind::Email.encode(email))
}

pub async fn set(ctx: &mut Ctx<'_>, mut a: Args) -> Result<Responses, MethodError> {
    let acct = ctx.account(&a)?;
    let follow = on_success(&a)?;
    // Email ids of existing submissions, for onSuccess keys of ones destroyed in this call.
    let emails_of = |list: Vec<Submission>| -> HashMap<String, u32> {
        list.iter()
            .map(|s| (IdKind::Submission.encode(s.id), s.email_id))
            .collect()
    };
    let wants_follow_up = follow.update.is_some() || follow.destroy.is_some();
    let before = if wants_follow_up {
        emails_of(ctx.jmap.store.read(move |r| r.submissions(acct)).await?)
    } else {
        HashMap::new()
    };
    let checked = check_creates(ctx, acct, &mut a).await?;
    let handler = SubmissionSet {
        checked: Arc::new(checked),
        outbound: ctx.jmap.outbound.clone(),
        claimed: Arc::default(),
    };
    let claimed = handler.claimed.clone();
    let result = set::set(ctx, a, handler).await;
    if let Some(out) = &ctx.jmap.outbound {
        for q in claimed.lock().map(|c| c.clone()).unwrap_or_default() {
            out.release(q);
        }
        out.wake();
    }
    let out = result?;
    let mut responses = vec![("EmailSubmission/set".to_string(), out.response.clone())];
    if !wants_follow_up {
        return Ok(responses);
    }
    let after = emails_of(ctx.jmap.store.read(move |r| r.submissions(acct)).await?);
    let mut update = Map::new();
    for (key, patch) in follow.update.into_iter().flatten() {
        if let Some(email) = email_for(&key, &out, &after, &before) {
            update.insert(email, patch);
        }
    }
    let destroy: Vec<String> = follow
        .destroy
        .into_iter()
        .flatten()
        .filter_map(|key| email_for(&key, &out, &after, &before))
        .collect();
    let mut args = Map::new();
    args.insert("accountId".into(), json!(ctx.account_id()));
    if !update.is_empty() {
        args.insert("update".into(), Value::Object(update));
    }
    if !destroy.is_empty() {
        args.insert("destroy".into(), json!(destroy));
    }
    match crate::jmap::email::set::set(ctx, args).await {
        Ok(v) => responses.push(("Email/set".into(), v)),
        Err(e) => responses.push(("error".into(), e.to_value())),
    }
    Ok(responses)
}
