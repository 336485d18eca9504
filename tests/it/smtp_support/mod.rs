//! Helpers for the SMTP tests: a server started with a config file (short timeouts, limits),
//! and a tiny authoritative DNS server on 127.0.0.1 (UDP) serving TXT records, so sender
//! authentication runs against real DNS answers without the network.
#![allow(dead_code)]

use crate::common::{Server, Transcript};
use std::collections::HashMap;
use std::path::PathBuf;

mod dns;
pub use dns::Dns;

pub struct Srv {
    pub server: Server,
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    extra: Vec<String>,
}

impl std::ops::Deref for Srv {
    type Target = Server;
    fn deref(&self) -> &Server {
        &self.server
    }
}

impl std::ops::DerefMut for Srv {
    fn deref_mut(&mut self) -> &mut Server {
        &mut self.server
    }
}

/// Starts the real binary with `config` (TOML) and extra `serve` flags.
pub fn start(config: &str, extra: &[&str]) -> Srv {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mailnook.toml");
    std::fs::write(&path, config).expect("config");
    let data = dir.path().join("data");
    let mut args: Vec<String> = vec!["--config".into(), path.display().to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let server = Server::start_in(&data, &refs);
    Srv {
        server,
        dir,
        config: path,
        extra: args,
    }
}

impl Srv {
    /// SIGKILL and start again with the same config and data.
    pub fn restart(&mut self) {
        self.server.kill();
        let refs: Vec<&str> = self.extra.iter().map(|s| s.as_str()).collect();
        let next = Server::start_in(&self.server.data_dir.clone(), &refs);
        self.server = next;
    }

    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.server.cli(args, None);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    pub fn transcript(&self) -> Transcript {
        Transcript::connect(self.server.smtp)
    }
}

/// Config for most SMTP tests: no greeting delay, no auth, generous limits.
pub const PLAIN: &str = "smtp_greeting_delay_ms = 0\n";

/// Sends one message over a raw transcript and returns the final reply line.
pub fn deliver(t: &mut Transcript, from: &str, to: &[&str], msg: &[u8]) -> String {
    t.deliver(from, to, msg)
}

/// One stored message as a JMAP client sees it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub subject: String,
    /// Roles of the mailboxes it is in ("inbox", "junk", ...).
    pub roles: Vec<String>,
    pub raw: String,
}

/// Every message of an account, with the raw bytes downloaded over JMAP.
pub async fn stored(s: &Server, user: &str, pass: &str) -> Vec<Stored> {
    use serde_json::json;
    let acct = s.account_id(user, pass).await;
    let r = s
        .call(
            user,
            pass,
            json!([
                ["Mailbox/get", {"accountId": acct}, "m"],
                ["Email/query", {"accountId": acct}, "q"],
                ["Email/get", {"accountId": acct, "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"}, "properties": ["subject", "mailboxIds", "blobId"]}, "g"]
            ]),
        )
        .await;
    let mut roles = HashMap::new();
    for m in r[0][1]["list"].as_array().cloned().unwrap_or_default() {
        roles.insert(
            m["id"].as_str().unwrap_or("").to_string(),
            m["role"].as_str().unwrap_or("").to_string(),
        );
    }
    let mut out = Vec::new();
    for e in r[2][1]["list"].as_array().cloned().unwrap_or_default() {
        let blob = e["blobId"].as_str().expect("blobId");
        let url = format!(
            "{}/jmap/download/{acct}/{blob}/m.eml?accept=message/rfc822",
            s.base_url()
        );
        let res = s
            .http()
            .get(url)
            .basic_auth(user, Some(pass))
            .send()
            .await
            .expect("download");
        assert_eq!(res.status().as_u16(), 200);
        let raw = String::from_utf8_lossy(&res.bytes().await.expect("bytes")).to_string();
        let mut rs: Vec<String> = e["mailboxIds"]
            .as_object()
            .map(|o| o.keys().filter_map(|k| roles.get(k).cloned()).collect())
            .unwrap_or_default();
        rs.sort();
        out.push(Stored {
            subject: e["subject"].as_str().unwrap_or("").to_string(),
            roles: rs,
            raw,
        });
    }
    out
}
