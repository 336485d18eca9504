//! Judges one expected record against what DNS publishes, by what the record means:
//!
//! - MX: one exchange must be this host (RFC 5321 §5.1); a null MX (RFC 7505) is wrong.
//! - A/AAAA: present, and this server's address when that is known.
//! - SPF: exactly one `v=spf1` record (RFC 7208 §4.5), and it must *pass* for this server's
//!   addresses when mail leaves directly (mail-auth evaluates it, includes and all, within the
//!   10-lookup limit of §4.6.4); with a smarthost, it must carry the suggested mechanisms.
//! - DKIM: the `p=` key must be the public half of the key in the store (RFC 6376 §3.6.1).
//! - DMARC: exactly one `v=DMARC1` record that parses (RFC 7489 §6.4).
//! - SRV: a target of this host on the given port (RFC 2782).
//! - CNAME: this host, or address records equal to the host's.
//! - Any other TXT: one record with the same `v=` tag (MTA-STS, TLS-RPT, ...); any other type:
//!   present.
//!
//! Plus reverse DNS of the server's addresses (forward-confirmed, FCrDNS: the PTR name must
//! resolve back to the address; RFC 8601 §3 "iprev"), which is not a record of the zone.

use super::lookup::{Answer, Lookups, bare};
use super::{Check, Expected, Status, words};
use mail_auth::hickory_resolver::proto::rr::RecordType;
use std::net::IpAddr;
use std::str::FromStr;

/// What the checks know about this server.
pub struct Context {
    pub host: String,
    /// This server's addresses (configured, or else the host name's published ones).
    pub addresses: Vec<IpAddr>,
    /// Whether `addresses` are known independently of DNS.
    pub addresses_known: bool,
    /// The host name's published A/AAAA addresses (empty when none or unknown).
    pub host_published: Vec<IpAddr>,
    /// Mail leaves directly (no smarthost): SPF must authorise this server's addresses.
    pub direct: bool,
}

enum Kind {
    Mx,
    Address {
        v6: bool,
    },
    Spf,
    Dkim,
    Dmarc,
    Srv,
    Cname,
    /// A TXT record known by its `v=` tag.
    Tagged(String),
    Other(RecordType),
}

fn classify(e: &Expected) -> Kind {
    let r = &e.record;
    let name = bare(&r.name);
    let value = unquote(&r.value);
    match r.kind.to_ascii_uppercase().as_str() {
        "MX" => Kind::Mx,
        "A" => Kind::Address { v6: false },
        "AAAA" => Kind::Address { v6: true },
        "SRV" => Kind::Srv,
        "CNAME" => Kind::Cname,
        "TXT" if tag(&value).as_deref() == Some("spf1") => Kind::Spf,
        "TXT" if name.contains("._domainkey.") => Kind::Dkim,
        "TXT" if name.starts_with("_dmarc.") => Kind::Dmarc,
        "TXT" => Kind::Tagged(tag(&value).unwrap_or_default()),
        other => Kind::Other(RecordType::from_str(other).unwrap_or(RecordType::TXT)),
    }
}

/// A short name for what the record is for.
pub fn what(e: &Expected) -> String {
    let name = bare(&e.record.name);
    match classify(e) {
        Kind::Mx => "MX".into(),
        Kind::Address { v6: false } => "A".into(),
        Kind::Address { v6: true } => "AAAA".into(),
        Kind::Spf => "SPF".into(),
        Kind::Dkim => "DKIM".into(),
        Kind::Dmarc => "DMARC".into(),
        Kind::Srv if name.starts_with("_jmap._tcp.") => "JMAP SRV".into(),
        Kind::Cname if name.starts_with("autoconfig.") => "autoconfig".into(),
        Kind::Cname if name.starts_with("mta-sts.") => "MTA-STS host".into(),
        Kind::Tagged(t) if t.eq_ignore_ascii_case("stsv1") => "MTA-STS".into(),
        Kind::Tagged(t) if t.eq_ignore_ascii_case("tlsrptv1") => "TLS-RPT".into(),
        _ if name.starts_with("mta-sts.") => "MTA-STS host".into(),
        _ => e.record.kind.to_string(),
    }
}

