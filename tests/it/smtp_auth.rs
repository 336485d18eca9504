//! The sender-authentication matrix against a real (tiny) DNS server on 127.0.0.1: SPF
//! pass/fail/softfail/none for MAIL FROM and HELO, DKIM pass/fail with real Ed25519 keys, DMARC
//! pass/reject/quarantine, ARC, and a forged Authentication-Results header. Each message's
//! verdicts are read back from the stored Authentication-Results header and its mailbox.

use crate::common;
use crate::smtp_support as support;

use base64::Engine;
use mail_auth::common::crypto::{Ed25519Key, SigningKey};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts,
};
use mail_auth::{AuthenticatedMessage, AuthenticationResults, MessageAuthenticator};
use support::{Dns, deliver, start, stored};

const HOST: &str = "mx.mailnook.test";
const USER: &str = "alice@mailnook.test";
const PASS: &str = "alice password 1";

fn key() -> (Ed25519Key, String) {
    let der = Ed25519Key::generate_pkcs8().expect("generate");
    let k = Ed25519Key::from_pkcs8_der(&der).expect("key");
    let public = base64::engine::general_purpose::STANDARD.encode(k.public_key());
    (k, format!("v=DKIM1; k=ed25519; p={public}"))
}

fn msg(from: &str, subject: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: {USER}\r\nSubject: {subject}\r\nMessage-ID: <{subject}@test>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n{body}\r\n"
    )
}

fn sign(key: impl SigningKey, domain: &str, selector: &str, message: &str) -> String {
    let sig = mail_auth::dkim::DkimSigner::from_key(key)
        .domain(domain)
        .selector(selector)
        .headers(["From", "To", "Subject", "Date", "Message-ID"])
        .sign(message.as_bytes())
        .expect("sign");
    format!("{}{}", sig.to_header(), message)
}

/// The (unfolded) value of our Authentication-Results header, split into its methods.
fn results(raw: &str) -> Vec<String> {
    let mut unfolded = String::new();
    let mut in_ar = false;
    for line in raw.split("\r\n") {
        if line.is_empty() {
            break;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            if in_ar {
                unfolded.push(' ');
                unfolded.push_str(line.trim());
            }
            continue;
        }
        if in_ar {
            break;
        }
        if let Some(v) = line.strip_prefix("Authentication-Results:") {
            in_ar = true;
            unfolded.push_str(v.trim());
        }
    }
    unfolded.split(';').map(|s| s.trim().to_string()).collect()
}

fn method<'a>(r: &'a [String], prefix: &str, contains: &str) -> &'a str {
    r.iter()
        .find(|m| m.starts_with(prefix) && m.contains(contains))
        .map(|s| s.as_str())
        .unwrap_or_else(|| panic!("no {prefix}..{contains} in {r:?}"))
}

