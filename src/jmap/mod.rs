//! JMAP (RFC 8620 core, RFC 8621 mail). This module knows nothing of HTTP: it takes the
//! request bytes plus an authenticated account and returns the response (DESIGN.md).

pub mod args;
pub mod blob;
pub mod changes;
pub mod dispatch;
pub mod email;
pub mod error;
pub mod get;
pub mod identity;
pub mod mailbox;
pub mod patch;
pub mod push;
pub mod push_subscription;
pub mod query;
pub mod quota;
pub mod request;
pub mod response;
pub mod session;
pub mod set;
pub mod sieve;
pub mod snippet;
pub mod submission;
pub mod thread;
pub mod upload;
pub mod vacation;

use crate::store::Store;
use crate::store::model::{Account, AccountId, IdKind};
use error::{MethodError, RequestError};
use serde_json::{Value, json};
use std::collections::HashMap;

pub const CAP_CORE: &str = "urn:ietf:params:jmap:core";
pub const CAP_MAIL: &str = "urn:ietf:params:jmap:mail";
pub const CAP_SUBMISSION: &str = "urn:ietf:params:jmap:submission";
pub const CAP_VACATION: &str = "urn:ietf:params:jmap:vacationresponse";
pub const CAP_WEBSOCKET: &str = "urn:ietf:params:jmap:websocket";

/// Capabilities registered with IANA (RFC 8620 §9.4) that clients commonly send in `using`.
/// Those mailnook does not implement are accepted in `using` (so clients such as jmap-client,
/// which send all of them, work); their methods answer unknownMethod.
const REGISTERED: [&str; 14] = [
    CAP_CORE,
    CAP_MAIL,
    "urn:ietf:params:jmap:submission",
    "urn:ietf:params:jmap:vacationresponse",
    "urn:ietf:params:jmap:contacts",
    "urn:ietf:params:jmap:calendars",
    "urn:ietf:params:jmap:websocket",
    "urn:ietf:params:jmap:sieve",
    "urn:ietf:params:jmap:blob",
    "urn:ietf:params:jmap:quota",
    "urn:ietf:params:jmap:principals",
    "urn:ietf:params:jmap:principals:owner",
    "urn:ietf:params:jmap:mdn",
    "urn:ietf:params:jmap:smimeverify",
];

/// Limits advertised in the Session (RFC 8620 §2) and enforced. Configurable in the `[limits]`
/// table of the config file (a Pi may want smaller uploads).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    pub max_size_upload: usize,
    pub max_concurrent_upload: usize,
    pub max_size_request: usize,
    pub max_concurrent_requests: usize,
    pub max_calls_in_request: usize,
    pub max_objects_in_get: usize,
    pub max_objects_in_set: usize,
    /// Bytes the method responses of one request may hold while built (`response.rs`,
    /// [`response::cost`]); not advertised.
    pub max_size_response: usize,
}

impl Limits {
    pub fn validate(&self) -> Result<(), String> {
        let all = [
            ("max_size_upload", self.max_size_upload),
            ("max_concurrent_upload", self.max_concurrent_upload),
            ("max_size_request", self.max_size_request),
            ("max_concurrent_requests", self.max_concurrent_requests),
            ("max_calls_in_request", self.max_calls_in_request),
            ("max_objects_in_get", self.max_objects_in_get),
            ("max_objects_in_set", self.max_objects_in_set),
            ("max_size_response", self.max_size_response),
        ];
        for (name, v) in all {
            if v == 0 {
                return Err(format!("limits.{name} must be at least 1"));
            }
        }
        Ok(())
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_size_upload: 50 * 1024 * 1024,
            max_concurrent_upload: 4,
            max_size_request: 10 * 1024 * 1024,
            max_concurrent_requests: 8,
            max_calls_in_request: 64,
            max_objects_in_get: 1000,
            max_objects_in_set: 1000,
            max_size_response: 16 * 1024 * 1024,
        }
    }
}

pub struct Jmap {
    pub store: Store,
    /// Full-text search (text conditions of Email/query, SearchSnippet/get).
    pub index: crate::index::SearchIndex,
    pub limits: Limits,
    /// Where EmailSubmission/set hands messages (RFC 8621 §7); `None` where nothing can be sent
    /// (tools and unit tests), and creates then fail with forbiddenToSend.
    pub outbound: Option<crate::outbound::Outbound>,
    /// The SSRF gate (`net_guard.rs`): PushSubscription/set checks push URLs with it before
    /// anything is stored.
    pub net_guard: std::sync::Arc<crate::net_guard::NetGuard>,
}

