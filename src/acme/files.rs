//! The ACME files in `data_dir/acme/` (mode 0700 directory, 0600 files):
//! `account.json` (the directory URL and the account credentials with its private key),
//! `cert.pem` + `key.pem` (the certificate chain in use and its key), `state.json`.
//! Files are replaced by rename, so a crash leaves the old or the new file, never half of one.

use std::io::Write;
use std::path::{Path, PathBuf};

pub fn cert_path(data_dir: &Path) -> PathBuf {
    super::state::dir(data_dir).join("cert.pem")
}

pub fn key_path(data_dir: &Path) -> PathBuf {
    super::state::dir(data_dir).join("key.pem")
}

pub fn account_path(data_dir: &Path) -> PathBuf {
    super::state::dir(data_dir).join("account.json")
}

pub fn ensure_dir(data_dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    let d = super::state::dir(data_dir);
    if d.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&d)
        .map_err(|e| format!("cannot create {}: {e}", d.display()))
}

/// Writes `bytes` to a temporary file (mode 0600), syncs it, and renames it over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
