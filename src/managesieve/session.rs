//! One ManageSieve connection (RFC 5804 §2): greeting with capabilities, STARTTLS, then
//! AUTHENTICATE "PLAIN" over TLS only, then the script commands. Answers are `OK`, `NO` (with
//! a response code where §1.3 defines one) or `BYE`.
//!
//! The transport is `wire::Conn`, as for SMTP: every read has a deadline and every line a
//! size limit, STARTTLS is `wire::tls::accept` (bytes pipelined before the handshake are
//! dropped), and replies are queued and written when the client has no further command
//! waiting (`flush_if_idle`), or at once where the client waits for them.

use super::Ctx;
use super::parse::{Arg, ReadError, Reader, string};
use crate::login::Outcome;
use crate::sieve::Limits;
use crate::store::StoreError;
use crate::store::model::{AccountId, SieveScript};
use crate::wire::{Conn, Io};
use base64::Engine;
use std::net::SocketAddr;
use std::time::Duration;

/// An idle connection is closed after this long (RFC 5804 §2 leaves it to the server).
const IDLE: Duration = Duration::from_secs(300);
/// How long one answer may wait for the client to read it.
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);
/// The TLS handshake after STARTTLS.
const HANDSHAKE: Duration = Duration::from_secs(30);
/// Protocol errors (malformed or unknown commands, commands before login) before the
/// connection is closed. Refusals of well-formed commands (a script that does not compile, a
/// missing name, a quota) are not counted: an editor checks the script as one types.
const MAX_ERRORS: u32 = 10;
const MAX_AUTH_FAILURES: u32 = 3;

pub struct Session {
    ctx: Ctx,
    peer: SocketAddr,
    conn: Conn,
    reader: Reader,
    user: Option<(AccountId, String)>,
    errors: u32,
    auth_failures: u32,
}

fn quote(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace(['\r', '\n'], " ")
}

enum Flow {
    Go,
    Close,
}

impl Session {
    pub fn new(ctx: Ctx, peer: SocketAddr, io: Box<dyn Io>) -> Session {
        Session {
            ctx,
            peer,
            // A client that stops reading its (up to 64 KiB) answers is let go.
            conn: Conn::new(io).with_write_timeout(WRITE_TIMEOUT),
            reader: Reader::new(IDLE),
            user: None,
            errors: 0,
            auth_failures: 0,
        }
    }

    /// A reply: queued, written once no further command is waiting (a pipelining client gets
    /// its answers in one write).
    async fn send(&mut self, s: &str) -> Result<(), ()> {
        self.send_bytes(s.as_bytes()).await
    }

    async fn send_bytes(&mut self, b: &[u8]) -> Result<(), ()> {
        self.conn.queue(b);
        self.conn.flush_if_idle().await.map_err(|_| ())
    }

    /// A reply the client waits for before it sends anything (the greeting, a continuation,
    /// the answer to STARTTLS, a last line).
    async fn send_now(&mut self, s: &str) -> Result<(), ()> {
        self.conn.send(s.as_bytes()).await.map_err(|_| ())
    }

    fn tls(&self) -> bool {
        self.conn.is_tls()
    }

    /// The capability lines (RFC 5804 §1.7): PLAIN only once TLS is up, STARTTLS only before.
    fn capabilities(&self) -> String {
        let l = Limits::default();
        let mut s = String::new();
        s.push_str(&format!(
            "\"IMPLEMENTATION\" \"mailnook {}\"\r\n",
            env!("CARGO_PKG_VERSION")
        ));
        s.push_str(&format!(
            "\"SIEVE\" \"{}\"\r\n",
            crate::sieve::capability_string()
        ));
        if self.tls() {
            s.push_str("\"SASL\" \"PLAIN\"\r\n");
        } else {
            s.push_str("\"SASL\" \"\"\r\n\"STARTTLS\"\r\n");
        }
        s.push_str(&format!("\"MAXREDIRECTS\" \"{}\"\r\n", l.max_redirects));
        if let Some((_, name)) = &self.user {
            s.push_str(&format!("\"OWNER\" \"{}\"\r\n", quote(name)));
        }
        s.push_str("\"VERSION\" \"1.0\"\r\n");
        s
    }

