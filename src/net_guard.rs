//! The one gate for connections the server opens to a place a user or a remote party chose
//! (server-side request forgery guard; RFC 8620 §7.2 security considerations, OWASP SSRF
//! prevention cheat sheet).
//!
//! **Every feature that fetches or posts to such a URL must go through this module**:
//! PushSubscription pushes and verifications today (`http/push_client.rs`), and MTA-STS policy
//! fetches (`outbound/`), webhooks and import-from-URL when they come. The rule:
//!
//! 1. [`NetGuard::check_url`] (or [`NetGuard::check_host`]) resolves the host once, through the
//!    configured DNS server (`dns_resolver`, the same one sender authentication and MX routing
//!    use) or else the system resolver; `localhost` and `*.localhost` are loopback without
//!    asking anyone (RFC 6761 §6.3). IP literals in any form the URL parser accepts (decimal
//!    `2130706433`, octal `0177.0.0.1`, hex, `[::ffff:127.0.0.1]`) are already addresses.
//! 2. Every resolved address must be public unicast ([`classify`]) or inside an admin
//!    exception (`[fetch] allow_private`, CIDRs, empty by default). One bad address refuses
//!    the whole name: a name that mixes public and private answers is not trusted.
//! 3. [`NetGuard::connect`] connects to those checked addresses only, never to the name again,
//!    so a second DNS answer cannot swap in an internal address (DNS rebinding), and it bounds
//!    the connect time. Callers bound the whole exchange (`[fetch] timeout_secs`), read at most
//!    a small fixed amount of the answer, and do not follow redirects (a redirect would be a
//!    new, unchecked destination).
//!
//! Per-account rates (how many requests one account may cause) belong to the feature: the
//! pusher keeps a token bucket per account (`[fetch] pushes_per_minute`), PushSubscription/set
//! caps subscriptions per user.

use serde::Deserialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

/// `[fetch]` in the config: requests to URLs a user or a remote party chose.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FetchConfig {
    /// Exceptions to the public-internet-only rule, as CIDRs (`"192.168.1.10/32"`,
    /// `"fd00::/8"`; a bare address means just that address), e.g. a push relay on the LAN.
    /// Empty by default: no private, loopback or reserved address is ever contacted.
    pub allow_private: Vec<String>,
    /// Time allowed for resolving a host and for opening the TCP connection, seconds each.
    pub connect_timeout_secs: u64,
    /// Time allowed for one whole exchange (connect, TLS, request, answer), seconds.
    pub timeout_secs: u64,
    /// Pushes (verifications included) one account may cause per minute, over all its
    /// PushSubscriptions; more wait for the next minute.
    pub pushes_per_minute: u32,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            allow_private: Vec::new(),
            connect_timeout_secs: 10,
            timeout_secs: 20,
            pushes_per_minute: 60,
        }
    }
}

impl FetchConfig {
    pub fn validate(&self) -> Result<(), String> {
        for c in &self.allow_private {
            Cidr::parse(c).map_err(|e| format!("[fetch] allow_private: {e}"))?;
        }
        if self.connect_timeout_secs == 0 || self.timeout_secs == 0 {
            return Err("[fetch] connect_timeout_secs and timeout_secs must be at least 1".into());
        }
        if self.pushes_per_minute == 0 {
            return Err("[fetch] pushes_per_minute must be at least 1".into());
        }
        Ok(())
    }
}

