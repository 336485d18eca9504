//! Identity (RFC 8621 §6): `get.rs` Identity/get, `set.rs` Identity/set; Identity/changes is
//! the shared /changes.
//!
//! Every account starts with a default identity for its own address that cannot be deleted
//! (`mayDelete: false`). An identity may only name an address the account owns (its own
//! address, an alias that delivers to it, a plus-address of one of those, or any address of a
//! domain whose catch-all is the account; `*@domain` needs that catch-all); anything else is
//! `forbiddenFrom`. Ownership is resolved before the write transaction, with the address
//! tables the SMTP side maintains.

pub mod get;
pub mod set;

use crate::store::Reader;
use crate::store::model::AccountId;

/// Does `acct` own `email` (see the module documentation)? The store's one ownership rule,
/// shared with EmailSubmission and the SMTP submission port.
pub fn owns(r: &Reader, acct: AccountId, email: &str) -> crate::store::Result<bool> {
    r.owns_address(acct, email)
}
