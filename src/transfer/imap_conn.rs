//! The connection to the old provider's IMAP server for `mailnook import imap`: the source URL,
//! TLS (implicit on `imaps://`, RFC 8314 §3.2; STARTTLS on `imap://`, RFC 9051 §6.2.1; never a
//! password in clear text), LOGIN, and a deadline on every exchange so that a server that stops
//! answering ends the import instead of hanging it. The IMAP protocol itself is async-imap's
//! (MIT/Apache, over futures-io, which smol's sockets and futures-rustls speak).

use rustls::pki_types::ServerName;
use std::future::Future;
use std::path::Path;
use std::time::Duration;

/// The TLS stream every session runs over.
pub type Stream = futures_rustls::client::TlsStream<smol::net::TcpStream>;
pub type Session = async_imap::Session<Stream>;

/// One exchange (connect, handshake, a command, one FETCH response) must finish within this.
pub const TIMEOUT: Duration = Duration::from_secs(120);

/// `imaps://user@host[:port]` or `imap://user@host[:port]` (the user may be percent-encoded:
/// `me%40example.org`; an `@` in it is also accepted as is, the last `@` ends the user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub user: String,
    pub host: String,
    pub port: u16,
    /// TLS from the first byte (`imaps`, port 993) rather than STARTTLS (`imap`, port 143).
    pub implicit_tls: bool,
}

impl Source {
    pub fn parse(url: &str) -> Result<Source, String> {
        let bad = || {
            format!(
                "{url:?} is not imaps://user@host[:port] (or imap://user@host[:port] for STARTTLS)"
            )
        };
        let (implicit_tls, rest) = if let Some(r) = url.strip_prefix("imaps://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("imap://") {
            (false, r)
        } else {
            return Err(bad());
        };
        let rest = rest.trim_end_matches('/');
        let (user, hostport) = rest.rsplit_once('@').ok_or_else(bad)?;
        let user = percent_decode(user).ok_or_else(bad)?;
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(':') && !p.contains(']') => {
                (h, p.parse::<u16>().map_err(|_| bad())?)
            }
            _ => (hostport, if implicit_tls { 993 } else { 143 }),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if user.is_empty() || host.is_empty() || host.contains('/') || port == 0 {
            return Err(bad());
        }
        Ok(Source {
            user,
            host: host.to_string(),
            port,
            implicit_tls,
        })
    }

    /// The key under which a folder's progress is remembered (`store/redb/import_state.rs`).
    /// Without the port: the same mailbox reached over imaps (993) or STARTTLS (143) is one.
    pub fn folder_key(&self, folder: &str) -> String {
        format!(
            "imap://{}@{}/{folder}",
            self.user,
            self.host.to_ascii_lowercase()
        )
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Runs `f` with the [`TIMEOUT`]; `what` names the step in the error.
pub async fn timed<T, E: std::fmt::Display>(
    what: &str,
    f: impl Future<Output = Result<T, E>>,
) -> Result<T, String> {
    let work = async { f.await.map_err(|e| format!("{what}: {e}")) };
    let late = async {
        smol::Timer::after(TIMEOUT).await;
        Err(format!("{what}: no answer in {} s", TIMEOUT.as_secs()))
    };
    futures_lite::future::or(work, late).await
}

/// Connects, secures the connection and logs in.
pub async fn connect(
    src: &Source,
    password: &str,
    ca_file: Option<&Path>,
) -> Result<Session, String> {
    let tls = crate::outbound::tls::verified(ca_file)?;
    let name = match src.host.parse::<std::net::IpAddr>() {
        Ok(ip) => ServerName::IpAddress(ip.into()),
        Err(_) => ServerName::try_from(src.host.clone())
            .map_err(|_| format!("{} is not a host name", src.host))?,
    };
    let connector = futures_rustls::TlsConnector::from(tls);
    let addr = format!("{}:{}", src.host, src.port);
    let tcp = timed(
        &format!("connecting to {addr}"),
        smol::net::TcpStream::connect(addr.as_str()),
    )
    .await?;
    let stream = if src.implicit_tls {
        let s = timed("TLS handshake", connector.connect(name, tcp)).await?;
        let mut client = async_imap::Client::new(s);
        greeting(&mut client).await?;
        client.into_inner()
    } else {
        let mut client = async_imap::Client::new(tcp);
        greeting(&mut client).await?;
        // RFC 9051 §6.2.1: after the tagged OK the TLS negotiation starts; no greeting follows.
        timed(
            "STARTTLS",
            client.run_command_and_check_ok("STARTTLS", None),
        )
        .await?;
        let tcp = client.into_inner();
        timed("TLS handshake", connector.connect(name, tcp)).await?
    };
    let client = async_imap::Client::new(stream);
    let login = async {
        client
            .login(&src.user, password)
            .await
            .map_err(|(e, _)| e.to_string())
    };
    timed::<_, String>(&format!("login as {}", src.user), login).await
}

async fn greeting<T>(client: &mut async_imap::Client<T>) -> Result<(), String>
where
    T: futures_lite::AsyncRead + futures_lite::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    match timed("server greeting", client.read_response()).await? {
        Some(_) => Ok(()),
        None => Err("the server closed the connection before its greeting".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let s = Source::parse("imaps://me%40example.org@mail.example.org").unwrap();
        assert_eq!(
            (s.user.as_str(), s.host.as_str(), s.port, s.implicit_tls),
            ("me@example.org", "mail.example.org", 993, true)
        );
        let s = Source::parse("imap://me@example.org@127.0.0.1:1143/").unwrap();
        assert_eq!(
            (s.user.as_str(), s.host.as_str(), s.port, s.implicit_tls),
            ("me@example.org", "127.0.0.1", 1143, false)
        );
        assert!(Source::parse("https://me@host").is_err());
        assert!(Source::parse("imaps://host").is_err());
        assert!(Source::parse("imaps://me@host:99999").is_err());
        assert_eq!(
            s.folder_key("Work/Projects"),
            "imap://me@example.org@127.0.0.1/Work/Projects"
        );
    }
}