/// An address block: a network address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// `a.b.c.d/n`, `v6/n`, or a bare address (a single host).
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let net: IpAddr = addr
            .trim_matches(['[', ']'])
            .parse()
            .map_err(|_| format!("{s:?} is not an address or CIDR block"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{s:?}: the prefix length must be 0..={max}"))?,
        };
        Ok(Cidr { net, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, canonical(ip)) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

fn in4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn in6(ip: Ipv6Addr, net: Ipv6Addr, prefix: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
    u128::from(ip) & mask == u128::from(net) & mask
}

/// The IPv4 address in bits `from..from+32` of an IPv6 address.
fn embedded_v4(ip: Ipv6Addr, from: u32) -> Ipv4Addr {
    Ipv4Addr::from((u128::from(ip) >> (96 - from)) as u32)
}

/// Why an IPv4 address is not public unicast (IANA IPv4 Special-Purpose Address Registry,
/// RFC 6890), or `None` when it is.
fn classify_v4(ip: Ipv4Addr) -> Option<&'static str> {
    const BLOCKS: [([u8; 4], u32, &str); 16] = [
        ([0, 0, 0, 0], 8, "\"this network\" (RFC 791)"),
        ([10, 0, 0, 0], 8, "private (RFC 1918)"),
        ([100, 64, 0, 0], 10, "shared address space (RFC 6598)"),
        ([127, 0, 0, 0], 8, "loopback"),
        ([169, 254, 0, 0], 16, "link-local (RFC 3927)"),
        ([172, 16, 0, 0], 12, "private (RFC 1918)"),
        ([192, 0, 0, 0], 24, "IETF protocol assignments (RFC 6890)"),
        ([192, 0, 2, 0], 24, "documentation (RFC 5737)"),
        ([192, 88, 99, 0], 24, "6to4 relay anycast (RFC 7526)"),
        ([192, 168, 0, 0], 16, "private (RFC 1918)"),
        ([198, 18, 0, 0], 15, "benchmarking (RFC 2544)"),
        ([198, 51, 100, 0], 24, "documentation (RFC 5737)"),
        ([203, 0, 113, 0], 24, "documentation (RFC 5737)"),
        ([224, 0, 0, 0], 4, "multicast"),
        ([255, 255, 255, 255], 32, "broadcast"),
        ([240, 0, 0, 0], 4, "reserved (RFC 1112)"),
    ];
    BLOCKS
        .iter()
        .find(|(net, prefix, _)| in4(ip, *net, *prefix))
        .map(|(_, _, why)| *why)
}

/// Why an address is not a public unicast address this server may connect to on someone's
/// behalf, or `None` when it is. IPv6 forms that carry an IPv4 address (mapped, compatible,
/// NAT64, 6to4) are judged by that IPv4 address; Teredo and other IETF-assigned blocks are
/// refused outright, as is anything outside global unicast 2000::/3.
pub fn classify(ip: IpAddr) -> Option<&'static str> {
    let v6 = match ip {
        IpAddr::V4(v4) => return classify_v4(v4),
        IpAddr::V6(v6) => v6,
    };
    if v6.is_unspecified() {
        return Some("unspecified");
    }
    if v6.is_loopback() {
        return Some("loopback");
    }
    if let Some(v4) = v6.to_ipv4_mapped() {
        // ::ffff:a.b.c.d (RFC 4291 §2.5.5.2).
        return classify_v4(v4);
    }
    let net = |s: &str| s.parse::<Ipv6Addr>().unwrap_or(Ipv6Addr::UNSPECIFIED);
    if in6(v6, Ipv6Addr::UNSPECIFIED, 96) {
        // ::a.b.c.d, IPv4-compatible (deprecated, RFC 4291 §2.5.5.1): never routed as such.
        return Some(classify_v4(embedded_v4(v6, 96)).unwrap_or("IPv4-compatible (deprecated)"));
    }
    if in6(v6, net("64:ff9b::"), 96) {
        // NAT64 well-known prefix (RFC 6052): reaches the embedded IPv4 address.
        return classify_v4(embedded_v4(v6, 96));
    }
    if in6(v6, net("2002::"), 16) {
        // 6to4 (RFC 3056): 2002:AABB:CCDD::/48 reaches AA.BB.CC.DD.
        return classify_v4(embedded_v4(v6, 16));
    }
    const BLOCKS: [(&str, u32, &str); 10] = [
        ("64:ff9b:1::", 48, "local-use NAT64 (RFC 8215)"),
        ("100::", 64, "discard-only (RFC 6666)"),
        ("2001::", 32, "Teredo (RFC 4380)"),
        ("2001::", 23, "IETF protocol assignments (RFC 2928)"),
        ("2001:db8::", 32, "documentation (RFC 3849)"),
        ("3fff::", 20, "documentation (RFC 9637)"),
        ("fc00::", 7, "unique-local (RFC 4193)"),
        ("fe80::", 10, "link-local"),
        ("fec0::", 10, "site-local (deprecated)"),
        ("ff00::", 8, "multicast"),
    ];
    if let Some((_, _, why)) = BLOCKS.iter().find(|(n, p, _)| in6(v6, net(n), *p)) {
        return Some(why);
    }
    if !in6(v6, net("2000::"), 3) || in6(v6, net("5f00::"), 16) {
        // Only 2000::/3 is allocated as global unicast; 5f00::/16 is SRv6 SIDs (RFC 9602).
        return Some("reserved");
    }
    None
}

/// Why a destination was not contacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// An address is not public (or the URL is unusable): this destination is never allowed.
    Forbidden(String),
    /// The name did not resolve (now): may work later.
    Unresolved(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Forbidden(s) | Refusal::Unresolved(s) => f.write_str(s),
        }
    }
}

