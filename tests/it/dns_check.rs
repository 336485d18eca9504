//! The DNS doctor (`mailnook dns check`, `GET /admin/api/dns-check`) against a zone served by
//! the loopback DNS server: first a zone that publishes exactly what mailnook asks for (every
//! record of the admin setup list, whatever it holds, so records added to that list later are
//! published too), then the same zone with every record wrong, then with every record missing.
//! The output is read as the admin would read it: the verdict words and the sentences.

use crate::smtp_support::{self, Dns};
use serde_json::Value;
use std::net::IpAddr;

/// The server's public address in these tests (TEST-NET-1, RFC 5737).
const IP: &str = "192.0.2.10";
const HOST: &str = "mail.example.org";
const DOMAIN: &str = "example.org";

fn start(dns: &Dns) -> smtp_support::Srv {
    let config = format!(
        "hostname = \"{HOST}\"\n\
         dns_resolver = \"{}\"\n\
         public_ips = [\"{IP}\"]\n\
         public_url = \"https://{HOST}:443\"\n\
         smtp_greeting_delay_ms = 0\n",
        dns.addr
    );
    let s = smtp_support::start(&config, &[]);
    s.add_user(&format!("alice@{DOMAIN}"), "a long enough secret");
    s
}

/// The records of `mailnook dns DOMAIN`'s zone lines (`name [ttl] IN TYPE value`).
fn printed(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with(';'))
    {
        let mut parts = line.split_whitespace();
        let name = parts.next().unwrap_or("").to_string();
        let mut kind = parts.next().unwrap_or("");
        if kind.chars().all(|c| c.is_ascii_digit()) {
            kind = parts.next().unwrap_or("");
        }
        if kind == "IN" {
            kind = parts.next().unwrap_or("");
        }
        let value = parts.collect::<Vec<_>>().join(" ");
        out.push((name, kind.to_string(), value));
    }
    out
}

/// Everything mailnook asks to publish: the setup list as the admin API gives it, and what
/// `mailnook dns DOMAIN` prints for both mail domains (example.org and the host name, the
/// domain of the first admin account), which also makes their DKIM keys (the doctor only reads
/// them). (name, type, value), each record once.
async fn expected(s: &smtp_support::Srv) -> Vec<(String, String, String)> {
    let mut cli = Vec::new();
    for d in [DOMAIN, HOST] {
        // With the server's config file, as the admin runs it (the host name comes from it).
        let config = s.config.display().to_string();
        let out = s.cli_ok(&["dns", d, "--config", &config]);
        assert!(out.contains("_domainkey"), "{out}");
        cli.extend(printed(&out));
    }
    let res = s
        .http()
        .get(format!("{}/admin/api/setup", s.base_url()))
        .basic_auth(&s.admin, Some(&s.admin_password))
        .send()
        .await
        .expect("setup");
    assert_eq!(res.status().as_u16(), 200);
    let v: Value = res.json().await.expect("json");
    let mut out = Vec::new();
    let host = v["host_records"].as_array().cloned().unwrap_or_default();
    let domains = v["domains"].as_array().cloned().unwrap_or_default();
    for r in host.iter().chain(
        domains
            .iter()
            .flat_map(|d| d["records"].as_array().into_iter().flatten()),
    ) {
        out.push((
            r["name"].as_str().unwrap_or("").to_string(),
            r["type"].as_str().unwrap_or("").to_string(),
            r["value"].as_str().unwrap_or("").to_string(),
        ));
    }
    out.extend(cli);
    // One record per name, type and (for TXT) version tag: two lists may print a value that
    // changes over time (an MTA-STS id), and two SPF records would be an error of their own.
    let mut seen = std::collections::HashSet::new();
    out.retain(|(n, k, v)| {
        let v = if k == "TXT" {
            unquote(v)
                .split([';', ' '])
                .next()
                .unwrap_or("")
                .to_string()
        } else {
            v.clone()
        };
        seen.insert((n.trim_end_matches('.').to_lowercase(), k.clone(), v))
    });
    assert!(out.len() >= 9, "{out:?}");
    out
}

fn unquote(v: &str) -> String {
    v.split('"').skip(1).step_by(2).collect()
}