/// The TXT value without zone-file quotes; split strings are joined (RFC 1035 §3.3.14).
pub fn unquote(v: &str) -> String {
    if v.contains('"') {
        v.split('"').skip(1).step_by(2).collect()
    } else {
        v.trim().to_string()
    }
}

/// The version tag of a TXT record (`v=spf1` -> "spf1", `v=DMARC1; ...` -> "DMARC1").
fn tag(txt: &str) -> Option<String> {
    let first = txt.trim_start().split([';', ' ']).next()?;
    let (k, v) = first.split_once('=')?;
    (k.trim().eq_ignore_ascii_case("v") && !v.trim().is_empty()).then(|| v.trim().to_string())
}

/// The value of tag `key` in a `k=v; k=v` record (DKIM, DMARC), whitespace removed.
fn tag_value(txt: &str, key: &str) -> Option<String> {
    txt.split(';').find_map(|part| {
        let (k, v) = part.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(key)
            .then(|| v.chars().filter(|c| !c.is_whitespace()).collect())
    })
}

fn line(e: &Expected, status: Status, found: Vec<String>, detail: String) -> Check {
    let what = what(e);
    Check {
        domain: e.domain.clone(),
        why: words::why(&what, &e.record.note),
        what,
        name: e.record.name.clone(),
        kind: e.record.kind.to_string(),
        status,
        found,
        detail,
        publish: e.record.zone_line(),
    }
}

fn failed(e: &Expected, err: String) -> Check {
    line(
        e,
        Status::Unknown,
        Vec::new(),
        format!("DNS did not answer the question ({err}); check again later."),
    )
}

/// The line for a record whose check ran out of time.
pub fn timed_out(e: &Expected) -> Check {
    line(
        e,
        Status::Unknown,
        Vec::new(),
        "DNS did not answer in time; check again later.".into(),
    )
}

/// The DKIM line of a domain without keys in the store.
pub fn no_keys(domain: &str) -> Check {
    Check {
        domain: domain.to_string(),
        what: "DKIM".into(),
        name: format!("<selector>._domainkey.{domain}."),
        kind: "TXT".into(),
        status: Status::Missing,
        found: Vec::new(),
        detail: format!(
            "mailnook has no DKIM keys for {domain} yet, so its mail goes out unsigned."
        ),
        publish: format!(
            "run `mailnook dns {domain}`: it makes the keys and prints the two DKIM records"
        ),
        why: words::why("DKIM", ""),
    }
}

pub async fn check(l: &Lookups, c: &Context, e: &Expected) -> Check {
    let name = bare(&e.record.name);
    let value = unquote(&e.record.value);
    match classify(e) {
        Kind::Mx => mx(e, c, l.mx(&name).await),
        Kind::Address { v6 } => address(e, v6, l.addresses(&name, v6).await),
        Kind::Spf => spf(l, c, e, &name, &value).await,
        Kind::Dkim => dkim(e, &value, l.txt(&name).await),
        Kind::Dmarc => dmarc(e, l.txt(&name).await),
        Kind::Srv => srv(e, c, &value, l.srv(&name).await),
        Kind::Cname => cname(l, c, e, &name).await,
        Kind::Tagged(t) => tagged(e, &t, &value, l.txt(&name).await),
        Kind::Other(t) => match l.records(&name, t).await {
            Err(err) => failed(e, err),
            Ok(v) if v.is_empty() => line(e, Status::Missing, vec![], "Not published.".into()),
            Ok(v) => line(
                e,
                Status::Ok,
                v.iter().map(|d| d.to_string()).collect(),
                "Published.".into(),
            ),
        },
    }
}

