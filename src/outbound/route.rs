//! Where a recipient's mail goes next (RFC 5321 §5.1): the configured smarthost for every
//! remote recipient, else the recipient domain's MX hosts in preference order, else (no MX
//! record) the domain itself as an implicit MX. An address literal (`user@[192.0.2.1]`) names
//! the host directly.

use super::client::{Hop, Reply, TlsUse};
use super::{Inner, SmarthostTls};
use std::net::{IpAddr, SocketAddr};

/// "host:port" (or "[v6]:port") -> (host, port); `default_port` when none is given and it is
/// not 0.
pub fn split_host_port(s: &str, default_port: u16) -> Option<(String, u16)> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('[') {
        let (host, tail) = rest.split_once(']')?;
        let port = match tail.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None if tail.is_empty() && default_port != 0 => default_port,
            None => return None,
        };
        return Some((host.to_string(), port));
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && !h.contains(':') => Some((h.to_string(), p.parse().ok()?)),
        None if !s.is_empty() && default_port != 0 => Some((s.to_string(), default_port)),
        _ => None,
    }
}

/// Resolves a host name to addresses (the system resolver, off the executor threads).
async fn addresses(host: &str, port: u16) -> Result<Vec<SocketAddr>, Reply> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    match smol::net::resolve((host, port)).await {
        Ok(a) if !a.is_empty() => Ok(a),
        Ok(_) => Err(Reply {
            code: 451,
            text: format!("4.4.4 {host} has no address"),
        }),
        Err(e) => Err(Reply {
            code: 451,
            text: format!("4.4.4 cannot resolve {host}: {e}"),
        }),
    }
}

/// True when remote mail goes through the smarthost (then all remote recipients share a hop).
pub(crate) fn uses_smarthost(inner: &Inner) -> bool {
    inner.config.outbound.smarthost.is_some()
}

/// The hop for the smarthost.
pub(crate) async fn smarthost(inner: &Inner) -> Result<Hop, Reply> {
    let o = &inner.config.outbound;
    let (host, port) = o
        .smarthost
        .as_deref()
        .and_then(|h| split_host_port(h, 0))
        .ok_or_else(|| Reply {
            code: 451,
            text: "4.3.5 no smarthost configured".into(),
        })?;
    let addrs = addresses(&host, port).await?;
    let tls = match o.smarthost_tls {
        SmarthostTls::Starttls => TlsUse::Required(inner.verified_tls.clone()),
        SmarthostTls::Implicit => TlsUse::Implicit(inner.verified_tls.clone()),
        SmarthostTls::None => TlsUse::Never,
    };
    let auth = match (&o.smarthost_user, &o.smarthost_password) {
        (Some(u), Some(p)) => Some((u.clone(), p.clone())),
        _ => None,
    };
    Ok(Hop {
        host,
        addrs,
        tls,
        auth,
    })
}

/// The hops for a recipient domain, best first.
pub(crate) async fn mx_hops(inner: &Inner, domain: &str) -> Result<Vec<Hop>, Reply> {
    let port = inner.config.outbound.mx_port;
    let tls = TlsUse::Opportunistic(inner.opportunistic_tls.clone());
    // RFC 5321 §4.1.3: an address literal is delivered to that address.
    if let Some(lit) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        let ip: IpAddr = lit
            .strip_prefix("IPv6:")
            .unwrap_or(lit)
            .parse()
            .map_err(|_| Reply {
                code: 550,
                text: format!("5.1.2 bad address literal [{lit}]"),
            })?;
        return Ok(vec![Hop {
            host: ip.to_string(),
            addrs: vec![SocketAddr::new(ip, port)],
            tls,
            auth: None,
        }]);
    }
    let hosts = match mx_lookup(inner, domain).await {
        Ok(Some(hosts)) => hosts,
        // RFC 5321 §5.1: no MX record -> the domain itself is the implicit MX.
        Ok(None) => vec![domain.to_string()],
        Err(e) => {
            return Err(Reply {
                code: 451,
                text: format!("4.4.3 MX lookup for {domain} failed: {e}"),
            });
        }
    };
    // RFC 7505: a single "." MX means the domain accepts no mail.
    if hosts.len() == 1 && (hosts[0].is_empty() || hosts[0] == ".") {
        return Err(Reply {
            code: 556,
            text: format!("5.1.10 {domain} does not accept mail (null MX)"),
        });
    }
    let mut hops = Vec::new();
    let mut last = None;
    for h in hosts {
        let host = h.trim_end_matches('.').to_string();
        match addresses(&host, port).await {
            Ok(addrs) => hops.push(Hop {
                host,
                addrs,
                tls: tls.clone(),
                auth: None,
            }),
            Err(e) => last = Some(e),
        }
    }
    if hops.is_empty() {
        return Err(last.unwrap_or(Reply {
            code: 451,
            text: format!("4.4.4 no reachable MX for {domain}"),
        }));
    }
    Ok(hops)
}

/// The MX hosts of a domain in preference order; `None` when it has no MX record. The DNS
/// query goes through the one tokio bridge (`ingest/auth.rs`); the resolver is made on first
/// use, so a server that relays everything through a smarthost never builds one.
async fn mx_lookup(inner: &Inner, domain: &str) -> Result<Option<Vec<String>>, String> {
    resolver(inner)?.mx(domain).await
}

/// The DNS resolver for delivery (MX, and TXT for MTA-STS), made on first use.
pub(crate) fn resolver(inner: &Inner) -> Result<crate::ingest::auth::MxResolver, String> {
    let mut slot = inner
        .mx
        .lock()
        .map_err(|_| "resolver lock poisoned".to_string())?;
    Ok(match slot.as_ref() {
        Some(r) => r.clone(),
        None => {
            let r = crate::ingest::auth::MxResolver::new(&inner.config)?;
            *slot = Some(r.clone());
            r
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn host_port() {
        assert_eq!(
            split_host_port("smtp.example.net:587", 0),
            Some(("smtp.example.net".into(), 587))
        );
        assert_eq!(split_host_port("[::1]:25", 0), Some(("::1".into(), 25)));
        assert_eq!(split_host_port("smtp.example.net", 0), None);
        assert_eq!(
            split_host_port("smtp.example.net", 25),
            Some(("smtp.example.net".into(), 25))
        );
    }
}
