//! Certificate administration: `mailnook cert show|install` (directly, or through the control
//! socket of a running server) and the admin page's "install by path" share [`Tls`]'s
//! `install_paths`, so the checks and the effect (a switch for new connections, recorded for the
//! next start) are the same everywhere.

use crate::accounts::Outcome;
use crate::tls::Tls;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A certificate command, as it travels over the control socket (its `op` names do not clash
/// with `accounts::Command`'s).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum CertCommand {
    CertShow,
    CertInstall {
        cert_path: PathBuf,
        key_path: PathBuf,
    },
}

/// Runs a certificate command against the live (or, from the CLI without a server, freshly
/// loaded) TLS configuration. Blocking: file reads and parsing.
pub fn run(tls: &Tls, data_dir: &Path, cmd: CertCommand) -> Outcome {
    match cmd {
        CertCommand::CertShow => {
            let mut text = describe(tls);
            // The ACME state as the renewer last wrote it (`acme/state.rs`).
            if let Some(st) = crate::acme::state::load(data_dir) {
                text.push('\n');
                text.push_str(&crate::acme::state::describe(&st));
            }
            Outcome::Done(text)
        }
        CertCommand::CertInstall {
            cert_path,
            key_path,
        } => match tls.install_paths(data_dir, &cert_path, &key_path) {
            Ok(_) => {
                log::info!("certificate {} installed", cert_path.display());
                Outcome::Done(format!("installed\n{}", describe(tls)))
            }
            Err(e) => Outcome::Error(e),
        },
    }
}

fn describe(tls: &Tls) -> String {
    let i = tls.info();
    format!(
        "SHA-256 {}\nsubject {}\nissuer  {}\nnames   {}\nvalid   {} .. {}\nsource  {} ({})",
        i.fingerprint,
        i.subject,
        i.issuer,
        i.names.join(", "),
        crate::date::rfc3339(i.not_before),
        crate::date::rfc3339(i.not_after),
        i.source.as_str(),
        i.cert_path.display()
    )
}
