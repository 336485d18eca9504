//! App passwords (issue #15): the rules and the record type are in
//! `store/mail/app_passwords.rs`, over the backend interface; this opens the redb table
//! `APP_PASSWORDS` on demand for them.

use super::read::{Reader, table};
use super::tables::APP_PASSWORDS;
use super::write::Writer;
use crate::store::error::Result;
use crate::store::mail::app_passwords as app;
pub use crate::store::mail::app_passwords::AppPassword;
use crate::store::model::AccountId;

impl Writer<'_> {
    /// Stores a new app password; `Conflict` if the selector is taken (the caller draws
    /// another) or the account already holds `app_passwords::MAX_PER_ACCOUNT` (`store/mail/`).
    pub fn add_app_password(&mut self, acct: AccountId, p: &AppPassword) -> Result<()> {
        let tx = self.tx;
        app::add(&mut tx.open_table(APP_PASSWORDS)?, &self.accounts, acct, p)
    }

    /// Removes one app password; false if there was none.
    pub fn remove_app_password(&mut self, acct: AccountId, id: &str) -> Result<bool> {
        app::remove(&mut self.tx.open_table(APP_PASSWORDS)?, acct, id)
    }

    /// Records a use (time and client address), if the app password still exists.
    pub fn touch_app_password(
        &mut self,
        acct: AccountId,
        id: &str,
        at: i64,
        ip: Option<String>,
    ) -> Result<()> {
        app::touch(&mut self.tx.open_table(APP_PASSWORDS)?, acct, id, at, ip)
    }

    /// Drops every app password of an account (account deleted).
    pub fn remove_all_app_passwords(&mut self, acct: AccountId) -> Result<()> {
        app::remove_all(&mut self.tx.open_table(APP_PASSWORDS)?, acct)
    }
}

impl Reader {
    /// The account's app passwords, by id.
    pub fn app_passwords(&self, acct: AccountId) -> Result<Vec<AppPassword>> {
        let Some(t) = table!(self, APP_PASSWORDS) else {
            return Ok(Vec::new());
        };
        app::list(&t, acct)
    }

    pub fn app_password(&self, acct: AccountId, id: &str) -> Result<Option<AppPassword>> {
        let Some(t) = table!(self, APP_PASSWORDS) else {
            return Ok(None);
        };
        app::get(&t, acct, id)
    }
}
