//! JMAP errors: request-level (RFC 8620 §3.6.1, sent as RFC 7807 problem JSON by `http/`) and
//! method-level (§3.6.2, sent as an "error" invocation). Store errors become method errors here
//! and only here.

use crate::store::StoreError;
use serde_json::{Map, Value, json};

#[derive(Debug, Clone)]
pub enum RequestError {
    /// §3.6.1 urn:ietf:params:jmap:error:unknownCapability
    UnknownCapability(String),
    /// §3.6.1 urn:ietf:params:jmap:error:notJSON
    NotJson(String),
    /// §3.6.1 urn:ietf:params:jmap:error:notRequest
    NotRequest(String),
    /// §3.6.1 urn:ietf:params:jmap:error:limit, with the name of the limit.
    Limit { limit: &'static str, detail: String },
}

impl RequestError {
    pub fn type_uri(&self) -> &'static str {
        match self {
            RequestError::UnknownCapability(_) => "urn:ietf:params:jmap:error:unknownCapability",
            RequestError::NotJson(_) => "urn:ietf:params:jmap:error:notJSON",
            RequestError::NotRequest(_) => "urn:ietf:params:jmap:error:notRequest",
            RequestError::Limit { .. } => "urn:ietf:params:jmap:error:limit",
        }
    }

    /// The problem details object (RFC 7807), without transport concerns.
    pub fn problem(&self) -> Value {
        let (status, detail) = match self {
            RequestError::UnknownCapability(c) => (
                400,
                format!("The server does not support the capability {c}"),
            ),
            RequestError::NotJson(d) => (400, format!("The request body is not valid JSON: {d}")),
            RequestError::NotRequest(d) => (
                400,
                format!("The request is not a valid JMAP Request object: {d}"),
            ),
            // §3.6.1 names the limit; the status says what kind of limit it is.
            RequestError::Limit { limit, detail } => {
                let status = match *limit {
                    "maxSizeRequest" | "maxSizeUpload" => 413,
                    "maxConcurrentRequests" | "maxConcurrentUpload" => 429,
                    _ => 400,
                };
                (status, detail.clone())
            }
        };
        let mut v = json!({ "type": self.type_uri(), "status": status, "detail": detail });
        if let RequestError::Limit { limit, .. } = self {
            v["limit"] = json!(limit);
        }
        v
    }
}

/// A method-level error (§3.6.2) or a type-specific one (e.g. cannotCalculateChanges).
#[derive(Debug, Clone)]
pub struct MethodError {
    pub kind: &'static str,
    pub description: Option<String>,
    pub extra: Map<String, Value>,
}

impl MethodError {
    pub fn new(kind: &'static str, description: impl Into<String>) -> MethodError {
        MethodError {
            kind,
            description: Some(description.into()),
            extra: Map::new(),
        }
    }
    pub fn invalid_arguments(d: impl Into<String>) -> MethodError {
        MethodError::new("invalidArguments", d)
    }
    pub fn unknown_method(name: &str) -> MethodError {
        MethodError::new("unknownMethod", format!("Unknown method {name}"))
    }
    pub fn account_not_found() -> MethodError {
        MethodError::new(
            "accountNotFound",
            "The accountId does not name an account you can access",
        )
    }
    pub fn server_fail(d: impl Into<String>) -> MethodError {
        MethodError::new("serverFail", d)
    }
    pub fn cannot_calculate_changes() -> MethodError {
        MethodError::new(
            "cannotCalculateChanges",
            "The state is too old or unknown; resync",
        )
    }
    pub fn request_too_large(d: impl Into<String>) -> MethodError {
        MethodError::new("requestTooLarge", d)
    }
    pub fn unsupported_filter(d: impl Into<String>) -> MethodError {
        MethodError::new("unsupportedFilter", d)
    }
    pub fn unsupported_sort(d: impl Into<String>) -> MethodError {
        MethodError::new("unsupportedSort", d)
    }

    pub fn to_value(&self) -> Value {
        let mut m = self.extra.clone();
        m.insert("type".into(), json!(self.kind));
        if let Some(d) = &self.description {
            m.insert("description".into(), json!(d));
        }
        Value::Object(m)
    }
}

