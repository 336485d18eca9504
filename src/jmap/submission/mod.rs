//! EmailSubmission (RFC 8621 §7): sending an Email that is stored in the account.
//!
//! - `get.rs`: EmailSubmission/get and the JSON form of a stored [`Submission`];
//! - `envelope.rs`: the checks of a create done before the write transaction (the Email, the
//!   Identity, the envelope given or derived from the headers, the §7.5 SetErrors) and the
//!   bytes that go out (without Bcc);
//! - `set.rs`: EmailSubmission/set on the shared /set machinery: create queues the message
//!   (`src/outbound/`) in the same transaction that stores the submission; update can cancel a
//!   pending one; then the implicit Email/set of onSuccessUpdateEmail/onSuccessDestroyEmail;
//! - `query.rs`: EmailSubmission/query and /queryChanges, in memory (an account has few).
//!
//! EmailSubmission/changes is the shared /changes. The queue runner keeps each submission's
//! undoStatus and deliveryStatus up to date (`outbound/queue.rs`).

pub mod envelope;
pub mod get;
pub mod query;
pub mod set;
