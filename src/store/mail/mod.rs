//! The mail operations and rules, the same whatever stores the bytes: accounts, addresses,
//! local domains and aliases, identities and vacation, blobs, emails, mailboxes, threads,
//! counts and the changelog, and the records kept around them (push subscriptions, uploads, the
//! outbound queue, DKIM keys, submissions, vacation replies, app passwords, tokens, OAuth
//! clients, index marks). The backend (`store/redb/`) opens its tables and calls these; a
//! second backend (docs/ARCHITECTURE.md "A second backend") would call the same functions, so
//! two backends cannot disagree on a rule.
//!
//! Nothing here opens a table or a transaction: the rules take values and return values, and
//! the operations take the tables they work on, typed by the backend interface
//! (`store/backend.rs`): a write on the mail tables is a method of [`tables::Tables`] (declared
//! by the backend's [`tables::Schema`]), a read or a write on a table opened on demand a
//! function taking that table. Each runs per row monomorphised for the backend's table types
//! (no `dyn`, no boxing).

pub mod account;
pub mod address;
pub mod app_passwords;
pub mod blob;
pub mod blob_codec;
pub mod changes;
pub mod counts;
pub mod domains;
pub mod email;
pub mod identity;
pub mod index_marks;
pub mod mailbox;
pub mod oauth_clients;
pub mod outbound;
pub mod push;
pub mod quota;
pub mod read;
pub mod rights;
pub mod stats;
pub mod tables;
pub mod thread;
pub mod tokens;
pub mod uploads;
