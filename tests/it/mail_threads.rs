//! Conversation threading (DESIGN.md "Threading", RFC 8621 §3) through SMTP and JMAP: a message
//! joins a thread when it shares a Message-ID/In-Reply-To/References id with it *and* its base
//! subject matches; thread ids never change.

use crate::common;
use crate::mail_support;
use common::*;
use mail_support::*;
use serde_json::json;

const USER: &str = "threads@example.org";
const PASS: &str = "conversations stay together";

fn msg(id: &str, subject: &str, in_reply_to: &[&str], references: &[&str]) -> Vec<u8> {
    let mut h = format!(
        "From: Someone <someone@example.net>\r\nTo: {USER}\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n"
    );
    if !in_reply_to.is_empty() {
        let v: Vec<String> = in_reply_to.iter().map(|i| format!("<{i}>")).collect();
        h.push_str(&format!("In-Reply-To: {}\r\n", v.join(" ")));
    }
    if !references.is_empty() {
        let v: Vec<String> = references.iter().map(|i| format!("<{i}>")).collect();
        h.push_str(&format!("References: {}\r\n", v.join("\r\n ")));
    }
    h.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n");
    h.into_bytes()
}

struct T {
    s: Server,
    acct: String,
}

impl T {
    async fn new() -> T {
        T::with(Server::start()).await
    }
    async fn with(s: Server) -> T {
        s.add_user(USER, PASS);
        let acct = s.account_id(USER, PASS).await;
        T { s, acct }
    }
    async fn deliver(&self, raw: Vec<u8>) -> String {
        deliver_id(&self.s, USER, PASS, &self.acct, &raw).await
    }
    async fn thread_of(&self, id: &str) -> String {
        let r = call1(
            &self.s,
            USER,
            PASS,
            "Email/get",
            json!({"accountId": self.acct, "ids": [id], "properties": ["threadId"]}),
        )
        .await;
        r["list"][0]["threadId"]
            .as_str()
            .expect("threadId")
            .to_string()
    }
    async fn members(&self, thread: &str) -> Vec<String> {
        let r = call1(
            &self.s,
            USER,
            PASS,
            "Thread/get",
            json!({"accountId": self.acct, "ids": [thread]}),
        )
        .await;
        serde_json::from_value(r["list"][0]["emailIds"].clone()).expect("emailIds")
    }
}

#[tokio::test]
async fn reply_chain_changed_subject_and_same_subject_strangers() {
    let t = T::new().await;
    let a = t.deliver(msg("a@x", "Budget 2027", &[], &[])).await;
    let b = t
        .deliver(msg("b@x", "Re: Budget 2027", &["a@x"], &["a@x"]))
        .await;
    let c = t
        .deliver(msg("c@x", "RE: Re: Budget 2027", &["b@x"], &["a@x", "b@x"]))
        .await;
    // Localised prefixes and list tags still match the base subject.
    let d = t
        .deliver(msg(
            "d@x",
            "AW: [finance] SV: Budget 2027",
            &["c@x"],
            &["a@x", "c@x"],
        ))
        .await;
    let e = t
        .deliver(msg("e@x", "回复：Budget 2027", &["d@x"], &["d@x"]))
        .await;
    let th = t.thread_of(&a).await;
    for id in [&b, &c, &d, &e] {
        assert_eq!(t.thread_of(id).await, th, "{id} joins the chain");
    }
    assert_eq!(t.members(&th).await, vec![a.clone(), b, c, d, e.clone()]);

    // A reply whose subject changed starts a new thread, and its own replies follow it.
    let f = t
        .deliver(msg(
            "f@x",
            "Re: Offsite location",
            &["e@x"],
            &["a@x", "e@x"],
        ))
        .await;
    let tf = t.thread_of(&f).await;
    assert_ne!(tf, th);
    let g = t
        .deliver(msg("g@x", "Re: Re: Offsite location", &["f@x"], &["f@x"]))
        .await;
    assert_eq!(t.thread_of(&g).await, tf);

    // Same subject, no shared ids: separate threads.
    let x = t.deliver(msg("x@y", "Budget 2027", &[], &[])).await;
    let y = t.deliver(msg("y@y", "Re: Budget 2027", &[], &[])).await;
    let tx = t.thread_of(&x).await;
    let ty = t.thread_of(&y).await;
    assert_ne!(tx, th);
    assert_ne!(ty, th);
    assert_ne!(tx, ty);
    assert_eq!(t.members(&th).await.len(), 5, "strangers did not join");

    // Thread ids never change: the first thread still has its first message.
    assert_eq!(t.thread_of(&a).await, th);
}