/// Publishes every record mailnook asks for, as it asks for it, plus the reverse name.
fn publish_all(dns: &Dns, records: &[(String, String, String)]) {
    for (name, kind, value) in records {
        let f: Vec<&str> = value.split_whitespace().collect();
        match kind.as_str() {
            "A" | "AAAA" => {
                // "<public IPv6 address of this machine>": nothing to publish.
                if let Ok(ip) = value.parse::<IpAddr>() {
                    dns.ip(name, ip);
                }
            }
            "MX" => dns.mx(name, f[0].parse().expect("preference"), f[1]),
            "TXT" => dns.txt(name, &unquote(value)),
            "SRV" => dns.srv(
                name,
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
                f[3],
            ),
            "CNAME" => dns.cname(name, value),
            other => panic!("the test DNS server cannot publish {other} records yet ({name})"),
        }
    }
    dns.ptr(IP.parse().unwrap(), HOST);
}

/// `mailnook dns check` as the admin runs it: (exit success, stdout).
fn check(s: &smtp_support::Srv, args: &[&str]) -> (bool, String) {
    let mut all = vec!["dns", "check"];
    all.extend_from_slice(args);
    let out = s.cli(&all, None);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    println!("{text}");
    (out.status.success(), text)
}

/// The report line for `what` (the first one; "DKIM" twice has two).
fn line<'a>(text: &'a str, what: &str) -> &'a str {
    text.lines()
        .find(|l| l.split_whitespace().nth(1) == Some(what.split(' ').next().unwrap()))
        .unwrap_or_else(|| panic!("no {what} line in:\n{text}"))
}

#[tokio::test]
async fn a_zone_that_publishes_what_mailnook_asks_for_is_all_ok() {
    let dns = Dns::start();
    let s = start(&dns);
    publish_all(&dns, &expected(&s).await);

    let (ok, text) = check(&s, &[]);
    assert!(ok, "dns check should exit 0:\n{text}");
    assert!(
        text.contains("Everything mailnook needs is published."),
        "{text}"
    );
    assert!(
        text.contains(&format!("This server's addresses: {IP}")),
        "{text}"
    );
    for what in [
        "A",
        "reverse",
        "MX",
        "SPF",
        "DKIM",
        "DMARC",
        "JMAP",
        "autoconfig",
    ] {
        let l = line(&text, what);
        assert!(l.trim_start().starts_with("ok "), "{what}: {l}");
    }
    assert!(
        line(&text, "AAAA").trim_start().starts_with("optional"),
        "{text}"
    );
    // Each line reads as a sentence about this server.
    assert!(
        text.contains("SPF authorises this server (192.0.2.10)"),
        "{text}"
    );
    assert!(
        text.contains("The published key matches the key mailnook signs with"),
        "{text}"
    );
    assert!(
        text.contains(
            "192.0.2.10 is mail.example.org and mail.example.org is 192.0.2.10 (forward-confirmed)"
        ),
        "{text}"
    );
    assert!(
        !text.contains("missing") && !text.contains("wrong"),
        "{text}"
    );

    // The same on the admin API, one domain asked for.
    let res = s
        .http()
        .get(format!(
            "{}/admin/api/dns-check?domain={DOMAIN}",
            s.base_url()
        ))
        .basic_auth(&s.admin, Some(&s.admin_password))
        .send()
        .await
        .expect("dns-check");
    assert_eq!(res.status().as_u16(), 200);
    let v: Value = res.json().await.expect("json");
    assert_eq!(v["problems"], 0, "{v:#}");
    let checks = v["checks"].as_array().expect("checks");
    for c in checks {
        let st = c["status"].as_str().unwrap();
        assert!(st == "ok" || st == "optional", "{c}");
    }
    assert!(
        checks
            .iter()
            .any(|c| c["what"] == "DKIM" && c["status"] == "ok")
    );
    // Not for anyone else.
    let res = s
        .http()
        .get(format!("{}/admin/api/dns-check", s.base_url()))
        .send()
        .await
        .expect("dns-check");
    assert_eq!(res.status().as_u16(), 401);
}

