//! A real Dovecot (Debian's `dovecot-imapd`) on loopback in a directory of its own, for the
//! `import imap` test (tests/it/transfer_imap.rs includes this file) and `make bench`: its own
//! config, a static test user, Maildir under the directory, TLS with a certificate from a
//! throw-away CA (its PEM is `ca_file`), ports picked free, mail processes run as the current
//! user (as `nobody` when that is root: Dovecot refuses UID 0 for mail). A plain-text IMAP
//! client (LITERAL+, RFC 7888) seeds folders, flags and messages. Only std, libc and rcgen.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const USER: &str = "old@example.net";
pub const PASSWORD: &str = "dovecot-test-password";

pub struct Dovecot {
    child: Option<Child>,
    pub dir: PathBuf,
    /// Implicit TLS (imaps).
    pub imaps: u16,
    /// Plain IMAP with STARTTLS.
    pub imap: u16,
    /// The CA that signed the server's certificate (for `--ca-file`).
    pub ca_file: PathBuf,
}

fn binary() -> Option<PathBuf> {
    ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn free_port() -> Result<u16, String> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

/// (uid, gid, name) of a user from /etc/passwd.
fn passwd(by: impl Fn(&str, u32) -> bool) -> Option<(u32, u32, String)> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        let (uid, gid) = (f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?);
        by(f.first()?, uid).then(|| (uid, gid, f[0].to_string()))
    })
}

fn group_name(gid: u32) -> Option<String> {
    let text = std::fs::read_to_string("/etc/group").ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.get(2)?.parse::<u32>().ok()? == gid).then(|| f[0].to_string())
    })
}

/// A CA and a certificate for 127.0.0.1/localhost signed by it: (ca pem, cert pem, key pem).
fn certificates() -> Result<(String, String, String), String> {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let e = |e: rcgen::Error| e.to_string();
    let ca_key = KeyPair::generate().map_err(e)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(e)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "dovecot test CA");
    let ca_cert = ca.self_signed(&ca_key).map_err(e)?;
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().map_err(e)?;
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .map_err(e)?;
    let cert = leaf.signed_by(&key, &issuer).map_err(e)?;
    Ok((ca_cert.pem(), cert.pem(), key.serialize_pem()))
}