/// A destination that passed the check: connect only to `addrs`.
#[derive(Debug, Clone)]
pub struct Target {
    /// The host as named (for TLS SNI and `Host:`), IPv6 literals without brackets.
    pub host: String,
    pub port: u16,
    /// The checked addresses, in the resolver's order.
    pub addrs: Vec<SocketAddr>,
}

/// Where names are resolved.
enum Resolver {
    /// getaddrinfo on a blocking thread.
    System,
    /// The configured DNS server, through the resolver bridge in `ingest/auth.rs`.
    Dns(crate::ingest::auth::MxResolver),
}

/// The guard: admin exceptions, the resolver, the time limits. One per server.
pub struct NetGuard {
    allow: Vec<Cidr>,
    resolver: Resolver,
    /// Resolving and connecting, each.
    pub connect_timeout: Duration,
    /// One whole exchange.
    pub timeout: Duration,
}

impl NetGuard {
    /// A guard from the configuration (`[fetch]` and `dns_resolver`).
    pub fn new(config: &crate::config::Config) -> Result<NetGuard, String> {
        config.fetch.validate()?;
        let resolver = match config.dns_resolver {
            Some(_) => Resolver::Dns(crate::ingest::auth::MxResolver::new(config)?),
            None => Resolver::System,
        };
        Ok(NetGuard {
            allow: config
                .fetch
                .allow_private
                .iter()
                .filter_map(|c| Cidr::parse(c).ok())
                .collect(),
            resolver,
            connect_timeout: Duration::from_secs(config.fetch.connect_timeout_secs),
            timeout: Duration::from_secs(config.fetch.timeout_secs),
        })
    }

    /// The default guard (no exceptions, system resolver, default limits), for tools and tests
    /// that build a server without a configuration.
    pub fn public_only() -> NetGuard {
        let d = FetchConfig::default();
        NetGuard {
            allow: Vec::new(),
            resolver: Resolver::System,
            connect_timeout: Duration::from_secs(d.connect_timeout_secs),
            timeout: Duration::from_secs(d.timeout_secs),
        }
    }

