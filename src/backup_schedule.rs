//! Scheduled backups (`[backup]` in the config): every `interval_secs` the running server
//! writes `mailnook backup DIR/mailnook-<unix time>` (the same consistent snapshot as the
//! command, `backup.rs`) and then removes the oldest complete backups beyond `keep`. Off unless
//! `dir` is set. A failed backup is logged and tried again at the next interval.

use crate::store::Store;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackupSchedule {
    /// Where scheduled backups go (an absolute directory; created if missing). None: off.
    pub dir: Option<PathBuf>,
    /// Seconds between two backups (default one day).
    pub interval_secs: u64,
    /// How many backups to keep (older ones are removed after each new one); at least 1.
    pub keep: usize,
}

impl Default for BackupSchedule {
    fn default() -> Self {
        BackupSchedule {
            dir: None,
            interval_secs: 86_400,
            keep: 7,
        }
    }
}

const PREFIX: &str = "mailnook-";

/// Runs for ever (the caller drops the task at shutdown).
pub async fn run(store: Store, data_dir: PathBuf, schedule: BackupSchedule) {
    let Some(dir) = schedule.dir.clone() else {
        return;
    };
    let dir = std::path::absolute(&dir).unwrap_or(dir);
    let every = std::time::Duration::from_secs(schedule.interval_secs.max(1));
    loop {
        smol::Timer::after(every).await;
        if let Err(e) = std::fs::create_dir_all(&dir) {
            log::error!("scheduled backup: cannot create {}: {e}", dir.display());
            continue;
        }
        let dest = dir.join(format!("{PREFIX}{}", crate::date::now()));
        if dest.exists() {
            continue;
        }
        match crate::backup::backup(&store, &data_dir, &dest).await {
            Ok(text) => {
                log::info!("scheduled {text}");
                prune(&dir, schedule.keep.max(1));
            }
            Err(e) => log::error!("scheduled backup to {} failed: {e}", dest.display()),
        }
    }
}

/// Removes the oldest complete backups (`mailnook-<time>` directories) beyond `keep`.
fn prune(dir: &Path, keep: usize) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut found: Vec<(u64, PathBuf)> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let t = name.strip_prefix(PREFIX)?.parse::<u64>().ok()?;
            Some((t, e.path()))
        })
        .collect();
    found.sort();
    let extra = found.len().saturating_sub(keep);
    for (_, path) in found.into_iter().take(extra) {
        if let Err(e) = std::fs::remove_dir_all(&path) {
            log::warn!("scheduled backup: cannot remove {}: {e}", path.display());
        }
    }
}
