//! The SPF record (RFC 7208) that fits the route mail takes out of this server, for
//! `mailnook dns` and the admin page's setup view.
//!
//! Receivers check SPF against the address that hands them the message. Without a smarthost
//! that is this server, the domain's MX host, so `mx` is right. With a smarthost it is the
//! relay's servers: a provider known by its submission host name gets its documented
//! `include:`; an IP literal gets `ip4:`/`ip6:`; any other name gets `a:` (the addresses the
//! name resolves to), with a note saying when that is not enough. A relay on this machine or a
//! private network sends from an address we cannot know, so the note asks for it.

use super::OutboundConfig;
use std::net::IpAddr;

/// An SPF TXT value (without the DNS quotes) and a sentence on why it looks like that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spf {
    pub value: String,
    pub note: String,
}

/// Submission host names of well-known relay providers and the SPF include each documents
/// (suffix match on the host name, lower case).
const PROVIDERS: [(&str, &str, &str); 16] = [
    ("smtp.gmail.com", "_spf.google.com", "Google"),
    ("smtp-relay.gmail.com", "_spf.google.com", "Google"),
    (
        "smtp.office365.com",
        "spf.protection.outlook.com",
        "Microsoft 365",
    ),
    (
        ".mail.protection.outlook.com",
        "spf.protection.outlook.com",
        "Microsoft 365",
    ),
    (
        "smtp-mail.outlook.com",
        "spf.protection.outlook.com",
        "Outlook.com",
    ),
    ("smtp.sendgrid.net", "sendgrid.net", "SendGrid"),
    ("smtp.mailgun.org", "mailgun.org", "Mailgun"),
    (".amazonaws.com", "amazonses.com", "Amazon SES"),
    ("smtp.postmarkapp.com", "spf.mtasv.net", "Postmark"),
    ("smtp.fastmail.com", "spf.messagingengine.com", "Fastmail"),
    ("in-v3.mailjet.com", "spf.mailjet.com", "Mailjet"),
    ("smtp-relay.brevo.com", "spf.brevo.com", "Brevo"),
    ("smtp.sparkpostmail.com", "sparkpostmail.com", "SparkPost"),
    ("mail.smtp2go.com", "spf.smtp2go.com", "SMTP2GO"),
    ("smtp.protonmail.ch", "_spf.protonmail.ch", "Proton"),
    ("smtp.mail.me.com", "icloud.com", "iCloud"),
];

fn provider(host: &str) -> Option<(&'static str, &'static str)> {
    PROVIDERS.iter().find_map(|(h, include, name)| {
        let hit = if h.starts_with('.') {
            host.ends_with(h) && (*h != ".amazonaws.com" || host.starts_with("email-smtp."))
        } else {
            host == *h
        };
        hit.then_some((*include, *name))
    })
}

fn private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified()
        }
        // fc00::/7 (unique local) and fe80::/10 (link local).
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    }
}

/// The SPF record for the route the config sends mail by.
pub fn advice(config: &OutboundConfig) -> Spf {
    let Some((host, _)) = config
        .smarthost
        .as_deref()
        .and_then(|h| super::route::split_host_port(h, 0))
    else {
        return Spf {
            value: "v=spf1 mx -all".into(),
            note: "This server delivers mail to each recipient's server itself, from its MX \
                   host: only the domain's MX hosts send its mail."
                .into(),
        };
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if let Ok(ip) = host.parse::<IpAddr>() {
        if private(ip) {
            return Spf {
                value: "v=spf1 mx -all".into(),
                note: format!(
                    "Mail leaves through the smarthost {host}, on this machine or a private \
                     network: add the public address it sends from (ip4:<address> or \
                     ip6:<address>) before -all."
                ),
            };
        }
        let mech = if ip.is_ipv4() { "ip4" } else { "ip6" };
        return Spf {
            value: format!("v=spf1 {mech}:{ip} -all"),
            note: format!(
                "Mail leaves through the smarthost {ip}: only it sends the domain's mail."
            ),
        };
    }
    if let Some((include, name)) = provider(&host) {
        return Spf {
            value: format!("v=spf1 include:{include} -all"),
            note: format!(
                "Mail leaves through the smarthost {host} ({name}): include: authorizes the \
                 provider's sending servers (its own documentation has the current value)."
            ),
        };
    }
    Spf {
        value: format!("v=spf1 a:{host} -all"),
        note: format!(
            "Mail leaves through the smarthost {host}: a: authorizes the addresses that name \
             resolves to. If the relay sends from other servers than the name you submit to \
             (most providers do), use the include: its documentation gives instead."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(smarthost: Option<&str>) -> Spf {
        advice(&OutboundConfig {
            smarthost: smarthost.map(str::to_string),
            ..OutboundConfig::default()
        })
    }

    #[test]
    fn record_follows_the_route() {
        assert_eq!(with(None).value, "v=spf1 mx -all");
        assert_eq!(
            with(Some("smtp.sendgrid.net:587")).value,
            "v=spf1 include:sendgrid.net -all"
        );
        assert_eq!(
            with(Some("email-smtp.eu-west-1.amazonaws.com:587")).value,
            "v=spf1 include:amazonses.com -all"
        );
        assert_eq!(
            with(Some("ec2-1-2-3-4.compute.amazonaws.com:25")).value,
            "v=spf1 a:ec2-1-2-3-4.compute.amazonaws.com -all"
        );
        assert_eq!(
            with(Some("Relay.Example.NET.:25")).value,
            "v=spf1 a:relay.example.net -all"
        );
        assert_eq!(
            with(Some("192.0.2.7:25")).value,
            "v=spf1 ip4:192.0.2.7 -all"
        );
        assert_eq!(
            with(Some("[2001:db8::7]:25")).value,
            "v=spf1 ip6:2001:db8::7 -all"
        );
        let local = with(Some("127.0.0.1:2525"));
        assert!(local.note.contains("127.0.0.1") && local.note.contains("ip4:"));
    }
}
