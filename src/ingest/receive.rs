//! Receiving a message for local recipients.

use crate::store::{Recipient, Store};

/// Where mail for a recipient goes: account addresses, aliases, plus-addressing (`user+tag`)
/// and catch-alls, case-insensitively (`store/redb/read_addresses.rs`). Used at RCPT TO and by
/// the outbound queue for local recipients.
pub async fn resolve(store: &Store, address: &str) -> crate::store::Result<Recipient> {
    let address = address.to_string();
    store.read(move |r| r.resolve_recipient(&address)).await
}
