//! OAuth clients: registration rules and redirect URI matching.
//!
//! A redirect URI may be (RFC 8252 §7, RFC 9700 §2.1):
//! - `https://…` (a browser app, or a claimed https URI of a native app, §7.2);
//! - `http://127.0.0.1[:port]/…` or `http://[::1][:port]/…`, a native app's loopback listener
//!   (§7.3): the port is ignored when matching, since the app picks a free one each time;
//!   `localhost` is refused (§8.3: it may resolve elsewhere);
//! - a private-use scheme with a dot, like `com.example.app:/cb` (§7.1).
//!
//! Anything else (plain http to another host, fragments, `javascript:`) is refused when the
//! client is registered; at `/oauth/authorize` a URI must match a registered one exactly (apart
//! from a loopback port) or the request ends on our own error page, never redirected
//! (RFC 6749 §4.1.2.1).

use crate::store::{OAuthClient, Store, StoreError};
use base64::Engine;

pub const MAX_REDIRECTS: usize = 10;
const MAX_URI_LEN: usize = 512;
const MAX_NAME_LEN: usize = 64;

/// A client name as shown on the consent page: printable, not empty, at most 64 characters.
pub fn check_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN || name.chars().any(char::is_control)
    {
        return Err(format!(
            "a client name is 1 to {MAX_NAME_LEN} printable characters"
        ));
    }
    Ok(name.to_string())
}

fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        _ => false,
    }
}

/// Checks a redirect URI offered at registration.
pub fn check_redirect(uri: &str) -> Result<(), String> {
    if uri.len() > MAX_URI_LEN {
        return Err(format!("redirect URI longer than {MAX_URI_LEN} bytes"));
    }
    let u = url::Url::parse(uri).map_err(|e| format!("{uri:?} is not an absolute URI: {e}"))?;
    if u.fragment().is_some() {
        return Err(format!(
            "{uri:?}: a redirect URI has no fragment (RFC 6749 §3.1.2)"
        ));
    }
    match u.scheme() {
        "https" if u.host().is_some() => Ok(()),
        "http" if is_loopback(&u) => Ok(()),
        "http" => Err(format!(
            "{uri:?}: plain http only for a loopback address (127.0.0.1 or [::1], RFC 8252 §7.3)"
        )),
        s if s.contains('.') && !["javascript", "data", "file"].contains(&s) => Ok(()),
        _ => Err(format!(
            "{uri:?}: use https, http://127.0.0.1 (loopback) or a private-use scheme like com.example.app:/cb"
        )),
    }
}

/// Whether `uri` is one of the client's registered redirect URIs: exact match, or a loopback
/// URI that differs only by port (RFC 8252 §7.3).
pub fn redirect_allowed(client: &OAuthClient, uri: &str) -> bool {
    if uri.len() > MAX_URI_LEN {
        return false;
    }
    if client.redirect_uris.iter().any(|r| r == uri) {
        return true;
    }
    let Ok(mut asked) = url::Url::parse(uri) else {
        return false;
    };
    if asked.scheme() != "http" || !is_loopback(&asked) || asked.set_port(None).is_err() {
        return false;
    }
    client.redirect_uris.iter().any(|r| {
        url::Url::parse(r).is_ok_and(|mut reg| {
            reg.scheme() == "http"
                && is_loopback(&reg)
                && reg.set_port(None).is_ok()
                && reg == asked
        })
    })
}

fn new_id() -> Result<String, StoreError> {
    let mut b = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b)
        .map_err(|_| StoreError::Invalid("no randomness".into()))?;
    Ok(format!(
        "mnc_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
    ))
}

/// Registers a client; its id is drawn here.
pub async fn add(
    store: &Store,
    name: &str,
    redirect_uris: &[String],
) -> Result<OAuthClient, StoreError> {
    let name = check_name(name).map_err(StoreError::Invalid)?;
    if redirect_uris.is_empty() || redirect_uris.len() > MAX_REDIRECTS {
        return Err(StoreError::Invalid(format!(
            "give 1 to {MAX_REDIRECTS} redirect URIs (--redirect URI)"
        )));
    }
    for u in redirect_uris {
        check_redirect(u).map_err(StoreError::Invalid)?;
    }
    let c = OAuthClient {
        id: new_id()?,
        name,
        redirect_uris: redirect_uris.to_vec(),
        created_at: crate::date::now(),
    };
    let row = c.clone();
    store.write(move |w| w.add_oauth_client(&row)).await?;
    Ok(c)
}

/// One line for the CLI: id, name, redirect URIs.
pub fn describe(c: &OAuthClient) -> String {
    format!("{}\t{}\t{}", c.id, c.name, c.redirect_uris.join(" "))
}

pub async fn list(store: &Store) -> Result<Vec<OAuthClient>, StoreError> {
    store.read(|r| r.oauth_clients()).await
}

pub async fn get(store: &Store, id: &str) -> Result<Option<OAuthClient>, StoreError> {
    if id.is_empty() || id.len() > 64 {
        return Ok(None);
    }
    let id = id.to_string();
    store.read(move |r| r.oauth_client(&id)).await
}

/// Removes a client by id or name, with every token issued to it.
pub async fn del(store: &Store, which: &str) -> Result<OAuthClient, StoreError> {
    let which = which.trim().to_string();
    let all = list(store).await?;
    let Some(c) = all
        .into_iter()
        .find(|c| c.id == which || c.name.eq_ignore_ascii_case(&which))
    else {
        return Err(StoreError::NotFound);
    };
    let id = c.id.clone();
    store.write(move |w| w.remove_oauth_client(&id)).await?;
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(uris: &[&str]) -> OAuthClient {
        OAuthClient {
            id: "mnc_x".into(),
            name: "App".into(),
            redirect_uris: uris.iter().map(|s| s.to_string()).collect(),
            created_at: 0,
        }
    }

    #[test]
    fn registration_rules() {
        for ok in [
            "https://app.example/cb",
            "http://127.0.0.1/cb",
            "http://[::1]:8080/cb",
            "com.example.app:/oauth",
        ] {
            assert!(check_redirect(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://app.example/cb",
            "http://localhost/cb",
            "https://app.example/cb#x",
            "javascript:alert(1)",
            "cb",
            "mailto:a@b",
        ] {
            assert!(check_redirect(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn matching() {
        let c = client(&["http://127.0.0.1/cb", "https://app.example/cb"]);
        assert!(redirect_allowed(&c, "http://127.0.0.1:49152/cb"));
        assert!(redirect_allowed(&c, "http://127.0.0.1/cb"));
        assert!(!redirect_allowed(&c, "http://127.0.0.1:49152/other"));
        assert!(!redirect_allowed(&c, "http://127.0.0.1:49152/cb?x=1"));
        assert!(redirect_allowed(&c, "https://app.example/cb"));
        assert!(!redirect_allowed(&c, "https://app.example:444/cb"));
        assert!(!redirect_allowed(&c, "https://app.example/cb/"));
        assert!(!redirect_allowed(&c, "https://evil.example/cb"));
    }
}
