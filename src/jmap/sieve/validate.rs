//! SieveScript/validate (RFC 9661 §2.5): compiles the blob's text without storing anything;
//! `error` is null or an `invalidSieve` SetError whose description names line and column.

use super::super::args::{self, Args};
use super::super::error::{MethodError, SetError};
use super::super::{Ctx, blob};
use crate::sieve::Limits;
use serde_json::{Value, json};

pub async fn validate(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let acct = ctx.account(&a)?;
    args::only(&a, &["accountId", "blobId"])?;
    let blob_id = ctx.resolve_id(args::req_str(&a, "blobId")?);
    let bytes = blob::download(&ctx.jmap.store, acct, &blob_id).await?;
    let error = match bytes {
        None => SetError::new("blobNotFound", format!("no blob {blob_id}")).to_value(),
        Some(b) => match check(&b) {
            Ok(()) => Value::Null,
            Err(e) => e.to_value(),
        },
    };
    Ok(json!({ "accountId": ctx.account_id(), "error": error }))
}

/// Compiles script bytes; the SetError a /set or /validate reports when they are not a valid
/// script (RFC 9661 §2.3 `invalidSieve`).
pub fn check(bytes: &[u8]) -> Result<(), SetError> {
    compile(bytes).map(|_| ())
}

pub fn compile(bytes: &[u8]) -> Result<crate::sieve::Program, SetError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| SetError::new("invalidSieve", "the script is not UTF-8"))?;
    crate::sieve::compile(text, &Limits::default())
        .map_err(|e| SetError::new("invalidSieve", e.to_string()))
}
