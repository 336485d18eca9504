//! `mailnook backup`, `mailnook restore` and `mailnook check` (contrib/BACKUP.md).
//!
//! A backup is a directory: `mailnook.redb` (a consistent copy of the database as of one read
//! snapshot, `store/redb/backup.rs`), the TLS certificate and key files found in the data
//! directory, and `manifest.json` (what, when, which format). It is written under
//! `DEST.partial` and renamed to `DEST` only when complete, so a directory named `DEST` is
//! always a whole backup. While the server runs, the backup is made by the server (the CLI asks
//! through the control socket, `control.rs`) and delivery goes on; while it is stopped, the CLI
//! opens the store itself. The search index is not copied: a server started on a restored
//! database rebuilds it (no index generation in the copy).
//!
//! Restore is offline only: it refuses a data directory whose server is running, checks the
//! backup first, moves the current database and certificate aside (never deletes them), and
//! removes the derived index.

use crate::accounts::Outcome;
use crate::store::{CheckReport, SCHEMA_VERSION, Store, snapshot};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The database file's name, in a data directory and in a backup.
pub const DB_FILE: &str = "mailnook.redb";
/// Files of the data directory that a backup carries besides the database (`tls.rs`).
pub const TLS_FILES: [&str; 5] = [
    "tls-cert.pem",
    "tls-key.pem",
    "tls-installed.json",
    "tls-installed-cert.pem",
    "tls-installed-key.pem",
];

/// A request over the control socket (`control.rs`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum DataCommand {
    /// Write a backup directory `dest` (absolute; must not exist).
    Backup { dest: PathBuf },
    /// Check the running database.
    Check,
    /// Import a Maildir tree or mbox file (absolute path) into an account (`transfer/`).
    Import {
        account: String,
        format: crate::transfer::Format,
        path: PathBuf,
        #[serde(default)]
        mailbox: Option<String>,
    },
    /// Import every folder of an IMAP server into an account (`transfer/imap.rs`).
    ImportImap(crate::transfer::imap::Request),
    /// Export an account into the new directory `dest` (absolute).
    Export {
        account: String,
        format: crate::transfer::Format,
        dest: PathBuf,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// "mailnook-backup/1".
    pub format: String,
    pub mailnook: String,
    pub schema: u64,
    pub created_at: i64,
    pub tables: u64,
    pub rows: u64,
    pub files: Vec<String>,
}

/// Runs a command; an import reports its running summary to `progress` about once a second
/// (`transfer/progress.rs` sends it on to the CLI).
pub async fn run(
    store: &Store,
    data_dir: &Path,
    cmd: DataCommand,
    progress: crate::transfer::run::Progress<'_>,
) -> Outcome {
    match cmd {
        DataCommand::Backup { dest } => match backup(store, data_dir, &dest).await {
            Ok(text) => Outcome::Done(text),
            Err(e) => Outcome::Error(e),
        },
        DataCommand::Check => match store.check().await {
            Ok(r) => report_outcome("the running database", &r),
            Err(e) => Outcome::Error(format!("check failed: {e}")),
        },
        DataCommand::Import {
            account,
            format,
            path,
            mailbox,
        } => {
            let what = format!("import of {} into {account}", path.display());
            log::info!("{what} started");
            match crate::transfer::run::import(
                store,
                &account,
                format,
                &path,
                mailbox.as_deref(),
                progress,
            )
            .await
            {
                Ok(s) => {
                    log::info!("{what}: {}", s.progress_line(None));
                    Outcome::Done(s.report())
                }
                Err(e) => Outcome::Error(e),
            }
        }
        DataCommand::ImportImap(req) => {
            let what = format!("import from {} into {}", req.from, req.account);
            log::info!("{what} started");
            match crate::transfer::imap::import(store, &req, progress).await {
                Ok(s) => {
                    log::info!("{what}: {}", s.progress_line(None));
                    Outcome::Done(s.report())
                }
                Err(e) => {
                    log::warn!("{what} failed: {e}");
                    Outcome::Error(e)
                }
            }
        }
        DataCommand::Export {
            account,
            format,
            dest,
        } => match crate::transfer::run::export(store, &account, format, &dest).await {
            Ok(t) => Outcome::Done(t),
            Err(e) => Outcome::Error(e),
        },
    }
}

