//! The control socket: how `mailnook user ...` reaches a running server. redb lets one process
//! open the database, so while the server runs, the CLI sends its command as one JSON line over
//! a Unix socket in the data directory (mode 0600: only the owner of the data may use it).

use crate::accounts::{self, Command, Outcome};
use crate::store::Store;
use futures_lite::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, io::BufReader};
use std::io::{BufRead, Write};
use std::path::Path;

pub fn bind(path: &Path) -> std::io::Result<smol::net::unix::UnixListener> {
    // A socket left by a crashed server would block the bind; the database lock already
    // guarantees that no other server is running.
    let _ = std::fs::remove_file(path);
    let listener = smol::net::unix::UnixListener::bind(path)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// `tls` and `data_dir` serve `mailnook cert ...` (`certs.rs`); `config` serves
/// `mailnook dns check` (`dns_check/`), which runs here so it asks the server's own resolver.
pub async fn serve(
    listener: smol::net::unix::UnixListener,
    store: Store,
    tls: crate::tls::Tls,
    data_dir: std::path::PathBuf,
    config: std::sync::Arc<crate::config::Config>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let store = store.clone();
        let (tls, data_dir, config) = (tls.clone(), data_dir.clone(), config.clone());
        smol::spawn(async move {
            let mut reader = BufReader::new(stream.clone());
            let mut line = String::new();
            let mut writer = stream;
            // One command per connection; a line longer than 64 KiB is not a command of ours.
            let outcome = match AsyncReadExt::take(&mut reader, 64 * 1024)
                .read_line(&mut line)
                .await
            {
                Ok(_)
                    if serde_json::from_str::<crate::dns_check::DnsCheckCommand>(&line).is_ok() =>
                {
                    dns_check(&config, &store, &line).await
                }
                Ok(_) => match serde_json::from_str::<crate::certs::CertCommand>(&line) {
                    Ok(cmd) => {
                        crate::pool::unblock(move || crate::certs::run(&tls, &data_dir, cmd)).await
                    }
                    Err(_) => match serde_json::from_str::<crate::backup::DataCommand>(&line) {
                        // An import streams its progress before the outcome.
                        Ok(cmd) => {
                            crate::transfer::progress::serve(&store, &data_dir, cmd, &mut writer)
                                .await
                        }
                        Err(_) => match serde_json::from_str::<Command>(&line) {
                            Ok(cmd) => accounts::run(&store, cmd).await,
                            Err(e) => Outcome::Error(format!("bad control command: {e}")),
                        },
                    },
                },
                Err(e) => Outcome::Error(e.to_string()),
            };
            if let Ok(mut text) = serde_json::to_string(&outcome) {
                text.push('\n');
                let _ = writer.write_all(text.as_bytes()).await;
            }
        })
        .detach();
    }
}

/// `mailnook dns check` in the server: the report as JSON in `Outcome::Done`.
async fn dns_check(config: &crate::config::Config, store: &Store, line: &str) -> Outcome {
    let domain = serde_json::from_str::<crate::dns_check::DnsCheckCommand>(line)
        .ok()
        .and_then(|c| c.dns_check.domain);
    match crate::dns_check::run(config, store, domain.as_deref(), None).await {
        Ok(r) => match serde_json::to_string(&r) {
            Ok(json) => Outcome::Done(json),
            Err(e) => Outcome::Error(e.to_string()),
        },
        Err(e) => Outcome::Error(e),
    }
}

/// Sends one command to a running server (blocking; used by the CLI).
pub fn send<C: serde::Serialize>(path: &Path, cmd: &C) -> Result<Outcome, String> {
    let mut s = std::os::unix::net::UnixStream::connect(path).map_err(|e| {
        format!(
            "the database is in use, but the server's control socket {} does not answer: {e}",
            path.display()
        )
    })?;
    let mut text = serde_json::to_string(cmd).map_err(|e| e.to_string())?;
    text.push('\n');
    s.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    let mut line = String::new();
    std::io::BufReader::new(s)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    serde_json::from_str(&line).map_err(|e| format!("bad answer from the server: {e}"))
}
