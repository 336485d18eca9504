//! Email methods (RFC 8621 §4), one file each.

pub mod body;
pub mod build;
pub mod copy;
pub mod get;
pub mod import;
pub mod parse;
pub mod query;
pub mod query_changes;
pub mod query_filter;
pub mod query_run;
pub mod query_sort;
pub mod set;
