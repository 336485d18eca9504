//! Account rules: an account is named by its own address, which is also its first identity.

use super::address::canonical_address;
use crate::store::error::{Result, StoreError};
use crate::store::model::Identity;

/// The canonical name of a new account; it must be an address (`local@domain`).
pub fn account_name(name: &str) -> Result<String> {
    let name = canonical_address(name);
    if name.is_empty() || !name.contains('@') {
        return Err(StoreError::Invalid(format!(
            "'{name}' is not an email address"
        )));
    }
    Ok(name)
}

/// RFC 8621 §6: the account's own address is its default identity, which cannot be deleted.
pub fn default_identity(address: &str) -> Identity {
    Identity {
        id: 0,
        name: String::new(),
        email: address.to_string(),
        reply_to: None,
        bcc: None,
        text_signature: String::new(),
        html_signature: String::new(),
        may_delete: false,
    }
}
