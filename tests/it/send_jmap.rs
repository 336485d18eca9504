//! Sending from a JMAP client (RFC 8621 §7): a draft written with Email/set is sent with
//! EmailSubmission/set, moved to Sent by onSuccessUpdateEmail, delivered to other accounts on
//! the same server (Bcc removed), and answered; the reply lands in the sender's thread. Then
//! the §7.5 SetErrors with nothing queued, delayed sending and canceling it, /query and
//! /changes, and the Session capability. Relaying to a remote server is in send_remote_jmap.rs.

use crate::common;

use common::{CORE, MAIL, SUBMISSION, Server, eventually};
use serde_json::{Value, json};

const ALICE: &str = "alice@example.org";
const BOB: &str = "bob@example.org";
const CAROL: &str = "carol@example.org";
const PW: &str = "a long enough password";

/// A server with three accounts; `config` is extra TOML for its config file.
fn start(config: &str) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mailnook.toml");
    std::fs::write(&path, config).unwrap();
    let server = Server::start_with(&["--config", &path.display().to_string()]);
    for u in [ALICE, BOB, CAROL] {
        server.add_user(u, PW);
    }
    (server, dir)
}

/// Method calls with core, mail and submission.
async fn api(server: &Server, user: &str, calls: Value) -> Vec<Value> {
    server
        .call_using(user, PW, &[CORE, MAIL, SUBMISSION], calls)
        .await
}

struct Account {
    id: String,
    drafts: String,
    sent: String,
    inbox: String,
    identity: String,
}

