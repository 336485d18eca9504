//! Sieve scripts of an account (RFC 9661, RFC 5804). `SIEVE_SCRIPTS` holds
//! `(account, id) -> SieveScript` as JSON: the name, the blob holding the text (one reference
//! in `BLOB_REFS` per script), whether it is the active one, and its compiled form. Changes are
//! logged under `DataType::SieveScript` for SieveScript/changes and state strings.
//! `SIEVE_REPORTED` remembers the last failure told to the owner.

use super::read::{Reader, table};
use super::tables::{SIEVE_REPORTED, SIEVE_SCRIPTS, slot};
use super::write::Writer;
use crate::store::error::{Result, StoreError};
use crate::store::model::{AccountId, ChangeKind, DataType, SieveScript};
use redb::ReadableTable;

fn decode(v: &[u8]) -> Result<SieveScript> {
    Ok(serde_json::from_slice(v)?)
}

impl Writer<'_> {
    /// The bytes of a blob `acct` holds a reference to (an upload, a script), inside a write.
    pub fn account_blob(&self, acct: AccountId, hash: &str) -> Result<Option<Vec<u8>>> {
        if self.blob_refs.get((hash, acct))?.is_none() {
            return Ok(None);
        }
        match self.blobs.get(hash)? {
            Some(v) => super::blob_codec::decode(v.value())
                .map(Some)
                .map_err(StoreError::Corrupt),
            None => Ok(None),
        }
    }

    pub fn sieve_scripts(&self, acct: AccountId) -> Result<Vec<SieveScript>> {
        let t = self.tx.open_table(SIEVE_SCRIPTS)?;
        let mut out = Vec::new();
        for row in t.range((acct, 0)..=(acct, u32::MAX))? {
            let (_, v) = row?;
            out.push(decode(v.value())?);
        }
        Ok(out)
    }

    /// Stores a script with `text` as its content; `script.id` is assigned when `created`.
    /// The blob reference of a replaced text is released. Returns the stored script.
    pub fn put_sieve_script(
        &mut self,
        acct: AccountId,
        mut script: SieveScript,
        text: Option<&[u8]>,
        created: bool,
    ) -> Result<SieveScript> {
        if created {
            script.id = self.next_id(acct, slot::NEXT_SIEVE)?;
        }
        if let Some(text) = text {
            let old = if created {
                None
            } else {
                let t = self.tx.open_table(SIEVE_SCRIPTS)?;
                let v = t.get((acct, script.id))?.map(|v| decode(v.value()));
                v.transpose()?.map(|s| s.blob)
            };
            script.blob = self.put_blob(acct, text)?;
            if let Some(old) = old {
                self.release_blob(acct, &old)?;
            }
        }
        let bytes = serde_json::to_vec(&script).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        {
            let mut t = self.tx.open_table(SIEVE_SCRIPTS)?;
            t.insert((acct, script.id), bytes.as_slice())?;
        }
        let kind = if created {
            ChangeKind::Created
        } else {
            ChangeKind::Updated
        };
        self.log(acct, DataType::SieveScript, script.id, kind)?;
        Ok(script)
    }

    /// Removes a script and its blob reference; false if there was none.
    pub fn remove_sieve_script(&mut self, acct: AccountId, id: u32) -> Result<bool> {
        let gone = {
            let mut t = self.tx.open_table(SIEVE_SCRIPTS)?;
            let v = t.remove((acct, id))?.map(|v| decode(v.value()));
            v.transpose()?
        };
        let Some(s) = gone else {
            return Ok(false);
        };
        self.release_blob(acct, &s.blob)?;
        self.log(acct, DataType::SieveScript, id, ChangeKind::Destroyed)?;
        Ok(true)
    }

    /// Makes `id` the active script (None: no script active), logging each script whose
    /// `is_active` changed.
    pub fn activate_sieve_script(&mut self, acct: AccountId, id: Option<u32>) -> Result<()> {
        for mut s in self.sieve_scripts(acct)? {
            let want = Some(s.id) == id;
            if s.is_active != want {
                s.is_active = want;
                self.put_sieve_script(acct, s, None, false)?;
            }
        }
        Ok(())
    }

    /// Records `what` as the last failure reported; true when it differs from the previous
    /// one (so the caller reports it).
    pub fn sieve_report_once(&mut self, acct: AccountId, what: &str) -> Result<bool> {
        let mut t = self.tx.open_table(SIEVE_REPORTED)?;
        if t.get(acct)?.is_some_and(|v| v.value() == what) {
            return Ok(false);
        }
        t.insert(acct, what)?;
        Ok(true)
    }

    /// Drops an account's scripts (account deletion).
    pub fn forget_sieve_scripts(&mut self, acct: AccountId) -> Result<()> {
        for s in self.sieve_scripts(acct)? {
            self.remove_sieve_script(acct, s.id)?;
        }
        let mut t = self.tx.open_table(SIEVE_REPORTED)?;
        t.remove(acct)?;
        Ok(())
    }
}

impl Reader {
    pub fn sieve_scripts(&self, acct: AccountId) -> Result<Vec<SieveScript>> {
        let Some(t) = table!(self, SIEVE_SCRIPTS) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in t.range((acct, 0)..=(acct, u32::MAX))? {
            let (_, v) = row?;
            out.push(decode(v.value())?);
        }
        Ok(out)
    }

    pub fn active_sieve_script(&self, acct: AccountId) -> Result<Option<SieveScript>> {
        Ok(self.sieve_scripts(acct)?.into_iter().find(|s| s.is_active))
    }
}
