//! Sieve filters (issue #17) end to end: scripts uploaded as blobs and stored with JMAP
//! SieveScript/set (RFC 9661) decide where mail delivered over SMTP lands: fileinto with
//! imap4flags keywords, discard, a missing mailbox falling back to the Inbox (and the owner
//! told once), reject answered in the SMTP transaction, redirect through the outbound queue
//! with its loop check, a hostile script stopped by its CPU budget without losing the message,
//! and errors reported with line and column.

use crate::common::{self, Account, CORE, MAIL, Server, eventually};
use crate::send_support::{FakeSmtp, Seen, smarthost_config};
use serde_json::{Value, json};

const SIEVE: &str = "urn:ietf:params:jmap:sieve";
const ALICE: &str = "alice@example.org";
const PW: &str = "alice's long password";

/// Turns Alice's VacationResponse on (RFC 8621 §8).
async fn enable_vacation_response(alice: &Account<'_>) {
    let r = alice
        .call_using(
            &[CORE, MAIL, "urn:ietf:params:jmap:vacationresponse"],
            json!([["VacationResponse/set", {"accountId": alice.id, "update": {"singleton": {
                "isEnabled": true, "subject": "JMAP away", "textBody": "JMAP text"}}}, "v"]]),
        )
        .await;
    assert!(r[0][1]["updated"].is_object(), "{}", r[0]);
}

/// A message from `from` to Alice over SMTP (the Message-ID is the subject's); Err when the
/// server refuses it.
fn mail_to_alice(s: &Server, from: &str, subject: &str) -> Result<(), String> {
    let raw = format!(
        "From: {from}\r\nTo: {ALICE}\r\nSubject: {subject}\r\nMessage-ID: <{subject}@remote.example>\r\n\r\nhello\r\n"
    );
    tokio::task::block_in_place(|| s.send(from, &[ALICE], raw.as_bytes()))
}

async fn upload(acct: &Account<'_>, text: &str) -> String {
    let res = acct
        .server
        .http()
        .post(format!(
            "{}/jmap/upload/{}",
            acct.server.base_url(),
            acct.id
        ))
        .basic_auth(&acct.address, Some(&acct.password))
        .header("Content-Type", "application/sieve")
        .body(text.as_bytes().to_vec())
        .send()
        .await
        .expect("upload");
    let v: Value = res.json().await.expect("upload json");
    v["blobId"].as_str().expect("blobId").to_string()
}

async fn sieve(acct: &Account<'_>, name: &str, mut args: Value) -> Value {
    args["accountId"] = json!(acct.id);
    let r = acct
        .call_using(&[CORE, MAIL, SIEVE], json!([[name, args, "s"]]))
        .await;
    assert_eq!(r[0][0], json!(name), "{name}: {}", r[0]);
    r[0][1].clone()
}

/// Uploads `text`, stores it as the active script; the SieveScript/set response.
async fn activate(acct: &Account<'_>, name: &str, text: &str) -> Value {
    let blob = upload(acct, text).await;
    sieve(
        acct,
        "SieveScript/set",
        json!({"create": {"s1": {"name": name, "blobId": blob}}, "onSuccessActivateScript": "#s1"}),
    )
    .await
}