/// What one method call sees: the server, the user, the request's `using` and creation ids.
pub struct Ctx<'a> {
    pub jmap: &'a Jmap,
    pub user: &'a Account,
    pub using: &'a [String],
    pub created_ids: &'a mut HashMap<String, String>,
    /// What is left of the request's response allowance (`response.rs`).
    pub budget: response::Budget,
    /// When waits for the search index to catch up must end, for the whole request: many
    /// text queries in one request share one bound, not one each (found in review).
    pub index_deadline: std::time::Instant,
}

impl Ctx<'_> {
    /// Checks `accountId` against the accounts the user may access. An absent `accountId`
    /// means the session's primary account for the method's capability (as Cyrus does; every
    /// capability's primary account is the user's own), so `[["Mailbox/get", {}, "c1"]]`
    /// works. Present, it must be a string naming an accessible account (null is refused).
    pub fn account(&self, a: &args::Args) -> Result<AccountId, MethodError> {
        if !a.contains_key("accountId") {
            return Ok(self.user.id);
        }
        if a.get("accountId").is_some_and(serde_json::Value::is_null) {
            return Err(MethodError::invalid_arguments(
                "'accountId' must be a string",
            ));
        }
        let id = args::req_str(a, "accountId")?;
        match IdKind::Account.decode(id) {
            Some(n) if n == self.user.id => Ok(n),
            _ => Err(MethodError::account_not_found()),
        }
    }

    pub fn account_id(&self) -> String {
        IdKind::Account.encode(self.user.id)
    }

    /// Resolves a `#creationId` reference to the id it created (RFC 8620 §5.3).
    pub fn resolve_id(&self, id: &str) -> String {
        match id.strip_prefix('#') {
            Some(c) => self
                .created_ids
                .get(c)
                .cloned()
                .unwrap_or_else(|| id.to_string()),
            None => id.to_string(),
        }
    }

    pub fn uses(&self, cap: &str) -> bool {
        self.using.iter().any(|u| u == cap)
    }
}

/// State strings are the modseq in decimal; anything else is an unknown state.
pub fn state_string(modseq: u64) -> String {
    modseq.to_string()
}

pub fn parse_state(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Handles one API request (RFC 8620 §3.3-3.4). Request-level problems are `Err`;
/// method-level problems become "error" responses inside an `Ok`.
pub async fn handle(jmap: &Jmap, user: &Account, body: &[u8]) -> Result<Value, RequestError> {
    if body.len() > jmap.limits.max_size_request {
        return Err(RequestError::Limit {
            limit: "maxSizeRequest",
            detail: format!(
                "the request is larger than {} bytes",
                jmap.limits.max_size_request
            ),
        });
    }
    let req = request::parse(body, jmap.limits.max_calls_in_request)?;
    for cap in &req.using {
        if !REGISTERED.contains(&cap.as_str()) {
            return Err(RequestError::UnknownCapability(cap.clone()));
        }
    }
    let mut created_ids = req.created_ids.clone().unwrap_or_default();
    let mut responses: Vec<(String, Value, String)> = Vec::with_capacity(req.calls.len());
    let mut budget = response::Budget::new(jmap.limits.max_size_response);
    let index_deadline = std::time::Instant::now() + email::query_run::INDEX_WAIT;
    for mut call in req.calls {
        let outcome = match request::resolve_references(&mut call.args, &responses) {
            Err(e) => Err(e),
            Ok(()) => {
                let mut ctx = Ctx {
                    jmap,
                    user,
                    using: &req.using,
                    created_ids: &mut created_ids,
                    budget,
                    index_deadline,
                };
                dispatch::call(&mut ctx, &call.name, call.args).await
            }
        };
        // The response cap (response.rs): a read-only answer that does not fit becomes
        // requestTooLarge; what changed state is always answered.
        let outcome = outcome.and_then(|list| {
            let size: usize = list.iter().map(|(_, v)| response::cost(v)).sum();
            if size > budget.remaining() && response::read_only(&call.name) {
                Err(budget.exceeded())
            } else {
                budget.used = budget.used.saturating_add(size);
                Ok(list)
            }
        });
        match outcome {
            Ok(list) => {
                for (name, value) in list {
                    responses.push((name, value, call.call_id.clone()));
                }
            }
            Err(e) => responses.push(("error".into(), e.to_value(), call.call_id.clone())),
        }
    }
    let session_state = session::state(jmap, user);
    let mut out = json!({
        "methodResponses": responses.into_iter().map(|(n, v, id)| json!([n, v, id])).collect::<Vec<_>>(),
        "sessionState": session_state,
    });
    if req.created_ids.is_some() {
        out["createdIds"] = json!(created_ids);
    }
    Ok(out)
}
