//! The method table: one row per JMAP method (RFC 8620 §3.2). A new method is one file plus one
//! row here. A method whose capability is not in `using` is unknownMethod (§3.6.2).

use super::args::Args;
use super::error::MethodError;
use super::{CAP_CORE, CAP_MAIL, CAP_SUBMISSION, CAP_VACATION, Ctx};
use super::{
    blob, changes, email, identity, mailbox, push_subscription, set, snippet, submission, thread,
    vacation,
};
use crate::store::model::{DataType, IdKind};
use serde_json::Value;

/// The responses of one call: usually one, more for methods with implicit calls.
pub type Responses = Vec<(String, Value)>;

pub async fn call(ctx: &mut Ctx<'_>, name: &str, args: Args) -> Result<Responses, MethodError> {
    let cap = match name.split_once('/').map(|(t, _)| t) {
        Some("Core" | "PushSubscription") => CAP_CORE,
        // Blob/copy is core (RFC 8620 §6.3); other Blob/ methods belong to RFC 9404.
        Some("Blob") if name == "Blob/copy" => CAP_CORE,
        Some("Mailbox" | "Email" | "Thread" | "SearchSnippet") => CAP_MAIL,
        // RFC 8621 §1.3: Identity belongs to submission, VacationResponse to its own.
        Some("Identity" | "EmailSubmission") => CAP_SUBMISSION,
        Some("VacationResponse") => CAP_VACATION,
        Some("SieveScript") => super::sieve::CAP_SIEVE,
        Some("Quota") => super::quota::CAP_QUOTA,
        _ => return Err(MethodError::unknown_method(name)),
    };
    if !ctx.uses(cap) {
        return Err(MethodError::new(
            "unknownMethod",
            format!("{name} needs {cap} in 'using'"),
        ));
    }
    let one = |v: Value| Ok(vec![(name.to_string(), v)]);
    match name {
        "Core/echo" => one(Value::Object(args)),
        "Blob/copy" => one(blob::copy(ctx, args).await?),
        "PushSubscription/get" => one(push_subscription::get::get(ctx, args).await?),
        "PushSubscription/set" => one(push_subscription::set::set(ctx, args).await?),
        "Mailbox/get" => one(mailbox::get::get(ctx, args).await?),
        "Mailbox/set" => one(set::set(ctx, args, mailbox::set::MailboxSet)
            .await?
            .response),
        "Mailbox/query" => one(mailbox::query::query(ctx, args).await?),
        "Mailbox/queryChanges" => one(mailbox::query::query_changes(ctx, args).await?),
        "Mailbox/changes" => one(changes::mailbox_changes(ctx, args).await?),
        "Email/changes" => one(changes::changes(ctx, args, DataType::Email, IdKind::Email).await?),
        "Thread/changes" => {
            one(changes::changes(ctx, args, DataType::Thread, IdKind::Thread).await?)
        }
        "Thread/get" => one(thread::get(ctx, args).await?),
        "Email/get" => one(email::get::get(ctx, args).await?),
        "Identity/get" => one(identity::get::get(ctx, args).await?),
        "Identity/set" => one(identity::set::set(ctx, args).await?),
        "Identity/changes" => {
            one(changes::changes(ctx, args, DataType::Identity, IdKind::Identity).await?)
        }
        "EmailSubmission/get" => one(submission::get::get(ctx, args).await?),
        "EmailSubmission/set" => submission::set::set(ctx, args).await,
        "EmailSubmission/changes" => {
            one(changes::changes(ctx, args, DataType::EmailSubmission, IdKind::Submission).await?)
        }
        "EmailSubmission/query" => one(submission::query::query(ctx, args).await?),
        "EmailSubmission/queryChanges" => one(submission::query::query_changes(ctx, args).await?),
        "VacationResponse/get" => one(vacation::get::get(ctx, args).await?),
        "VacationResponse/set" => one(vacation::set::set(ctx, args).await?),
        "Email/set" => one(email::set::set(ctx, args).await?),
        "Email/import" => one(email::import::import(ctx, args).await?),
        "Email/parse" => one(email::parse::parse(ctx, args).await?),
        "Email/copy" => email::copy::copy(ctx, args).await,
        "Email/query" => one(email::query::query(ctx, args).await?),
        "Email/queryChanges" => one(email::query_changes::query_changes(ctx, args).await?),
        "SearchSnippet/get" => one(snippet::get(ctx, args).await?),
        "SieveScript/get" => one(super::sieve::get::get(ctx, args).await?),
        "SieveScript/set" => one(super::sieve::set::set(ctx, args).await?),
        "SieveScript/query" => one(super::sieve::query::query(ctx, args).await?),
        "SieveScript/validate" => one(super::sieve::validate::validate(ctx, args).await?),
        "Quota/get" => one(super::quota::get::get(ctx, args).await?),
        "Quota/changes" => one(super::quota::changes::changes(ctx, args).await?),
        "Quota/query" => one(super::quota::query::query(ctx, args).await?),
        "Quota/queryChanges" => one(super::quota::query_changes::query_changes(ctx, args).await?),
        _ => Err(MethodError::unknown_method(name)),
    }
}