/// (subject, mailbox names, keywords) of every email in the account.
async fn mail(acct: &Account<'_>) -> Vec<(String, Vec<String>, Vec<String>)> {
    let boxes = acct.call1("Mailbox/get", json!({})).await;
    let name_of = |id: &str| -> String {
        boxes["list"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == json!(id))
            .map(|m| m["name"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let ids = acct.email_ids().await;
    let got = acct
        .call1(
            "Email/get",
            json!({"ids": ids, "properties": ["subject", "mailboxIds", "keywords"]}),
        )
        .await;
    let mut out = Vec::new();
    for e in got["list"].as_array().unwrap() {
        let mut boxes: Vec<String> = e["mailboxIds"]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| name_of(k))
            .collect();
        boxes.sort();
        let mut kw: Vec<String> = e["keywords"].as_object().unwrap().keys().cloned().collect();
        kw.sort();
        out.push((e["subject"].as_str().unwrap_or("").to_string(), boxes, kw));
    }
    out
}

fn msg(subject: &str) -> Vec<u8> {
    common::message(
        "carol@remote.example",
        ALICE,
        subject,
        &format!("{}@remote.example", subject.replace(' ', ".")),
        "hello",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jmap_script_decides_where_smtp_mail_lands() {
    let s = Server::start();
    let alice = s.new_account(ALICE, PW).await;
    alice
        .call1("Mailbox/set", json!({"create": {"c": {"name": "club"}}}))
        .await;
    let script = r#"require ["fileinto", "imap4flags"];
# The club's mail goes to its own folder, flagged.
if header :contains "subject" "club" {
    addflag "\\Flagged";
    fileinto "club";
} elsif header :contains "subject" "spam" {
    discard;
} elsif header :contains "subject" "nowhere" {
    fileinto "No Such Folder";
}
"#;
    let r = activate(&alice, "main", script).await;
    let id = r["created"]["s1"]["id"]
        .as_str()
        .expect("created")
        .to_string();
    assert_eq!(r["updated"][&id]["isActive"], json!(true), "{r}");

    for subject in [
        "club meeting",
        "spam offer",
        "to nowhere",
        "plain note",
        "nowhere again",
    ] {
        let reply = alice.deliver(&msg(subject));
        assert!(reply.starts_with("250"), "{subject}: {reply}");
    }
    let got = eventually("the owner's report", || {
        let a = &alice;
        async move {
            let m = mail(a).await;
            m.iter()
                .any(|(s, _, _)| s == "Your mail filter needs attention")
                .then_some(m)
        }
    })
    .await;
    let find = |subj: &str| got.iter().filter(|(s, _, _)| s == subj).collect::<Vec<_>>();
    assert_eq!(find("club meeting")[0].1, vec!["club"]);
    assert_eq!(find("club meeting")[0].2, vec!["$flagged"]);
    assert!(find("spam offer").is_empty(), "discarded: {got:?}");
    assert_eq!(find("to nowhere")[0].1, vec!["Inbox"]);
    assert_eq!(find("nowhere again")[0].1, vec!["Inbox"]);
    assert_eq!(find("plain note")[0].1, vec!["Inbox"]);
    // Two deliveries into the missing folder, one report.
    assert_eq!(find("Your mail filter needs attention").len(), 1, "{got:?}");

    let g = sieve(&alice, "SieveScript/get", json!({"ids": null})).await;
    assert_eq!(g["list"][0]["name"], json!("main"));
    assert_eq!(g["list"][0]["isActive"], json!(true));
    let q = sieve(
        &alice,
        "SieveScript/query",
        json!({"filter": {"isActive": true}}),
    )
    .await;
    assert_eq!(q["ids"], json!([id]));
    // The script text downloads from its blob, as uploaded.
    let blob = g["list"][0]["blobId"].as_str().unwrap();
    let text = s
        .http()
        .get(format!(
            "{}/jmap/download/{}/{blob}/main.sieve",
            s.base_url(),
            alice.id
        ))
        .basic_auth(ALICE, Some(PW))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, script);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_have_line_and_column_and_the_active_script_is_protected() {
    let s = Server::start();
    let alice = s.new_account(ALICE, PW).await;
    let bad = upload(
        &alice,
        "require \"fileinto\";\nif header :is \"a\" \"b\" {\n  fileinto \"x\"\n}\n",
    )
    .await;
    let v = sieve(&alice, "SieveScript/validate", json!({"blobId": bad})).await;
    assert_eq!(v["error"]["type"], json!("invalidSieve"), "{v}");
    let d = v["error"]["description"].as_str().unwrap();
    assert!(d.starts_with("line 4, column 1:"), "{d}");
    let r = sieve(
        &alice,
        "SieveScript/set",
        json!({"create": {"x": {"name": "bad", "blobId": bad}}}),
    )
    .await;
    assert_eq!(r["notCreated"]["x"]["type"], json!("invalidSieve"), "{r}");
    let unknown = upload(&alice, "require \"frobnicate\";").await;
    let v = sieve(&alice, "SieveScript/validate", json!({"blobId": unknown})).await;
    assert!(
        v["error"]["description"]
            .as_str()
            .unwrap()
            .contains("frobnicate"),
        "{v}"
    );
    let good = upload(&alice, "keep;").await;
    let v = sieve(&alice, "SieveScript/validate", json!({"blobId": good})).await;
    assert_eq!(v["error"], Value::Null);

    let r = activate(&alice, "ok", "keep;").await;
    let id = r["created"]["s1"]["id"].as_str().unwrap().to_string();
    let r = sieve(&alice, "SieveScript/set", json!({"destroy": [id]})).await;
    assert_eq!(
        r["notDestroyed"][&id]["type"],
        json!("sieveIsActive"),
        "{r}"
    );
    let r = sieve(
        &alice,
        "SieveScript/set",
        json!({"onSuccessDeactivateScript": true}),
    )
    .await;
    assert_eq!(r["updated"][&id]["isActive"], json!(false), "{r}");
    let r = sieve(&alice, "SieveScript/set", json!({"destroy": [id]})).await;
    assert_eq!(r["destroyed"], json!([id]), "{r}");

    // An activation that cannot succeed (an unknown creation id or script, one destroyed in
    // the same call) is refused before anything is stored.
    let kept = activate(&alice, "kept", "keep;").await;
    let kept = kept["created"]["s1"]["id"].as_str().unwrap().to_string();
    let blob = upload(&alice, "keep;").await;
    for (target, destroy) in [
        ("#nope", json!([])),
        ("S9999", json!([])),
        (kept.as_str(), json!([kept])),
    ] {
        let r = alice
            .call_using(
                &[CORE, MAIL, SIEVE],
                json!([["SieveScript/set", {"accountId": alice.id,
                    "create": {"n1": {"name": "orphan", "blobId": blob}},
                    "destroy": destroy, "onSuccessActivateScript": target}, "s"]]),
            )
            .await;
        assert_eq!(r[0][0], json!("error"), "{target}: {}", r[0]);
        assert_eq!(r[0][1]["type"], json!("invalidArguments"), "{}", r[0]);
    }
    let all = sieve(&alice, "SieveScript/get", json!({"ids": null})).await;
    let names: Vec<&str> = all["list"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["kept"], "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reject_in_the_transaction_and_a_hostile_script_keeps_mail() {
    let s = Server::start();
    let alice = s.new_account(ALICE, PW).await;
    activate(
        &alice,
        "rejecter",
        "require \"reject\";\nif header :contains \"subject\" \"reject me\" { reject \"Not from you, thanks.\"; }",
    )
    .await;
    let reply = alice.deliver(&msg("reject me please"));
    assert!(reply.starts_with("550 5.7.1"), "{reply}");
    assert!(reply.contains("Not from you, thanks."), "{reply}");
    assert!(alice.deliver(&msg("welcome")).starts_with("250"));

    // A script that would spend far more than its CPU budget on a long header: the run is
    // stopped, the message kept in the Inbox, and the owner told.
    let tests = vec![r#"header :matches "subject" "*a*a*a*a*a*a*a*a*b""#; 300].join(",\n  ");
    let hostile =
        format!("require \"fileinto\";\nif anyof(\n  {tests}) {{ fileinto \"never\"; }}\n");
    activate(&alice, "hostile", &hostile).await;
    let long = "a".repeat(20_000);
    assert!(alice.deliver(&msg(&long)).starts_with("250"));
    let got = eventually("the report of the failed script", || {
        let a = &alice;
        async move {
            let m = mail(a).await;
            m.iter()
                .any(|(s, _, _)| s == "Your mail filter needs attention")
                .then_some(m)
        }
    })
    .await;
    assert!(
        got.iter()
            .any(|(s, b, _)| s == &long && b == &vec!["Inbox".to_string()]),
        "{got:?}"
    );
    assert!(!got.iter().any(|(s, _, _)| s == "reject me please"));
    assert!(s.log().contains("CPU budget"), "{}", s.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_goes_through_the_queue_and_a_loop_is_refused() {
    let s = Server::start();
    let alice = s.new_account(ALICE, PW).await;
    let bob = s
        .new_account("bob@example.org", "bob's long password")
        .await;
    activate(&alice, "fwd", "redirect \"bob@example.org\";").await;
    assert!(alice.deliver(&msg("for bob")).starts_with("250"));
    let got = eventually("the redirected copy at bob", || {
        let b = &bob;
        async move {
            let m = mail(b).await;
            m.iter().any(|(s, _, _)| s == "for bob").then_some(m)
        }
    })
    .await;
    assert_eq!(got.len(), 1);
    // A message that already passed through alice is not redirected again: kept instead.
    let mut looped = b"Delivered-To: alice@example.org\r\n".to_vec();
    looped.extend_from_slice(&msg("came back"));
    assert!(alice.deliver(&looped).starts_with("250"));
    let a = mail(&alice).await;
    assert!(
        a.iter()
            .any(|(s, b, _)| s == "came back" && b == &vec!["Inbox".to_string()]),
        "{a:?}"
    );
    assert!(
        !a.iter().any(|(s, _, _)| s == "for bob"),
        "redirect without :copy: {a:?}"
    );
    assert!(s.log().contains("mail loop"), "{}", s.log());
}

/// A server sending through `fake`, where Alice's script redirects her mail to `to`, and one
/// message from carol@remote.example delivered to her.
async fn redirect_one_message(fake: &FakeSmtp, dir: &std::path::Path, to: &str) -> Server {
    let cfg = smarthost_config(dir, fake, 3600);
    let s = Server::start_with(&["--config", &cfg]);
    let alice = s.new_account(ALICE, PW).await;
    activate(&alice, "fwd", &format!("redirect \"{to}\";")).await;
    let r = tokio::task::block_in_place(|| {
        s.deliver("carol@remote.example", &[ALICE], &msg("redirected"))
    });
    assert!(r.starts_with("250"), "{r}");
    s
}

/// The message `fake` received for `rcpt` alone, once it has come.
async fn at_next_hop(fake: &FakeSmtp, rcpt: &str) -> Seen {
    eventually("the message at the next hop", || {
        let m = fake.messages();
        async move { m.into_iter().find(|x| x.rcpts == [rcpt]) }
    })
    .await
}

/// A redirect goes out with the sender in SRS form (so the next hop's SPF check sees our
/// domain), and a bounce to that address from the null sender reaches the original sender;
/// other mail to it, and forged or altered SRS addresses, are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_rewrites_the_sender_with_srs_and_its_bounce_goes_back() {
    use crate::common::Transcript;
    let fake = FakeSmtp::start();
    let dir = tempfile::tempdir().unwrap();
    let s = redirect_one_message(&fake, dir.path(), "dave@elsewhere.example").await;
    let sent = at_next_hop(&fake, "dave@elsewhere.example").await;
    // Not signed in the original sender's name: that domain does not publish our key.
    let copy = String::from_utf8_lossy(sent.data.as_deref().unwrap_or_default()).to_string();
    assert!(!copy.contains("DKIM-Signature"), "{copy}");
    let srs = sent.mail_from;
    assert!(
        srs.starts_with("SRS0=") && srs.ends_with("=remote.example=carol@example.org"),
        "{srs}"
    );

    // The next hop bounces it: the bounce goes on to carol, still from the null sender.
    // Its From: claims our own domain: passed on, it must not get our DKIM signature.
    let bounce =
        b"From: postmaster@example.org\r\nSubject: Undelivered Mail\r\n\r\nNo such user: dave\r\n";
    let r = tokio::task::block_in_place(|| s.deliver("", &[&srs], bounce));
    assert!(
        r.starts_with("250") && r.contains("Bounce forwarded"),
        "{r}"
    );
    let back = at_next_hop(&fake, "carol@remote.example").await;
    assert_eq!(back.mail_from, "");
    let text = String::from_utf8_lossy(back.data.as_deref().unwrap_or_default()).to_string();
    assert!(text.contains("No such user: dave"), "{text}");
    assert!(!text.contains("DKIM-Signature"), "{text}");

    // Only bounces, only to addresses we signed, only small, and alone in a transaction.
    let mut t = Transcript::connect(s.smtp);
    assert_eq!(t.cmd("EHLO bounce.example"), 250);
    assert_eq!(t.cmd("MAIL FROM:<spammer@bad.example>"), 250);
    assert_eq!(t.cmd(&format!("RCPT TO:<{srs}>")), 550);
    assert_eq!(t.cmd("RSET"), 250);
    assert_eq!(t.cmd("MAIL FROM:<>"), 250);
    let forged = srs.replace("=carol@", "=mallory@");
    assert_eq!(t.cmd(&format!("RCPT TO:<{forged}>")), 550);
    assert_eq!(
        t.cmd("RCPT TO:<SRS0=aaaaaa=aa=x.example=y@example.org>"),
        550
    );
    // Local parts change case on the way at some MTAs: still ours.
    assert_eq!(
        t.cmd(&format!("RCPT TO:<{}>", srs.to_ascii_uppercase())),
        250
    );
    assert_eq!(t.cmd(&format!("RCPT TO:<{ALICE}>")), 452);
    assert_eq!(t.cmd("DATA"), 354);
    let mut big = b"Subject: huge bounce\r\n\r\n".to_vec();
    for _ in 0..5000 {
        big.extend_from_slice(&[b'x'; 78]);
        big.extend_from_slice(b"\r\n");
    }
    big.extend_from_slice(b".\r\n");
    t.send(&big);
    assert!(t.reply().starts_with("552"));
    assert_eq!(t.cmd("MAIL FROM:<>"), 250);
    assert_eq!(t.cmd(&format!("RCPT TO:<{ALICE}>")), 250);
    assert_eq!(t.cmd(&format!("RCPT TO:<{srs}>")), 452);
    t.cmd("QUIT");
    // Nothing of this reached alice's mailbox.
    let alice = s.account(ALICE, PW).await;
    assert!(
        mail(&alice)
            .await
            .iter()
            .all(|(s, _, _)| s != "Undelivered Mail")
    );
}

/// A redirect the next hop refuses for good is bounced by our queue to the original sender
/// (the SRS address stands for it), from the null sender.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_redirect_bounces_to_the_original_sender() {
    let fake = FakeSmtp::start();
    fake.rcpt_replies
        .lock()
        .unwrap()
        .push_back("550 5.1.1 No such user here".into());
    let dir = tempfile::tempdir().unwrap();
    let _s = redirect_one_message(&fake, dir.path(), "gone@elsewhere.example").await;
    let dsn = at_next_hop(&fake, "carol@remote.example").await;
    assert_eq!(dsn.mail_from, "");
    let text = String::from_utf8_lossy(dsn.data.as_deref().unwrap_or_default()).to_string();
    assert!(
        text.contains("multipart/report") && text.contains("gone@elsewhere.example"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sieve_vacation_replies_once_per_sender_sharing_vacation_response_memory() {
    let fake = FakeSmtp::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = smarthost_config(dir.path(), &fake, 3600);
    let s = Server::start_with(&["--config", &cfg]);
    let alice = s.new_account(ALICE, PW).await;
    activate(
        &alice,
        "away",
        "require \"vacation\";\nvacation :days 7 :subject \"Away this week\" \"Back on Monday.\";\n",
    )
    .await;
    // The VacationResponse is on too: one mechanism, one reply per sender.
    enable_vacation_response(&alice).await;
    let send = |from: &str, subject: &str| mail_to_alice(&s, from, subject).unwrap();
    send("carol@remote.example", "one");
    send("carol@remote.example", "two");
    send("erin@remote.example", "three");
    for who in ["carol@remote.example", "erin@remote.example"] {
        eventually("the replies", || {
            let m = fake.messages();
            async move { m.iter().any(|x| x.rcpts == [who]).then_some(()) }
        })
        .await;
    }
    let replies = fake.messages();
    let carol: Vec<_> = replies
        .iter()
        .filter(|x| x.rcpts == ["carol@remote.example"])
        .collect();
    assert_eq!(carol.len(), 1, "{replies:?}");
    let text = String::from_utf8_lossy(carol[0].data.as_ref().unwrap()).to_string();
    assert_eq!(carol[0].mail_from, "", "auto-replies use the null sender");
    assert!(text.contains("Auto-Submitted: auto-replied"), "{text}");
    assert!(text.contains("In-Reply-To: <one@remote.example>"), "{text}");
}

/// The VacationResponse does not answer a message the owner's script discarded or rejected
/// (nothing was kept, RFC 5230 §4.7 / RFC 5429 §2.1), and still answers kept mail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vacation_response_not_sent_for_discarded_or_rejected_mail() {
    let fake = FakeSmtp::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = smarthost_config(dir.path(), &fake, 3600);
    let s = Server::start_with(&["--config", &cfg]);
    let alice = s.new_account(ALICE, PW).await;
    activate(
        &alice,
        "tidy",
        "require \"reject\";\nif header :contains \"subject\" \"drop\" { discard; }\nelsif header :contains \"subject\" \"refuse\" { reject \"no thanks\"; }\n",
    )
    .await;
    enable_vacation_response(&alice).await;
    let send = |from: &str, subject: &str| mail_to_alice(&s, from, subject);
    assert!(send("dave@remote.example", "drop me").is_ok());
    // The reject is answered in the SMTP transaction.
    assert!(send("gina@remote.example", "refuse me").is_err());
    assert!(send("frank@remote.example", "hello").is_ok());
    eventually("the reply to frank", || {
        let m = fake.messages();
        async move {
            m.iter()
                .any(|x| x.rcpts == ["frank@remote.example"])
                .then_some(())
        }
    })
    .await;
    let replies = fake.messages();
    assert!(
        !replies
            .iter()
            .any(|x| x.rcpts == ["dave@remote.example"] || x.rcpts == ["gina@remote.example"]),
        "{replies:?}"
    );
}

/// `include :personal` (RFC 6609) runs another of the owner's stored scripts at delivery;
/// `return` ends only the included one; a script that includes itself is stopped by the
/// nesting limit and the message kept (and reported); a missing `:optional` one is skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn include_runs_the_owners_stored_scripts() {
    let s = Server::start();
    let alice = s.new_account(ALICE, PW).await;
    alice
        .call1("Mailbox/set", json!({"create": {"c": {"name": "club"}}}))
        .await;
    // Stored, not active: the club rule, and one that includes itself.
    for (name, text) in [
        (
            "club",
            "require [\"fileinto\", \"include\"];\nif header :contains \"subject\" \"club\" { fileinto \"club\"; }\nreturn;\nfileinto \"never\";\n",
        ),
        (
            "again",
            "require \"include\";\ninclude :personal \"again\";\n",
        ),
    ] {
        let blob = upload(&alice, text).await;
        let r = sieve(
            &alice,
            "SieveScript/set",
            json!({"create": {"x": {"name": name, "blobId": blob}}}),
        )
        .await;
        assert!(r["created"]["x"].is_object(), "{r}");
    }
    activate(
        &alice,
        "main",
        "require \"include\";\ninclude :personal \"club\";\ninclude :optional \"gone\";\nif header :contains \"subject\" \"loop\" { include :personal \"again\"; }\nif header :contains \"subject\" \"night\" { keep; }\n",
    )
    .await;
    for subject in ["club night", "plain note", "loop me"] {
        let reply = alice.deliver(&msg(subject));
        assert!(reply.starts_with("250"), "{subject}: {reply}");
    }
    let got = eventually("the owner's report", || {
        let a = &alice;
        async move {
            let m = mail(a).await;
            m.iter()
                .any(|(s, _, _)| s == "Your mail filter needs attention")
                .then_some(m)
        }
    })
    .await;
    let find = |subj: &str| got.iter().find(|(s, _, _)| s == subj).cloned();
    // Filed by the included script, and kept by the main one, which went on after it.
    let club = find("club night").expect("club night");
    assert_eq!(club.1, vec!["Inbox", "club"], "{got:?}");
    let plain = find("plain note").expect("plain note");
    assert_eq!(plain.1, vec!["Inbox"], "{got:?}");
    let looped = find("loop me").expect("kept despite the include loop");
    assert_eq!(looped.1, vec!["Inbox"], "{got:?}");
}

/// `fileinto :create` (RFC 5490 §3.2) makes a missing mailbox, levels included, once; without
/// `:create` a missing mailbox still means the Inbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fileinto_create_makes_the_missing_mailbox() {
    let s = Server::start();
    let alice = s.new_account(ALICE, PW).await;
    activate(
        &alice,
        "main",
        "require [\"fileinto\", \"mailbox\"];\nif header :contains \"subject\" \"club\" { fileinto :create \"Lists/Club\"; }\nelsif header :contains \"subject\" \"plain\" { fileinto \"Nowhere\"; }\n",
    )
    .await;
    for subject in ["club one", "club two", "plain note"] {
        let reply = alice.deliver(&msg(subject));
        assert!(reply.starts_with("250"), "{subject}: {reply}");
    }
    let got = eventually("three messages", || {
        let a = &alice;
        async move {
            let m = mail(a).await;
            (m.iter()
                .filter(|(s, _, _)| s != "Your mail filter needs attention")
                .count()
                == 3)
                .then_some(m)
        }
    })
    .await;
    let boxes = alice.call1("Mailbox/get", json!({})).await;
    let list = boxes["list"].as_array().unwrap();
    let lists: Vec<&Value> = list.iter().filter(|m| m["name"] == "Lists").collect();
    let clubs: Vec<&Value> = list.iter().filter(|m| m["name"] == "Club").collect();
    assert_eq!((lists.len(), clubs.len()), (1, 1), "{boxes}");
    assert_eq!(clubs[0]["parentId"], lists[0]["id"], "{boxes}");
    assert_eq!(clubs[0]["totalEmails"], json!(2), "{boxes}");
    for (subject, folders, _) in &got {
        match subject.as_str() {
            "club one" | "club two" => assert_eq!(folders, &vec!["Club"], "{got:?}"),
            "plain note" => assert_eq!(folders, &vec!["Inbox"], "{got:?}"),
            _ => {}
        }
    }
    assert!(!list.iter().any(|m| m["name"] == "Nowhere"), "{boxes}");
}

/// SieveScript/changes (RFC 9661 §2.3, the standard /changes): what was created, updated
/// and destroyed since a state, with the ids SieveScript/get gives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sieve_script_changes() {
    let s = Server::start();
    let alice = s.new_account(ALICE, PW).await;
    let g = sieve(&alice, "SieveScript/get", json!({"ids": null})).await;
    let state0 = g["state"].as_str().expect("state").to_string();
    let r = activate(&alice, "main", "keep;\n").await;
    let id = r["created"]["s1"]["id"].as_str().expect("id").to_string();
    let c = sieve(&alice, "SieveScript/changes", json!({"sinceState": state0})).await;
    assert_eq!(c["created"], json!([id]), "{c}");
    assert_eq!(c["destroyed"], json!([]), "{c}");
    let state1 = c["newState"].as_str().expect("newState").to_string();
    let g = sieve(&alice, "SieveScript/get", json!({"ids": null})).await;
    assert_eq!(g["state"], json!(state1), "{g}");
    sieve(
        &alice,
        "SieveScript/set",
        json!({"update": {id.clone(): {"name": "renamed"}}}),
    )
    .await;
    let c = sieve(&alice, "SieveScript/changes", json!({"sinceState": state1})).await;
    assert_eq!(c["updated"], json!([id]), "{c}");
    assert_eq!(c["created"], json!([]), "{c}");
    let bad = alice
        .call_using(
            &[CORE, MAIL, SIEVE],
            json!([["SieveScript/changes", {"accountId": alice.id, "sinceState": "nonsense"}, "c"]]),
        )
        .await;
    assert_eq!(bad[0][0], json!("error"), "{bad:?}");
}
