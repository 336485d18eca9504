//! `mailnook junk ...`: per-account mode, status and rebuild. One implementation behind the
//! CLI and the control socket (`accounts::Command::Junk`).

use super::training;
use super::{JunkConfig, Mode};
use crate::accounts::Outcome;
use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum JunkCommand {
    /// Set the account's mode: "off", "junk", "reject", or "default" (the server's `[junk]
    /// mode`).
    Mode { address: String, mode: String },
    /// Trained counts, queue, model size and mode.
    Status { address: String },
    /// Forget the model and train it again from the mail (Junk vs. read mail elsewhere).
    Rebuild { address: String },
}

async fn find(store: &Store, address: &str) -> Result<u32, StoreError> {
    let name = address.trim().to_lowercase();
    let n2 = name.clone();
    store
        .read(move |r| r.account_by_name(&n2))
        .await?
        .map(|a| a.id)
        .ok_or_else(|| StoreError::Invalid(format!("no account {name}")))
}

pub async fn run(store: &Store, cmd: JunkCommand) -> Result<Outcome, StoreError> {
    // The CLI has no server config here: the defaults (a rebuild prunes to the default size;
    // the server prunes to its configured size on its next training).
    let cfg = JunkConfig::default();
    match cmd {
        JunkCommand::Mode { address, mode } => {
            let acct = find(store, &address).await?;
            let m = match mode.to_ascii_lowercase().as_str() {
                "default" => None,
                other => Some(
                    Mode::parse(other)
                        .ok_or_else(|| {
                            StoreError::Invalid(format!(
                                "mode must be off, junk, reject or default, not '{other}'"
                            ))
                        })?
                        .name()
                        .to_string(),
                ),
            };
            let shown = m.clone().unwrap_or_else(|| "default".into());
            store
                .write(move |w| w.set_junk_mode(acct, m.clone()))
                .await?;
            log::info!("junk mode of {address} set to {shown}");
            Ok(Outcome::Done(format!("junk mode of {address}: {shown}")))
        }
        JunkCommand::Status { address } => {
            let acct = find(store, &address).await?;
            let (a, pending) = store
                .read(move |r| Ok((r.junk_account(acct)?, r.junk_pending(acct, 100_000)?.len())))
                .await?;
            Ok(Outcome::Done(format!(
                "mode {}\ntrained spam {}\ntrained ham {}\npending {}\ntokens {}\ncorrespondents {}\ntokenizer version {} (current {})",
                a.mode.as_deref().unwrap_or("default"),
                a.spam,
                a.ham,
                pending,
                a.tokens,
                a.sent_to,
                a.tokenizer,
                super::tokenizer::VERSION
            )))
        }
        JunkCommand::Rebuild { address } => {
            let acct = find(store, &address).await?;
            let (spam, ham) = training::rebuild(store, &cfg, acct).await?;
            log::info!("junk model of {address} rebuilt: {spam} spam, {ham} ham");
            Ok(Outcome::Done(format!(
                "junk model of {address} rebuilt from {spam} spam and {ham} ham messages"
            )))
        }
    }
}
