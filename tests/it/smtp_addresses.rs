//! Addresses: several domains, aliases fanning out to several accounts, per-domain catch-all,
//! plus-addressing, case-insensitive local parts, the null sender, SMTPUTF8 addresses, and the
//! `mailnook domain|alias` commands with and without the server running.

use crate::common;
use crate::smtp_support as support;

use common::{code, message};
use support::{PLAIN, deliver, start, stored};

const PASS: &str = "a long password 1";

#[tokio::test]
async fn domains_aliases_catch_all_and_plus_addressing() {
    let mut s = start(PLAIN, &[]);
    s.add_user("alice@a.test", PASS);
    s.add_user("bob@a.test", PASS);
    s.add_user("carol@b.test", PASS);

    // Account domains are local automatically; others are added explicitly.
    let list = s.cli_ok(&["domain", "list"]);
    assert!(list.contains("a.test\t2 accounts"), "{list}");
    assert!(list.contains("b.test\t1 accounts"), "{list}");
    assert_eq!(
        s.cli_ok(&["domain", "add", "C.test"]).trim(),
        "added domain c.test"
    );
    let dup = s.cli(&["domain", "add", "c.test"], None);
    assert!(!dup.status.success());
    assert!(String::from_utf8_lossy(&dup.stderr).contains("already a local domain"));

    s.cli_ok(&["alias", "add", "Team@a.test", "alice@a.test", "bob@a.test"]);
    s.cli_ok(&["alias", "add", "@c.test", "carol@b.test"]);
    let bad = s.cli(&["alias", "add", "x@nowhere.test", "alice@a.test"], None);
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("not a local domain"),
        "aliases live in local domains"
    );
    let bad = s.cli(&["alias", "add", "SRS0=x@a.test", "alice@a.test"], None);
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("kept for bounces"),
        "SRS names are the bounces' (outbound/srs.rs)"
    );
    let bad = s.cli(&["alias", "add", "alice@a.test", "bob@a.test"], None);
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("own address"),
        "an alias never shadows an account"
    );
    let aliases = s.cli_ok(&["alias", "list"]);
    assert!(
        aliases.contains("team@a.test\talice@a.test, bob@a.test"),
        "{aliases}"
    );
    assert!(aliases.contains("@c.test\tcarol@b.test"), "{aliases}");
    assert!(
        s.cli_ok(&["domain", "list"])
            .contains("c.test\t0 accounts\tcatch-all: carol@b.test")
    );

    let mut t = s.transcript();
    assert_eq!(t.cmd("EHLO client.test"), 250);
    assert_eq!(
        t.cmd("MAIL FROM:<>"),
        250,
        "the null sender is accepted (bounces)"
    );
    let mut r = |line: &str| {
        t.send(format!("{line}\r\n").as_bytes());
        t.reply()
    };
    assert!(
        r("RCPT TO:<Alice@A.Test>").starts_with("250 2.1.5"),
        "case-insensitive"
    );
    assert!(
        r("RCPT TO:<alice+news@a.test>").starts_with("250 2.1.5"),
        "plus-addressing"
    );
    assert!(r("RCPT TO:<team@a.test>").starts_with("250 2.1.5"), "alias");
    assert!(
        r("RCPT TO:<anyone@c.test>").starts_with("250 2.1.5"),
        "catch-all"
    );
    assert_eq!(
        r("RCPT TO:<nobody@a.test>"),
        "550 5.1.1 No such user here\r\n"
    );
    assert_eq!(
        r("RCPT TO:<nobody@b.test>"),
        "550 5.1.1 No such user here\r\n",
        "no catch-all in b.test"
    );
    assert_eq!(
        r("RCPT TO:<x@elsewhere.test>"),
        "550 5.7.1 Relaying denied\r\n"
    );
    assert_eq!(r("RSET"), "250 2.0.0 Reset\r\n");

    // One message to alice directly, via plus and via the alias: alice stores it once.
    let m = message("<>", "team@a.test", "Fan-out", "fan@x", "to the team");
    let reply = deliver(
        &mut t,
        "",
        &["alice@a.test", "alice+x@a.test", "team@a.test", "z@c.test"],
        &m,
    );
    assert!(reply.starts_with("250 2.6.0"), "{reply}");
    assert_eq!(t.cmd("QUIT"), 221);
    for (user, n) in [("alice@a.test", 1), ("bob@a.test", 1), ("carol@b.test", 1)] {
        let got = stored(&s, user, PASS).await;
        assert_eq!(got.len(), n, "{user}");
        assert_eq!(got[0].subject, "Fan-out");
    }

    // A domain in use cannot be removed; after its catch-all goes, it can.
    let busy = s.cli(&["domain", "del", "c.test"], None);
    assert!(String::from_utf8_lossy(&busy.stderr).contains("still used"));
    assert_eq!(
        s.cli_ok(&["alias", "del", "@c.test"]).trim(),
        "removed alias @c.test"
    );
    assert_eq!(
        s.cli_ok(&["domain", "del", "c.test"]).trim(),
        "removed domain c.test"
    );
    let mut t = s.transcript();
    assert_eq!(t.cmd("EHLO client.test"), 250);
    assert_eq!(t.cmd("MAIL FROM:<x@y.test>"), 250);
    assert_eq!(t.cmd("RCPT TO:<anyone@c.test>"), 550, "no longer local");
    // Removing one target of an alias keeps the others.
    s.cli_ok(&["alias", "del", "team@a.test", "bob@a.test"]);
    assert!(
        s.cli_ok(&["alias", "list"])
            .contains("team@a.test\talice@a.test\n")
    );

    // Without the server the same commands work on the database directly.
    s.kill();
    s.cli_ok(&["domain", "add", "d.test"]);
    s.cli_ok(&["alias", "add", "info@d.test", "bob@a.test"]);
    assert!(
        s.cli_ok(&["alias", "list"])
            .contains("info@d.test\tbob@a.test")
    );
    s.restart();
    let mut t = s.transcript();
    assert_eq!(t.cmd("EHLO client.test"), 250);
    assert_eq!(t.cmd("MAIL FROM:<x@y.test>"), 250);
    assert_eq!(t.cmd("RCPT TO:<INFO@d.test>"), 250);
    // Deleting an account drops it from aliases.
    drop(t);
    s.cli_ok(&["user", "del", "bob@a.test"]);
    assert!(!s.cli_ok(&["alias", "list"]).contains("info@d.test"));
}

