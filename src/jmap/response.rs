//! The cap on the bytes one API response may build (issue 13).
//!
//! RFC 8620 bounds what a client may *send* (maxSizeRequest, maxObjectsInGet) but a small
//! request can still ask for a large answer: 64 Email/get calls of 1,000 ids each with
//! fetchAllBodyValues. The server answers at most `limits.max_size_response` bytes of method
//! responses per request (`[limits] max_size_response`, not advertised: the Session has no such
//! capability field).
//!
//! A read-only method whose answer would pass the cap gets the method-level error
//! `requestTooLarge` instead (RFC 8620 §5.1 defines it for /get: "the server is unwilling to
//! process" that much in one call; the remedy is the same: ask for fewer ids or properties, or
//! set maxBodyValueBytes). It is a method error, not a request error (§3.6.1 limits name what a
//! client sent), so earlier calls keep their answers (§3.6.2). Email/get and Email/parse check
//! the budget while they build, so the oversized answer is never materialised. Methods that
//! change state (/set, /copy, /import, EmailSubmission) always return their response: an error
//! would claim nothing changed (§3.6.2); their size is bounded by maxObjectsInSet anyway.

use super::error::MethodError;
use serde_json::Value;

/// What is left of the request's response allowance.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub cap: usize,
    pub used: usize,
}

impl Budget {
    pub fn new(cap: usize) -> Budget {
        Budget { cap, used: 0 }
    }

    pub fn unlimited() -> Budget {
        Budget::new(usize::MAX)
    }

    pub fn remaining(&self) -> usize {
        self.cap.saturating_sub(self.used)
    }

    /// The error for an answer that does not fit.
    pub fn exceeded(&self) -> MethodError {
        MethodError::request_too_large(format!(
            "the response would be larger than {} bytes; ask for fewer ids or properties, \
             or set maxBodyValueBytes",
            self.cap
        ))
    }
}

/// Whether a method only reads: only those may have their answer replaced by an error.
pub fn read_only(method: &str) -> bool {
    method == "Email/parse"
        || method == "Core/echo"
        || ["/get", "/query", "/queryChanges", "/changes"]
            .iter()
            .any(|s| method.ends_with(s))
}

/// Bytes `v` takes as JSON, without building the text.
pub fn json_len(v: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0 += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    // Writing to a counter cannot fail; a Value always serialises.
    let _ = serde_json::to_writer(&mut c, v);
    c.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_serialised_bytes() {
        let v = json!({"a": [1, "x\"y"], "b": null});
        assert_eq!(json_len(&v), serde_json::to_vec(&v).unwrap().len());
        assert!(read_only("Email/get") && read_only("Email/parse"));
        assert!(!read_only("Email/set") && !read_only("Email/import"));
    }
}
