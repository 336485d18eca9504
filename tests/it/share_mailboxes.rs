//! Sharing (issue #16) through the real server with two and three users: a mailbox shared
//! read-only and read-write, seen in the grantee's session, read and flagged there, every
//! right refused at least once when not granted, nothing outside the shared mailbox reachable
//! (by id, search, thread, blob or snippet), and unsharing taking effect at once, over an open
//! event-source connection too. Grants are made with `mailnook share` against the running
//! server (the control socket).

use crate::common::{CORE, MAIL, SUBMISSION, Server, message};
use crate::core_common::{basic, event_source};
use serde_json::{Value, json};

pub const PW: &str = "a long enough password";
pub const ANNA: &str = "anna@example.org";
pub const BEN: &str = "ben@example.org";
pub const CARO: &str = "caro@example.org";

/// Runs `mailnook ARGS` against the server and returns stdout; panics on failure.
pub fn cli(s: &Server, args: &[&str]) -> String {
    let out = s.cli(args, None);
    assert!(
        out.status.success(),
        "mailnook {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub async fn call(s: &Server, user: &str, calls: Value) -> Vec<Value> {
    s.call_using(user, PW, &[CORE, MAIL, SUBMISSION], calls)
        .await
}

/// One call; its arguments (panics on an error response).
pub async fn call1(s: &Server, user: &str, name: &str, args: Value) -> Value {
    let r = call(s, user, json!([[name, args, "c"]])).await;
    assert_eq!(r[0][0], json!(name), "{name} failed: {}", r[0]);
    r[0][1].clone()
}

/// An error response's type (panics when the call succeeded).
pub async fn error_of(s: &Server, user: &str, name: &str, args: Value) -> String {
    let r = call(s, user, json!([[name, args, "c"]])).await;
    assert_eq!(r[0][0], "error", "{name} should fail: {}", r[0]);
    r[0][1]["type"].as_str().unwrap_or_default().to_string()
}

pub async fn session(s: &Server, user: &str) -> Value {
    s.http()
        .get(format!("{}/.well-known/jmap", s.base_url()))
        .basic_auth(user, Some(PW))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Mailbox ids by role (and by name for those without one).
pub async fn mailboxes(
    s: &Server,
    user: &str,
    acct: &str,
) -> std::collections::HashMap<String, String> {
    let r = call1(s, user, "Mailbox/get", json!({"accountId": acct})).await;
    let mut out = std::collections::HashMap::new();
    for m in r["list"].as_array().unwrap() {
        let key = m["role"].as_str().unwrap_or(m["name"].as_str().unwrap());
        out.insert(key.to_string(), m["id"].as_str().unwrap().to_string());
    }
    out
}

/// Delivers a message over SMTP and returns its email id in `user`'s account.
pub async fn deliver(s: &Server, user: &str, acct: &str, subject: &str, body: &str) -> String {
    let raw = message(
        "sender@example.net",
        user,
        subject,
        &format!("{subject}@example.net"),
        body,
    );
    let reply = s.deliver("sender@example.net", &[user], &raw);
    assert!(reply.starts_with("250"), "{reply}");
    let r = call1(
        s,
        user,
        "Email/query",
        json!({"accountId": acct, "filter": {"subject": subject}}),
    )
    .await;
    crate::common::eventually(subject, || {
        let r = r.clone();
        async move { r["ids"][0].as_str().map(str::to_string) }
    })
    .await
}

pub fn set_error<'a>(r: &'a Value, kind: &str, id: &str) -> &'a Value {
    &r[kind][id]["type"]
}

/// Anna with two messages: "Receipt" filed in Archive and "Private" in her Inbox.
struct Setup {
    s: Server,
    anna: String,
    boxes: std::collections::HashMap<String, String>,
    receipt: String,
    private: String,
}