fn mx(e: &Expected, c: &Context, found: Answer<(u16, String)>) -> Check {
    let found = match found {
        Ok(f) => f,
        Err(err) => return failed(e, err),
    };
    let shown = found.iter().map(|(p, x)| format!("{p} {x}.")).collect();
    // The host name as a mail domain (the first admin's address): without an MX, mail for it
    // goes to the name's own address (the implicit MX of RFC 5321 §5.1), which is this server.
    if found.is_empty()
        && e.domain == c.host
        && c.host_published.iter().any(|a| c.addresses.contains(a))
    {
        return line(
            e,
            Status::Optional,
            shown,
            "No MX; mail for it goes to the host's own address (RFC 5321 §5.1), this server."
                .into(),
        );
    }
    if found.is_empty() {
        return line(
            e,
            Status::Missing,
            shown,
            "No MX record: no mail server is named for this domain.".into(),
        );
    }
    if found.iter().any(|(_, x)| x.is_empty()) {
        return line(
            e,
            Status::Wrong,
            shown,
            "A \"null MX\" (RFC 7505) says this domain receives no mail at all.".into(),
        );
    }
    if found.iter().any(|(_, x)| *x == c.host) {
        return line(
            e,
            Status::Ok,
            shown,
            format!("Mail for the domain is delivered to {}.", c.host),
        );
    }
    let others: Vec<String> = found.iter().map(|(_, x)| x.clone()).collect();
    line(
        e,
        Status::Wrong,
        shown,
        format!(
            "The MX points at {}, not at this server ({}): mail goes there instead.",
            others.join(", "),
            c.host
        ),
    )
}

fn address(e: &Expected, v6: bool, found: Answer<IpAddr>) -> Check {
    // The record's own name: the host name, or another name of this server (mta-sts., ...).
    let name = bare(&e.record.name);
    let found = match found {
        Ok(f) => f,
        Err(err) => return failed(e, err),
    };
    let shown: Vec<String> = found.iter().map(|a| a.to_string()).collect();
    let want: Option<IpAddr> = e.record.value.trim().parse().ok();
    let family = if v6 { "IPv6" } else { "IPv4" };
    if found.is_empty() {
        // No AAAA is fine on a machine without a known IPv6 address.
        if v6 && want.is_none() {
            return line(
                e,
                Status::Optional,
                shown,
                "No IPv6 address published; that is fine if this machine has none.".into(),
            );
        }
        return line(
            e,
            Status::Missing,
            shown,
            format!("No {family} address is published for {}.", name),
        );
    }
    match want {
        Some(w) if !found.contains(&w) => line(
            e,
            Status::Wrong,
            shown.clone(),
            format!(
                "{} points at {}, but this server's address is {w}.",
                name,
                shown.join(", ")
            ),
        ),
        Some(w) => line(
            e,
            Status::Ok,
            shown,
            format!("{} points at this server ({w}).", name),
        ),
        None => line(
            e,
            Status::Ok,
            shown,
            "Published. Whether it is this machine cannot be told here: set public_ips in the \
             config to have it compared."
                .into(),
        ),
    }
}