#[tokio::test]
async fn every_record_wrong_then_missing_is_named_with_what_to_publish() {
    let dns = Dns::start();
    let s = start(&dns);
    let records = expected(&s).await;
    // A zone where every record exists but says the wrong thing.
    let other: IpAddr = "198.51.100.7".parse().unwrap();
    dns.ip(HOST, other);
    dns.ptr(IP.parse().unwrap(), "vps-1234.provider.example");
    dns.mx(DOMAIN, 10, "mx.elsewhere.example");
    dns.txt(DOMAIN, "v=spf1 ip4:198.51.100.0/24 -all");
    dns.txt(&format!("_dmarc.{DOMAIN}"), "v=DMARC1; p=maybe");
    dns.srv(
        &format!("_jmap._tcp.{DOMAIN}"),
        0,
        1,
        8443,
        "old.example.org",
    );
    dns.cname(
        &format!("autoconfig.{DOMAIN}"),
        "autoconfig.provider.example",
    );
    // An MTA-STS record left from an older policy.
    dns.txt(&format!("_mta-sts.{DOMAIN}"), "v=STSv1; id=20200101000000");
    // The RSA selector publishes the ed25519 key: a key, but not the one mailnook signs with.
    let dkim: Vec<&(String, String, String)> = records
        .iter()
        .filter(|r| r.0.ends_with(&format!("._domainkey.{DOMAIN}.")))
        .collect();
    assert_eq!(dkim.len(), 2, "{records:?}");
    let (rsa, ed) = if dkim[0].2.contains("k=rsa") {
        (dkim[0], dkim[1])
    } else {
        (dkim[1], dkim[0])
    };
    dns.txt(&rsa.0, &unquote(&ed.2).replace("k=ed25519", "k=rsa"));

    let (ok, text) = check(&s, &[]);
    assert!(!ok, "dns check must exit non-zero:\n{text}");
    for (what, words) in [
        (
            "A",
            "mail.example.org points at 198.51.100.7, but this server's address is 192.0.2.10",
        ),
        (
            "reverse",
            "The reverse name of 192.0.2.10 is vps-1234.provider.example, not mail.example.org",
        ),
        (
            "MX",
            "The MX points at mx.elsewhere.example, not at this server (mail.example.org)",
        ),
        (
            "SPF",
            "SPF does not authorise this server's address 192.0.2.10 (fail)",
        ),
        (
            "DKIM",
            "The published key is not the key mailnook signs with",
        ),
        ("DMARC", "The DMARC record cannot be read"),
        (
            "JMAP",
            "Points elsewhere; it should name mail.example.org port 443",
        ),
        (
            "autoconfig",
            "Points at autoconfig.provider.example, not at mail.example.org",
        ),
    ] {
        let l = line(&text, what);
        assert!(l.trim_start().starts_with("wrong "), "{what}: {l}\n{text}");
        assert!(l.contains(words), "{what}: {l}");
    }
    let sts = text
        .lines()
        .find(|l| l.contains(&format!("_mta-sts.{DOMAIN}.")))
        .expect("an MTA-STS line");
    assert!(sts.trim_start().starts_with("wrong "), "{sts}");
    assert!(sts.contains("not the current policy's"), "{sts}");
    // The ed25519 selector is simply not there.
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("missing") && l.contains(&ed.0)),
        "{text}"
    );
    // What to publish, found values and the reason, under each problem.
    assert!(
        text.contains(&format!("publish: {DOMAIN}.\t3600\tIN\tMX\t10 {HOST}.")),
        "{text}"
    );
    assert!(text.contains("found:   10 mx.elsewhere.example."), "{text}");
    assert!(
        text.contains("ask whoever runs this machine's network"),
        "{text}"
    );
    assert!(
        text.contains("Without it your mail lands in spam or is refused"),
        "{text}"
    );
    assert!(text.contains("need attention"), "{text}");

    // The admin page: a link from the setup section, and the same verdicts as a page.
    let session = crate::admin_support::admin_login(&s).await;
    let (_, dashboard) = session.get(&s, "/admin").await;
    assert!(
        dashboard
            .as_str()
            .unwrap_or("")
            .contains("href=\"/admin/dns-check\""),
        "the setup section links the check"
    );
    let (status, page) = session.get(&s, "/admin/dns-check").await;
    assert_eq!(status, 200);
    let page = page.as_str().unwrap_or("").to_string();
    for needle in [
        "<td><strong>wrong</strong></td><td>MX",
        "<td><strong>wrong</strong></td><td>SPF",
        "<td><strong>missing</strong></td><td>DKIM",
        "The MX points at mx.elsewhere.example",
        "record(s) need attention",
    ] {
        assert!(page.contains(needle), "{needle} not in the page:\n{page}");
    }

    // Now nothing at all is published.
    for (name, _, _) in &records {
        dns.clear(name);
    }
    dns.clear(HOST);
    dns.clear("10.2.0.192.in-addr.arpa");
    let (ok, text) = check(&s, &[DOMAIN]);
    assert!(!ok, "{text}");
    for what in ["A", "MX", "SPF", "DKIM", "DMARC", "JMAP", "autoconfig"] {
        let l = line(&text, what);
        assert!(
            l.trim_start().starts_with("missing "),
            "{what}: {l}\n{text}"
        );
    }
    assert!(
        text.contains("No MX record: no mail server is named for this domain."),
        "{text}"
    );
    assert!(
        line(&text, "reverse").contains("192.0.2.10 has no reverse name"),
        "{text}"
    );

    // The admin API names the same problems.
    let v: Value = s
        .http()
        .get(format!("{}/admin/api/dns-check", s.base_url()))
        .basic_auth(&s.admin, Some(&s.admin_password))
        .send()
        .await
        .expect("dns-check")
        .json()
        .await
        .expect("json");
    assert!(v["problems"].as_u64().unwrap() >= 9, "{v:#}");
    let status = |what: &str| {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["what"] == what)
            .map(|c| c["status"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert_eq!(status("MX"), "missing");
    assert_eq!(status("SPF"), "missing");
    assert_eq!(status("reverse DNS"), "missing");

    // With the server stopped, the command runs the check itself, with the config file's
    // resolver, and says the same.
    let mut s = s;
    assert!(s.terminate(), "the server should stop on SIGTERM");
    let config = s.config.display().to_string();
    let (ok, text) = check(&s, &["--config", &config, DOMAIN]);
    assert!(!ok, "{text}");
    assert!(
        line(&text, "MX").trim_start().starts_with("missing "),
        "{text}"
    );
    assert!(text.contains(&format!("asked {}", dns.addr)), "{text}");
}

/// A resolver that never answers: the check still ends (each query times out, the whole has a
/// deadline), says it could not tell, and exits non-zero rather than calling anything ok.
#[tokio::test]
async fn a_silent_resolver_is_reported_not_waited_for() {
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let config = format!(
        "hostname = \"{HOST}\"\n\
         dns_resolver = \"{}\"\n\
         public_ips = [\"{IP}\"]\n\
         smtp_greeting_delay_ms = 0\n",
        silent.local_addr().unwrap()
    );
    let s = smtp_support::start(&config, &[]);
    s.add_user(&format!("alice@{DOMAIN}"), "a long enough secret");
    let started = std::time::Instant::now();
    let (ok, text) = check(&s, &[DOMAIN]);
    println!(
        "dns check with a silent resolver took {:?}",
        started.elapsed()
    );
    assert!(!ok, "{text}");
    for what in ["A", "MX", "SPF", "DMARC"] {
        let l = line(&text, what);
        assert!(
            l.trim_start().starts_with("unknown "),
            "{what}: {l}\n{text}"
        );
        assert!(l.contains("DNS did not answer"), "{l}");
    }
    assert!(
        !text.contains("\n  ok "),
        "nothing is ok without answers:\n{text}"
    );
    drop(silent);
}

/// SPF is evaluated, not compared as text: an include that authorises this server's address is
/// ok, a chain that needs more than 10 DNS lookups is broken (RFC 7208 §4.6.4), an SPF record
/// that names another address is wrong.
#[tokio::test]
async fn spf_is_evaluated_through_includes_and_the_lookup_limit() {
    let dns = Dns::start();
    let s = start(&dns);
    publish_all(&dns, &expected(&s).await);
    let set_spf = |spf: &str| {
        dns.clear(DOMAIN);
        dns.mx(DOMAIN, 10, HOST);
        dns.txt(DOMAIN, spf);
    };
    let spf_line = || {
        let (_, text) = check(&s, &[DOMAIN]);
        line(&text, "SPF").to_string()
    };

    dns.txt("_spf.relay.example", "v=spf1 ip4:192.0.2.0/24 -all");
    set_spf("v=spf1 include:_spf.relay.example -all");
    let l = spf_line();
    assert!(l.trim_start().starts_with("ok "), "{l}");

    // Eleven includes, each one lookup: one more than SPF allows.
    for i in 0..11 {
        dns.txt(
            &format!("l{i}.relay.example"),
            &format!("v=spf1 include:l{}.relay.example", i + 1),
        );
    }
    dns.txt("l11.relay.example", "v=spf1 ip4:192.0.2.10 -all");
    set_spf("v=spf1 include:l0.relay.example -all");
    let l = spf_line();
    assert!(l.trim_start().starts_with("wrong "), "{l}");
    assert!(l.contains("more than 10 DNS lookups"), "{l}");

    set_spf("v=spf1 a:elsewhere.example ~all");
    let l = spf_line();
    assert!(l.trim_start().starts_with("wrong "), "{l}");
    assert!(
        l.contains("does not authorise this server's address 192.0.2.10"),
        "{l}"
    );
}