#[tokio::test]
async fn references_out_of_order_still_thread() {
    let t = T::new().await;
    // The grandchild arrives first, then the child, then the root.
    let g = t
        .deliver(msg("g@o", "Re: Re: Launch", &["c@o"], &["p@o", "c@o"]))
        .await;
    let c = t
        .deliver(msg("c@o", "Re: Launch", &["p@o"], &["p@o"]))
        .await;
    let p = t.deliver(msg("p@o", "Launch", &[], &[])).await;
    let th = t.thread_of(&g).await;
    assert_eq!(
        t.thread_of(&c).await,
        th,
        "the child joins its reply's thread"
    );
    assert_eq!(
        t.thread_of(&p).await,
        th,
        "the parent joins its children's thread"
    );
    // emailIds are in receivedAt order (delivery order here), not reply order.
    assert_eq!(t.members(&th).await, vec![g, c, p]);
    // A sibling that only names the (late) parent joins too.
    let s2 = t
        .deliver(msg("s@o", "Re: Launch", &["p@o"], &["p@o"]))
        .await;
    assert_eq!(t.thread_of(&s2).await, th);
    // Same ids but a different subject: not the same conversation.
    let other = t
        .deliver(msg("o@o", "Re: Something else", &["p@o"], &["p@o"]))
        .await;
    assert_ne!(t.thread_of(&other).await, th);
}