    pub async fn run(mut self) {
        self.serve().await;
        // Over TLS the client then sees a close_notify, not a cut connection.
        self.conn.close().await;
    }

    async fn serve(&mut self) {
        let greeting = format!(
            "{}OK \"mailnook ManageSieve ready\"\r\n",
            self.capabilities()
        );
        if self.send_now(&greeting).await.is_err() {
            return;
        }
        loop {
            let flow = match self.reader.command(&mut self.conn).await {
                Ok((name, args)) => self.command(&name, args).await,
                Err(ReadError::Closed) => return,
                Err(ReadError::Fatal(why)) => return self.bye(&why).await,
                // Counted: each may have made us read up to 4 MiB.
                Err(ReadError::TooBig) => self.bad(&Self::too_big_text()).await,
                Err(ReadError::Bad(why)) => self.bad(&format!("\"{}\"", quote(&why))).await,
            };
            if !matches!(flow, Ok(Flow::Go)) {
                return;
            }
        }
    }

    /// The last line before the server closes the connection.
    async fn bye(&mut self, why: &str) {
        let _ = self.send_now(&format!("BYE \"{}\"\r\n", quote(why))).await;
    }

    /// Refuses a well-formed command.
    async fn no(&mut self, text: &str) -> Result<Flow, ()> {
        self.send(&format!("NO {text}\r\n")).await?;
        Ok(Flow::Go)
    }

    fn too_big_text() -> String {
        let max = Limits::default().max_script_bytes;
        format!("(QUOTA/MAXSIZE) \"Scripts may be at most {max} bytes\"")
    }

    /// Refuses a command that breaks the protocol; too many of them close the connection.
    async fn bad(&mut self, text: &str) -> Result<Flow, ()> {
        self.errors += 1;
        if self.errors >= MAX_ERRORS {
            self.bye("Too many errors").await;
            return Ok(Flow::Close);
        }
        self.no(text).await
    }

    /// A script over the size limit (RFC 5804 §1.3, the QUOTA/MAXSIZE response code).
    async fn too_big(&mut self) -> Result<Flow, ()> {
        self.no(&Self::too_big_text()).await
    }

