//! Email methods (RFC 8621 §4), one file each.

pub mod body;
pub mod build;
pub mod copy;
pub mod get;
pub mod import;
pub mod parse;
pub mod query;
pub mod set;