#[tokio::test]
async fn list_digest_is_its_own_thread() {
    let t = T::new().await;
    let one = t
        .deliver(msg("l1@list", "[dev] Release plan", &[], &[]))
        .await;
    let two = t
        .deliver(msg(
            "l2@list",
            "Re: [dev] Release plan",
            &["l1@list"],
            &["l1@list"],
        ))
        .await;
    let th = t.thread_of(&one).await;
    assert_eq!(t.thread_of(&two).await, th);
    // A digest carries the list's messages as message/rfc822 parts; it names none of their ids
    // in its own header, so it is a conversation of its own.
    let digest = format!(
        "From: dev-request@list\r\nTo: {USER}\r\nSubject: dev Digest, Vol 3, Issue 7\r\nMessage-ID: <digest-7@list>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/digest; boundary=\"d\"\r\n\r\n--d\r\n\r\n{}\r\n--d\r\n\r\n{}\r\n--d--\r\n",
        String::from_utf8(msg("l1@list", "[dev] Release plan", &[], &[])).unwrap(),
        String::from_utf8(msg(
            "l2@list",
            "Re: [dev] Release plan",
            &["l1@list"],
            &["l1@list"]
        ))
        .unwrap(),
    );
    let d = t.deliver(digest.into_bytes()).await;
    let td = t.thread_of(&d).await;
    assert_ne!(td, th);
    assert_eq!(t.members(&th).await.len(), 2);
    // Its parts are the digested messages (implicit message/rfc822 in a digest, RFC 2046 §5.1.5).
    let r = call1(
        &t.s,
        USER,
        PASS,
        "Email/get",
        json!({"accountId": t.acct, "ids": [d],
        "properties": ["attachments", "textBody"]}),
    )
    .await;
    let types: Vec<String> = r["list"][0]["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types, vec!["message/rfc822", "message/rfc822"]);
    // The next digest issue is a different subject: another thread.
    let d2 = t
        .deliver(msg("digest-8@list", "dev Digest, Vol 3, Issue 8", &[], &[]))
        .await;
    assert_ne!(t.thread_of(&d2).await, td);
}

/// Issue #20: 3,000 copies of one message arrived at 275 msg/s and the next 3,000 at 103 msg/s,
/// because every delivery into a thread read every member to re-sort it. A delivery that only
/// appends now reads none: the server logs each full rebuild with its size, and over 200
/// deliveries into one thread the rebuilt members stay a handful (a quadratic count would be
/// 20,100). A draft in the thread still takes the full path and lands where RFC 8621 §3 and
/// DESIGN.md say.
#[tokio::test]
async fn delivery_into_a_long_thread_reads_no_members() {
    // 200 connections in a row from one address: lift the per-IP rate limit.
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("mailnook.toml");
    std::fs::write(&cfg, "smtp_connections_per_minute_per_ip = 0\n").expect("config");
    let t = T::with(Server::start_with(&[
        "--config",
        cfg.to_str().expect("path"),
    ]))
    .await;
    let dup = msg("dup@x", "Build #42 failed", &[], &[]);
    const N: usize = 200;
    let started = std::time::Instant::now();
    for _ in 0..N {
        assert_eq!(deliver(&t.s, USER, &dup), 250);
    }
    let rate = N as f64 / started.elapsed().as_secs_f64();
    let ids = all_ids(&t.s, USER, PASS, &t.acct).await;
    assert_eq!(ids.len(), N);
    let th = t.thread_of(&ids[0]).await;
    let members = t.members(&th).await;
    assert_eq!(members.len(), N, "one thread");
    let rebuilt = |log: &str| -> usize {
        log.lines()
            .filter_map(|l| l.split("order rebuilt from ").nth(1))
            .filter_map(|r| r.split_whitespace().next()?.parse::<usize>().ok())
            .sum()
    };
    let after_appends = rebuilt(&t.s.log());
    println!(
        "{N} deliveries into one thread: {rate:.0} msg/s (debug build), {after_appends} members re-read"
    );
    assert!(
        after_appends <= 10,
        "appending re-read {after_appends} thread members (quadratic would be {})",
        N * (N + 1) / 2
    );

    // A draft reply to that Message-ID goes right after the last message carrying it; a new
    // copy of the message arrives later, and the draft moves after it (full rebuild path).
    let drafts = call1(
        &t.s,
        USER,
        PASS,
        "Mailbox/query",
        json!({"accountId": t.acct, "filter": {"role": "drafts"}}),
    )
    .await["ids"][0]
        .as_str()
        .expect("drafts mailbox")
        .to_string();
    let r = call1(
        &t.s,
        USER,
        PASS,
        "Email/set",
        json!({"accountId": t.acct, "create": {"d": {
            "mailboxIds": {drafts: true}, "keywords": {"$draft": true, "$seen": true},
            "subject": "Re: Build #42 failed", "inReplyTo": ["dup@x"], "references": ["dup@x"],
            "bodyStructure": {"type": "text/plain", "partId": "1"},
            "bodyValues": {"1": {"value": "Looking into it."}}}}}),
    )
    .await;
    let draft = r["created"]["d"]["id"]
        .as_str()
        .expect("draft created")
        .to_string();
    assert_eq!(
        r["created"]["d"]["threadId"],
        json!(th),
        "the draft joins the thread"
    );
    let newest = t.deliver(dup.clone()).await;
    let members = t.members(&th).await;
    assert_eq!(members.len(), N + 2);
    assert_eq!(
        &members[N..],
        &[newest.clone(), draft.clone()],
        "the draft follows the last message it replies to"
    );
    let mut earlier = members[..N].to_vec();
    let mut delivered = ids.clone();
    earlier.sort();
    delivered.sort();
    assert_eq!(earlier, delivered, "the earlier members are the 200 copies");
}

/// Issue #20: a collapsed newest page with a long thread on top passes over its members by the
/// thread's member list (after 64 skipped); the page is still exactly one email per thread,
/// newest first, with the older threads after it.
#[tokio::test]
async fn collapsed_page_under_a_long_thread_lists_every_other_thread() {
    let t = T::new().await;
    let mut older = Vec::new();
    for i in 0..3 {
        older.push(
            t.deliver(msg(&format!("o{i}@x"), &format!("Other {i}"), &[], &[]))
                .await,
        );
    }
    let dup = msg("long@x", "Nightly report", &[], &[]);
    for _ in 0..100 {
        assert_eq!(deliver(&t.s, USER, &dup), 250);
    }
    for filter in [json!(null), json!({"inMailbox": inbox_id(&t).await})] {
        let r = call1(
            &t.s,
            USER,
            PASS,
            "Email/query",
            json!({"accountId": t.acct, "filter": filter, "collapseThreads": true,
                   "sort": [{"property": "receivedAt", "isAscending": false}], "limit": 10}),
        )
        .await;
        let ids: Vec<String> = serde_json::from_value(r["ids"].clone()).expect("ids");
        assert_eq!(ids.len(), 4, "one per thread: {r}");
        assert_eq!(t.members(&t.thread_of(&ids[0]).await).await.len(), 100);
        let rest: Vec<String> = older.iter().rev().cloned().collect();
        assert_eq!(ids[1..], rest[..], "the older threads, newest first");
    }
}

async fn inbox_id(t: &T) -> String {
    call1(
        &t.s,
        USER,
        PASS,
        "Mailbox/query",
        json!({"accountId": t.acct, "filter": {"role": "inbox"}}),
    )
    .await["ids"][0]
        .as_str()
        .expect("inbox")
        .to_string()
}
