//! The redb implementation of the store: tables, reads, writes, changelog, group commit.

pub mod app_passwords;
mod backend;
pub mod backup;
pub use crate::store::mail::blob_codec;
pub mod changes;
pub mod check;
pub mod commit;
mod error;
pub mod identity;
pub mod import_state;
pub mod index_marks;
pub mod junk;
pub mod mta_sts;
pub mod oauth_clients;
pub mod outbound;
pub mod push;
pub mod quota;
pub mod read;
pub mod read_addresses;
pub mod read_newest;
pub mod read_stats;
pub mod recover;
pub mod schema;
pub mod secrets;
pub mod send_counts;
pub mod shares;
pub mod sieve;
pub mod tables;
pub mod tokens;
pub mod trim;
pub mod uploads;
pub mod write;
pub mod write_addresses;
pub mod write_mailbox;
pub mod write_state;

use crate::store::error::{Result, StoreError};
use redb::ReadableTable;
use std::path::Path;

/// Opens (or creates) the database file and makes sure every table exists, so readers never
/// see a half-initialised file.
pub fn open(path: &Path, cache_bytes: usize) -> Result<redb::Database> {
    // Refuses a newer file without writing, migrates an older one after a backup (schema.rs).
    schema::prepare(path)?;
    let db = redb::Database::builder()
        .set_cache_size(cache_bytes)
        .create(path)?;
    let tx = db.begin_write()?;
    {
        let mut w = write::Writer::open(&tx)?;
        let version = w.meta.get("schema")?.map(|v| v.value());
        match version {
            None => {
                w.meta.insert("schema", tables::SCHEMA_VERSION)?;
            }
            Some(v) if v == tables::SCHEMA_VERSION => {}
            Some(v) => {
                return Err(StoreError::Corrupt(format!(
                    "database schema {v} is not supported by this mailnook (expects {})",
                    tables::SCHEMA_VERSION
                )));
            }
        }
        w.quota_derive_if_needed()?;
    }
    tx.commit()?;
    Ok(db)
}
