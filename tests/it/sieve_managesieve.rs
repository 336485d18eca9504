//! ManageSieve (RFC 5804) over real sockets: a raw transcript (STARTTLS, AUTHENTICATE PLAIN
//! only after TLS, PUTSCRIPT with a literal, errors with line and column, LISTSCRIPTS,
//! SETACTIVE, GETSCRIPT, RENAMESCRIPT, DELETESCRIPT of the active script refused, HAVESPACE,
//! CHECKSCRIPT), and a real client, Python's sievelib (tests/setup/deps.sh installs it),
//! uploading a script that then decides where SMTP-delivered mail lands.

use crate::common::{self, Server, eventually};
use crate::core_common;
use base64::Engine;
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

const ALICE: &str = "alice@example.org";
const PW: &str = "alice's long password";

/// Reads lines up to and including the final OK / NO / BYE line (literals read whole).
fn response(r: &mut impl BufRead) -> String {
    let mut all = String::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return all;
        }
        all.push_str(&line);
        if let Some(n) = line
            .trim_end()
            .strip_prefix('{')
            .and_then(|l| l.strip_suffix('}'))
            .and_then(|n| n.parse::<usize>().ok())
        {
            let mut buf = vec![0; n];
            r.read_exact(&mut buf).expect("literal");
            all.push_str(&String::from_utf8_lossy(&buf));
            continue;
        }
        if line.starts_with("OK") || line.starts_with("NO") || line.starts_with("BYE") {
            return all;
        }
    }
}

struct Tls {
    r: BufReader<StreamOwned<ClientConnection, TcpStream>>,
}

impl Tls {
    fn cmd(&mut self, line: &str) -> String {
        self.r
            .get_mut()
            .write_all(format!("{line}\r\n").as_bytes())
            .expect("write");
        self.r.get_mut().flush().expect("flush");
        response(&mut self.r)
    }
}