impl From<StoreError> for MethodError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => MethodError::new("notFound", "not found"),
            StoreError::Invalid(d) => MethodError::invalid_arguments(d),
            StoreError::Conflict(d) => MethodError::new("invalidArguments", d),
            StoreError::Closed => {
                MethodError::new("serverUnavailable", "the server is shutting down")
            }
            // RFC 8620 §3.6.2 serverUnavailable: "attempting the same operation later ... may
            // succeed" — true of a full disk and of the reopen that follows it.
            StoreError::Unavailable(_) => MethodError::new(
                "serverUnavailable",
                "storage cannot be written just now (disk full?); try again shortly",
            ),
            StoreError::DiskFull(e) => {
                log::error!("jmap: the disk is full: {e}");
                MethodError::new(
                    "serverUnavailable",
                    "the server's disk is full; nothing was changed; try again later",
                )
            }
            // RFC 8620 §5.2: the log cannot answer from this state; the client resyncs.
            StoreError::StateTooOld => MethodError::cannot_calculate_changes(),
            StoreError::OverQuota(d) => MethodError::new("overQuota", d),
            StoreError::Aborted(d) => {
                log::error!("jmap: aborted {d}");
                MethodError::server_fail("internal storage error; nothing was changed")
            }
            other => {
                log::error!("jmap: store error: {other}");
                MethodError::server_fail("internal storage error")
            }
        }
    }
}

impl From<crate::index::IndexError> for MethodError {
    fn from(e: crate::index::IndexError) -> Self {
        log::error!("jmap: search index error: {e}");
        MethodError::server_fail("the search index failed")
    }
}

/// A SetError (RFC 8620 §5.3) for one object of a /set.
#[derive(Debug, Clone)]
pub struct SetError {
    pub kind: &'static str,
    pub description: Option<String>,
    pub properties: Option<Vec<String>>,
    /// Type-specific members (RFC 8621: `notFound` of blobNotFound, `existingId` of
    /// alreadyExists).
    pub extra: Map<String, Value>,
}

impl SetError {
    /// Adds a type-specific member to the SetError object.
    pub fn with(mut self, key: &str, v: Value) -> SetError {
        self.extra.insert(key.to_string(), v);
        self
    }
    pub fn new(kind: &'static str, d: impl Into<String>) -> SetError {
        SetError {
            kind,
            description: Some(d.into()),
            properties: None,
            extra: Map::new(),
        }
    }
    pub fn invalid_properties(props: &[&str], d: impl Into<String>) -> SetError {
        SetError {
            kind: "invalidProperties",
            description: Some(d.into()),
            properties: Some(props.iter().map(|s| s.to_string()).collect()),
            extra: Map::new(),
        }
    }
    pub fn not_found() -> SetError {
        SetError::new("notFound", "no such object")
    }
    pub fn to_value(&self) -> Value {
        let mut v = Value::Object(self.extra.clone());
        v["type"] = json!(self.kind);
        if let Some(d) = &self.description {
            v["description"] = json!(d);
        }
        if let Some(p) = &self.properties {
            v["properties"] = json!(p);
        }
        v
    }
}

impl From<StoreError> for SetError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => SetError::not_found(),
            StoreError::Invalid(d) => SetError::new("invalidProperties", d),
            StoreError::Conflict(d) => SetError::new("invalidProperties", d),
            // RFC 8620 §5.3: the create would exceed a server-defined limit; RFC 9425.
            StoreError::OverQuota(d) => SetError::new("overQuota", d),
            // RFC 8621 §7.5: the account's sending limits (quota/send.rs).
            StoreError::SendLimit {
                recipients: true,
                reason,
            } => SetError::new("tooManyRecipients", reason),
            StoreError::SendLimit { reason, .. } => SetError::new("forbiddenToSend", reason),
            // Not about the object: /set aborts the whole call with serverFail (jmap/set.rs).
            other => SetError::new("serverFail", other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 21: store errors are typed and mapped here only. (A full disk cannot be made to
    /// hit a JMAP write reliably in tests/it/store_disk_full.rs: redb reuses free pages, so a
    /// small /set often still commits; SMTP's 452 is tested there.)
    #[test]
    fn store_errors_map_to_method_errors() {
        let full = StoreError::io(std::io::Error::from(std::io::ErrorKind::StorageFull));
        assert_eq!(MethodError::from(full).kind, "serverUnavailable");
        let gone = StoreError::Unavailable("reopening".into());
        assert_eq!(MethodError::from(gone).kind, "serverUnavailable");
        assert_eq!(
            MethodError::from(StoreError::StateTooOld).kind,
            "cannotCalculateChanges"
        );
        let aborted = StoreError::Aborted("/set: x".into());
        assert_eq!(MethodError::from(aborted).kind, "serverFail");
        let io = StoreError::io(std::io::Error::other("eio"));
        assert_eq!(MethodError::from(io).kind, "serverFail");
        assert_eq!(
            MethodError::from(StoreError::Invalid("x".into())).kind,
            "invalidArguments"
        );
        // Quotas and sending limits are about the object: a SetError, the /set goes on.
        assert_eq!(
            SetError::from(StoreError::OverQuota("x".into())).kind,
            "overQuota"
        );
        let send = |recipients| StoreError::SendLimit {
            recipients,
            reason: "x".into(),
        };
        assert_eq!(SetError::from(send(false)).kind, "forbiddenToSend");
        assert_eq!(SetError::from(send(true)).kind, "tooManyRecipients");
    }
}