/// Makes a backup of `store` (running or not) into the new directory `dest`.
pub async fn backup(store: &Store, data_dir: &Path, dest: &Path) -> Result<String, String> {
    let started = Instant::now();
    if !dest.is_absolute() {
        return Err(format!("{} is not an absolute path", dest.display()));
    }
    if dest.exists() {
        return Err(format!("{} exists; give a new directory", dest.display()));
    }
    let mut partial = dest.as_os_str().to_os_string();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    if partial.exists() {
        // Left by a backup that died; it was never complete.
        std::fs::remove_dir_all(&partial)
            .map_err(|e| format!("cannot remove {}: {e}", partial.display()))?;
    }
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&partial)
            .map_err(|e| format!("cannot create {}: {e}", partial.display()))?;
    }
    let stats = store
        .copy_snapshot(partial.join(DB_FILE))
        .await
        .map_err(|e| format!("cannot copy the database: {e}"))?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            partial.join(DB_FILE),
            std::fs::Permissions::from_mode(0o600),
        )
        .map_err(|e| format!("cannot protect the copy: {e}"))?;
    }
    let mut files = vec![DB_FILE.to_string()];
    for name in TLS_FILES {
        let from = data_dir.join(name);
        if from.is_file() {
            copy_private(&from, &partial.join(name))?;
            files.push(name.to_string());
        }
    }
    let manifest = Manifest {
        format: "mailnook-backup/1".into(),
        mailnook: env!("CARGO_PKG_VERSION").into(),
        schema: stats.schema,
        created_at: crate::date::now(),
        tables: stats.tables,
        rows: stats.rows,
        files,
    };
    let text = serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?;
    write_synced(&partial.join("manifest.json"), &text)?;
    sync_dir(&partial)?;
    std::fs::rename(&partial, dest)
        .map_err(|e| format!("cannot rename to {}: {e}", dest.display()))?;
    if let Some(parent) = dest.parent() {
        sync_dir(parent)?;
    }
    let size = std::fs::metadata(dest.join(DB_FILE))
        .map(|m| m.len())
        .unwrap_or(0);
    Ok(format!(
        "backup written to {}: {} rows in {} tables, database {:.1} MB, in {:.1} s",
        dest.display(),
        stats.rows,
        stats.tables,
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    ))
}

/// The database file a `check`/`restore` argument names: a backup directory or a file.
pub fn db_in(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join(DB_FILE)
    } else {
        path.to_path_buf()
    }
}

/// Checks a file nobody has open (a backup, or a stopped server's database).
pub fn check_path(path: &Path) -> Outcome {
    let db = db_in(path);
    match snapshot::check_file(&db) {
        Ok(r) => report_outcome(&db.display().to_string(), &r),
        Err(crate::store::StoreError::NotFound) => {
            Outcome::Error(format!("no database at {}", db.display()))
        }
        Err(e) => Outcome::Error(format!("cannot read {}: {e}", db.display())),
    }
}

/// The report as text; an error when there are problems (so the exit code says so).
pub fn report_outcome(what: &str, r: &CheckReport) -> Outcome {
    let mut text = format!(
        "{what}: format {}, {} accounts, {} mailboxes, {} emails, {} blobs ({:.1} MB)\n",
        r.schema.map_or("none".to_string(), |v| v.to_string()),
        r.accounts,
        r.mailboxes,
        r.emails,
        r.blobs,
        r.blob_bytes as f64 / 1e6
    );
    if r.problem_count == 0 {
        text.push_str("no problems found");
        return Outcome::Done(text);
    }
    for p in &r.problems {
        text.push_str(&format!("problem: {p}\n"));
    }
    if r.problem_count > r.problems.len() as u64 {
        text.push_str(&format!(
            "... and {} more\n",
            r.problem_count - r.problems.len() as u64
        ));
    }
    text.push_str(&format!("{} problems found", r.problem_count));
    Outcome::Error(text)
}

