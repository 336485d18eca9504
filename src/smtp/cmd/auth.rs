//! AUTH (RFC 4954) on the submission port, after STARTTLS: PLAIN (RFC 4616) or LOGIN with an
//! account's password, checked by the login door (`src/login.rs`) shared with HTTP.

use crate::login::Outcome;
use crate::smtp::reply;
use crate::smtp::session::{Next, Session};
use crate::wire::printable;
use base64::Engine;
use smtp_proto::{AUTH_LOGIN, AUTH_PLAIN};
use std::time::Duration;

/// Failed logins before the connection is closed (RFC 4954 §4 lets a server limit them).
/// Across connections, the login door limits failures per client and account.
const MAX_AUTH_FAILURES: u32 = 3;

pub async fn run(s: &mut Session, mechanism: u64, initial: String) -> Next {
    if !s.conn.is_tls() {
        return s.refuse(&reply::NEED_TLS).await;
    }
    if s.user.is_some() || s.mail_from.is_some() {
        return s
            .error(&reply::BAD_SEQUENCE.with("Already authenticated"))
            .await;
    }
    let creds = match mechanism {
        AUTH_PLAIN => plain(s, &initial).await,
        AUTH_LOGIN => login(s, &initial).await,
        _ => {
            return s
                .error("504 5.5.4 Unrecognized authentication type\r\n")
                .await;
        }
    };
    let Ok(creds) = creds else {
        return Next::Close;
    };
    let Some((user, pass)) = creds else {
        return s.error("501 5.5.2 Cannot decode the response\r\n").await;
    };
    let outcome = s
        .ctx
        .login
        .check_password(&s.ctx.store, Some(s.peer.ip()), &user, &pass)
        .await;
    match outcome {
        Outcome::Ok(acct) => {
            log::info!("submission {}: {} logged in", s.peer, printable(&user));
            s.user = Some((acct.id, user.to_lowercase()));
            s.reply("235 2.7.0 Authentication successful\r\n");
            Next::Continue
        }
        Outcome::Throttled(wait) => {
            // RFC 4954 §6: 454 4.7.0 is a temporary authentication failure (here: too many
            // failed logins, or too many checks at once). The connection is closed: retrying
            // on it would only be refused again.
            let secs = wait.as_secs().max(1);
            log::info!(
                "submission {}: login for {} refused for {secs} s (limiter)",
                s.peer,
                printable(&user),
            );
            let _ = s
                .conn
                .send(
                    format!(
                        "454 4.7.0 Temporary authentication failure: too many attempts, \
                         try again in {secs} seconds\r\n"
                    )
                    .as_bytes(),
                )
                .await;
            Next::Close
        }
        Outcome::Denied => {
            s.auth_failures += 1;
            log::info!(
                "submission {}: failed login for {}",
                s.peer,
                printable(&user)
            );
            // Slow down guessing: each failure costs the client a second.
            smol::Timer::after(Duration::from_secs(1)).await;
            s.reply("535 5.7.8 Authentication credentials invalid\r\n");
            if s.auth_failures >= MAX_AUTH_FAILURES {
                s.reply(&reply::TOO_MANY_ERRORS.line());
                let _ = s.conn.flush().await;
                return Next::Close;
            }
            Next::Continue
        }
    }
}

fn b64d(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
}

/// AUTH PLAIN: the response is "authzid NUL authcid NUL password" (RFC 4616 §2).
/// Err: the exchange ended the session; Ok(None): the response could not be decoded.
async fn plain(s: &mut Session, initial: &str) -> Result<Option<(String, String)>, ()> {
    let response = if initial.is_empty() {
        challenge(s, "334 \r\n").await?
    } else {
        initial.to_string()
    };
    let Some(bytes) = b64d(&response) else {
        return Ok(None);
    };
    let parts: Vec<&[u8]> = bytes.split(|b| *b == 0).collect();
    let [authz, user, pass] = parts.as_slice() else {
        return Ok(None);
    };
    let (Ok(authz), Ok(user), Ok(pass)) = (
        std::str::from_utf8(authz),
        std::str::from_utf8(user),
        std::str::from_utf8(pass),
    ) else {
        return Ok(None);
    };
    // Acting for another user is not offered.
    if !authz.is_empty() && !authz.eq_ignore_ascii_case(user) {
        return Ok(None);
    }
    Ok(Some((user.to_string(), pass.to_string())))
}

/// AUTH LOGIN: user name and password in two base64 round trips.
async fn login(s: &mut Session, initial: &str) -> Result<Option<(String, String)>, ()> {
    let user = if initial.is_empty() {
        challenge(s, "334 VXNlcm5hbWU6\r\n").await?
    } else {
        initial.to_string()
    };
    let pass = challenge(s, "334 UGFzc3dvcmQ6\r\n").await?;
    let decode = |s: &str| b64d(s).and_then(|b| String::from_utf8(b).ok());
    Ok(decode(&user).zip(decode(&pass)))
}

/// Sends a `334` challenge now and reads the client's response line.
async fn challenge(s: &mut Session, line: &str) -> Result<String, ()> {
    s.conn.send(line.as_bytes()).await.map_err(|_| ())?;
    let line = match s.read_line().await {
        Ok(l) => l,
        Err(crate::wire::ReadError::TooLong) => {
            let _ = s.conn.send(reply::LINE_TOO_LONG.line().as_bytes()).await;
            return Err(());
        }
        Err(_) => return Err(()),
    };
    let text = String::from_utf8_lossy(&line).trim_end().to_string();
    if text == "*" {
        // RFC 4954 §4: the client canceled.
        let _ = s.conn.send(b"501 5.7.0 Authentication canceled\r\n").await;
        return Err(());
    }
    Ok(text)
}