#[tokio::test]
async fn authentication_matrix() {
    let dns = Dns::start();
    dns.txt("spf-pass.test", "v=spf1 ip4:127.0.0.1 -all");
    dns.txt("spf-fail.test", "v=spf1 ip4:192.0.2.1 -all");
    dns.txt("spf-soft.test", "v=spf1 ip4:192.0.2.1 ~all");
    dns.txt("helo.test", "v=spf1 ip4:127.0.0.1 -all");
    let (dkim_key, dkim_record) = key();
    dns.txt("s1._domainkey.dkim.test", &dkim_record);
    dns.txt("dmarc-pass.test", "v=spf1 ip4:127.0.0.1 -all");
    dns.txt("_dmarc.dmarc-pass.test", "v=DMARC1; p=reject");
    dns.txt("reject.test", "v=spf1 ip4:192.0.2.1 ~all");
    dns.txt("_dmarc.reject.test", "v=DMARC1; p=reject");
    dns.txt("quarantine.test", "v=spf1 ip4:192.0.2.1 ~all");
    dns.txt("_dmarc.quarantine.test", "v=DMARC1; p=quarantine");
    let (orig_key, orig_record) = key();
    dns.txt("s1._domainkey.orig.test", &orig_record);
    dns.txt("_dmarc.orig.test", "v=DMARC1; p=none");
    let arc_der = Ed25519Key::generate_pkcs8().expect("generate");
    let arc_key = Ed25519Key::from_pkcs8_der(&arc_der).expect("key");
    let arc_record = format!(
        "v=DKIM1; k=ed25519; p={}",
        base64::engine::general_purpose::STANDARD.encode(arc_key.public_key())
    );
    dns.txt("arc._domainkey.fwd.test", &arc_record);
    let (strict_key, strict_record) = key();
    dns.txt("s1._domainkey.strict.test", &strict_record);
    dns.txt("_dmarc.strict.test", "v=DMARC1; p=reject");
    let (untrusted_key, untrusted_record) = key();
    dns.txt("arc._domainkey.other-list.test", &untrusted_record);

    let resolver = dns.addr.to_string();
    let s = start(
        &format!(
            "smtp_greeting_delay_ms = 0\nhostname = \"{HOST}\"\narc_trusted_sealers = [\"fwd.test\"]\n"
        ),
        &["--sender-auth", "on", "--dns-resolver", &resolver],
    );
    assert!(
        s.stdout
            .iter()
            .any(|l| l == &format!("Sender authentication on (DNS {resolver})")),
        "{:?}",
        s.stdout
    );
    s.add_user(USER, PASS);

    let mut t = s.transcript();
    assert_eq!(t.cmd("EHLO helo.test"), 250);
    let send = |t: &mut common::Transcript, from: &str, _subject: &str, raw: &str| {
        deliver(t, from, &[USER], raw.as_bytes())
    };
    let ok = |r: String| assert!(r.starts_with("250 2.6.0"), "{r}");

    ok(send(
        &mut t,
        "a@spf-pass.test",
        "spf-pass",
        &msg("a@spf-pass.test", "spf-pass", "hi"),
    ));
    ok(send(
        &mut t,
        "a@spf-fail.test",
        "spf-fail",
        &msg("a@spf-fail.test", "spf-fail", "hi"),
    ));
    ok(send(
        &mut t,
        "a@spf-soft.test",
        "spf-soft",
        &msg("a@spf-soft.test", "spf-soft", "hi"),
    ));
    ok(send(
        &mut t,
        "a@nodns.test",
        "spf-none",
        &msg("a@nodns.test", "spf-none", "hi"),
    ));
    let signed = sign(
        dkim_key,
        "dkim.test",
        "s1",
        &msg("a@dkim.test", "dkim-pass", "signed"),
    );
    ok(send(&mut t, "a@dkim.test", "dkim-pass", &signed));
    let (k2, _) = key(); // a key whose public half is not the one in DNS
    let forged = sign(
        k2,
        "dkim.test",
        "s1",
        &msg("a@dkim.test", "dkim-fail", "signed"),
    );
    ok(send(&mut t, "a@dkim.test", "dkim-fail", &forged));
    ok(send(
        &mut t,
        "x@dmarc-pass.test",
        "dmarc-pass",
        &msg("x@dmarc-pass.test", "dmarc-pass", "hi"),
    ));
    let r = send(
        &mut t,
        "x@reject.test",
        "dmarc-reject",
        &msg("x@reject.test", "dmarc-reject", "hi"),
    );
    assert!(r.starts_with("550 5.7.1"), "DMARC p=reject: {r}");
    ok(send(
        &mut t,
        "x@quarantine.test",
        "dmarc-quarantine",
        &msg("x@quarantine.test", "dmarc-quarantine", "hi"),
    ));
    ok(send(
        &mut t,
        "x@nodns.test",
        "forged-ar",
        &format!(
            "Authentication-Results: {HOST}; dkim=pass; dmarc=pass\r\n{}",
            msg("x@nodns.test", "forged-ar", "hi")
        ),
    ));

    // ARC: orig.test signs; a mailing list at fwd.test adds a footer (breaking DKIM), records
    // what it saw in an ARC set and passes the message on to us.
    let original = sign(
        orig_key,
        "orig.test",
        "s1",
        &msg("a@orig.test", "arc", "list post"),
    );
    let mut opts = ResolverOpts::default();
    opts.attempts = 1;
    let mut udp = ConnectionConfig::udp();
    udp.port = dns.addr.port();
    let mut ns = NameServerConfig::udp(dns.addr.ip());
    ns.connections = vec![udp];
    let fwd = MessageAuthenticator::new(ResolverConfig::from_name_servers(vec![ns]), opts)
        .expect("resolver");
    let parsed = AuthenticatedMessage::parse(original.as_bytes()).expect("parse");
    let dkim = fwd.verify_dkim(&parsed).await;
    assert_eq!(
        dkim[0].result(),
        &mail_auth::DkimResult::Pass,
        "the list saw a valid signature"
    );
    let modified = format!("{original}-- \r\nlist footer\r\n");
    let parsed_mod = AuthenticatedMessage::parse(modified.as_bytes()).expect("parse");
    let arc_in = fwd.verify_arc(&parsed_mod).await;
    let aar = AuthenticationResults::new("fwd.test").with_dkim_results(&dkim, "a@orig.test");
    let set = mail_auth::arc::ArcSealer::from_key(arc_key)
        .domain("fwd.test")
        .selector("arc")
        .headers(["From", "To", "Subject", "DKIM-Signature"])
        .seal(&parsed_mod, &aar, &arc_in)
        .expect("seal");
    let forwarded = format!("{}{}", set.to_header(), modified);
    ok(send(&mut t, "list@fwd.test", "arc", &forwarded));

    // strict.test publishes p=reject. Forwarded through the trusted list fwd.test (ARC pass),
    // the DMARC failure is overridden; through an untrusted list it is refused.
    let strict = sign(
        strict_key,
        "strict.test",
        "s1",
        &msg("a@strict.test", "arc-trusted", "post"),
    );
    let strict_mod = format!("{strict}-- \r\nfooter\r\n");
    let parsed = AuthenticatedMessage::parse(strict.as_bytes()).expect("parse");
    let dkim_s = fwd.verify_dkim(&parsed).await;
    let aar = AuthenticationResults::new("fwd.test").with_dkim_results(&dkim_s, "a@strict.test");
    let parsed_mod = AuthenticatedMessage::parse(strict_mod.as_bytes()).expect("parse");
    let arc_in = fwd.verify_arc(&parsed_mod).await;
    let fwd_key2 = Ed25519Key::from_pkcs8_der(&arc_der).expect("key");
    let set = mail_auth::arc::ArcSealer::from_key(fwd_key2)
        .domain("fwd.test")
        .selector("arc")
        .headers(["From", "To", "Subject", "DKIM-Signature"])
        .seal(&parsed_mod, &aar, &arc_in)
        .expect("seal");
    ok(send(
        &mut t,
        "list@fwd.test",
        "arc-trusted",
        &format!("{}{}", set.to_header(), strict_mod),
    ));
    let untrusted_msg = strict_mod.replace("Subject: arc-trusted", "Subject: arc-untrusted");
    let parsed_u = AuthenticatedMessage::parse(untrusted_msg.as_bytes()).expect("parse");
    let arc_in = fwd.verify_arc(&parsed_u).await;
    let set = mail_auth::arc::ArcSealer::from_key(untrusted_key)
        .domain("other-list.test")
        .selector("arc")
        .headers(["From", "To", "Subject", "DKIM-Signature"])
        .seal(&parsed_u, &aar, &arc_in)
        .expect("seal");
    let r = send(
        &mut t,
        "list@other-list.test",
        "arc-untrusted",
        &format!("{}{}", set.to_header(), untrusted_msg),
    );
    assert!(
        r.starts_with("550 5.7.1"),
        "untrusted sealer: DMARC reject stands: {r}"
    );
    // A tampered ARC chain fails.
    let tampered = forwarded.replace("list post", "list p0st");
    ok(send(
        &mut t,
        "list@fwd.test",
        "arc-broken",
        &tampered.replace("Subject: arc", "Subject: arc-broken"),
    ));
    assert_eq!(t.cmd("QUIT"), 221);

    let all = stored(&s, USER, PASS).await;
    let get = |subject: &str| {
        all.iter()
            .find(|m| m.subject == subject)
            .unwrap_or_else(|| {
                panic!(
                    "{subject} not stored: {:?}",
                    all.iter().map(|m| &m.subject).collect::<Vec<_>>()
                )
            })
    };
    assert!(
        all.iter().all(|m| m.subject != "dmarc-reject"),
        "rejected mail is not stored"
    );
    for m in &all {
        assert!(
            m.raw
                .starts_with(&format!("Authentication-Results: {HOST};")),
            "{}: our header comes first: {}",
            m.subject,
            &m.raw[..200.min(m.raw.len())]
        );
        assert_eq!(
            m.raw
                .matches(&format!("Authentication-Results: {HOST}"))
                .count(),
            1,
            "{}: exactly one header claims our name",
            m.subject
        );
    }

    let r = results(&get("spf-pass").raw);
    assert!(
        method(&r, "spf=", "smtp.mailfrom").starts_with("spf=pass"),
        "{r:?}"
    );
    assert!(
        method(&r, "spf=", "smtp.helo=helo.test").starts_with("spf=pass"),
        "{r:?}"
    );
    assert_eq!(get("spf-pass").roles, ["inbox"]);

    let r = results(&get("spf-fail").raw);
    assert!(
        method(&r, "spf=", "smtp.mailfrom").starts_with("spf=fail"),
        "{r:?}"
    );
    assert_eq!(
        get("spf-fail").roles,
        ["junk"],
        "SPF hard fail goes to Junk"
    );

    let r = results(&get("spf-soft").raw);
    assert!(
        method(&r, "spf=", "smtp.mailfrom").starts_with("spf=softfail"),
        "{r:?}"
    );
    assert_eq!(get("spf-soft").roles, ["inbox"]);

    let r = results(&get("spf-none").raw);
    assert!(
        method(&r, "spf=", "smtp.mailfrom").starts_with("spf=none"),
        "{r:?}"
    );
    assert!(method(&r, "dmarc=", "").starts_with("dmarc=none"), "{r:?}");
    assert_eq!(get("spf-none").roles, ["inbox"]);

    let r = results(&get("dkim-pass").raw);
    assert!(
        method(&r, "dkim=", "header.d=dkim.test").starts_with("dkim=pass"),
        "{r:?}"
    );
    let r = results(&get("dkim-fail").raw);
    assert!(
        method(&r, "dkim=", "header.d=dkim.test").starts_with("dkim=fail"),
        "{r:?}"
    );
    assert_eq!(
        get("dkim-fail").roles,
        ["inbox"],
        "no DMARC record: delivered"
    );

    let r = results(&get("dmarc-pass").raw);
    assert!(method(&r, "dmarc=", "").starts_with("dmarc=pass"), "{r:?}");
    assert_eq!(get("dmarc-pass").roles, ["inbox"]);

    let r = results(&get("dmarc-quarantine").raw);
    assert!(method(&r, "dmarc=", "").starts_with("dmarc=fail"), "{r:?}");
    assert_eq!(get("dmarc-quarantine").roles, ["junk"]);

    let r = results(&get("forged-ar").raw);
    assert!(
        method(&r, "dkim=", "").starts_with("dkim=none"),
        "the forged pass is gone: {r:?}"
    );

    let r = results(&get("arc").raw);
    assert!(method(&r, "arc=", "").starts_with("arc=pass"), "{r:?}");
    // The footer broke the body hash (mail-auth reports that as neutral, RFC 6376 §6.1.3).
    assert!(
        !method(&r, "dkim=", "header.d=orig.test").starts_with("dkim=pass"),
        "{r:?}"
    );
    let r = results(&get("arc-trusted").raw);
    assert!(method(&r, "arc=", "").starts_with("arc=pass"), "{r:?}");
    assert!(method(&r, "dmarc=", "").starts_with("dmarc=fail"), "{r:?}");
    assert_eq!(
        get("arc-trusted").roles,
        ["inbox"],
        "the trusted sealer's ARC overrides"
    );
    assert!(all.iter().all(|m| m.subject != "arc-untrusted"));
    let r = results(&get("arc-broken").raw);
    let arc = method(&r, "arc=", "");
    assert!(
        arc.starts_with("arc=fail") || arc.starts_with("arc=neutral"),
        "{r:?}"
    );

    let log = s.log();
    assert!(
        log.contains("refused message from <x@reject.test>")
            && log.contains("DMARC policy of reject.test is reject"),
        "a clear log line for the refusal"
    );
}

