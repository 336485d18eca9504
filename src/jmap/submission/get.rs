//! EmailSubmission/get (RFC 8621 §7.1) and the JSON form of a stored submission.

use crate::jmap::args::Args;
use crate::jmap::error::MethodError;
use crate::jmap::set::Obj;
use crate::jmap::{Ctx, get};
use crate::store::model::{DataType, IdKind};
use crate::store::model_send::{EnvelopeAddress, Submission};
use serde_json::{Value, json};

pub const PROPERTIES: [&str; 10] = [
    "id",
    "identityId",
    "emailId",
    "threadId",
    "envelope",
    "sendAt",
    "undoStatus",
    "deliveryStatus",
    "dsnBlobIds",
    "mdnBlobIds",
];

fn address(a: &EnvelopeAddress) -> Value {
    json!({"email": a.email, "parameters": a.parameters})
}

pub fn to_json(s: &Submission) -> Obj {
    let status: serde_json::Map<String, Value> = s
        .delivery_status
        .iter()
        .map(|(rcpt, d)| {
            (
                rcpt.clone(),
                json!({"smtpReply": d.smtp_reply, "delivered": d.delivered, "displayed": d.displayed}),
            )
        })
        .collect();
    let v = json!({
        "id": IdKind::Submission.encode(s.id),
        "identityId": s.identity_id,
        "emailId": IdKind::Email.encode(s.email_id),
        "threadId": IdKind::Thread.encode(s.thread_id),
        "envelope": {
            "mailFrom": address(&s.mail_from),
            "rcptTo": s.rcpt_to.iter().map(address).collect::<Vec<_>>(),
        },
        "sendAt": crate::date::rfc3339(s.send_at),
        "undoStatus": s.undo_status,
        "deliveryStatus": status,
        "dsnBlobIds": s.dsn_blob_ids.iter().map(|h| crate::jmap::blob::blob_id(h)).collect::<Vec<_>>(),
        "mdnBlobIds": [],
    });
    match v {
        Value::Object(m) => m,
        _ => Obj::new(),
    }
}

pub async fn get(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let acct = ctx.account(&a)?;
    let g = get::parse(ctx, &a, &[], &PROPERTIES)?;
    let (state, all) = ctx
        .jmap
        .store
        .read(move |r| {
            Ok((
                r.state(acct, DataType::EmailSubmission)?,
                r.submissions(acct)?,
            ))
        })
        .await?;
    let (list, not_found) = get::pick(
        g,
        &all,
        |id| {
            IdKind::Submission
                .decode(id)
                .and_then(|n| all.iter().find(|s| s.id == n))
        },
        to_json,
    );
    Ok(get::response(&ctx.account_id(), state, list, not_found))
}
