//! A second server in a directory of its own, for figures that must not change the main store
//! (reconnecting senders, sender authentication on and off, one huge thread): the main
//! store's 100k figures stay as they were, and each side figure starts from an empty store.

use crate::http_client::{Https, client_config};
use crate::server::{self, Server};
use crate::{PASS, USER, USING};
use serde_json::json;
use std::path::{Path, PathBuf};

/// The side servers' config: the per-IP connection rate limit (`admission.rs`, 120 new
/// connections a minute by default, loopback included) is off, since a sender that reconnects
/// for every message opens about as many connections as it sends messages; the per-IP cap is
/// above the bench's 16 sessions plus those still closing. Everything else is the default.
const CONFIG: &str = "smtp_connections_per_minute_per_ip = 0\nsmtp_max_connections_per_ip = 64\n";

pub struct Side {
    pub srv: Server,
    dir: PathBuf,
}

impl Side {
    /// Starts a server in `tmp/<name>` with the side config and `extra` flags, with the
    /// bench user.
    pub fn start(tmp: &Path, name: &str, extra: &[&str]) -> Result<Side, String> {
        let dir = tmp.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let config = dir.join("mailnook.toml");
        std::fs::write(&config, CONFIG).map_err(|e| e.to_string())?;
        let data = dir.join("data");
        let config = config.to_string_lossy().to_string();
        let mut args = vec!["--config", config.as_str()];
        args.extend_from_slice(extra);
        let srv = Server::start_with(&data, &args)?;
        server::add_user(&data, USER, PASS)?;
        Ok(Side { srv, dir })
    }

    /// A JMAP client for the bench user, and the account id.
    pub fn jmap(&self) -> Result<(Https, String), String> {
        let config = client_config(&self.dir.join("data").join("tls-cert.pem"))?;
        let mut http = Https::new(self.srv.https, config, USER, PASS);
        let acct = crate::account_id(&mut http)?;
        Ok((http, acct))
    }

    /// How many emails the account holds (every mailbox): what a client sees over JMAP.
    pub fn emails(&self, http: &mut Https, acct: &str) -> Result<u64, String> {
        let v = http.jmap(&json!({"using": USING, "methodCalls": [
            ["Email/query", {"accountId": acct, "calculateTotal": true, "limit": 1}, "q"]]}))?;
        v["methodResponses"][0][1]["total"]
            .as_u64()
            .ok_or_else(|| format!("no total: {v}"))
    }

    /// Stops the server and removes its directory (data, config and log).
    pub fn stop(self) {
        self.srv.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