async fn setup() -> Setup {
    let s = Server::start();
    for u in [ANNA, BEN, CARO] {
        s.add_user(u, PW);
    }
    let anna = s.account_id(ANNA, PW).await;
    let boxes = mailboxes(&s, ANNA, &anna).await;
    let receipt = deliver(&s, ANNA, &anna, "Receipt", "Garden centre, 42 pounds").await;
    let private = deliver(
        &s,
        ANNA,
        &anna,
        "Private",
        "The surprise party is on Friday",
    )
    .await;
    let r = call1(
        &s,
        ANNA,
        "Email/set",
        json!({"accountId": anna, "update": {
        receipt.clone(): {"mailboxIds": {boxes["archive"].clone(): true}}}}),
    )
    .await;
    assert!(r["updated"].get(&receipt).is_some(), "{r}");
    Setup {
        s,
        anna,
        boxes,
        receipt,
        private,
    }
}

#[tokio::test]
async fn read_only_share_shows_only_the_shared_mailbox_and_refuses_every_change() {
    let Setup {
        s,
        anna,
        boxes,
        receipt,
        private,
    } = setup().await;
    let archive = boxes["archive"].clone();
    let out = cli(
        &s,
        &[
            "share",
            "add",
            ANNA,
            "Archive",
            BEN,
            "--rights",
            "read-only",
        ],
    );
    assert!(out.contains("shared"), "{out}");

    // The session lists Anna's account for Ben, not personal, read-only; not for Caro.
    let sess = session(&s, BEN).await;
    let a = &sess["accounts"][&anna];
    assert_eq!(a["name"], ANNA, "{sess}");
    assert_eq!(a["isPersonal"], false);
    assert_eq!(a["isReadOnly"], true);
    assert!(a["accountCapabilities"].get(MAIL).is_some());
    assert!(a["accountCapabilities"].get(SUBMISSION).is_none());
    assert!(session(&s, CARO).await["accounts"].get(&anna).is_none());

    // Mailbox/get: only Archive, with truthful myRights.
    let r = call1(&s, BEN, "Mailbox/get", json!({"accountId": anna})).await;
    let list = r["list"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{r}");
    assert_eq!(list[0]["id"], archive);
    let rights = &list[0]["myRights"];
    assert_eq!(rights["mayReadItems"], true);
    for k in [
        "mayAddItems",
        "mayRemoveItems",
        "maySetSeen",
        "maySetKeywords",
        "mayCreateChild",
        "mayRename",
        "mayDelete",
        "maySubmit",
    ] {
        assert_eq!(rights[k], false, "{k}: {rights}");
    }
    let r = call1(
        &s,
        BEN,
        "Mailbox/get",
        json!({"accountId": anna, "ids": [boxes["inbox"]]}),
    )
    .await;
    assert_eq!(r["notFound"], json!([boxes["inbox"]]));
    let r = call1(&s, BEN, "Mailbox/query", json!({"accountId": anna})).await;
    assert_eq!(r["ids"], json!([archive]));

    // Email/query: only the receipt, whatever the filter.
    let r = call1(&s, BEN, "Email/query", json!({"accountId": anna})).await;
    assert_eq!(r["ids"], json!([receipt]));
    let r = call1(
        &s,
        BEN,
        "Email/query",
        json!({"accountId": anna, "filter": {"text": "surprise"}}),
    )
    .await;
    assert_eq!(r["ids"], json!([]), "search must not reach the Inbox");
    let r = call1(
        &s,
        BEN,
        "Email/query",
        json!({"accountId": anna, "filter": {"inMailbox": boxes["inbox"]}}),
    )
    .await;
    assert_eq!(r["ids"], json!([]));

    // Email/get: the receipt with only Archive in mailboxIds; the private message not found.
    let r = call1(
        &s,
        BEN,
        "Email/get",
        json!({"accountId": anna, "ids": [receipt, private],
        "properties": ["subject", "mailboxIds", "threadId", "blobId"]}),
    )
    .await;
    assert_eq!(r["list"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["list"][0]["subject"], "Receipt");
    assert_eq!(r["list"][0]["mailboxIds"], json!({archive.clone(): true}));
    assert_eq!(r["notFound"], json!([private]));
    let r = call1(
        &s,
        BEN,
        "Email/get",
        json!({"accountId": anna, "ids": null, "properties": ["subject"]}),
    )
    .await;
    assert_eq!(
        r["list"].as_array().unwrap().len(),
        1,
        "ids: null lists the visible only: {r}"
    );

    // Thread, snippet and blob of the private message: nothing.
    let own = call1(
        &s,
        ANNA,
        "Email/get",
        json!({"accountId": anna, "ids": [private, receipt], "properties": ["threadId", "blobId"]}),
    )
    .await;
    let (p_thread, p_blob) = (
        own["list"][0]["threadId"].clone(),
        own["list"][0]["blobId"].as_str().unwrap().to_string(),
    );
    let (r_thread, r_blob) = (
        own["list"][1]["threadId"].clone(),
        own["list"][1]["blobId"].as_str().unwrap().to_string(),
    );
    let r = call1(
        &s,
        BEN,
        "Thread/get",
        json!({"accountId": anna, "ids": [p_thread, r_thread]}),
    )
    .await;
    assert_eq!(r["notFound"], json!([p_thread]), "{r}");
    assert_eq!(r["list"][0]["emailIds"], json!([receipt]));
    let r = call1(
        &s,
        BEN,
        "SearchSnippet/get",
        json!({"accountId": anna, "emailIds": [private, receipt], "filter": {"text": "pounds"}}),
    )
    .await;
    assert_eq!(r["notFound"], json!([private]), "{r}");
    let download = |blob: String| {
        let url = format!("{}/jmap/download/{anna}/{blob}/m.eml", s.base_url());
        let c = s.http();
        async move {
            c.get(url)
                .basic_auth(BEN, Some(PW))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        download(p_blob.clone()).await,
        404,
        "the private message's blob"
    );
    assert_eq!(
        download(r_blob.clone()).await,
        200,
        "the shared message's blob"
    );
    let caro_dl = s
        .http()
        .get(format!(
            "{}/jmap/download/{anna}/{r_blob}/m.eml",
            s.base_url()
        ))
        .basic_auth(CARO, Some(PW))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(caro_dl, 404, "nothing shared with Caro");

    // Every change is refused with forbidden, each for its right.
    let r = call1(
        &s,
        BEN,
        "Email/set",
        json!({"accountId": anna,
        "update": {receipt.clone(): {"keywords/$seen": true}}}),
    )
    .await;
    assert_eq!(
        *set_error(&r, "notUpdated", &receipt),
        "forbidden",
        "maySetSeen: {r}"
    );
    let r = call1(
        &s,
        BEN,
        "Email/set",
        json!({"accountId": anna,
        "update": {receipt.clone(): {"keywords/$flagged": true}}}),
    )
    .await;
    assert_eq!(
        *set_error(&r, "notUpdated", &receipt),
        "forbidden",
        "maySetKeywords: {r}"
    );
    let r = call1(&s, BEN, "Email/set", json!({"accountId": anna,
        "update": {receipt.clone(): {format!("mailboxIds/{archive}"): null, format!("mailboxIds/{}", boxes["inbox"]): true}}})).await;
    assert_eq!(
        *set_error(&r, "notUpdated", &receipt),
        "forbidden",
        "mayRemoveItems: {r}"
    );
    let r = call1(
        &s,
        BEN,
        "Email/set",
        json!({"accountId": anna, "destroy": [receipt]}),
    )
    .await;
    assert_eq!(
        *set_error(&r, "notDestroyed", &receipt),
        "forbidden",
        "mayRemoveItems: {r}"
    );
    let r = call1(&s, BEN, "Email/set", json!({"accountId": anna, "create": {"d": {
        "mailboxIds": {archive.clone(): true}, "subject": "from Ben",
        "bodyStructure": {"type": "text/plain", "partId": "1"}, "bodyValues": {"1": {"value": "hi"}}}}})).await;
    assert_eq!(
        *set_error(&r, "notCreated", "d"),
        "forbidden",
        "mayAddItems: {r}"
    );
    let r = call1(
        &s,
        BEN,
        "Mailbox/set",
        json!({"accountId": anna, "update": {archive.clone(): {"name": "Mine"}}}),
    )
    .await;
    assert_eq!(
        *set_error(&r, "notUpdated", &archive),
        "forbidden",
        "mayRename: {r}"
    );
    let r = call1(
        &s,
        BEN,
        "Mailbox/set",
        json!({"accountId": anna, "destroy": [archive]}),
    )
    .await;
    assert_eq!(
        *set_error(&r, "notDestroyed", &archive),
        "forbidden",
        "mayDelete: {r}"
    );
    let r = call1(
        &s,
        BEN,
        "Mailbox/set",
        json!({"accountId": anna, "create": {"k": {"name": "Kid", "parentId": archive}}}),
    )
    .await;
    assert_eq!(
        *set_error(&r, "notCreated", "k"),
        "forbidden",
        "mayCreateChild: {r}"
    );
    // maySubmit: sending from Anna's account needs full access; the method refuses the account.
    assert_eq!(
        error_of(&s, BEN, "Identity/get", json!({"accountId": anna})).await,
        "accountNotFound"
    );
    assert_eq!(
        error_of(
            &s,
            BEN,
            "EmailSubmission/set",
            json!({"accountId": anna, "create": {}})
        )
        .await,
        "accountNotFound"
    );
    // Nothing changed for Anna.
    let r = call1(
        &s,
        ANNA,
        "Email/get",
        json!({"accountId": anna, "ids": [receipt], "properties": ["keywords", "mailboxIds"]}),
    )
    .await;
    assert_eq!(r["list"][0]["keywords"], json!({}));
    assert_eq!(r["list"][0]["mailboxIds"], json!({archive.clone(): true}));
    // The private message cannot be changed by id either.
    let r = call1(
        &s,
        BEN,
        "Email/set",
        json!({"accountId": anna, "update": {private.clone(): {"keywords/$seen": true}}}),
    )
    .await;
    assert_eq!(*set_error(&r, "notUpdated", &private), "notFound");

    // Caro has nothing: accountNotFound everywhere.
    assert_eq!(
        error_of(&s, CARO, "Mailbox/get", json!({"accountId": anna})).await,
        "accountNotFound"
    );
    assert_eq!(
        error_of(
            &s,
            CARO,
            "Email/get",
            json!({"accountId": anna, "ids": [receipt]})
        )
        .await,
        "accountNotFound"
    );
}

#[tokio::test]
async fn read_write_share_reads_flags_files_and_grants_exactly_what_it_says() {
    let Setup {
        s,
        anna,
        boxes,
        receipt,
        ..
    } = setup().await;
    let archive = boxes["archive"].clone();
    cli(
        &s,
        &[
            "share",
            "add",
            ANNA,
            "archive",
            BEN,
            "--rights",
            "read-write",
        ],
    );
    assert_eq!(
        session(&s, BEN).await["accounts"][&anna]["isReadOnly"],
        false
    );
    let r = call1(
        &s,
        BEN,
        "Email/set",
        json!({"accountId": anna,
        "update": {receipt.clone(): {"keywords/$seen": true, "keywords/$flagged": true}}}),
    )
    .await;
    assert!(r["updated"].get(&receipt).is_some(), "{r}");
    let r = call1(
        &s,
        ANNA,
        "Email/get",
        json!({"accountId": anna, "ids": [receipt], "properties": ["keywords"]}),
    )
    .await;
    assert_eq!(
        r["list"][0]["keywords"],
        json!({"$seen": true, "$flagged": true})
    );
    // ifInState works with the state Ben was shown; a stale one is a stateMismatch.
    let st =
        call1(&s, BEN, "Email/get", json!({"accountId": anna, "ids": []})).await["state"].clone();
    let r = call1(
        &s,
        BEN,
        "Email/set",
        json!({"accountId": anna, "ifInState": st,
        "update": {receipt.clone(): {"keywords/$flagged": null}}}),
    )
    .await;
    assert!(r["updated"].get(&receipt).is_some(), "{r}");
    assert_eq!(r["oldState"], st);
    assert_eq!(
        error_of(
            &s,
            BEN,
            "Email/set",
            json!({"accountId": anna, "ifInState": st,
            "update": {receipt.clone(): {"keywords/$flagged": true}}})
        )
        .await,
        "stateMismatch"
    );
    // Ben files a copy of his own into the shared mailbox (mayAddItems).
    let r = call1(&s, BEN, "Email/set", json!({"accountId": anna, "create": {"d": {
        "mailboxIds": {archive.clone(): true}, "subject": "Ben's note", "keywords": {"$seen": true},
        "bodyStructure": {"type": "text/plain", "partId": "1"}, "bodyValues": {"1": {"value": "paid"}}}}})).await;
    assert!(r["created"]["d"]["id"].is_string(), "{r}");
    // Still no mailbox rights: rename refused.
    let r = call1(
        &s,
        BEN,
        "Mailbox/set",
        json!({"accountId": anna, "update": {archive.clone(): {"name": "x"}}}),
    )
    .await;
    assert_eq!(*set_error(&r, "notUpdated", &archive), "forbidden");

    // Only seen: the flag is refused, seen allowed; mayReadItems missing hides the messages.
    cli(
        &s,
        &[
            "share",
            "add",
            ANNA,
            "archive",
            BEN,
            "--rights",
            "read,seen",
        ],
    );
    let r = call1(
        &s,
        BEN,
        "Email/set",
        json!({"accountId": anna,
        "update": {receipt.clone(): {"keywords/$seen": null}}}),
    )
    .await;
    assert!(r["updated"].get(&receipt).is_some(), "{r}");
    let r = call1(
        &s,
        BEN,
        "Email/set",
        json!({"accountId": anna,
        "update": {receipt.clone(): {"keywords/$flagged": true}}}),
    )
    .await;
    assert_eq!(*set_error(&r, "notUpdated", &receipt), "forbidden");
    cli(
        &s,
        &["share", "add", ANNA, "archive", BEN, "--rights", "add"],
    );
    let r = call1(&s, BEN, "Email/query", json!({"accountId": anna})).await;
    assert_eq!(r["ids"], json!([]), "mayReadItems is missing: {r}");
    let r = call1(
        &s,
        BEN,
        "Email/get",
        json!({"accountId": anna, "ids": [receipt]}),
    )
    .await;
    assert_eq!(r["notFound"], json!([receipt]));

    // Everything on the mailbox: rename and a child, which Ben then sees.
    cli(
        &s,
        &["share", "add", ANNA, "archive", BEN, "--rights", "all"],
    );
    let r = call1(
        &s,
        BEN,
        "Mailbox/set",
        json!({"accountId": anna,
        "update": {archive.clone(): {"name": "Receipts"}},
        "create": {"k": {"name": "2026", "parentId": archive}}}),
    )
    .await;
    assert!(r["updated"].get(&archive).is_some(), "{r}");
    let kid = r["created"]["k"]["id"]
        .as_str()
        .expect("child created")
        .to_string();
    let r = call1(&s, BEN, "Mailbox/get", json!({"accountId": anna})).await;
    let names: Vec<&str> = r["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "{r}");
    assert!(names.contains(&"Receipts") && names.contains(&"2026"));
    let r = call1(
        &s,
        BEN,
        "Mailbox/set",
        json!({"accountId": anna, "destroy": [kid]}),
    )
    .await;
    assert_eq!(r["destroyed"], json!([kid]), "{r}");
    let list = cli(&s, &["share", "list", ANNA]);
    assert!(
        list.contains("Receipts") && list.contains(BEN) && list.contains("all"),
        "{list}"
    );
}

#[tokio::test]
async fn unshare_takes_effect_at_once_including_an_open_event_source() {
    let Setup {
        s, anna, receipt, ..
    } = setup().await;
    let ben = s.account_id(BEN, PW).await;
    // Ben's event source, read on a thread; events come back through a channel.
    let (tx, rx) = std::sync::mpsc::channel::<Value>();
    let (addr, auth) = (s.https, basic(BEN, PW));
    std::thread::spawn(move || {
        let (status, _, mut sse) = event_source(addr, &auth, "types=*&closeafter=no&ping=0", None);
        assert_eq!(status, 200);
        while let Some(ev) = sse.next() {
            if ev.event == "state"
                && tx
                    .send(serde_json::from_str(&ev.data).unwrap_or(Value::Null))
                    .is_err()
            {
                return;
            }
        }
    });
    let next = |what: &str| {
        rx.recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no state event: {what}"))
    };
    // Let the connection settle: a delivery to Ben himself comes through.
    let mut seen_own = false;
    for i in 0..20 {
        deliver(&s, BEN, &ben, &format!("warm-up {i}"), "hi").await;
        if let Ok(ev) = rx.recv_timeout(std::time::Duration::from_millis(500)) {
            seen_own = ev["changed"].get(&ben).is_some();
            break;
        }
    }
    assert!(seen_own, "the event source works for Ben's own account");
    while rx.try_recv().is_ok() {}

    cli(
        &s,
        &[
            "share",
            "add",
            ANNA,
            "archive",
            BEN,
            "--rights",
            "read-only",
        ],
    );
    let ev = next("the share");
    assert!(
        ev["changed"].get(&anna).is_some(),
        "the shared account is announced: {ev}"
    );
    // A delivery into Anna's Archive is pushed to Ben.
    let r = call1(
        &s,
        ANNA,
        "Email/set",
        json!({"accountId": anna, "update": {receipt.clone(): {"keywords/$seen": true}}}),
    )
    .await;
    assert!(r["updated"].get(&receipt).is_some());
    let ev = next("the change in the shared account");
    assert!(ev["changed"][&anna].get("Email").is_some(), "{ev}");
    assert_eq!(
        call1(&s, BEN, "Email/query", json!({"accountId": anna})).await["ids"],
        json!([receipt])
    );

    cli(&s, &["share", "remove", ANNA, "archive", BEN]);
    // At once: the next request has no access, the session no account.
    assert_eq!(
        error_of(
            &s,
            BEN,
            "Email/get",
            json!({"accountId": anna, "ids": [receipt]})
        )
        .await,
        "accountNotFound"
    );
    assert!(session(&s, BEN).await["accounts"].get(&anna).is_none());
    // Changes in Anna's account no longer reach Ben's connection; his own still do.
    call1(
        &s,
        ANNA,
        "Email/set",
        json!({"accountId": anna, "update": {receipt.clone(): {"keywords/$flagged": true}}}),
    )
    .await;
    deliver(&s, ANNA, &anna, "after unshare", "x").await;
    deliver(&s, BEN, &ben, "marker", "x").await;
    loop {
        let ev = next("Ben's own delivery after the unshare");
        assert!(
            ev["changed"].get(&anna).is_none(),
            "nothing of Anna's after unshare: {ev}"
        );
        if ev["changed"]
            .get(&ben)
            .is_some_and(|c| c.get("Email").is_some())
        {
            break;
        }
    }
}

#[tokio::test]
async fn shared_account_receives_mail_once_and_members_send_from_it() {
    const FAMILY: &str = "family@example.org";
    let s = Server::start();
    for u in [FAMILY, ANNA, BEN, CARO] {
        s.add_user(u, PW);
    }
    let out = cli(
        &s,
        &[
            "share", "account", "add", FAMILY, ANNA, BEN, "--rights", "all",
        ],
    );
    assert_eq!(out.lines().count(), 2, "{out}");
    let family = s.account_id(FAMILY, PW).await;
    let anna = s.account_id(ANNA, PW).await;
    let ben = s.account_id(BEN, PW).await;
    let sess = session(&s, ANNA).await;
    let f = &sess["accounts"][&family];
    assert_eq!(
        (f["isPersonal"].clone(), f["isReadOnly"].clone()),
        (json!(false), json!(false)),
        "{sess}"
    );
    assert!(
        f["accountCapabilities"].get(SUBMISSION).is_some(),
        "members with every right may send"
    );

    let raw = message(
        "school@example.net",
        FAMILY,
        "Term dates",
        "term@example.net",
        "Starts 5 Jan",
    );
    assert!(
        s.deliver("school@example.net", &[FAMILY], &raw)
            .starts_with("250")
    );
    // Once: in the family account, not in the members' own.
    let r = call1(&s, ANNA, "Email/query", json!({"accountId": family})).await;
    assert_eq!(r["ids"].as_array().unwrap().len(), 1, "{r}");
    let id = r["ids"][0].clone();
    assert_eq!(
        call1(&s, BEN, "Email/query", json!({"accountId": family})).await["ids"],
        json!([id])
    );
    assert_eq!(
        call1(&s, ANNA, "Email/query", json!({"accountId": anna})).await["ids"],
        json!([])
    );
    assert_eq!(
        call1(&s, BEN, "Email/query", json!({"accountId": ben})).await["ids"],
        json!([])
    );
    // Ben marks it read; Anna sees it read.
    call1(
        &s,
        BEN,
        "Email/set",
        json!({"accountId": family, "update": {id.as_str().unwrap(): {"keywords/$seen": true}}}),
    )
    .await;
    let r = call1(
        &s,
        ANNA,
        "Email/get",
        json!({"accountId": family, "ids": [id], "properties": ["keywords"]}),
    )
    .await;
    assert_eq!(r["list"][0]["keywords"], json!({"$seen": true}));

    // Anna sends as family@ (its identity) to Caro.
    let boxes = mailboxes(&s, ANNA, &family).await;
    let ident = call1(&s, ANNA, "Identity/get", json!({"accountId": family})).await;
    let identity = ident["list"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(ident["list"][0]["email"], FAMILY);
    let r = call(&s, ANNA, json!([
        ["Email/set", {"accountId": family, "create": {"d": {
            "mailboxIds": {boxes["drafts"].clone(): true}, "keywords": {"$draft": true},
            "from": [{"email": FAMILY}], "to": [{"email": CARO}], "subject": "Party",
            "bodyStructure": {"type": "text/plain", "partId": "1"}, "bodyValues": {"1": {"value": "Saturday"}}}}}, "0"],
        ["EmailSubmission/set", {"accountId": family, "create": {"s": {"emailId": "#d", "identityId": identity}}}, "1"]
    ])).await;
    assert!(r[1][1]["created"]["s"]["id"].is_string(), "{r:?}");
    let caro = s.account_id(CARO, PW).await;
    let got = crate::common::eventually("the mail at Caro's", || async {
        let r = call1(
            &s,
            CARO,
            "Email/query",
            json!({"accountId": caro, "filter": {"subject": "Party"}}),
        )
        .await;
        r["ids"][0].as_str().map(str::to_string)
    })
    .await;
    let r = call1(
        &s,
        CARO,
        "Email/get",
        json!({"accountId": caro, "ids": [got], "properties": ["from"]}),
    )
    .await;
    assert_eq!(r["list"][0]["from"][0]["email"], FAMILY);

    // Members may upload into the shared account (attachments for its drafts); others not.
    let up = |user: &'static str| {
        let url = format!("{}/jmap/upload/{family}", s.base_url());
        let c = s.http();
        async move {
            c.post(url)
                .basic_auth(user, Some(PW))
                .header("Content-Type", "text/plain")
                .body("an attachment")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(up(ANNA).await, 201);
    assert_eq!(up(CARO).await, 404);

    // A member removed loses the account at once.
    cli(&s, &["share", "account", "remove", FAMILY, BEN]);
    assert_eq!(
        error_of(&s, BEN, "Email/query", json!({"accountId": family})).await,
        "accountNotFound"
    );
}

#[tokio::test]
async fn the_admin_page_shows_and_changes_who_shares_what() {
    use crate::admin_support::{admin_login, client};
    const FAMILY: &str = "family@example.org";
    let s = Server::start();
    for u in [FAMILY, ANNA, BEN] {
        s.add_user(u, PW);
    }
    let admin = admin_login(&s).await;
    let (status, v) = admin
        .post(
            &s,
            "/admin/api/share",
            json!({"AccountAdd": {"account": FAMILY, "members": [ANNA, BEN], "rights": "all"}}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = admin
        .post(&s, "/admin/api/share", json!({"Add": {"owner": ANNA, "mailbox": "Archive", "grantees": [BEN], "rights": "read,seen"}}))
        .await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = admin
        .post(&s, "/admin/api/share", json!({"Add": {"owner": ANNA, "mailbox": "Nowhere", "grantees": [BEN], "rights": "read"}}))
        .await;
    assert_eq!(status, 400, "an unknown mailbox is refused: {v}");
    let html = client()
        .get(format!("{}/admin", s.base_url()))
        .header("Cookie", &admin.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = html
        .find("<section id=\"sharing\">")
        .expect("a Sharing section");
    let section = &html[at..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(
        section.contains("family@example.org") && section.contains("the whole account"),
        "{section}"
    );
    assert!(
        section.contains("Archive") && section.contains("read,seen"),
        "{section}"
    );
    assert_eq!(section.matches("<tr><td").count(), 3, "{section}");
    // The command line agrees.
    let list = cli(&s, &["share", "list"]);
    assert_eq!(list.lines().count(), 3, "{list}");
}

#[tokio::test]
async fn changes_in_a_shared_account_show_only_what_is_shared() {
    let Setup {
        s,
        anna,
        boxes,
        receipt,
        ..
    } = setup().await;
    let archive = boxes["archive"].clone();
    let before =
        call1(&s, ANNA, "Email/get", json!({"accountId": anna, "ids": []})).await["state"].clone();
    cli(
        &s,
        &[
            "share",
            "add",
            ANNA,
            "archive",
            BEN,
            "--rights",
            "read-only",
        ],
    );
    // A state from before the share cannot be brought up to date: the grantee must resync.
    assert_eq!(
        error_of(
            &s,
            BEN,
            "Email/changes",
            json!({"accountId": anna, "sinceState": before})
        )
        .await,
        "cannotCalculateChanges"
    );
    let st =
        call1(&s, BEN, "Email/get", json!({"accountId": anna, "ids": []})).await["state"].clone();
    let mst = call1(
        &s,
        BEN,
        "Mailbox/get",
        json!({"accountId": anna, "ids": []}),
    )
    .await["state"]
        .clone();
    // New private mail: not even its id shows; a message filed into Archive is created; the
    // receipt moved out of Archive is destroyed for Ben.
    deliver(&s, ANNA, &anna, "Secret", "x").await;
    let filed = deliver(&s, ANNA, &anna, "Filed", "y").await;
    call1(
        &s,
        ANNA,
        "Email/set",
        json!({"accountId": anna, "update": {
        filed.clone(): {"mailboxIds": {archive.clone(): true}},
        receipt.clone(): {"mailboxIds": {boxes["inbox"].clone(): true}}}}),
    )
    .await;
    let ch = call1(
        &s,
        BEN,
        "Email/changes",
        json!({"accountId": anna, "sinceState": st}),
    )
    .await;
    let created = ch["created"].as_array().unwrap();
    let updated = ch["updated"].as_array().unwrap();
    assert!(
        created.contains(&json!(filed)) || updated.contains(&json!(filed)),
        "{ch}"
    );
    assert_eq!(
        created.len() + updated.len(),
        1,
        "only the filed message: {ch}"
    );
    assert_eq!(ch["destroyed"], json!([receipt]), "{ch}");
    let q = call1(&s, BEN, "Email/query", json!({"accountId": anna})).await;
    assert_eq!(q["ids"], json!([filed]));
    // Mailbox changes: the Inbox's counts moved, but Ben never sees it.
    let ch = call1(
        &s,
        BEN,
        "Mailbox/changes",
        json!({"accountId": anna, "sinceState": mst}),
    )
    .await;
    for k in ["created", "updated"] {
        assert!(
            ch[k]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| *m == json!(archive)),
            "{ch}"
        );
    }
}