    async fn command(&mut self, name: &str, args: Vec<Arg>) -> Result<Flow, ()> {
        let texts: Vec<Option<String>> = args.iter().map(Arg::text).collect();
        let arg = |i: usize| texts.get(i).cloned().flatten();
        match name {
            "CAPABILITY" => {
                let caps = self.capabilities();
                self.send(&format!("{caps}OK \"Capability completed\"\r\n"))
                    .await?;
                return Ok(Flow::Go);
            }
            "NOOP" => {
                match arg(0) {
                    // RFC 5804 §2.11: the tag is echoed back.
                    Some(tag) => {
                        self.send(&format!("OK (TAG {}) \"Done\"\r\n", string(&tag)))
                            .await?
                    }
                    None => self.send("OK \"Done\"\r\n").await?,
                }
                return Ok(Flow::Go);
            }
            "LOGOUT" => {
                let _ = self.send_now("OK \"Logout complete\"\r\n").await;
                return Ok(Flow::Close);
            }
            "STARTTLS" => {
                if self.tls() || self.user.is_some() {
                    return self.bad("\"TLS is already active\"").await;
                }
                self.send_now("OK \"Begin TLS negotiation now\"\r\n")
                    .await?;
                // Anything the client sent after STARTTLS before the handshake is dropped by
                // `wire::tls::accept`, so no plaintext can be injected into the TLS session
                // (RFC 5804 §2.2).
                crate::wire::tls::accept(&mut self.conn, self.ctx.tls.mail_config(), HANDSHAKE)
                    .await
                    .map_err(|_| ())?;
                // §2.2: the server sends its capabilities again after the handshake.
                let caps = self.capabilities();
                self.send(&format!("{caps}OK \"TLS negotiation successful\"\r\n"))
                    .await?;
                return Ok(Flow::Go);
            }
            "AUTHENTICATE" => return self.authenticate(&args).await,
            _ => {}
        }
        let Some((acct, _)) = self.user.clone() else {
            return self.bad("\"Authenticate first\"").await;
        };
        match name {
            "LISTSCRIPTS" => {
                let scripts = self.scripts(acct).await?;
                let mut out = String::new();
                for s in scripts {
                    out.push_str(&string(&s.name));
                    if s.is_active {
                        out.push_str(" ACTIVE");
                    }
                    out.push_str("\r\n");
                }
                out.push_str("OK \"Listscripts completed\"\r\n");
                self.send(&out).await?;
                Ok(Flow::Go)
            }
            "HAVESPACE" => {
                let (Some(n), Some(size)) = (arg(0), arg(1).and_then(|s| s.parse::<u64>().ok()))
                else {
                    return self.bad("\"HAVESPACE name size\"").await;
                };
                let l = Limits::default();
                if size > l.max_script_bytes as u64 {
                    return self.too_big().await;
                }
                let scripts = self.scripts(acct).await?;
                if !scripts.iter().any(|s| s.name == n) && scripts.len() >= l.max_scripts {
                    return self
                        .no(&format!(
                            "(QUOTA/MAXSCRIPTS) \"At most {} scripts\"",
                            l.max_scripts
                        ))
                        .await;
                }
                self.send("OK \"Putscript would succeed\"\r\n").await?;
                Ok(Flow::Go)
            }
            "CHECKSCRIPT" => {
                let Some(Arg::Str(body)) = args.first() else {
                    return self.bad("\"CHECKSCRIPT script\"").await;
                };
                if body.len() > Limits::default().max_script_bytes {
                    return self.too_big().await;
                }
                match compile(body) {
                    Ok(_) => self.send("OK \"Script is valid\"\r\n").await?,
                    Err(e) => return self.no(&format!("\"{}\"", quote(&e))).await,
                }
                Ok(Flow::Go)
            }
            "PUTSCRIPT" => {
                let (Some(n), Some(Arg::Str(body))) = (arg(0), args.get(1)) else {
                    return self.bad("\"PUTSCRIPT name script\"").await;
                };
                if body.len() > Limits::default().max_script_bytes {
                    return self.too_big().await;
                }
                if !crate::jmap::sieve::valid_name(&n) {
                    return self.no("\"Invalid script name\"").await;
                }
                let program = match compile(body) {
                    Ok(p) => p,
                    Err(e) => return self.no(&format!("\"{}\"", quote(&e))).await,
                };
                let compiled = serde_json::to_string(&program).map_err(|_| ())?;
                let body = body.clone();
                let res = self
                    .ctx
                    .store
                    .write(move |w| {
                        let existing = w.sieve_scripts(acct)?;
                        match existing.iter().find(|s| s.name == n) {
                            Some(s) => {
                                let mut s = s.clone();
                                s.compiled = compiled.clone();
                                w.put_sieve_script(acct, s, Some(&body), false)?;
                            }
                            None => {
                                if existing.len() >= Limits::default().max_scripts {
                                    return Err(StoreError::Invalid("maxscripts".into()));
                                }
                                let s = SieveScript {
                                    id: 0,
                                    name: n.clone(),
                                    blob: String::new(),
                                    is_active: false,
                                    compiled: compiled.clone(),
                                };
                                w.put_sieve_script(acct, s, Some(&body), true)?;
                            }
                        }
                        Ok(())
                    })
                    .await;
                match res {
                    Ok(()) => self.send("OK \"Putscript completed\"\r\n").await?,
                    Err(StoreError::Invalid(_)) => {
                        return self
                            .no(&format!(
                                "(QUOTA/MAXSCRIPTS) \"At most {} scripts\"",
                                Limits::default().max_scripts
                            ))
                            .await;
                    }
                    Err(e) => return self.store_failed(e).await,
                }
                Ok(Flow::Go)
            }
            "GETSCRIPT" => {
                let Some(n) = arg(0) else {
                    return self.bad("\"GETSCRIPT name\"").await;
                };
                let text = self
                    .ctx
                    .store
                    .read(move |r| {
                        let Some(s) = r.sieve_scripts(acct)?.into_iter().find(|s| s.name == n)
                        else {
                            return Ok(None);
                        };
                        r.blob(acct, &s.blob)
                    })
                    .await;
                match text {
                    Ok(Some(t)) => {
                        let mut out = format!("{{{}}}\r\n", t.len()).into_bytes();
                        out.extend_from_slice(&t);
                        out.extend_from_slice(b"\r\nOK \"Getscript completed\"\r\n");
                        self.send_bytes(&out).await?;
                    }
                    Ok(None) => return self.no("(NONEXISTENT) \"No such script\"").await,
                    Err(e) => return self.store_failed(e).await,
                }
                Ok(Flow::Go)
            }
            "SETACTIVE" => {
                let Some(n) = arg(0) else {
                    return self.bad("\"SETACTIVE name\"").await;
                };
                let res = self
                    .ctx
                    .store
                    .write(move |w| {
                        // §2.8: the empty name deactivates.
                        let target = if n.is_empty() {
                            None
                        } else {
                            match w.sieve_scripts(acct)?.into_iter().find(|s| s.name == n) {
                                Some(s) => Some(s.id),
                                None => return Err(StoreError::NotFound),
                            }
                        };
                        w.activate_sieve_script(acct, target)
                    })
                    .await;
                match res {
                    Ok(()) => self.send("OK \"Setactive completed\"\r\n").await?,
                    Err(StoreError::NotFound) => {
                        return self.no("(NONEXISTENT) \"No such script\"").await;
                    }
                    Err(e) => return self.store_failed(e).await,
                }
                Ok(Flow::Go)
            }
            "DELETESCRIPT" => {
                let Some(n) = arg(0) else {
                    return self.bad("\"DELETESCRIPT name\"").await;
                };
                let res = self
                    .ctx
                    .store
                    .write(move |w| {
                        let Some(s) = w.sieve_scripts(acct)?.into_iter().find(|s| s.name == n)
                        else {
                            return Err(StoreError::NotFound);
                        };
                        if s.is_active {
                            return Err(StoreError::Invalid("active".into()));
                        }
                        w.remove_sieve_script(acct, s.id).map(|_| ())
                    })
                    .await;
                match res {
                    Ok(()) => self.send("OK \"Deletescript completed\"\r\n").await?,
                    Err(StoreError::NotFound) => {
                        return self.no("(NONEXISTENT) \"No such script\"").await;
                    }
                    Err(StoreError::Invalid(_)) => {
                        return self.no("(ACTIVE) \"Deactivate the script first\"").await;
                    }
                    Err(e) => return self.store_failed(e).await,
                }
                Ok(Flow::Go)
            }
            "RENAMESCRIPT" => {
                let (Some(old), Some(new)) = (arg(0), arg(1)) else {
                    return self.bad("\"RENAMESCRIPT old new\"").await;
                };
                let valid = crate::jmap::sieve::valid_name(&new);
                let res = self
                    .ctx
                    .store
                    .write(move |w| {
                        let all = w.sieve_scripts(acct)?;
                        // §2.11.1: a missing old name is NONEXISTENT whatever the new one.
                        let Some(mut s) = all.iter().find(|s| s.name == old).cloned() else {
                            return Err(StoreError::NotFound);
                        };
                        if !valid {
                            return Err(StoreError::Invalid("name".into()));
                        }
                        if all.iter().any(|s| s.name == new) {
                            return Err(StoreError::Invalid("exists".into()));
                        }
                        s.name = new.clone();
                        w.put_sieve_script(acct, s, None, false).map(|_| ())
                    })
                    .await;
                match res {
                    Ok(()) => self.send("OK \"Renamescript completed\"\r\n").await?,
                    Err(StoreError::NotFound) => {
                        return self.no("(NONEXISTENT) \"No such script\"").await;
                    }
                    Err(StoreError::Invalid(why)) if why == "name" => {
                        return self.no("\"Invalid script name\"").await;
                    }
                    Err(StoreError::Invalid(_)) => {
                        return self.no("(ALREADYEXISTS) \"A script has that name\"").await;
                    }
                    Err(e) => return self.store_failed(e).await,
                }
                Ok(Flow::Go)
            }
            _ => self.bad("\"Unknown command\"").await,
        }
    }