/// Restores the backup `src` into the data directory of a stopped server. `server_running`
/// says whether the data directory's database is held by a running server (the caller tried
/// to open it). Returns what was done.
pub fn restore(src: &Path, data_dir: &Path, server_running: bool) -> Result<String, String> {
    if server_running {
        return Err(format!(
            "a server is running on {}; stop it first (restore replaces its database)",
            data_dir.display()
        ));
    }
    let src_db = db_in(src);
    match snapshot::file_version(&src_db) {
        Ok(Some(v)) if v > SCHEMA_VERSION => {
            return Err(format!(
                "{} has database format {v}, newer than this mailnook's {SCHEMA_VERSION}: \
                 restore it with the newer mailnook",
                src_db.display()
            ));
        }
        Ok(Some(_)) => {}
        Ok(None) => return Err(format!("{} is not a mailnook database", src_db.display())),
        Err(e) => return Err(format!("cannot read {}: {e}", src_db.display())),
    }
    if let Outcome::Error(report) = check_path(src) {
        return Err(format!(
            "the backup does not pass the check; not restored\n{report}"
        ));
    }
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(data_dir)
            .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
    }
    let stamp = crate::date::now();
    let mut moved = Vec::new();
    let aside = |name: &str| data_dir.join(format!("{name}.before-restore-{stamp}"));
    let target = data_dir.join(DB_FILE);
    // Copied under a temporary name first: until the rename, the old database is untouched.
    let incoming = data_dir.join(format!("{DB_FILE}.restoring"));
    snapshot::copy_durably(&src_db, &incoming).map_err(|e| e.to_string())?;
    if target.exists() {
        std::fs::rename(&target, aside(DB_FILE)).map_err(|e| e.to_string())?;
        moved.push(aside(DB_FILE));
    }
    std::fs::rename(&incoming, &target).map_err(|e| e.to_string())?;
    let src_dir = if src.is_dir() { Some(src) } else { None };
    let mut certs = 0;
    for name in TLS_FILES {
        let here = data_dir.join(name);
        let there = src_dir.map(|d| d.join(name));
        let Some(there) = there.filter(|p| p.is_file()) else {
            continue;
        };
        if here.exists() {
            std::fs::rename(&here, aside(name)).map_err(|e| e.to_string())?;
            moved.push(aside(name));
        }
        copy_private(&there, &here)?;
        certs += 1;
    }
    let index = data_dir.join("index");
    if index.exists() {
        std::fs::remove_dir_all(&index)
            .map_err(|e| format!("cannot remove the old index {}: {e}", index.display()))?;
    }
    sync_dir(data_dir)?;
    let mut text = format!(
        "restored {} into {} with {certs} certificate files; the search index is rebuilt on \
         the next start",
        src_db.display(),
        data_dir.display()
    );
    for m in moved {
        text.push_str(&format!("\nkept the previous {}", m.display()));
    }
    Ok(text)
}

fn copy_private(from: &Path, to: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let bytes = std::fs::read(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    write_synced(to, &bytes)?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("cannot protect {}: {e}", to.display()))
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let err = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(err)?;
    f.write_all(bytes).map_err(err)?;
    f.sync_all().map_err(err)
}

fn sync_dir(dir: &Path) -> Result<(), String> {
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| format!("cannot sync {}: {e}", dir.display()))
}

