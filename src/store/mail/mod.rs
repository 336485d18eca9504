//! Mail rules, the same whatever stores the bytes: what a new account starts with, which
//! mailbox roles exist, what an address is, how a thread is ordered, how counts move, how a
//! blob is named. The backend (`store/redb/`) calls these and only keeps records; a second
//! backend (docs/ARCHITECTURE.md "A second backend") would call the same functions, so two
//! backends cannot disagree on a rule.
//!
//! Nothing here opens a table or a transaction: every function takes values and returns values.

pub mod account;
pub mod address;
pub mod blob;
pub mod changes;
pub mod counts;
pub mod mailbox;
pub mod quota;
pub mod thread;
