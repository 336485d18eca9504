//! Test harness: starts the real `mailnook` binary on 127.0.0.1 port 0 in a temp directory and
//! talks to it over real sockets. Every integration test uses this, so the server under test is
//! exactly what a user runs.
#![allow(dead_code)]

pub mod account;
pub mod rng;

pub use account::Account;

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const CORE: &str = "urn:ietf:params:jmap:core";
pub const MAIL: &str = "urn:ietf:params:jmap:mail";
pub const SUBMISSION: &str = "urn:ietf:params:jmap:submission";

pub struct Server {
    child: Option<Child>,
    dir: Option<tempfile::TempDir>,
    pub data_dir: PathBuf,
    pub smtp: SocketAddr,
    pub https: SocketAddr,
    /// The SMTP submission listener (RFC 6409: STARTTLS + AUTH).
    pub submission: SocketAddr,
    /// The ManageSieve listener (RFC 5804: STARTTLS + AUTHENTICATE PLAIN).
    pub managesieve: SocketAddr,
    /// The generated admin account (first start only; empty after a restart).
    pub admin: String,
    pub admin_password: String,
    pub fingerprint: String,
    pub stdout: Vec<String>,
}

/// The resident set size of a process in KiB (VmRSS in /proc/PID/status), 0 if unreadable: the
/// memory figure every test that measures the server reads.
pub fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mailnook"))
}

