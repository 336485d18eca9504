//! What sender authentication costs (issue #20: at most 20 % of ingest): the same
//! reused-connection ingest into two fresh servers, one with `--sender-auth on` against a
//! loopback DNS responder and one with it off. Every message is DKIM-signed (ed25519, RFC
//! 8463) for the sender's domain, whose SPF record passes 127.0.0.1 and whose DMARC policy is
//! p=reject, so "on" runs SPF (HELO and MAIL FROM), DKIM and DMARC, all passing. Both servers
//! get the same signed messages; they are fed alternately in rounds so that other load on the
//! machine falls on both alike. Afterwards every message on "on" is checked for passing
//! verdicts in its Authentication-Results (RFC 8601), so the figure cannot come from checks
//! that failed early.

use crate::corpus::Corpus;
use crate::dns::Dns;
use crate::http_client::Https;
use crate::load;
use crate::side::Side;
use crate::stats::Row;
use crate::{USING, method_error};
use base64::Engine;
use mail_auth::common::crypto::Ed25519Key;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use serde_json::json;
use std::path::Path;
use std::time::Duration;

/// The corpus's From domain (`corpus.rs`) and the envelope sender's (`load::MAIL_FROM`).
const DOMAIN: &str = "example.net";
const SELECTOR: &str = "bench";
const ROUNDS: usize = 4;
/// Emails read per Email/get when checking the verdicts (under maxObjectsInGet).
const PAGE: usize = 500;

pub fn figure(tmp: &Path, count: usize, conns: usize) -> Result<Row, String> {
    eprintln!("bench: sender authentication on vs off, {count} messages each ...");
    let der = Ed25519Key::generate_pkcs8().map_err(|e| e.to_string())?;
    let public = Ed25519Key::from_pkcs8_der(&der)
        .map_err(|e| e.to_string())?
        .public_key();
    let dkim = format!(
        "v=DKIM1; k=ed25519; p={}",
        base64::engine::general_purpose::STANDARD.encode(public)
    );
    let spf = "v=spf1 ip4:127.0.0.1 -all";
    let selector = format!("{SELECTOR}._domainkey.{DOMAIN}");
    let dmarc = format!("_dmarc.{DOMAIN}");
    let dns = Dns::start();
    dns.txt(&selector, &dkim);
    dns.txt(DOMAIN, spf);
    // The EHLO name of `smtp_client.rs`: SPF checks the HELO identity too (RFC 7208 §2.3).
    dns.txt("bench.example", spf);
    dns.txt(&dmarc, "v=DMARC1; p=reject");
    let resolver = dns.addr.to_string();
    let on = Side::start(
        tmp,
        "auth-on",
        &["--sender-auth", "on", "--dns-resolver", &resolver],
    )?;
    let off = Side::start(tmp, "auth-off", &[])?;
    let (mut t_on, mut t_off, mut bytes) = (Duration::ZERO, Duration::ZERO, 0);
    // Delivery CPU (indexer threads left out) of each side: steadier than the rates when
    // something else shares the machine.
    let (mut cpu_on, mut cpu_off) = (0.0, 0.0);
    for round in 0..ROUNDS {
        let n = count / ROUNDS + usize::from(round < count % ROUNDS);
        // Alternate which goes first, so neither always follows the other's background work.
        let order = if round % 2 == 0 {
            [(&on, true), (&off, false)]
        } else {
            [(&off, false), (&on, true)]
        };
        for (side, is_on) in order {
            let cpu0 = crate::cpu::delivery_ms(side.srv.pid());
            let sent = load::reused(side.srv.smtp, n, conns, |c| signed(&der, round, c))?;
            let cpu = crate::cpu::delivery_ms(side.srv.pid()) - cpu0;
            if is_on {
                t_on += sent.elapsed;
                bytes += sent.bytes;
                cpu_on += cpu;
            } else {
                t_off += sent.elapsed;
                cpu_off += cpu;
            }
        }
    }
    let (mut http, acct) = on.jmap()?;
    let passed = passing(&mut http, &acct, count);
    let seen_off = off.jmap().and_then(|(mut h, a)| off.emails(&mut h, &a));
    on.stop();
    off.stop();
    drop(dns);
    let rate_on = count as f64 / t_on.as_secs_f64().max(1e-9);
    let rate_off = count as f64 / t_off.as_secs_f64().max(1e-9);
    let cost = (1.0 - rate_on / rate_off) * 100.0;
    let mut value = format!("{rate_on:.0} msg/s on vs {rate_off:.0} off (−{cost:.0} %)");
    if cost < 0.0 {
        value = format!(
            "{rate_on:.0} msg/s on vs {rate_off:.0} off (+{:.0} %)",
            -cost
        );
    }
    let per = |ms: f64| ms / count.max(1) as f64;
    value.push_str(&format!(
        "; delivery CPU {:.2} vs {:.2} ms/msg ({:+.0} %)",
        per(cpu_on),
        per(cpu_off),
        (cpu_on / cpu_off.max(1e-9) - 1.0) * 100.0
    ));
    match (&passed, &seen_off) {
        (Ok(p), Ok(s)) if *p == count && *s == count as u64 => {}
        (Ok(p), Ok(s)) => value.push_str(&format!(
            " (only {p} of {count} passed on, {s} delivered off!)"
        )),
        (Err(e), _) | (_, Err(e)) => value.push_str(&format!(" (not verified: {e})")),
    }
    Ok(Row {
        figure: "sender auth cost".into(),
        value,
        target: "<= 20 %".into(),
        how: format!(
            "{count} DKIM-signed corpus msgs ({:.0} MB) into each of two fresh servers over {conns} reused sessions, alternately in {ROUNDS} rounds; on: SPF+DKIM+DMARC against a loopback DNS responder (TXT, TTL 60 s), all verified pass in Authentication-Results",
            bytes as f64 / 1e6
        ),
    })
}