/// `mailnook backup DEST`: through the running server, or on the stopped store directly.
pub fn cli_backup(config: &crate::config::Config, dest: &Path) -> Result<String, String> {
    let dest = std::path::absolute(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    if !config.db_path().exists() {
        return Err(format!(
            "no mailnook database in {}",
            config.data_dir.display()
        ));
    }
    let outcome = match crate::app::open_store_or_running(config)? {
        Some(store) => {
            let r = smol::block_on(backup(&store, &config.data_dir, &dest));
            store.shutdown();
            return r;
        }
        None => crate::control::send(&config.control_socket(), &DataCommand::Backup { dest })?,
    };
    done(outcome)
}

/// `mailnook check [PATH]`: a named file or backup, else the data directory's database (through
/// the running server when it holds it).
pub fn cli_check(config: &crate::config::Config, path: Option<&Path>) -> Result<String, String> {
    if let Some(p) = path {
        return done(check_path(p));
    }
    let db = config.db_path();
    match snapshot::check_file(&db) {
        Ok(r) => done(report_outcome(&db.display().to_string(), &r)),
        Err(crate::store::StoreError::Locked) => done(crate::control::send(
            &config.control_socket(),
            &DataCommand::Check,
        )?),
        // Not cleanly closed (a crash): the ordinary open repairs it, then check.
        Err(_) if db.exists() => match crate::app::open_store_or_running(config)? {
            Some(store) => {
                let r = smol::block_on(store.check());
                store.shutdown();
                match r {
                    Ok(r) => done(report_outcome(&db.display().to_string(), &r)),
                    Err(e) => Err(format!("check failed: {e}")),
                }
            }
            None => done(crate::control::send(
                &config.control_socket(),
                &DataCommand::Check,
            )?),
        },
        Err(e) => Err(format!("cannot read {}: {e}", db.display())),
    }
}

/// `mailnook restore SRC`: only into a stopped server's data directory.
pub fn cli_restore(config: &crate::config::Config, src: &Path) -> Result<String, String> {
    let running = if config.db_path().exists() {
        match crate::store::Store::open(&config.db_path(), config.cache_bytes()) {
            Ok(store) => {
                store.shutdown();
                false
            }
            Err(crate::store::StoreError::Locked) => true,
            // A database we cannot open (newer, damaged) is what a restore replaces.
            Err(_) => false,
        }
    } else {
        false
    };
    restore(src, &config.data_dir, running)
}

/// `mailnook import` / `mailnook export`: through the running server, or on the stopped store
/// (with a progress line on standard error).
pub fn cli_transfer(config: &crate::config::Config, cmd: DataCommand) -> Result<String, String> {
    let abs = |p: PathBuf| std::path::absolute(&p).unwrap_or(p);
    let cmd = match cmd {
        DataCommand::Import {
            account,
            format,
            path,
            mailbox,
        } => DataCommand::Import {
            account,
            format,
            path: abs(path),
            mailbox,
        },
        DataCommand::Export {
            account,
            format,
            dest,
        } => DataCommand::Export {
            account,
            format,
            dest: abs(dest),
        },
        DataCommand::ImportImap(mut req) => {
            req.ca_file = req.ca_file.map(abs);
            DataCommand::ImportImap(req)
        }
        other => other,
    };
    if !config.db_path().exists() {
        return Err(format!(
            "no mailnook database in {}",
            config.data_dir.display()
        ));
    }
    match crate::app::open_store_or_running(config)? {
        Some(store) => {
            let mut printer = crate::transfer::progress::Printer::new();
            let outcome = smol::block_on(run(
                &store,
                &config.data_dir,
                cmd,
                &mut |s: &crate::transfer::import::Summary| printer.show(s),
            ));
            printer.finish();
            store.shutdown();
            done(outcome)
        }
        None => {
            let mut printer = crate::transfer::progress::Printer::new();
            let outcome =
                crate::transfer::progress::send(&config.control_socket(), &cmd, &mut printer);
            printer.finish();
            done(outcome?)
        }
    }
}

fn done(o: Outcome) -> Result<String, String> {
    match o {
        Outcome::Done(t) => Ok(t),
        Outcome::Error(e) => Err(e),
        _ => Err("unexpected answer from the server".into()),
    }
}