async fn account(server: &Server, user: &str) -> Account {
    let id = server.account_id(user, PW).await;
    let r = api(
        server,
        user,
        json!([
            ["Mailbox/get", {"accountId": id, "properties": ["role"]}, "m"],
            ["Identity/get", {"accountId": id}, "i"]
        ]),
    )
    .await;
    let role = |name: &str| {
        r[0][1]["list"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["role"] == name)
            .unwrap_or_else(|| panic!("no {name} mailbox"))["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let identity = r[1][1]["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["email"] == user)
        .expect("default identity")["id"]
        .as_str()
        .unwrap()
        .to_string();
    Account {
        drafts: role("drafts"),
        sent: role("sent"),
        inbox: role("inbox"),
        identity,
        id,
    }
}

/// An Email/set create of a draft in Drafts.
fn draft(a: &Account, from: &str, to: &[&str], bcc: &[&str], subject: &str) -> Value {
    let addrs = |l: &[&str]| l.iter().map(|e| json!({"email": e})).collect::<Vec<_>>();
    let mut d = json!({
        "mailboxIds": {a.drafts.clone(): true},
        "keywords": {"$draft": true, "$seen": true},
        "from": [{"name": "Sender", "email": from}],
        "to": addrs(to),
        "subject": subject,
        "bodyStructure": {"type": "text/plain", "partId": "1"},
        "bodyValues": {"1": {"value": format!("{subject}\r\nSee you.\r\n")}},
    });
    if !bcc.is_empty() {
        d["bcc"] = json!(addrs(bcc));
    }
    d
}

/// Emails in `user`'s account with these properties, newest first.
async fn emails(server: &Server, user: &str, props: Value) -> Vec<Value> {
    let acct = server.account_id(user, PW).await;
    let r = api(
        server,
        user,
        json!([
            ["Email/query", {"accountId": acct, "sort": [{"property": "receivedAt", "isAscending": false}]}, "q"],
            ["Email/get", {"accountId": acct, "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
              "properties": props}, "g"]
        ]),
    )
    .await;
    r[1][1]["list"].as_array().cloned().unwrap_or_default()
}

async fn email_with_subject(server: &Server, user: &str, subject: &str) -> Value {
    let props = json!([
        "subject",
        "threadId",
        "mailboxIds",
        "keywords",
        "header:Bcc",
        "messageId",
        "from"
    ]);
    eventually(&format!("{subject} in {user}'s account"), || async {
        emails(server, user, props.clone())
            .await
            .into_iter()
            .find(|e| e["subject"] == subject)
    })
    .await
}

async fn submission(server: &Server, user: &str, acct: &str, id: &str) -> Value {
    let r = api(
        server,
        user,
        json!([["EmailSubmission/get", {"accountId": acct, "ids": [id]}, "g"]]),
    )
    .await;
    r[0][1]["list"][0].clone()
}

#[tokio::test]
async fn draft_is_sent_moved_to_sent_and_the_reply_joins_the_thread() {
    let (server, _dir) = start("");
    let alice = account(&server, ALICE).await;
    let r = api(
        &server,
        ALICE,
        json!([
            ["Email/set", {"accountId": alice.id, "create": {
                "d1": draft(&alice, ALICE, &[BOB], &[CAROL], "Lunch on Friday?")}}, "0"],
            ["EmailSubmission/set", {"accountId": alice.id, "create": {
                "s1": {"emailId": "#d1", "identityId": alice.identity}},
              "onSuccessUpdateEmail": {"#s1": {
                format!("mailboxIds/{}", alice.drafts): null,
                format!("mailboxIds/{}", alice.sent): true,
                "keywords/$draft": null}}}, "1"]
        ]),
    )
    .await;
    assert_eq!(
        r.len(),
        3,
        "Email/set, EmailSubmission/set, implicit Email/set: {r:?}"
    );
    let email_id = r[0][1]["created"]["d1"]["id"].as_str().unwrap().to_string();
    assert_eq!(r[1][0], "EmailSubmission/set");
    let created = &r[1][1]["created"]["s1"];
    let sub_id = created["id"]
        .as_str()
        .expect("submission created")
        .to_string();
    assert_eq!(created["undoStatus"], "pending");
    // The envelope was derived from the headers (§7): Bcc recipients included.
    assert_eq!(created["envelope"]["mailFrom"]["email"], ALICE);
    let rcpts: Vec<&str> = created["envelope"]["rcptTo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["email"].as_str().unwrap())
        .collect();
    assert_eq!(rcpts, vec![BOB, CAROL]);
    assert_eq!(r[2][0], "Email/set");
    assert_eq!(
        r[2][2], "1",
        "the implicit call answers with the same call id"
    );
    assert!(r[2][1]["updated"].get(&email_id).is_some(), "{:?}", r[2]);

    // The draft is now a sent message.
    let sent = email_with_subject(&server, ALICE, "Lunch on Friday?").await;
    assert_eq!(sent["mailboxIds"], json!({alice.sent.clone(): true}));
    assert_eq!(sent["keywords"], json!({"$seen": true}));

    // Bob and Carol (Bcc) both get it, and neither sees the Bcc header.
    for user in [BOB, CAROL] {
        let got = email_with_subject(&server, user, "Lunch on Friday?").await;
        assert_eq!(got["header:Bcc"], Value::Null, "{user} sees a Bcc header");
        assert_eq!(got["from"][0]["email"], ALICE);
    }

    // Delivery status follows the queue: local mailboxes are a definite "yes".
    let s = eventually("the submission to be final", || async {
        let s = submission(&server, ALICE, &alice.id, &sub_id).await;
        (s["undoStatus"] == "final" && s["deliveryStatus"][BOB]["delivered"] == "yes").then_some(s)
    })
    .await;
    assert_eq!(s["deliveryStatus"][CAROL]["delivered"], "yes");
    assert_eq!(s["emailId"], email_id.as_str());
    assert_eq!(s["identityId"], alice.identity.as_str());
    assert_eq!(s["threadId"], sent["threadId"]);

    // Bob answers with a real JMAP client (jmap-client): the reply is threaded at Alice's.
    let bob = account(&server, BOB).await;
    let original = email_with_subject(&server, BOB, "Lunch on Friday?").await;
    let msg_id = original["messageId"][0].as_str().unwrap().to_string();
    let reply = format!(
        "From: {BOB}\r\nTo: {ALICE}\r\nSubject: Re: Lunch on Friday?\r\nIn-Reply-To: <{msg_id}>\r\n\
         References: <{msg_id}>\r\nMessage-ID: <reply-1@example.org>\r\n\
         Date: Mon, 23 Nov 2026 12:00:00 +0000\r\n\r\nYes, noon.\r\n"
    );
    let client = server.client(BOB, PW).await;
    let imported = client
        .email_import(
            reply.into_bytes(),
            [bob.drafts.clone()],
            Some(["$draft"]),
            None,
        )
        .await
        .expect("import the reply draft");
    let sent_reply = client
        .email_submission_create(imported.id().unwrap(), bob.identity.as_str())
        .await
        .expect("EmailSubmission/set with jmap-client");
    assert!(sent_reply.id().is_some());
    let answer = email_with_subject(&server, ALICE, "Re: Lunch on Friday?").await;
    assert_eq!(
        answer["threadId"], sent["threadId"],
        "the reply joins the thread"
    );
    assert_eq!(answer["mailboxIds"], json!({alice.inbox.clone(): true}));
}

#[tokio::test]
async fn set_errors_queue_nothing_and_lose_nothing() {
    let (server, _dir) = start("max_recipients = 2\n");
    let alice = account(&server, ALICE).await;
    let big = "x".repeat(3000);
    let mut too_big = draft(&alice, ALICE, &[BOB], &[], "big");
    too_big["bodyValues"]["1"]["value"] = json!(big);
    let r = api(
        &server,
        ALICE,
        json!([
            ["Email/set", {"accountId": alice.id, "create": {
                "ok": draft(&alice, ALICE, &[BOB], &[], "fine"),
                "notmine": draft(&alice, BOB, &[CAROL], &[], "impersonation"),
                "nobody": draft(&alice, ALICE, &[], &[], "no recipients"),
                "many": draft(&alice, ALICE, &[BOB, CAROL, "dave@example.org"], &[], "many"),
                "big": too_big,
            }}, "0"],
            ["EmailSubmission/set", {"accountId": alice.id, "create": {
                "forbiddenFrom": {"emailId": "#notmine", "identityId": alice.identity},
                "forbiddenMailFrom": {"emailId": "#ok", "identityId": alice.identity,
                    "envelope": {"mailFrom": {"email": BOB}, "rcptTo": [{"email": CAROL}]}},
                "noRecipients": {"emailId": "#nobody", "identityId": alice.identity},
                "tooManyRecipients": {"emailId": "#many", "identityId": alice.identity},
                "invalidRecipients": {"emailId": "#ok", "identityId": alice.identity,
                    "envelope": {"mailFrom": {"email": ALICE}, "rcptTo": [{"email": "not an address"}, {"email": BOB}]}},
                "unknownEmail": {"emailId": "m777777", "identityId": alice.identity},
                "unknownIdentity": {"emailId": "#ok", "identityId": "i77777"},
                "badParameter": {"emailId": "#ok", "identityId": alice.identity,
                    "envelope": {"mailFrom": {"email": ALICE, "parameters": {"X-EVIL": "1"}}, "rcptTo": [{"email": BOB}]}},
                "tooFar": {"emailId": "#ok", "identityId": alice.identity,
                    "envelope": {"mailFrom": {"email": ALICE, "parameters": {"HOLDFOR": "99999999"}}, "rcptTo": [{"email": BOB}]}},
                "serverSet": {"emailId": "#ok", "identityId": alice.identity, "sendAt": "2026-11-23T00:00:00Z"},
            }}, "1"]
        ]),
    )
    .await;
    assert_eq!(r[0][1]["notCreated"], Value::Null, "{:?}", r[0]);
    let not = &r[1][1]["notCreated"];
    let kind = |k: &str| not[k]["type"].as_str().unwrap_or("(created)").to_string();
    assert_eq!(kind("forbiddenFrom"), "forbiddenFrom");
    assert_eq!(kind("forbiddenMailFrom"), "forbiddenMailFrom");
    assert_eq!(kind("noRecipients"), "noRecipients");
    assert_eq!(kind("tooManyRecipients"), "tooManyRecipients");
    assert_eq!(not["tooManyRecipients"]["maxRecipients"], 2);
    assert_eq!(kind("invalidRecipients"), "invalidRecipients");
    assert_eq!(
        not["invalidRecipients"]["invalidRecipients"],
        json!(["not an address"])
    );
    assert_eq!(kind("unknownEmail"), "invalidProperties");
    assert_eq!(not["unknownEmail"]["properties"], json!(["emailId"]));
    assert_eq!(kind("unknownIdentity"), "invalidProperties");
    assert_eq!(not["unknownIdentity"]["properties"], json!(["identityId"]));
    assert_eq!(kind("badParameter"), "invalidProperties");
    assert_eq!(kind("tooFar"), "invalidProperties");
    assert_eq!(kind("serverSet"), "invalidProperties");
    assert_eq!(r[1][1]["created"], Value::Null);
    assert_eq!(r[1][1]["oldState"], r[1][1]["newState"], "nothing changed");

    // Nothing was queued or recorded, and every draft is still there.
    let r = api(
        &server,
        ALICE,
        json!([["EmailSubmission/query", {"accountId": alice.id}, "q"]]),
    )
    .await;
    assert_eq!(r[0][1]["ids"], json!([]));
    assert_eq!(emails(&server, ALICE, json!(["subject"])).await.len(), 5);

    // tooLarge: a server with a small message limit reports it with maxSize.
    let (small, _dir2) = start("max_message_size = 2048\n");
    let a2 = account(&small, ALICE).await;
    let r = api(
        &small,
        ALICE,
        json!([
            ["Email/set", {"accountId": a2.id, "create": {"big": {
                "mailboxIds": {a2.drafts.clone(): true},
                "from": [{"email": ALICE}], "to": [{"email": BOB}], "subject": "big",
                "bodyStructure": {"type": "text/plain", "partId": "1"},
                "bodyValues": {"1": {"value": big}}}}}, "0"],
            ["EmailSubmission/set", {"accountId": a2.id, "create": {
                "s": {"emailId": "#big", "identityId": a2.identity}}}, "1"]
        ]),
    )
    .await;
    assert_eq!(r[1][1]["notCreated"]["s"]["type"], "tooLarge", "{:?}", r[1]);
    assert_eq!(r[1][1]["notCreated"]["s"]["maxSize"], 2048);

    // Without the submission capability in `using`, the method does not exist (§3.6.2).
    let r = server
        .call(
            ALICE,
            PW,
            json!([["EmailSubmission/get", {"accountId": alice.id}, "g"]]),
        )
        .await;
    assert_eq!(r[0][0], "error");
    assert_eq!(r[0][1]["type"], "unknownMethod");
}

#[tokio::test]
async fn delayed_send_can_be_canceled_and_is_never_delivered() {
    let (server, _dir) = start("");
    let alice = account(&server, ALICE).await;
    let state0 = api(
        &server,
        ALICE,
        json!([["EmailSubmission/get", {"accountId": alice.id, "ids": []}, "g"]]),
    )
    .await[0][1]["state"]
        .as_str()
        .unwrap()
        .to_string();
    let hold = |subject: &str| {
        json!({"emailId": format!("#{subject}"), "identityId": alice.identity,
               "envelope": {"mailFrom": {"email": ALICE, "parameters": {"HOLDFOR": "3600"}},
                            "rcptTo": [{"email": BOB}]}})
    };
    let r = api(
        &server,
        ALICE,
        json!([
            ["Email/set", {"accountId": alice.id, "create": {
                "later": draft(&alice, ALICE, &[BOB], &[], "later"),
                "now": draft(&alice, ALICE, &[BOB], &[], "now")}}, "0"],
            ["EmailSubmission/set", {"accountId": alice.id, "create": {
                "later": hold("later"),
                "now": {"emailId": "#now", "identityId": alice.identity}}}, "1"]
        ]),
    )
    .await;
    let later = r[1][1]["created"]["later"].clone();
    let later_id = later["id"].as_str().unwrap().to_string();
    let now_id = r[1][1]["created"]["now"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let send_at = later["sendAt"].as_str().unwrap();
    let now_at = r[1][1]["created"]["now"]["sendAt"].as_str().unwrap();
    assert!(
        send_at > now_at,
        "sendAt {send_at} is an hour after {now_at}"
    );

    // Cancel the held one; the immediate one cannot be canceled once it is delivered.
    let r = api(
        &server,
        ALICE,
        json!([["EmailSubmission/set", {"accountId": alice.id,
            "update": {later_id.clone(): {"undoStatus": "canceled"}}}, "c"]]),
    )
    .await;
    assert!(r[0][1]["updated"].get(&later_id).is_some(), "{:?}", r[0]);
    email_with_subject(&server, BOB, "now").await;
    eventually("the immediate one to be final", || async {
        (submission(&server, ALICE, &alice.id, &now_id).await["undoStatus"] == "final")
            .then_some(())
    })
    .await;
    let r = api(
        &server,
        ALICE,
        json!([["EmailSubmission/set", {"accountId": alice.id,
            "update": {now_id.clone(): {"undoStatus": "canceled"}, later_id.clone(): {"undoStatus": "pending"}}}, "c"]]),
    )
    .await;
    assert_eq!(r[0][1]["notUpdated"][&now_id]["type"], "cannotUnsend");
    assert_eq!(
        r[0][1]["notUpdated"][&later_id]["type"],
        "invalidProperties"
    );
    let s = submission(&server, ALICE, &alice.id, &later_id).await;
    assert_eq!(s["undoStatus"], "canceled");
    assert_eq!(s["deliveryStatus"][BOB]["delivered"], "no");
    let bobs: Vec<String> = emails(&server, BOB, json!(["subject"]))
        .await
        .iter()
        .map(|e| e["subject"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(bobs, vec!["now"], "the canceled message never arrives");

    // /query with filter and sort, /changes and /queryChanges see both submissions.
    let r = api(
        &server,
        ALICE,
        json!([
            ["EmailSubmission/query", {"accountId": alice.id,
                "filter": {"undoStatus": "canceled"}}, "q1"],
            ["EmailSubmission/query", {"accountId": alice.id,
                "sort": [{"property": "sentAt", "isAscending": false}], "calculateTotal": true}, "q2"],
            ["EmailSubmission/changes", {"accountId": alice.id, "sinceState": state0}, "c"],
            ["EmailSubmission/queryChanges", {"accountId": alice.id, "sinceQueryState": state0}, "qc"],
            ["EmailSubmission/query", {"accountId": alice.id, "filter": {"after": send_at}}, "q3"],
            ["EmailSubmission/query", {"accountId": alice.id, "sort": [{"property": "size"}]}, "q4"]
        ]),
    )
    .await;
    assert_eq!(r[0][1]["ids"], json!([later_id]));
    assert_eq!(r[1][1]["ids"], json!([later_id, now_id]));
    assert_eq!(r[1][1]["total"], 2);
    let mut created: Vec<String> = serde_json::from_value(r[2][1]["created"].clone()).unwrap();
    created.sort();
    let mut both = vec![later_id.clone(), now_id.clone()];
    both.sort();
    assert_eq!(created, both);
    assert_eq!(r[3][1]["added"].as_array().unwrap().len(), 2);
    assert_eq!(r[4][1]["ids"], json!([later_id]));
    assert_eq!(r[5][1]["type"], "unsupportedSort");

    // Destroying the record leaves the mail alone.
    let r = api(
        &server,
        ALICE,
        json!([["EmailSubmission/set", {"accountId": alice.id, "destroy": [now_id]},"d"],
               ["EmailSubmission/get", {"accountId": alice.id, "ids": [now_id]}, "g"]]),
    )
    .await;
    assert_eq!(r[0][1]["destroyed"], json!([now_id]));
    assert_eq!(r[1][1]["notFound"], json!([now_id]));
    assert_eq!(emails(&server, BOB, json!(["subject"])).await.len(), 1);
}

#[tokio::test]
async fn session_advertises_submission() {
    let (server, _dir) = start("");
    let res = server
        .http()
        .get(format!("{}/.well-known/jmap", server.base_url()))
        .basic_auth(ALICE, Some(PW))
        .send()
        .await
        .unwrap();
    let s: Value = res.json().await.unwrap();
    let acct = server.account_id(ALICE, PW).await;
    assert_eq!(s["capabilities"][SUBMISSION], json!({}));
    assert_eq!(s["primaryAccounts"][SUBMISSION], json!(acct));
    let cap = &s["accounts"][&acct]["accountCapabilities"][SUBMISSION];
    assert_eq!(cap["maxDelayedSend"], 30 * 86_400);
    assert_eq!(cap["submissionExtensions"]["FUTURERELEASE"][0], "2592000");
}

#[tokio::test]
async fn on_success_destroy_email_removes_the_draft_but_not_the_delivery() {
    let (server, _dir) = start("");
    let alice = account(&server, ALICE).await;
    let r = api(
        &server,
        ALICE,
        json!([
            ["Email/set", {"accountId": alice.id, "create": {
                "d": draft(&alice, ALICE, &[BOB], &[], "Fire and forget")}}, "0"],
            ["EmailSubmission/set", {"accountId": alice.id,
              "create": {"s": {"emailId": "#d", "identityId": alice.identity}},
              "onSuccessDestroyEmail": ["#s", "sunknown"]}, "1"]
        ]),
    )
    .await;
    let email_id = r[0][1]["created"]["d"]["id"].as_str().unwrap().to_string();
    assert_eq!(r[2][0], "Email/set", "{r:?}");
    assert_eq!(r[2][1]["destroyed"], json!([email_id]));
    email_with_subject(&server, BOB, "Fire and forget").await;
    let r = api(
        &server,
        ALICE,
        json!([["Email/get", {"accountId": alice.id, "ids": [email_id]}, "g"]]),
    )
    .await;
    assert_eq!(r[0][1]["notFound"], json!([email_id]));
}
