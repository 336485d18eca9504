//! Mail rules, the same whatever stores the bytes: what a new account starts with, which
//! mailbox roles exist, what an address is, how a thread is ordered, how counts move, how a
//! blob is named. The backend (`store/redb/`) calls these and only keeps records; a second
//! backend (docs/ARCHITECTURE.md "A second backend") would call the same functions, so two
//! backends cannot disagree on a rule.
//!
//! Nothing here opens a table or a transaction: the rules take values and return values, and
//! the operations (accounts, addresses, blobs, emails, mailboxes, threads, counts, changes) take
//! the tables they work on, typed by the backend interface (`store/backend.rs`) and declared in
//! [`tables::Schema`]. Each runs per row monomorphised for the backend's table types (no `dyn`,
//! no boxing).

pub mod account;
pub mod address;
pub mod blob;
pub mod blob_codec;
pub mod changes;
pub mod counts;
pub mod domains;
pub mod email;
pub mod identity;
pub mod mailbox;
pub mod push;
pub mod read;
pub mod tables;
pub mod thread;
pub mod uploads;