#[tokio::test]
async fn dmarc_reject_can_be_turned_into_junk() {
    let dns = Dns::start();
    dns.txt("reject.test", "v=spf1 ip4:192.0.2.1 ~all");
    dns.txt("_dmarc.reject.test", "v=DMARC1; p=reject");
    let resolver = dns.addr.to_string();
    let s = start(
        &format!("smtp_greeting_delay_ms = 0\nhostname = \"{HOST}\"\ndmarc_reject = false\n"),
        &["--sender-auth", "on", "--dns-resolver", &resolver],
    );
    s.add_user(USER, PASS);
    let mut t = s.transcript();
    assert_eq!(t.cmd("EHLO client.test"), 250);
    let r = deliver(
        &mut t,
        "x@reject.test",
        &[USER],
        msg("x@reject.test", "r", "hi").as_bytes(),
    );
    assert!(r.starts_with("250"), "{r}");
    let all = stored(&s, USER, PASS).await;
    assert_eq!(all[0].roles, ["junk"]);
}

#[tokio::test]
async fn an_unreachable_resolver_does_not_stop_mail() {
    // A resolver that never answers: every lookup times out; the budget bounds the wait and
    // the message is delivered with temperror verdicts.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    let resolver = silent.local_addr().expect("addr").to_string();
    let s = start(
        &format!(
            "smtp_greeting_delay_ms = 0\nhostname = \"{HOST}\"\nauth_dns_timeout_ms = 200\nauth_timeout_ms = 1000\n"
        ),
        &["--sender-auth", "on", "--dns-resolver", &resolver],
    );
    s.add_user(USER, PASS);
    let mut t = s.transcript();
    assert_eq!(t.cmd("EHLO client.test"), 250);
    let r = deliver(
        &mut t,
        "x@example.test",
        &[USER],
        msg("x@example.test", "t", "hi").as_bytes(),
    );
    assert!(r.starts_with("250"), "{r}");
    // While DNS counts as down, the next messages do not wait for it again (no wall-clock
    // assertion: the log says the breaker tripped once for three messages).
    for i in 0..2 {
        let r = deliver(
            &mut t,
            "x@example.test",
            &[USER],
            msg("x@example.test", &format!("t{i}"), "hi").as_bytes(),
        );
        assert!(r.starts_with("250"), "{r}");
    }
    let all = stored(&s, USER, PASS).await;
    assert_eq!(all.len(), 3);
    for m in &all {
        let r = results(&m.raw);
        assert!(r.iter().any(|m| m.contains("temperror")), "{r:?}");
        assert_eq!(m.roles, ["inbox"]);
    }
    assert_eq!(
        s.log().matches("ran out of time").count(),
        1,
        "one wait, then the breaker"
    );
    drop(silent);
}
