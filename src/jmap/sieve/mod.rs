//! JMAP Sieve (RFC 9661): SieveScript/get, /set (with onSuccessActivateScript and
//! onSuccessDeactivateScript), /query and /validate, one file per method. Script content is a
//! blob: a client uploads the text and names its blobId; SieveScript/get returns the blobId
//! for download. Storing a script compiles it (`crate::sieve`), so invalid scripts are refused
//! with `invalidSieve` and delivery only runs the stored compiled form.
//!
//! VacationResponse and Sieve vacation: RFC 9661 lets a server present VacationResponse as a
//! Sieve script; mailnook keeps them as two senders of one mechanism instead. VacationResponse
//! stays its own object (RFC 8621 §8) and a Sieve `vacation` action sends through the same
//! RFC 3834 rules and the same once-per-sender memory (`VACATION_REPLIES`), so a sender gets
//! at most one automatic reply per period whichever of the two is on (docs/ARCHITECTURE.md).

pub mod changes;
pub mod get;
pub mod query;
pub mod set;
pub mod validate;

use crate::sieve::Limits;
use crate::store::model::SieveScript;
use serde_json::{Map, Value, json};

pub const CAP_SIEVE: &str = "urn:ietf:params:jmap:sieve";

pub const PROPERTIES: [&str; 4] = ["id", "name", "blobId", "isActive"];

/// Script ids: `S` + the per-account number.
pub fn id(n: u32) -> String {
    format!("S{n}")
}

pub fn parse_id(s: &str) -> Option<u32> {
    let n = s.strip_prefix('S')?;
    if n.is_empty()
        || n.len() > 10
        || !n.bytes().all(|b| b.is_ascii_digit())
        || n.starts_with('0') && n.len() > 1
    {
        return None;
    }
    n.parse().ok()
}

pub fn to_json(s: &SieveScript) -> Map<String, Value> {
    match json!({
        "id": id(s.id),
        "name": s.name,
        "blobId": super::blob::blob_id(&s.blob),
        "isActive": s.is_active,
    }) {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The account capability (RFC 9661 §2).
pub fn account_capability() -> Value {
    let l = Limits::default();
    json!({
        "maxSizeScriptName": l.max_name_bytes,
        "maxSizeScript": l.max_script_bytes,
        "maxNumberScripts": l.max_scripts,
        "maxNumberRedirects": l.max_redirects,
        "sieveExtensions": crate::sieve::compile::EXTENSIONS,
        "notificationMethods": null,
        "externalLists": null,
        "implementation": concat!("mailnook ", env!("CARGO_PKG_VERSION")),
    })
}

/// A script name the server accepts: 1..=max bytes, no control characters, no "/"
/// (RFC 5804 §1.6 asks for names usable as file names too).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= Limits::default().max_name_bytes
        && !name.chars().any(|c| c.is_control() || c == '/')
}
