//! Starts and stops the real release binary for the bench.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Server {
    pub child: Child,
    pub smtp: SocketAddr,
    pub https: SocketAddr,
    /// From spawn to the "ready" line.
    pub ready_after: Duration,
}

pub fn binary() -> PathBuf {
    let me = std::env::current_exe().unwrap_or_default();
    me.with_file_name("mailnook")
}

impl Server {
    pub fn start(data_dir: &Path) -> Result<Server, String> {
        Server::start_with(data_dir, &[])
    }

    /// `start` with extra `serve` flags after the bench's own (a `--config` file, or
    /// `--sender-auth on --dns-resolver ADDR`: the flag overrides the default "off" below).
    pub fn start_with(data_dir: &Path, extra: &[&str]) -> Result<Server, String> {
        let t = Instant::now();
        let log =
            std::fs::File::create(data_dir.with_extension("log")).map_err(|e| e.to_string())?;
        let mut child = Command::new(binary())
            .args([
                "serve",
                "--smtp-listen",
                "127.0.0.1:0",
                "--https-listen",
                "127.0.0.1:0",
                // Port 0 for every listener, so a bench runs next to another server.
                "--submission-listen",
                "127.0.0.1:0",
                "--managesieve-listen",
                "127.0.0.1:0",
                // No DNS here: sender authentication would measure resolver timeouts. Its cost
                // is measured against a local DNS server in tests/it/smtp_figures.rs.
                "--sender-auth",
                "off",
                "--data-dir",
            ])
            .arg(data_dir)
            .args(extra)
            // BENCH_LOG=info shows what the server did (its log is next to the data dir).
            .env(
                "MAILNOOK_LOG",
                std::env::var("BENCH_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary().display()))?;
        let mut r = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let (mut smtp, mut https) = (None, None);
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
                return Err("server exited during start".into());
            }
            if let Some(a) = line.trim().strip_prefix("SMTP  listening on ") {
                smtp = a.parse().ok();
            }
            if let Some(a) = line.trim().strip_prefix("HTTPS listening on https://") {
                https = a.split('/').next().and_then(|a| a.parse().ok());
            }
            if line.starts_with("ready in") {
                break;
            }
        }
        let ready_after = t.elapsed();
        std::thread::spawn(move || {
            let mut s = String::new();
            while r.read_line(&mut s).map(|n| n > 0).unwrap_or(false) {
                s.clear();
            }
        });
        Ok(Server {
            child,
            smtp: smtp.ok_or("no smtp address")?,
            https: https.ok_or("no https address")?,
            ready_after,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server as systemd would (SIGTERM), so it closes the database cleanly.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..200 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn add_user(data_dir: &Path, address: &str, password: &str) -> Result<(), String> {
    use std::io::Write;
    let mut c = Command::new(binary())
        .args(["user", "add", address, "--password-stdin", "--data-dir"])
        .arg(data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    c.stdin
        .take()
        .ok_or("stdin")?
        .write_all(password.as_bytes())
        .map_err(|e| e.to_string())?;
    let st = c.wait().map_err(|e| e.to_string())?;
    if st.success() {
        Ok(())
    } else {
        Err("user add failed".into())
    }
}
