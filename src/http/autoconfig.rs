//! Thunderbird-style client autoconfiguration (the "autoconfig" format, config-v1.1.xml): a mail
//! client given only an address fetches `https://autoconfig.<domain>/mail/config-v1.1.xml` or
//! `https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml` and learns where to submit
//! mail: the submission port (RFC 6409) with STARTTLS and a password. The domain comes from
//! the `emailaddress` query parameter, else from an `autoconfig.` Host, else the hostname.

use super::State;
use tide::{Request, Response, StatusCode};

/// Escapes text for an XML element.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The domain the client asks about, lower-case; only DNS-name characters are kept as valid.
pub fn domain_for(email: Option<&str>, host: Option<&str>, hostname: &str) -> String {
    let from_email = email
        .and_then(|e| e.rsplit_once('@'))
        .map(|(_, d)| d.to_string());
    let from_host = host
        .map(|h| h.split(':').next().unwrap_or(h))
        .and_then(|h| h.strip_prefix("autoconfig."))
        .map(str::to_string);
    let d = from_email
        .or(from_host)
        .unwrap_or_else(|| hostname.to_string())
        .to_ascii_lowercase();
    let ok = !d.is_empty()
        && d.len() <= 253
        && d.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if ok { d } else { hostname.to_ascii_lowercase() }
}

pub fn xml(domain: &str, hostname: &str, submission_port: u16) -> String {
    let (d, h) = (esc(domain), esc(hostname));
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<clientConfig version=\"1.1\">\n\
  <emailProvider id=\"{d}\">\n\
    <domain>{d}</domain>\n\
    <displayName>mailnook ({d})</displayName>\n\
    <outgoingServer type=\"smtp\">\n\
      <hostname>{h}</hostname>\n\
      <port>{submission_port}</port>\n\
      <socketType>STARTTLS</socketType>\n\
      <authentication>password-cleartext</authentication>\n\
      <username>%EMAILADDRESS%</username>\n\
    </outgoingServer>\n\
  </emailProvider>\n\
</clientConfig>\n"
    )
}

pub async fn config(req: Request<State>) -> tide::Result {
    let email = req
        .url()
        .query_pairs()
        .find(|(k, _)| k == "emailaddress")
        .map(|(_, v)| v.to_string());
    let host = req.header("Host").map(|h| h.as_str().to_string());
    let c = &req.state().config;
    let domain = domain_for(email.as_deref(), host.as_deref(), &c.hostname);
    let mut res = Response::new(StatusCode::Ok);
    res.set_content_type("application/xml; charset=utf-8");
    res.set_body(xml(&domain, &c.hostname, req.state().submission_port));
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_domain_comes_from_the_address_then_the_host() {
        assert_eq!(domain_for(Some("a@Ex.org"), None, "h"), "ex.org");
        assert_eq!(
            domain_for(None, Some("autoconfig.b.test:443"), "h"),
            "b.test"
        );
        assert_eq!(domain_for(None, Some("other.test"), "h.test"), "h.test");
        assert_eq!(domain_for(Some("a@<x>"), None, "h.test"), "h.test");
        assert!(xml("a&b", "h", 587).contains("<domain>a&amp;b</domain>"));
    }
}