impl Dovecot {
    /// Starts Dovecot in `dir` (created); fails when the binary is missing.
    pub fn start(dir: &Path) -> Result<Dovecot, String> {
        let bin = binary().ok_or(
            "dovecot is not installed: apt-get install dovecot-imapd (tests/setup/deps.sh)",
        )?;
        let w = |p: PathBuf, s: &str| {
            std::fs::write(&p, s).map_err(|e| format!("{}: {e}", p.display()))
        };
        for sub in ["run", "state", "home"] {
            std::fs::create_dir_all(dir.join(sub)).map_err(|e| e.to_string())?;
        }
        let (ca, cert, key) = certificates()?;
        w(dir.join("ca.pem"), &ca)?;
        w(dir.join("cert.pem"), &cert)?;
        w(dir.join("key.pem"), &key)?;
        let me = unsafe { libc::geteuid() };
        let (mail_uid, mail_gid, login_user, internal_user, internal_group) = if me == 0 {
            // Mail as `nobody`, which must reach the home below `dir`.
            let (uid, gid, name) =
                passwd(|n, _| n == "nobody").ok_or("no user nobody in /etc/passwd")?;
            use std::os::unix::fs::PermissionsExt;
            for d in [dir, dir.parent().unwrap_or(dir)] {
                let _ = std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755));
            }
            std::os::unix::fs::chown(dir.join("home"), Some(uid), Some(gid))
                .map_err(|e| e.to_string())?;
            (
                uid,
                gid,
                name.clone(),
                "root".to_string(),
                "root".to_string(),
            )
        } else {
            let (uid, gid, name) =
                passwd(|_, u| u == me).ok_or("the current user is not in /etc/passwd")?;
            let group = group_name(gid).unwrap_or_else(|| name.clone());
            (uid, gid, name.clone(), name.clone(), group)
        };
        let (imaps, imap) = (free_port()?, free_port()?);
        let d = dir.display();
        let config = format!(
            r#"# Written by the mailnook test harness (src/bin/mailnook-bench/dovecot.rs).
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
# Loopback counts as secure: the seeding client logs in without TLS.
auth_mechanisms = plain
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={d}/home/%u
}}
first_valid_uid = 1
mail_location = maildir:~/Maildir
default_internal_user = {internal_user}
default_internal_group = {internal_group}
default_login_user = {login_user}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox "Sent Messages" {{
    special_use = \Sent
  }}
  mailbox Brouillons {{
    special_use = \Drafts
  }}
  mailbox "Courrier indésirable" {{
    special_use = \Junk
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {imap}
  }}
  inet_listener imaps {{
    port = {imaps}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"#
        );
        let conf = dir.join("dovecot.conf");
        w(conf.clone(), &config)?;
        let log = std::fs::File::create(dir.join("stderr.log")).map_err(|e| e.to_string())?;
        let child = Command::new(bin)
            .arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start dovecot: {e}"))?;
        let mut d = Dovecot {
            child: Some(child),
            dir: dir.to_path_buf(),
            imaps,
            imap,
            ca_file: dir.join("ca.pem"),
        };
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", imap)).is_ok()
                && TcpStream::connect(("127.0.0.1", imaps)).is_ok()
            {
                return Ok(d);
            }
            if let Some(c) = d.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                return Err(format!("dovecot exited ({status}): {}", d.log()));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(format!("dovecot did not listen: {}", d.log()))
    }

    pub fn log(&self) -> String {
        let a = std::fs::read_to_string(self.dir.join("stderr.log")).unwrap_or_default();
        let b = std::fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default();
        format!("{a}{b}")
    }

    /// `imaps://USER@127.0.0.1:PORT`.
    pub fn imaps_url(&self) -> String {
        format!(
            "imaps://{}@127.0.0.1:{}",
            USER.replace('@', "%40"),
            self.imaps
        )
    }

    /// `imap://USER@127.0.0.1:PORT` (STARTTLS).
    pub fn imap_url(&self) -> String {
        format!(
            "imap://{}@127.0.0.1:{}",
            USER.replace('@', "%40"),
            self.imap
        )
    }

    /// A logged-in plain-text session (loopback only) for seeding.
    pub fn client(&self) -> Result<Plain, String> {
        let s = TcpStream::connect(("127.0.0.1", self.imap)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(|e| e.to_string())?;
        let mut p = Plain {
            r: BufReader::new(s.try_clone().map_err(|e| e.to_string())?),
            s,
            tag: 0,
        };
        let mut greeting = String::new();
        p.r.read_line(&mut greeting).map_err(|e| e.to_string())?;
        p.cmd(format!("LOGIN {} {}", quote(USER), quote(PASSWORD)).as_bytes())?;
        Ok(p)
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SIGTERM: the master stops its login and mail processes too (SIGKILL would not).
            unsafe {
                libc::kill(c.id() as i32, libc::SIGTERM);
            }
            for _ in 0..100 {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// An IMAP quoted string (RFC 9051 §4.3).
pub fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

pub struct Plain {
    s: TcpStream,
    r: BufReader<TcpStream>,
    tag: u32,
}

impl Plain {
    /// Sends one command; the untagged lines before the tagged OK.
    pub fn cmd(&mut self, command: &[u8]) -> Result<Vec<String>, String> {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        let mut line = format!("{tag} ").into_bytes();
        line.extend_from_slice(command);
        line.extend_from_slice(b"\r\n");
        self.s.write_all(&line).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        loop {
            let mut l = String::new();
            if self.r.read_line(&mut l).map_err(|e| e.to_string())? == 0 {
                return Err("dovecot closed the connection".into());
            }
            if let Some(rest) = l.strip_prefix(&format!("{tag} ")) {
                return if rest.starts_with("OK") {
                    Ok(out)
                } else {
                    Err(format!("{}: {rest}", String::from_utf8_lossy(command)))
                };
            }
            out.push(l);
        }
    }

    /// CREATE (the name as IMAP spells it: modified UTF-7, `/` between levels).
    pub fn create(&mut self, folder: &str) -> Result<(), String> {
        self.cmd(format!("CREATE {}", quote(folder)).as_bytes())
            .map(|_| ())
    }

    /// APPEND with flags (`\Seen $label`) and an INTERNALDATE (`"01-Jan-2024 10:00:00 +0000"`).
    pub fn append(
        &mut self,
        folder: &str,
        flags: &str,
        date: &str,
        raw: &[u8],
    ) -> Result<(), String> {
        let mut c = format!(
            "APPEND {} ({flags}) \"{date}\" {{{}+}}\r\n",
            quote(folder),
            raw.len()
        )
        .into_bytes();
        c.extend_from_slice(raw);
        self.cmd(&c).map(|_| ())
    }
}
