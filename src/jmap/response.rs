//! The cap on the bytes one API response may build (issue 13).
//!
//! RFC 8620 bounds what a client may *send* (maxSizeRequest, maxObjectsInGet) but a small
//! request can still ask for a large answer: 64 Email/get calls of 1,000 ids each with
//! fetchAllBodyValues. The method responses of one request may hold at most
//! `limits.max_size_response` bytes while they are built (`[limits] max_size_response`, default
//! 16 MB; not advertised: the Session has no such capability field). The bytes are [`cost`]: the
//! answer's estimated size in memory, not its JSON text, because the whole answer is held as
//! serde_json values until it is written, and a list of small objects takes many times its
//! JSON size there.
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

/// What `v` costs while it is held: an estimate of its in-memory size (serde_json's B-tree nodes,
/// key strings, string and array buffers with allocator overhead), which is what the cap
/// bounds. It is never much less than the JSON text, and over ten times more for answers made
/// of many small objects (the bodyValues of 1,000 empty parts: 65 kB of JSON, ~0.8 MB held,
/// ~1.5 MB of RSS measured). Walked with a stack: the shape comes from the input.
pub fn cost(v: &Value) -> usize {
    const SLOT: usize = std::mem::size_of::<Value>();
    // serde_json's Map is a BTreeMap: a leaf node holds up to 11 entries inline (String key and
    // Value, ~630 bytes) whether or not they are used.
    const MAP_NODE: usize = 640;
    const MAP_FANOUT: usize = 11;
    // A heap buffer: its bytes plus malloc's header, 32 bytes at least.
    let heap = |n: usize| (n + 16).max(32);
    let mut total = SLOT;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) if !s.is_empty() => total = total.saturating_add(heap(s.len())),
            Value::Array(a) if !a.is_empty() => {
                total = total.saturating_add(heap(a.len() * SLOT));
                stack.extend(a.iter());
            }
            Value::Object(m) if !m.is_empty() => {
                total = total.saturating_add(m.len().div_ceil(MAP_FANOUT) * MAP_NODE);
                for (k, v) in m {
                    total = total.saturating_add(heap(k.len()));
                    stack.push(v);
                }
            }
            _ => {}
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cost_is_at_least_the_json() {
        let v = json!({"a": [1, "x\"y"], "b": null, "c": "long text ".repeat(100)});
        assert!(cost(&v) >= serde_json::to_vec(&v).unwrap().len());
        let small = json!({"1.2": {"value": "", "isEncodingProblem": false, "isTruncated": false}});
        assert!(cost(&small) > 10 * serde_json::to_vec(&small).unwrap().len());
        assert!(read_only("Email/get") && read_only("Email/parse"));
        assert!(!read_only("Email/set") && !read_only("Email/import"));
    }
}
