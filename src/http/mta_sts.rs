//! The MTA-STS policy host (RFC 8461 §3.3): `GET /.well-known/mta-sts.txt` with Host
//! `mta-sts.<domain>` answers the policy of that local domain as `text/plain`; any other host,
//! or a domain that is not ours, gets 404 (a sender that finds no policy delivers as before).
//! The policy text comes from `[mta_sts]` (`mta_sts::MtaStsConfig::published`).

use super::State;
use tide::{Request, Response, StatusCode};

/// The domain a policy request is for: Host `mta-sts.<domain>` (port and trailing dot
/// removed), lower-case; None for any other Host.
pub fn policy_domain(host: Option<&str>) -> Option<String> {
    let h = host?.trim();
    // A Host with a port (`name:443`); an IPv6 literal has no mta-sts. prefix anyway.
    let h = h.rsplit_once(':').map(|(n, _)| n).unwrap_or(h);
    let d = h
        .trim_end_matches('.')
        .to_ascii_lowercase()
        .strip_prefix("mta-sts.")?
        .to_string();
    (!d.is_empty()
        && d.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
    .then_some(d)
}

pub async fn policy(req: Request<State>) -> tide::Result {
    let not_found = || {
        let mut res = Response::new(StatusCode::NotFound);
        res.set_content_type("text/plain; charset=utf-8");
        res.set_body("No MTA-STS policy is published under this name.\n");
        res
    };
    let host = req.header("Host").map(|h| h.as_str().to_string());
    let Some(domain) = policy_domain(host.as_deref()) else {
        return Ok(not_found());
    };
    let d = domain.clone();
    let local = req
        .state()
        .jmap
        .store
        .read(move |r| r.is_local_domain(&d))
        .await;
    match local {
        Ok(true) => {}
        Ok(false) => return Ok(not_found()),
        Err(e) => {
            log::warn!("mta-sts: cannot read the local domains: {e}");
            return Ok(Response::new(StatusCode::ServiceUnavailable));
        }
    }
    let c = &req.state().config;
    let text = c.mta_sts.published(&c.hostname).render();
    let mut res = Response::new(StatusCode::Ok);
    // §3.3: media type text/plain; senders cache by max_age, not by HTTP caching.
    res.set_content_type("text/plain; charset=utf-8");
    res.insert_header("Cache-Control", "no-cache");
    res.set_body(text);
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_domain_comes_from_the_host() {
        assert_eq!(
            policy_domain(Some("MTA-STS.Example.org:443")),
            Some("example.org".into())
        );
        assert_eq!(
            policy_domain(Some("mta-sts.example.org.")),
            Some("example.org".into())
        );
        assert_eq!(policy_domain(Some("mail.example.org")), None);
        assert_eq!(policy_domain(Some("mta-sts.")), None);
        assert_eq!(policy_domain(Some("mta-sts.a/b")), None);
        assert_eq!(policy_domain(None), None);
    }
}