/// A message builder for sender thread `c` of `round`: the corpus (seeded the same for both
/// servers), each message signed for `DOMAIN`.
fn signed(
    der: &[u8],
    round: usize,
    c: usize,
) -> Result<impl FnMut(usize) -> Result<Vec<u8>, String>, String> {
    let key = Ed25519Key::from_pkcs8_der(der).map_err(|e| e.to_string())?;
    let signer = DkimSigner::from_key(key)
        .domain(DOMAIN)
        .selector(SELECTOR)
        .headers(["From", "To", "Subject", "Date", "Message-ID"]);
    let mut corpus = Corpus::new(7000 + (round * 100 + c) as u64, crate::USER);
    Ok(move |_| {
        let m = corpus.next(None).bytes;
        let sig = signer.sign(&m).map_err(|e| e.to_string())?;
        let mut out = sig.to_header().into_bytes();
        out.extend_from_slice(&m);
        Ok(out)
    })
}

/// How many of the account's emails carry spf, dkim and dmarc "pass" in our
/// Authentication-Results (read page by page).
fn passing(http: &mut Https, acct: &str, count: usize) -> Result<usize, String> {
    let mut passed = 0;
    let mut position = 0;
    while position < count {
        let v = http.jmap(&json!({"using": USING, "methodCalls": [
            ["Email/query", {"accountId": acct, "position": position, "limit": PAGE}, "q"],
            ["Email/get", {"accountId": acct, "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
                "properties": ["header:Authentication-Results:asText"]}, "g"]]}))?;
        if let Some(e) = method_error(&v) {
            return Err(e);
        }
        let list = v["methodResponses"][1][1]["list"]
            .as_array()
            .ok_or("no list")?;
        if list.is_empty() {
            break;
        }
        position += list.len();
        passed += list
            .iter()
            .filter(|e| {
                let ar = e["header:Authentication-Results:asText"]
                    .as_str()
                    .unwrap_or("");
                ["spf=pass", "dkim=pass", "dmarc=pass"]
                    .iter()
                    .all(|v| ar.contains(v))
            })
            .count();
    }
    Ok(passed)
}