#[tokio::test]
async fn smtputf8_addresses() {
    let s = start(PLAIN, &[]);
    s.add_user("jörg@ü.test", PASS);
    let mut t = s.transcript();
    t.send(b"EHLO client.test\r\n");
    let ehlo = t.reply();
    assert!(ehlo.contains("250-SMTPUTF8"), "{ehlo}");
    assert_eq!(t.cmd("MAIL FROM:<δοκιμή@παράδειγμα.test> SMTPUTF8"), 250);
    assert_eq!(t.cmd("RCPT TO:<JÖRG@Ü.test>"), 250, "Unicode case folding");
    assert_eq!(t.cmd("RCPT TO:<jörg+tag@ü.test>"), 250);
    assert_eq!(
        t.cmd("RCPT TO:<jörg@xn--tda.test>"),
        250,
        "A-label domain, RFC 5890"
    );
    assert_eq!(t.cmd("RCPT TO:<jörg@XN--TDA.test>"), 250);
    assert_eq!(t.cmd("DATA"), 354);
    t.send("From: δοκιμή@παράδειγμα.test\r\nSubject: Grüße\r\n\r\nHallo\r\n.\r\n".as_bytes());
    assert_eq!(code(&t.reply()), 250);
    let got = stored(&s, "jörg@ü.test", PASS).await;
    assert_eq!(got[0].subject, "Grüße");
}
