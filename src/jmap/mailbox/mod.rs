//! Mailbox (RFC 8621 §2), one file per method: `get.rs` Mailbox/get and the JSON form of a
//! [`Mailbox`](crate::store::model::Mailbox); `set.rs` Mailbox/set on the shared /set
//! machinery; `query.rs` Mailbox/query and /queryChanges. Mailbox/changes is the shared
//! /changes (`jmap/changes.rs`).

pub mod get;
pub mod query;
pub mod set;