impl Server {
    /// A fresh server in a new temporary data directory.
    pub fn start() -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let data_dir = dir.path().join("data");
        let mut s = Server::start_in(&data_dir, &[]);
        s.dir = Some(dir);
        s
    }

    /// A fresh server with extra command-line arguments for `serve`.
    pub fn start_with(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let data_dir = dir.path().join("data");
        let mut s = Server::start_in(&data_dir, extra);
        s.dir = Some(dir);
        s
    }

    /// Starts the binary on an existing (or new) data directory.
    pub fn start_in(data_dir: &Path, extra: &[&str]) -> Server {
        std::fs::create_dir_all(data_dir).expect("data dir");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(data_dir.join("..").join("server.log"))
            .expect("log file");
        let mut child = Command::new(bin())
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .args([
                "--smtp-listen",
                "127.0.0.1:0",
                "--https-listen",
                "127.0.0.1:0",
                // Tests have no DNS: sender authentication is tested with a local DNS server in
                // tests/smtp_auth.rs, which turns it back on.
                "--sender-auth",
                "off",
                "--submission-listen",
                "127.0.0.1:0",
                "--managesieve-listen",
                "127.0.0.1:0",
            ])
            .args(extra)
            .env("MAILNOOK_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start mailnook");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut lines = Vec::new();
        let (mut smtp, mut https, mut submission) = (None, None, None);
        let mut managesieve = None;
        let (mut admin, mut admin_password, mut fingerprint) =
            (String::new(), String::new(), String::new());
        loop {
            let mut line = String::new();
            let n = reader.read_line(&mut line).expect("read stdout");
            if n == 0 {
                let log = std::fs::read_to_string(data_dir.join("..").join("server.log"))
                    .unwrap_or_default();
                panic!("mailnook exited before it was ready; stdout: {lines:?}\nlog:\n{log}");
            }
            let line = line.trim_end().to_string();
            if let Some(rest) = line.strip_prefix("Created admin account ") {
                let (a, p) = rest.split_once(" with password: ").expect("admin line");
                admin = a.to_string();
                admin_password = p.to_string();
            }
            if let Some(rest) = line.strip_prefix("SMTP  listening on ") {
                smtp = Some(rest.trim().parse().expect("smtp addr"));
            }
            if let Some(rest) = line.strip_prefix("SUBMISSION listening on ") {
                let addr = rest.split(' ').next().expect("submission addr");
                submission = Some(addr.parse().expect("submission addr"));
            }
            if let Some(rest) = line.strip_prefix("MANAGESIEVE listening on ") {
                let addr = rest.split(' ').next().expect("managesieve addr");
                managesieve = Some(addr.parse().expect("managesieve addr"));
            }
            if let Some(rest) = line.strip_prefix("HTTPS listening on https://") {
                let addr = rest.split('/').next().expect("https addr");
                https = Some(addr.parse().expect("https addr"));
            }
            if let Some((_, fp)) = line.split_once(" SHA-256 ") {
                fingerprint = fp.trim().to_string();
            }
            let ready = line.starts_with("ready in");
            lines.push(line);
            if ready {
                break;
            }
        }
        // Keep draining stdout so the child never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            while reader.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        Server {
            child: Some(child),
            dir: None,
            data_dir: data_dir.to_path_buf(),
            smtp: smtp.expect("smtp address printed"),
            https: https.expect("https address printed"),
            submission: submission.expect("submission address printed"),
            managesieve: managesieve.expect("managesieve address printed"),
            admin,
            admin_password,
            fingerprint,
            stdout: lines,
        }
    }

    /// The server's process id (for reading /proc/PID/status in measurements).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    /// Stops the server the hard way (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops the server as systemd would (SIGTERM) and returns whether it exited by itself.
    pub fn terminate(&mut self) -> bool {
        let Some(mut c) = self.child.take() else {
            return true;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        for _ in 0..200 {
            if let Ok(Some(status)) = c.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        let _ = c.kill();
        let _ = c.wait();
        false
    }

    /// Kills and starts again on the same data directory, keeping the temp dir alive.
    pub fn restart(mut self) -> Server {
        self.kill();
        let mut next = Server::start_in(&self.data_dir, &[]);
        next.dir = self.dir.take();
        next.admin = self.admin.clone();
        next.admin_password = self.admin_password.clone();
        next
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("..").join("server.log")).unwrap_or_default()
    }

    pub fn base_url(&self) -> String {
        format!("https://{}", self.https)
    }

    /// Runs `mailnook user add ADDRESS --password-stdin` against this server's data dir.
    pub fn add_user(&self, address: &str, password: &str) {
        let out = self.cli(
            &["user", "add", address, "--password-stdin"],
            Some(password),
        );
        assert!(
            out.status.success(),
            "user add failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Runs the CLI, which must succeed (its stderr is the failure message); its stdout.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args, None);
        assert!(
            out.status.success(),
            "mailnook {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> std::process::Output {
        let mut cmd = Command::new(bin());
        cmd.args(args).arg("--data-dir").arg(&self.data_dir);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("cli");
        if let Some(s) = stdin {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(s.as_bytes())
                .expect("write stdin");
        }
        drop(child.stdin.take());
        child.wait_with_output().expect("cli output")
    }

    /// Delivers `raw` byte for byte to port 25 over a raw conversation (lettre's send_raw
    /// appends a CRLF to a message that already ends with one) and returns the final reply.
    pub fn deliver(&self, from: &str, to: &[&str], raw: &[u8]) -> String {
        let mut t = Transcript::connect(self.smtp);
        assert_eq!(t.cmd("EHLO test.example"), 250);
        let reply = t.deliver(from, to, raw);
        t.cmd("QUIT");
        reply
    }

    /// Creates an account (through the CLI) and returns its handle.
    pub async fn new_account(&self, address: &str, password: &str) -> Account<'_> {
        self.add_user(address, password);
        self.account(address, password).await
    }

    /// The handle of an existing account.
    pub async fn account(&self, address: &str, password: &str) -> Account<'_> {
        Account::open(self, address, password).await
    }

    /// Sends a raw message with a real SMTP client (lettre).
    pub fn send(&self, from: &str, to: &[&str], raw: &[u8]) -> Result<(), String> {
        use lettre::Transport;
        let envelope = lettre::address::Envelope::new(
            Some(from.parse().map_err(|e| format!("{e}"))?),
            to.iter()
                .map(|t| t.parse())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{e}"))?,
        )
        .map_err(|e| e.to_string())?;
        let transport = lettre::SmtpTransport::builder_dangerous(self.smtp.ip().to_string())
            .port(self.smtp.port())
            .timeout(Some(Duration::from_secs(30)))
            .build();
        transport
            .send_raw(&envelope, raw)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// A real JMAP client (the jmap-client crate), trusting our self-signed certificate.
    pub async fn client(&self, user: &str, password: &str) -> jmap_client::client::Client {
        jmap_client::client::Client::new()
            .credentials((user, password))
            .accept_invalid_certs(true)
            .follow_redirects(["127.0.0.1"])
            .connect(&self.base_url())
            .await
            .expect("jmap-client connect")
    }

    pub fn http(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .danger_accept_invalid_certs(true)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client")
    }

    /// POSTs a JMAP request body (any bytes) and returns (status, parsed JSON body).
    pub async fn post_api(
        &self,
        user: &str,
        password: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, Value) {
        let res = self
            .http()
            .post(format!("{}/jmap/api", self.base_url()))
            .basic_auth(user, Some(password))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .expect("POST api");
        let status = res.status().as_u16();
        let text = res.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Runs method calls with core+mail and returns the methodResponses array.
    pub async fn call(&self, user: &str, password: &str, calls: Value) -> Vec<Value> {
        self.call_using(user, password, &[CORE, MAIL], calls).await
    }

    /// Runs method calls with the given capabilities and returns the methodResponses array.
    pub async fn call_using(
        &self,
        user: &str,
        password: &str,
        using: &[&str],
        calls: Value,
    ) -> Vec<Value> {
        let body = json!({ "using": using, "methodCalls": calls });
        let (status, v) = self.post_api(user, password, body.to_string()).await;
        assert_eq!(status, 200, "api answered {status}: {v}");
        v["methodResponses"].as_array().cloned().unwrap_or_default()
    }

    /// The account id the session gives `user`.
    pub async fn account_id(&self, user: &str, password: &str) -> String {
        let res = self
            .http()
            .get(format!("{}/.well-known/jmap", self.base_url()))
            .basic_auth(user, Some(password))
            .send()
            .await
            .expect("session");
        let v: Value = res.json().await.expect("session json");
        v["primaryAccounts"][MAIL]
            .as_str()
            .expect("primary account")
            .to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A small well-formed message.
pub fn message(from: &str, to: &str, subject: &str, message_id: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{message_id}>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// Waits (bounded) until `f` returns Some.
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..100 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A raw SMTP conversation: send exact bytes, read replies.
pub struct Transcript {
    stream: std::net::TcpStream,
    reader: BufReader<std::net::TcpStream>,
}

impl Transcript {
    pub fn connect(addr: SocketAddr) -> Transcript {
        let stream = std::net::TcpStream::connect(addr).expect("connect smtp");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("timeout");
        let reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut t = Transcript { stream, reader };
        let greeting = t.reply();
        assert!(greeting.starts_with("220 "), "greeting: {greeting}");
        t
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Reads one complete (possibly multi-line) reply.
    pub fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            let n = self.reader.read_line(&mut line).expect("read reply");
            if n == 0 {
                return all;
            }
            all.push_str(&line);
            if line.len() < 4 || line.as_bytes()[3] == b' ' {
                return all;
            }
        }
    }

    /// Sends a line and returns the reply code.
    pub fn cmd(&mut self, line: &str) -> u16 {
        self.send(format!("{line}\r\n").as_bytes());
        code(&self.reply())
    }

    /// THE one SMTP delivery of the suite: one transaction on this (greeted, EHLO'd)
    /// conversation, `msg` sent byte for byte with dot-stuffing (RFC 5321 §4.5.2). Returns the
    /// reply to the end of DATA, or the first refusal (or "no recipient").
    pub fn deliver(&mut self, from: &str, to: &[&str], msg: &[u8]) -> String {
        self.send(format!("MAIL FROM:<{from}>\r\n").as_bytes());
        let r = self.reply();
        if !r.starts_with("250") {
            return r;
        }
        let mut ok = 0;
        for rcpt in to {
            self.send(format!("RCPT TO:<{rcpt}>\r\n").as_bytes());
            if self.reply().starts_with("250") {
                ok += 1;
            }
        }
        if ok == 0 {
            self.send(b"RSET\r\n");
            self.reply();
            return "no recipient".into();
        }
        self.send(b"DATA\r\n");
        let r = self.reply();
        if !r.starts_with("354") {
            return r;
        }
        let mut data = Vec::with_capacity(msg.len() + 16);
        for line in msg.split_inclusive(|b| *b == b'\n') {
            if line.starts_with(b".") {
                data.push(b'.');
            }
            data.extend_from_slice(line);
        }
        if !data.ends_with(b"\r\n") {
            data.extend_from_slice(b"\r\n");
        }
        data.extend_from_slice(b".\r\n");
        self.send(&data);
        self.reply()
    }
}

pub fn code(reply: &str) -> u16 {
    reply.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0)
}