fn literal(s: &str) -> String {
    format!("{{{}+}}\r\n{s}", s.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_transcript_starttls_plain_and_script_commands() {
    let s = Server::start();
    let alice = s.new_account(ALICE, PW).await;
    alice
        .call1("Mailbox/set", json!({"create": {"c": {"name": "club"}}}))
        .await;

    let tcp = TcpStream::connect(s.managesieve).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut plain = BufReader::new(tcp.try_clone().unwrap());
    let mut w = tcp.try_clone().unwrap();
    let greeting = response(&mut plain);
    assert!(greeting.contains("\"STARTTLS\""), "{greeting}");
    assert!(
        greeting.contains("\"SASL\" \"\""),
        "no PLAIN before TLS: {greeting}"
    );
    assert!(
        greeting.contains("fileinto") && greeting.ends_with("\r\n"),
        "{greeting}"
    );
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("\0{ALICE}\0{PW}"));
    w.write_all(format!("AUTHENTICATE \"PLAIN\" \"{b64}\"\r\n").as_bytes())
        .unwrap();
    let r = response(&mut plain);
    assert!(r.starts_with("NO (ENCRYPT-NEEDED)"), "{r}");
    w.write_all(b"STARTTLS\r\n").unwrap();
    let r = response(&mut plain);
    assert!(r.starts_with("OK"), "{r}");
    let name = ServerName::try_from("localhost").unwrap();
    let conn = ClientConnection::new(core_common::client_config(), name).unwrap();
    let mut t = Tls {
        r: BufReader::new(StreamOwned::new(conn, tcp)),
    };
    // RFC 5804 §2.2: capabilities again after the handshake, now with PLAIN.
    let caps = response(&mut t.r);
    assert!(
        caps.contains("\"SASL\" \"PLAIN\"") && !caps.contains("STARTTLS"),
        "{caps}"
    );

    assert!(
        t.cmd("LISTSCRIPTS").starts_with("NO"),
        "commands need a login"
    );
    let bad = base64::engine::general_purpose::STANDARD.encode(format!("\0{ALICE}\0wrong"));
    assert!(
        t.cmd(&format!("AUTHENTICATE \"PLAIN\" \"{bad}\""))
            .starts_with("NO")
    );
    let r = t.cmd(&format!("AUTHENTICATE \"PLAIN\" \"{b64}\""));
    assert!(r.starts_with("OK"), "{r}");

    let script = "require \"fileinto\";\r\nif header :contains \"subject\" \"club\" { fileinto \"club\"; }\r\n";
    let r = t.cmd(&format!("PUTSCRIPT \"club\" {}", literal(script)));
    assert!(r.starts_with("OK"), "{r}");
    let r = t.cmd(&format!(
        "PUTSCRIPT \"broken\" {}",
        literal("keep;\r\n  fileinto \"x\";\r\n")
    ));
    assert!(r.starts_with("NO") && r.contains("line 2, column 3"), "{r}");
    let r = t.cmd(&format!("CHECKSCRIPT {}", literal("if true { stop; }")));
    assert!(r.starts_with("OK"), "{r}");
    let r = t.cmd("HAVESPACE \"club\" 10000000");
    assert!(r.starts_with("NO (QUOTA/MAXSIZE)"), "{r}");
    assert!(t.cmd("HAVESPACE \"club\" 100").starts_with("OK"));
    assert_eq!(
        t.cmd("LISTSCRIPTS"),
        "\"club\"\r\nOK \"Listscripts completed\"\r\n"
    );
    assert!(t.cmd("SETACTIVE \"nope\"").starts_with("NO (NONEXISTENT)"));
    assert!(t.cmd("SETACTIVE \"club\"").starts_with("OK"));
    assert_eq!(
        t.cmd("LISTSCRIPTS"),
        "\"club\" ACTIVE\r\nOK \"Listscripts completed\"\r\n"
    );
    let r = t.cmd("GETSCRIPT \"club\"");
    assert!(
        r.starts_with(&format!("{{{}}}\r\n{script}", script.len())),
        "{r}"
    );
    assert!(t.cmd("DELETESCRIPT \"club\"").starts_with("NO (ACTIVE)"));
    assert!(
        t.cmd(&format!("PUTSCRIPT \"other\" {}", literal("keep;")))
            .starts_with("OK")
    );
    assert!(
        t.cmd("RENAMESCRIPT \"other\" \"club\"")
            .starts_with("NO (ALREADYEXISTS)")
    );
    assert!(t.cmd("RENAMESCRIPT \"other\" \"spare\"").starts_with("OK"));
    assert!(t.cmd("DELETESCRIPT \"spare\"").starts_with("OK"));
    assert!(t.cmd("NOOP \"t1\"").starts_with("OK (TAG \"t1\")"));
    assert!(t.cmd("LOGOUT").starts_with("OK"));

    // The script stored over ManageSieve decides where SMTP mail lands, and JMAP shows it.
    assert!(
        alice
            .deliver(&common::message(
                "c@remote.example",
                ALICE,
                "club news",
                "m1@remote.example",
                "x"
            ))
            .starts_with("250")
    );
    let got = alice
        .call1(
            "Email/query",
            json!({"filter": {"inMailbox": mailbox_id(&alice, "club").await}}),
        )
        .await;
    assert_eq!(got["ids"].as_array().map(Vec::len), Some(1), "{got}");
    let r = alice
        .call_using(
            &[common::CORE, "urn:ietf:params:jmap:sieve"],
            json!([["SieveScript/get", {"accountId": alice.id, "ids": null}, "g"]]),
        )
        .await;
    assert_eq!(r[0][1]["list"][0]["name"], json!("club"), "{}", r[0]);
    assert_eq!(r[0][1]["list"][0]["isActive"], json!(true));
}

async fn mailbox_id(acct: &common::Account<'_>, name: &str) -> String {
    let b = acct.call1("Mailbox/get", json!({})).await;
    b["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == json!(name))
        .map(|m| m["id"].as_str().unwrap().to_string())
        .expect("mailbox")
}

/// The certificate file the server printed at start (for a client that verifies it).
fn cert_path(s: &Server) -> String {
    s.stdout
        .iter()
        .find_map(|l| l.strip_prefix("TLS certificate "))
        .and_then(|l| l.split(" SHA-256").next())
        .expect("certificate line")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sievelib_client_uploads_and_activates_a_filter() {
    let s = Server::start();
    let alice = s.new_account(ALICE, PW).await;
    alice
        .call1("Mailbox/set", json!({"create": {"c": {"name": "family"}}}))
        .await;
    let py = r#"
import sys
from sievelib.managesieve import Client
port, user, pw = int(sys.argv[1]), sys.argv[2], sys.argv[3]
c = Client("localhost", port)
if c.connect(user, "wrong password", starttls=True, authmech="PLAIN"):
    sys.exit("a wrong password was accepted")
c = Client("localhost", port)
if not c.connect(user, pw, starttls=True, authmech="PLAIN"):
    sys.exit("login failed: %r" % c.errmsg)
script = 'require ["fileinto"];\nif address :domain :is "from" "family.example" { fileinto "family"; }\n'
if not c.putscript("family", script):
    sys.exit("putscript: %r" % c.errmsg)
if c.putscript("bad", 'fileinto "x";'):
    sys.exit("an invalid script was accepted")
print("error:", c.errmsg.decode())
if not c.setactive("family"):
    sys.exit("setactive: %r" % c.errmsg)
active, others = c.listscripts()
print("active:", active, "others:", others)
# sievelib rejoins the lines with "\n" and drops the last one; the raw transcript test
# checks the exact bytes.
print("body:", c.getscript("family").strip() == script.strip())
c.logout()
"#;
    let port = s.managesieve.port().to_string();
    let out = tokio::task::block_in_place(|| {
        std::process::Command::new("python3")
            .args(["-c", py, &port, ALICE, PW])
            .env("SSL_CERT_FILE", cert_path(&s))
            .output()
            .expect("python3 (tests/setup/deps.sh installs sievelib)")
    });
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "sievelib failed: {stdout}\n{stderr}");
    assert!(stdout.contains("active: family others: []"), "{stdout}");
    assert!(stdout.contains("body: True"), "{stdout}");
    assert!(stdout.contains("error: line 1, column 1"), "{stdout}");

    let raw = common::message(
        "mum@family.example",
        ALICE,
        "sunday lunch",
        "m2@family.example",
        "x",
    );
    assert!(alice.deliver(&raw).starts_with("250"));
    let family = mailbox_id(&alice, "family").await;
    eventually("the message in family", || {
        let a = &alice;
        let f = family.clone();
        async move {
            let r = a
                .call1("Email/query", json!({"filter": {"inMailbox": f}}))
                .await;
            (r["ids"].as_array().map(Vec::len) == Some(1)).then_some(())
        }
    })
    .await;
}

/// Connects, upgrades with STARTTLS and reads the capabilities again (RFC 5804 §2.2).
fn tls_session(s: &Server) -> Tls {
    let tcp = TcpStream::connect(s.managesieve).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut plain = BufReader::new(tcp.try_clone().unwrap());
    response(&mut plain);
    tcp.try_clone().unwrap().write_all(b"STARTTLS\r\n").unwrap();
    assert!(response(&mut plain).starts_with("OK"));
    let name = ServerName::try_from("localhost").unwrap();
    let conn = ClientConnection::new(core_common::client_config(), name).unwrap();
    let mut t = Tls {
        r: BufReader::new(StreamOwned::new(conn, tcp)),
    };
    response(&mut t.r);
    t
}

impl Tls {
    fn raw(&mut self, bytes: &[u8]) -> String {
        self.r.get_mut().write_all(bytes).expect("write");
        self.r.get_mut().flush().expect("flush");
        response(&mut self.r)
    }
}

/// What a hostile or clumsy client sends: a literal over the size limit is read and dropped
/// (its text is never run as commands, RFC 5804 §4) and answered NO (QUOTA/MAXSIZE) (§1.3);
/// one too large to skip ends the session; an editor's repeated CHECKSCRIPT errors do not;
/// RENAMESCRIPT of a missing script is NONEXISTENT (§2.11.1) whatever the new name; the SASL
/// response may come as a literal (§2.1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_literals_are_dropped_and_editor_errors_do_not_disconnect() {
    let s = Server::start();
    s.new_account(ALICE, PW).await;
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("\0{ALICE}\0{PW}"));

    // The SASL response as a literal after the empty challenge.
    let mut t = tls_session(&s);
    t.r.get_mut()
        .write_all(b"AUTHENTICATE \"PLAIN\"\r\n")
        .expect("write");
    t.r.get_mut().flush().expect("flush");
    let mut challenge = String::new();
    t.r.read_line(&mut challenge).expect("challenge");
    assert_eq!(challenge, "\"\"\r\n");
    let r = t.cmd(&format!("{{{}+}}\r\n{b64}", b64.len()));
    assert!(r.starts_with("OK"), "{r}");

    assert!(
        t.cmd(&format!("PUTSCRIPT \"victim\" {}", literal("keep;")))
            .starts_with("OK")
    );
    // A script of 140,000 bytes whose text holds a command line: not run, the script refused.
    let mut big = "DELETESCRIPT \"victim\"\r\n#".to_string();
    big.push_str(&"x".repeat(140_000));
    big.push_str("\r\nkeep;");
    let r = t.cmd(&format!("PUTSCRIPT \"big\" {}", literal(&big)));
    assert!(r.starts_with("NO (QUOTA/MAXSIZE)"), "{r}");
    let r = t.cmd("LISTSCRIPTS");
    assert_eq!(r, "\"victim\"\r\nOK \"Listscripts completed\"\r\n");
    // Over the script limit but under the literal limit: the same answer.
    let r = t.cmd(&format!(
        "PUTSCRIPT \"big\" {}",
        literal(&format!("#{}\r\nkeep;", "y".repeat(70_000)))
    ));
    assert!(r.starts_with("NO (QUOTA/MAXSIZE)"), "{r}");

    // Pipelined large answers go out as they are made (not piled up until the input runs
    // dry), and all arrive in order.
    let body = format!("#{}\r\nkeep;", "z".repeat(60_000));
    assert!(
        t.cmd(&format!("PUTSCRIPT \"large\" {}", literal(&body)))
            .starts_with("OK")
    );
    t.r.get_mut()
        .write_all("GETSCRIPT \"large\"\r\n".repeat(40).as_bytes())
        .expect("write");
    t.r.get_mut().flush().expect("flush");
    for i in 0..40 {
        let r = response(&mut t.r);
        assert!(
            r.contains(&body) && r.ends_with("OK \"Getscript completed\"\r\n"),
            "answer {i}"
        );
    }
    assert!(t.cmd("DELETESCRIPT \"large\"").starts_with("OK"));

    // An editor checking as one types: more mistakes than the protocol-error limit.
    for _ in 0..15 {
        let r = t.cmd(&format!("CHECKSCRIPT {}", literal("if true {")));
        assert!(r.starts_with("NO") && r.contains("line 1"), "{r}");
    }
    assert!(
        t.cmd("RENAMESCRIPT \"nonexist\" \"victim\"")
            .starts_with("NO (NONEXISTENT)")
    );
    assert!(
        t.cmd("RENAMESCRIPT \"nonexist\" \"\"")
            .starts_with("NO (NONEXISTENT)")
    );
    assert!(
        t.cmd("RENAMESCRIPT \"victim\" \"victim\"")
            .starts_with("NO (ALREADYEXISTS)")
    );
    // A refused command's literal is dropped, not run (too many arguments here).
    let r = t.cmd(&format!(
        "PUTSCRIPT a b c d e f g h i {}",
        literal("DELETESCRIPT \"victim\"")
    ));
    assert!(r.starts_with("NO"), "{r}");
    assert!(t.cmd("LISTSCRIPTS").contains("\"victim\""));
    assert!(t.cmd("NOOP").starts_with("OK"), "still connected");

    // Too large even to skip: BYE, and the connection ends.
    let r = t.raw(b"PUTSCRIPT \"huge\" {999999999+}\r\n");
    assert!(r.starts_with("BYE"), "{r}");
    let mut rest = String::new();
    // Closed with a TLS close_notify (without one, rustls reports an unexpected end).
    let end = t.r.read_line(&mut rest).map_err(|e| e.kind());
    assert_eq!(end, Ok(0), "{rest}");
}
