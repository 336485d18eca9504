//! Moving in and moving out (issue #18): `mailnook import maildir|mbox|imap` and
//! `mailnook export`.
//! Every imported message goes through the one ingest path (`import.rs`); while the server
//! runs, the work is done by the server (asked through the control socket, the files named by
//! absolute path must be readable by it), while it is stopped, by the command itself.

pub mod flags;
pub mod imap;
pub mod imap_conn;
pub mod import;
pub mod maildir;
pub mod mbox;
pub mod progress;
pub mod run;
pub mod utf7;

pub use run::Format;