    async fn store_failed(&mut self, e: StoreError) -> Result<Flow, ()> {
        log::error!("managesieve {}: store error: {e}", self.peer);
        self.send("NO (TRYLATER) \"Server error, try again later\"\r\n")
            .await?;
        Ok(Flow::Go)
    }

    async fn scripts(&mut self, acct: AccountId) -> Result<Vec<SieveScript>, ()> {
        match self.ctx.store.read(move |r| r.sieve_scripts(acct)).await {
            Ok(s) => Ok(s),
            Err(e) => {
                log::error!("managesieve {}: store error: {e}", self.peer);
                Err(())
            }
        }
    }

    /// AUTHENTICATE "PLAIN" [initial response] (RFC 5804 §2.1, RFC 4616).
    async fn authenticate(&mut self, args: &[Arg]) -> Result<Flow, ()> {
        if !self.tls() {
            return self.no("(ENCRYPT-NEEDED) \"Use STARTTLS first\"").await;
        }
        if self.user.is_some() {
            return self.no("\"Already authenticated\"").await;
        }
        let mech = args.first().and_then(Arg::text).unwrap_or_default();
        if !mech.eq_ignore_ascii_case("PLAIN") {
            return self.no("\"Only PLAIN is supported\"").await;
        }
        let response = match args.get(1).and_then(Arg::text) {
            Some(r) => r,
            None => {
                // An empty challenge; the client answers with a string.
                self.send_now("\"\"\r\n").await?;
                let bytes = match self.reader.sasl_response(&mut self.conn).await {
                    Ok(b) => b,
                    Err(ReadError::Fatal(why)) => {
                        self.bye(&why).await;
                        return Ok(Flow::Close);
                    }
                    Err(_) => return Err(()),
                };
                if bytes == b"*" {
                    return self.no("\"Authentication cancelled\"").await;
                }
                String::from_utf8_lossy(&bytes).into_owned()
            }
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(response.trim())
            .ok();
        // authzid NUL authcid NUL password; an authzid other than the user is refused.
        let creds = decoded.and_then(|d| {
            let parts: Vec<&[u8]> = d.split(|b| *b == 0).collect();
            match parts.as_slice() {
                [authz, user, pass] => {
                    let user = std::str::from_utf8(user).ok()?.to_string();
                    let authz = std::str::from_utf8(authz).ok()?;
                    if !authz.is_empty() && !authz.eq_ignore_ascii_case(&user) {
                        return None;
                    }
                    Some((user, std::str::from_utf8(pass).ok()?.to_string()))
                }
                _ => None,
            }
        });
        let Some((user, pass)) = creds else {
            return self.no("\"Cannot decode the response\"").await;
        };
        let outcome = self
            .ctx
            .login
            .check_password(&self.ctx.store, Some(self.peer.ip()), &user, &pass)
            .await;
        let shown: String = user
            .chars()
            .take(256)
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        match outcome {
            Outcome::Ok(acct) => {
                log::info!("managesieve {}: {shown} logged in", self.peer);
                self.user = Some((acct.id, acct.name));
                self.send("OK \"Authenticated\"\r\n").await?;
                Ok(Flow::Go)
            }
            Outcome::Throttled(wait) => {
                log::info!(
                    "managesieve {}: login for {shown} refused (limiter)",
                    self.peer
                );
                let _ = self
                    .send(&format!(
                        "NO (TRYLATER) \"Too many attempts, try again in {} seconds\"\r\n",
                        wait.as_secs().max(1)
                    ))
                    .await;
                Ok(Flow::Close)
            }
            Outcome::Denied => {
                self.auth_failures += 1;
                log::info!("managesieve {}: failed login for {shown}", self.peer);
                smol::Timer::after(Duration::from_secs(1)).await;
                self.send("NO \"Authentication failed\"\r\n").await?;
                if self.auth_failures >= MAX_AUTH_FAILURES {
                    self.bye("Too many failed logins").await;
                    return Ok(Flow::Close);
                }
                Ok(Flow::Go)
            }
        }
    }
}

fn compile(body: &[u8]) -> Result<crate::sieve::Program, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the script is not UTF-8".to_string())?;
    crate::sieve::compile(text, &Limits::default()).map_err(|e| e.to_string())
}
