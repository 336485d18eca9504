//! The changelog moved to `store/mail/changes.rs` (backend-neutral, over `store/backend.rs`);
//! this name stays for the redb modules that call `changes::counter` and friends.

pub use crate::store::mail::changes::*;