async fn spf(l: &Lookups, c: &Context, e: &Expected, name: &str, want: &str) -> Check {
    let found: Vec<String> = match l.txt(name).await {
        Ok(f) => f
            .into_iter()
            .filter(|t| tag(t).is_some_and(|v| v.eq_ignore_ascii_case("spf1")))
            .collect(),
        Err(err) => return failed(e, err),
    };
    if found.is_empty() {
        return line(e, Status::Missing, found, "No SPF record.".into());
    }
    if found.len() > 1 {
        return line(
            e,
            Status::Wrong,
            found,
            "There are several SPF records; receivers then treat SPF as broken (RFC 7208 §4.5). \
             Keep exactly one."
                .into(),
        );
    }
    if c.direct && !c.addresses.is_empty() {
        let mut bad = Vec::new();
        for ip in &c.addresses {
            let v = l.spf(*ip, &c.host, name).await;
            match v.result {
                "pass" => {}
                "temperror" => {
                    return failed(e, "a temporary error while evaluating SPF".into());
                }
                "permerror" => {
                    return line(
                        e,
                        Status::Wrong,
                        found,
                        "The SPF record is broken (permerror): a syntax error, or it needs \
                         more than 10 DNS lookups (RFC 7208 §4.6.4)."
                            .into(),
                    );
                }
                other => bad.push(format!("{ip} ({other})")),
            }
        }
        if bad.is_empty() {
            return line(
                e,
                Status::Ok,
                found,
                format!(
                    "SPF authorises this server ({}).",
                    c.addresses
                        .iter()
                        .map(|a| a.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
        }
        return line(
            e,
            Status::Wrong,
            found,
            format!(
                "SPF does not authorise this server's address {}: mail from it would fail SPF.",
                bad.join(", ")
            ),
        );
    }
    // Through a smarthost (or with no known address): the suggested mechanisms must be there.
    let have: Vec<String> = found[0]
        .split_whitespace()
        .map(|t| t.to_ascii_lowercase())
        .collect();
    let lacking: Vec<&str> = want
        .split_whitespace()
        .skip(1)
        .filter(|t| !t.ends_with("all"))
        .filter(|t| {
            !have
                .iter()
                .any(|h| h.trim_start_matches('+') == t.to_ascii_lowercase())
        })
        .collect();
    if lacking.is_empty() {
        line(
            e,
            Status::Ok,
            found,
            "SPF names the route mail leaves by.".into(),
        )
    } else {
        line(
            e,
            Status::Wrong,
            found,
            format!("SPF lacks {}, the route mail leaves by.", lacking.join(" ")),
        )
    }
}

fn dkim(e: &Expected, want: &str, found: Answer<String>) -> Check {
    let found: Vec<String> = match found {
        Ok(f) => f
            .into_iter()
            .filter(|t| tag_value(t, "p").is_some())
            .collect(),
        Err(err) => return failed(e, err),
    };
    let key = tag_value(want, "p").unwrap_or_default();
    if found.is_empty() {
        return line(
            e,
            Status::Missing,
            found,
            "No DKIM key is published under this selector.".into(),
        );
    }
    if found
        .iter()
        .any(|t| tag_value(t, "p").as_deref() == Some(key.as_str()))
    {
        return line(
            e,
            Status::Ok,
            found,
            "The published key matches the key mailnook signs with.".into(),
        );
    }
    let detail = if found
        .iter()
        .any(|t| tag_value(t, "p").is_some_and(|p| p.is_empty()))
    {
        "The published key is empty (revoked, RFC 6376 §3.6.1): signatures fail.".into()
    } else {
        "The published key is not the key mailnook signs with (an old key, or a copy error): \
         signatures fail."
            .into()
    };
    line(e, Status::Wrong, found, detail)
}

fn dmarc(e: &Expected, found: Answer<String>) -> Check {
    use mail_auth::common::parse::TxtRecordParser;
    let found: Vec<String> = match found {
        Ok(f) => f
            .into_iter()
            .filter(|t| tag(t).is_some_and(|v| v.eq_ignore_ascii_case("dmarc1")))
            .collect(),
        Err(err) => return failed(e, err),
    };
    if found.is_empty() {
        return line(e, Status::Missing, found, "No DMARC record.".into());
    }
    if found.len() > 1 {
        return line(
            e,
            Status::Wrong,
            found,
            "There are several DMARC records; receivers then ignore DMARC (RFC 7489 §6.6.3). \
             Keep exactly one."
                .into(),
        );
    }
    if let Err(err) = mail_auth::dmarc::Dmarc::parse(found[0].as_bytes()) {
        return line(
            e,
            Status::Wrong,
            found,
            format!("The DMARC record cannot be read: {err}."),
        );
    }
    match tag_value(&found[0], "p") {
        Some(p) => line(
            e,
            Status::Ok,
            found,
            format!("Present and readable; policy p={p}."),
        ),
        None => line(
            e,
            Status::Wrong,
            found,
            "The DMARC record has no p= policy, which it must have (RFC 7489 §6.3).".into(),
        ),
    }
}

fn srv(e: &Expected, c: &Context, want: &str, found: Answer<(u16, u16, u16, String)>) -> Check {
    let found = match found {
        Ok(f) => f,
        Err(err) => return failed(e, err),
    };
    let shown = found
        .iter()
        .map(|(p, w, port, t)| format!("{p} {w} {port} {t}."))
        .collect();
    let port: Option<u16> = want.split_whitespace().nth(2).and_then(|p| p.parse().ok());
    let target = want
        .split_whitespace()
        .nth(3)
        .map(bare)
        .unwrap_or_else(|| c.host.clone());
    if found.is_empty() {
        return line(e, Status::Missing, shown, "Not published.".into());
    }
    if found
        .iter()
        .any(|(_, _, p, t)| *t == target && port.is_none_or(|want| *p == want))
    {
        return line(e, Status::Ok, shown, format!("Points at {target}."));
    }
    line(
        e,
        Status::Wrong,
        shown,
        format!(
            "Points elsewhere; it should name {target} port {}.",
            port.map(|p| p.to_string()).unwrap_or_default()
        ),
    )
}

async fn cname(l: &Lookups, c: &Context, e: &Expected, name: &str) -> Check {
    let target = bare(&e.record.value);
    let found = match l.cname(name).await {
        Ok(f) => f,
        Err(err) => return failed(e, err),
    };
    if found.contains(&target) {
        return line(
            e,
            Status::Ok,
            found.iter().map(|t| format!("{t}.")).collect(),
            format!("Points at {target}."),
        );
    }
    if !found.is_empty() {
        return line(
            e,
            Status::Wrong,
            found.iter().map(|t| format!("{t}.")).collect(),
            format!("Points at {}, not at {target}.", found.join(", ")),
        );
    }
    // An address record instead of a CNAME works when it is the server's address.
    let ips = match l.ips(name).await {
        Ok(v) => v,
        Err(err) => return failed(e, err),
    };
    let shown: Vec<String> = ips.iter().map(|a| a.to_string()).collect();
    if ips.is_empty() {
        return line(e, Status::Missing, shown, "Not published.".into());
    }
    let ours: Vec<IpAddr> = if target == c.host {
        c.addresses
            .iter()
            .chain(&c.host_published)
            .copied()
            .collect()
    } else {
        l.ips(&target).await.unwrap_or_default()
    };
    if ips.iter().any(|a| ours.contains(a)) {
        line(
            e,
            Status::Ok,
            shown,
            format!("An address record with {target}'s address; that works too."),
        )
    } else {
        line(
            e,
            Status::Wrong,
            shown,
            format!("Points at an address that is not {target}'s."),
        )
    }
}

fn tagged(e: &Expected, t: &str, want: &str, found: Answer<String>) -> Check {
    let found: Vec<String> = match found {
        Ok(f) if t.is_empty() => f,
        Ok(f) => f
            .into_iter()
            .filter(|x| tag(x).is_some_and(|v| v.eq_ignore_ascii_case(t)))
            .collect(),
        Err(err) => return failed(e, err),
    };
    if found.is_empty() {
        return line(e, Status::Missing, found, "Not published.".into());
    }
    if found.len() > 1 && !t.is_empty() {
        return line(
            e,
            Status::Wrong,
            found,
            format!("There are several v={t} records; receivers then ignore them all. Keep one."),
        );
    }
    // MTA-STS: the id names the policy mailnook serves (RFC 8461 §3.1). An old id makes
    // senders keep the policy they cached instead of fetching the new one.
    if t.eq_ignore_ascii_case("STSv1")
        && let Some(id) = tag_value(want, "id")
        && tag_value(&found[0], "id").as_deref() != Some(id.as_str())
    {
        return line(
            e,
            Status::Wrong,
            found,
            format!(
                "The id is not the current policy's ({id}): other servers keep using the policy \
                 they fetched before."
            ),
        );
    }
    let same = found
        .iter()
        .any(|x| x.split_whitespace().eq(want.split_whitespace()));
    let detail = if same {
        "Published as suggested.".to_string()
    } else {
        "Published (its values differ from the suggestion, which is fine if you chose them)."
            .to_string()
    };
    line(e, Status::Ok, found, detail)
}

/// Reverse DNS of each of this server's addresses, forward-confirmed.
pub async fn reverse(l: &Lookups, c: &Context) -> Vec<Check> {
    let base = |ip: Option<IpAddr>, status, found, detail: String| Check {
        domain: String::new(),
        what: "reverse DNS".into(),
        name: ip
            .map(|ip| mail_auth::hickory_resolver::proto::rr::Name::from(ip).to_ascii())
            .unwrap_or_else(|| format!("(the address of {})", c.host)),
        kind: "PTR".into(),
        status,
        found,
        detail,
        publish: match ip {
            Some(ip) => format!(
                "ask whoever runs this machine's network (the VPS provider's panel, often \
                 \"reverse DNS\" or \"PTR\") to set the reverse name of {ip} to {}.",
                c.host
            ),
            None => format!("publish {}'s A record first.", c.host),
        },
        why: words::why("reverse DNS", ""),
    };
    if c.addresses.is_empty() {
        return vec![base(
            None,
            Status::Unknown,
            Vec::new(),
            format!(
                "{} has no address, so its reverse name cannot be checked.",
                c.host
            ),
        )];
    }
    let mut out = Vec::new();
    for ip in &c.addresses {
        let names = match l.ptr(*ip).await {
            Ok(n) => n,
            Err(err) => {
                out.push(base(
                    Some(*ip),
                    Status::Unknown,
                    vec![],
                    format!("DNS did not answer ({err})."),
                ));
                continue;
            }
        };
        let shown: Vec<String> = names.iter().map(|n| format!("{n}.")).collect();
        if names.is_empty() {
            out.push(base(
                Some(*ip),
                Status::Missing,
                shown,
                format!("{ip} has no reverse name."),
            ));
        } else if !names.contains(&c.host) {
            out.push(base(
                Some(*ip),
                Status::Wrong,
                shown,
                format!(
                    "The reverse name of {ip} is {}, not {}.",
                    names.join(", "),
                    c.host
                ),
            ));
        } else {
            // Forward confirmation: the name must lead back to the address.
            let back = if c.addresses_known {
                l.ips(&c.host).await.unwrap_or_default()
            } else {
                c.host_published.clone()
            };
            if back.contains(ip) {
                out.push(base(
                    Some(*ip),
                    Status::Ok,
                    shown,
                    format!(
                        "{ip} is {} and {} is {ip} (forward-confirmed).",
                        c.host, c.host
                    ),
                ));
            } else {
                out.push(base(
                    Some(*ip),
                    Status::Wrong,
                    shown,
                    format!(
                        "The reverse name of {ip} is {}, but {} does not resolve back to {ip}.",
                        c.host, c.host
                    ),
                ));
            }
        }
    }
    out
}

pub fn reverse_timed_out(host: &str) -> Check {
    Check {
        domain: String::new(),
        what: "reverse DNS".into(),
        name: format!("(the address of {host})"),
        kind: "PTR".into(),
        status: Status::Unknown,
        found: Vec::new(),
        detail: "DNS did not answer in time; check again later.".into(),
        publish: String::new(),
        why: words::why("reverse DNS", ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_quotes() {
        assert_eq!(unquote("\"v=DKIM1; p=ab\" \"cd\""), "v=DKIM1; p=abcd");
        assert_eq!(tag("v=spf1 mx -all").as_deref(), Some("spf1"));
        assert_eq!(tag("v=DMARC1; p=none").as_deref(), Some("DMARC1"));
        assert_eq!(tag("google-site-verification=x"), None);
        assert_eq!(
            tag_value("v=DKIM1; k=rsa; p=AB CD", "p").as_deref(),
            Some("ABCD")
        );
    }

    fn expected(name: &str, kind: &'static str, value: &str) -> Expected {
        Expected {
            domain: "example.org".into(),
            record: crate::http::admin_setup::Record {
                name: name.into(),
                kind,
                value: value.into(),
                note: "Senders that support MTA-STS (RFC 8461) require TLS to this server.".into(),
            },
        }
    }

    /// Records the doctor has no special knowledge of (MTA-STS, TLS-RPT) are checked by tag,
    /// named by it, and explained by the note they carry in the list.
    #[test]
    fn records_known_by_their_tag_only() {
        let e = expected("_mta-sts.example.org.", "TXT", "\"v=STSv1; id=20261201\"");
        assert_eq!(what(&e), "MTA-STS");
        let want = "v=STSv1; id=20261201";
        let ok = tagged(&e, "STSv1", want, Ok(vec!["v=STSv1;  id=20261201".into()]));
        assert_eq!(ok.status, Status::Ok);
        assert!(ok.why.contains("encrypted"), "{}", ok.why);
        // A record this file knows nothing of is explained by its note in the list.
        let bimi = expected("default._bimi.example.org.", "TXT", "\"v=BIMI1; l=x\"");
        let b = tagged(
            &bimi,
            "BIMI1",
            "v=BIMI1; l=x",
            Ok(vec!["v=BIMI1; l=x".into()]),
        );
        assert!(b.why.contains("RFC 8461"), "the note: {}", b.why);
        assert_eq!(what(&bimi), "TXT");
        let stale = tagged(&e, "STSv1", want, Ok(vec!["v=STSv1; id=7".into()]));
        assert_eq!(stale.status, Status::Wrong);
        assert!(
            stale.detail.contains("not the current policy's"),
            "{}",
            stale.detail
        );
        // TLS-RPT and others: values of their own choosing are fine.
        let rpt_e = expected(
            "_smtp._tls.example.org.",
            "TXT",
            "\"v=TLSRPTv1; rua=mailto:a@example.org\"",
        );
        let mine = tagged(
            &rpt_e,
            "TLSRPTv1",
            "v=TLSRPTv1; rua=mailto:a@example.org",
            Ok(vec!["v=TLSRPTv1; rua=mailto:b@example.org".into()]),
        );
        assert_eq!(mine.status, Status::Ok);
        assert!(mine.detail.contains("differ"), "{}", mine.detail);
        let other = vec!["google-site-verification=abc".to_string()];
        assert_eq!(tagged(&e, "STSv1", "", Ok(other)).status, Status::Missing);
        let two = vec!["v=STSv1; id=1".to_string(), "v=STSv1; id=2".to_string()];
        assert_eq!(tagged(&e, "STSv1", "", Ok(two)).status, Status::Wrong);
        assert_eq!(
            tagged(&e, "STSv1", "", Err("timeout".into())).status,
            Status::Unknown
        );
        let rpt = expected(
            "_smtp._tls.example.org.",
            "TXT",
            "\"v=TLSRPTv1; rua=mailto:x@example.org\"",
        );
        assert_eq!(what(&rpt), "TLS-RPT");
        let host = expected("mta-sts.example.org.", "CNAME", "mail.example.org.");
        assert_eq!(what(&host), "MTA-STS host");
    }

    #[test]
    fn mx_dkim_and_dmarc_verdicts() {
        let c = Context {
            host: "mail.example.org".into(),
            addresses: vec![],
            addresses_known: false,
            host_published: vec![],
            direct: true,
        };
        let e = expected("example.org.", "MX", "10 mail.example.org.");
        assert_eq!(
            mx(&e, &c, Ok(vec![(10, "mail.example.org".into())])).status,
            Status::Ok
        );
        assert_eq!(
            mx(&e, &c, Ok(vec![(0, String::new())])).status,
            Status::Wrong
        );
        assert_eq!(mx(&e, &c, Ok(vec![])).status, Status::Missing);
        let d = expected(
            "s._domainkey.example.org.",
            "TXT",
            "\"v=DKIM1; k=ed25519; p=KEY\"",
        );
        let want = "v=DKIM1; k=ed25519; p=KEY";
        assert_eq!(
            dkim(&d, want, Ok(vec!["v=DKIM1; p=KEY".into()])).status,
            Status::Ok
        );
        let revoked = dkim(&d, want, Ok(vec!["v=DKIM1; p=".into()]));
        assert!(revoked.detail.contains("revoked"), "{}", revoked.detail);
        let m = expected("_dmarc.example.org.", "TXT", "\"v=DMARC1; p=none\"");
        assert_eq!(
            dmarc(&m, Ok(vec!["v=DMARC1; p=reject".into()])).status,
            Status::Ok
        );
        assert_eq!(
            dmarc(&m, Ok(vec!["v=DMARC1; rua=mailto:a@b.c".into()])).status,
            Status::Wrong
        );
    }
}
