//! Email methods (RFC 8621 §4), one file each.

pub mod body;
pub mod get;
pub mod query;