    /// `None` if the server may connect to `ip`, else why not.
    pub fn refuses(&self, ip: IpAddr) -> Option<&'static str> {
        if self.allow.iter().any(|c| c.contains(ip)) {
            return None;
        }
        classify(ip)
    }

    /// Resolves and checks an `http(s)` URL's host (see the module docs). The refusal names
    /// the host and the address, not the URL (which may carry a secret, e.g. a push URL);
    /// callers add what they may show.
    pub async fn check_url(&self, url: &url::Url) -> Result<Target, Refusal> {
        let host = url
            .host()
            .ok_or_else(|| Refusal::Forbidden("the URL has no host".into()))?;
        let port = url
            .port_or_known_default()
            .ok_or_else(|| Refusal::Forbidden("the URL has no port".into()))?;
        self.check_host(&host, port).await
    }

    /// Resolves and checks one host (a name or an address literal).
    pub async fn check_host(&self, host: &url::Host<&str>, port: u16) -> Result<Target, Refusal> {
        let (name, ips) = match host {
            url::Host::Ipv4(a) => (a.to_string(), vec![IpAddr::V4(*a)]),
            url::Host::Ipv6(a) => (a.to_string(), vec![IpAddr::V6(*a)]),
            url::Host::Domain(d) => {
                let lookup = self.resolve(d, port);
                let limit = async {
                    smol::Timer::after(self.connect_timeout).await;
                    Err(Refusal::Unresolved(format!(
                        "{d} did not resolve within {} s",
                        self.connect_timeout.as_secs()
                    )))
                };
                (
                    d.to_string(),
                    futures_lite::FutureExt::or(lookup, limit).await?,
                )
            }
        };
        if ips.is_empty() {
            return Err(Refusal::Unresolved(format!("{name} has no address")));
        }
        for ip in &ips {
            if let Some(why) = self.refuses(*ip) {
                return Err(Refusal::Forbidden(format!(
                    "{name} is {ip}, a {why} address; the server connects only to public \
                     internet addresses"
                )));
            }
        }
        Ok(Target {
            host: name,
            port,
            addrs: ips
                .into_iter()
                .map(|ip| SocketAddr::new(ip, port))
                .collect(),
        })
    }

    async fn resolve(&self, name: &str, port: u16) -> Result<Vec<IpAddr>, Refusal> {
        let bare = name.trim_end_matches('.').to_ascii_lowercase();
        if bare == "localhost" || bare.ends_with(".localhost") {
            // RFC 6761 §6.3: loopback, without asking DNS.
            return Ok(vec![
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ]);
        }
        let unresolved = |e: String| Refusal::Unresolved(format!("cannot resolve {name}: {e}"));
        match &self.resolver {
            Resolver::System => smol::net::resolve((name, port))
                .await
                .map(|a| a.into_iter().map(|s| s.ip()).collect())
                .map_err(|e| unresolved(e.to_string())),
            Resolver::Dns(r) => r.ips(name).await.map_err(unresolved),
        }
    }

    /// A TCP connection to the first checked address that answers within the connect timeout.
    pub async fn connect(&self, target: &Target) -> Result<smol::net::TcpStream, String> {
        let mut last = format!("{} has no address", target.host);
        for addr in &target.addrs {
            let attempt = async {
                smol::net::TcpStream::connect(*addr)
                    .await
                    .map_err(|e| format!("connect {addr}: {e}"))
            };
            let limit = async {
                smol::Timer::after(self.connect_timeout).await;
                Err(format!(
                    "connect {addr}: no answer within {} s",
                    self.connect_timeout.as_secs()
                ))
            };
            match futures_lite::FutureExt::or(attempt, limit).await {
                Ok(s) => return Ok(s),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn private_and_reserved_addresses_are_refused() {
        for a in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.0.9",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "::10.0.0.1",
            "::8.8.8.8",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:c0a8:101::",
            "2001::1",
            "2001:db8::1",
            "2001:2::1",
            "100::1",
            "3fff::1",
            "fc00::1",
            "fd00::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "5f00::1",
            "4000::1",
            "1::1",
        ] {
            assert!(classify(ip(a)).is_some(), "{a} must be refused");
        }
    }

    #[test]
    fn public_unicast_is_allowed() {
        for a in [
            "8.8.8.8",
            "1.1.1.1",
            "93.184.215.14",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.1",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:808:808::1",
        ] {
            assert_eq!(classify(ip(a)), None, "{a} is public");
        }
    }

    #[test]
    fn cidrs_parse_and_match() {
        let c = Cidr::parse("192.168.1.10/32").unwrap();
        assert!(c.contains(ip("192.168.1.10")));
        assert!(c.contains(ip("::ffff:192.168.1.10")));
        assert!(!c.contains(ip("192.168.1.11")));
        let c = Cidr::parse("127.0.0.0/8").unwrap();
        assert!(c.contains(ip("127.1.2.3")));
        assert!(!c.contains(ip("::1")));
        let c = Cidr::parse("fd00::/8").unwrap();
        assert!(c.contains(ip("fd12::1")));
        assert!(!c.contains(ip("fe80::1")));
        assert!(Cidr::parse("::1").unwrap().contains(ip("::1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("10.0.0.1")));
        for bad in ["", "10.0.0.0/33", "::/129", "example.com/8", "10.0.0.0/x"] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn url_forms_of_loopback_are_addresses() {
        // The URL parser turns these into IPv4 addresses (WHATWG URL host parsing), which the
        // guard then checks like any other address.
        for u in [
            "https://2130706433/",
            "https://0177.0.0.1/",
            "https://0x7f.0.0.1/",
            "https://0x7f000001/",
            "https://127.1/",
        ] {
            let parsed = url::Url::parse(u).unwrap();
            assert_eq!(
                parsed.host(),
                Some(url::Host::Ipv4(Ipv4Addr::LOCALHOST)),
                "{u}"
            );
        }
    }

    fn guard(allow: &[&str]) -> NetGuard {
        let mut config = crate::config::Config::default();
        config.fetch.allow_private = allow.iter().map(|s| s.to_string()).collect();
        NetGuard::new(&config).unwrap()
    }

    #[test]
    fn exceptions_and_localhost() {
        let g = guard(&[]);
        let check = |g: &NetGuard, u: &str| {
            smol::block_on(g.check_url(&url::Url::parse(u).unwrap())).map(|t| t.addrs)
        };
        assert!(matches!(
            check(&g, "https://localhost:9/p"),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            check(&g, "https://a.b.localhost./p"),
            Err(Refusal::Forbidden(_))
        ));
        assert!(matches!(
            check(&g, "https://[::ffff:7f00:1]/p"),
            Err(Refusal::Forbidden(_))
        ));
        let g = guard(&["127.0.0.0/8", "::1"]);
        assert_eq!(
            check(&g, "https://localhost:9/p").unwrap(),
            vec![
                SocketAddr::from(([127, 0, 0, 1], 9)),
                SocketAddr::from((Ipv6Addr::LOCALHOST, 9))
            ]
        );
        assert!(check(&g, "https://10.0.0.1/").is_err());
        assert!(check(&g, "https://8.8.8.8/").is_ok());
    }
}
