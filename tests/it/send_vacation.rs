//! Vacation replies (RFC 8621 §8, RFC 3834): with a VacationResponse enabled, a sender from
//! outside gets one reply, however often they write; a list message gets none. Replies leave
//! through the outbound queue (here a stand-in smarthost) from the null sender.

use crate::common;
use crate::send_support;

use common::{Server, eventually};
use send_support::{FakeSmtp, smarthost_config};
use serde_json::json;

const BOB: &str = "bob@example.org";
const PW: &str = "bob's long password";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_once_per_sender_and_not_to_lists() {
    let fake = FakeSmtp::start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = smarthost_config(dir.path(), &fake, 3600);
    let server = Server::start_with(&["--config", &cfg]);
    server.add_user(BOB, PW);
    let acct = server.account_id(BOB, PW).await;
    let body = json!({
        "using": [common::CORE, common::MAIL, "urn:ietf:params:jmap:vacationresponse"],
        "methodCalls": [["VacationResponse/set", {"accountId": acct, "update": {"singleton": {
            "isEnabled": true, "subject": "Away until Monday", "textBody": "Back on Monday."}}}, "v"]]
    });
    let (status, v) = server.post_api(BOB, PW, body.to_string()).await;
    assert_eq!(status, 200, "{v}");
    assert!(v["methodResponses"][0][1]["updated"].is_object(), "{v}");

    let send = |from: &str, subject: &str, extra: &str| {
        let raw = format!(
            "From: {from}\r\nTo: {BOB}\r\nSubject: {subject}\r\nMessage-ID: <{subject}@remote.example>\r\n{extra}\r\nhello\r\n"
        );
        let from = from.to_string();
        let s = &server;
        tokio::task::block_in_place(|| s.send(&from, &[BOB], raw.as_bytes())).unwrap();
    };
    send("carol@remote.example", "one", "");
    send("carol@remote.example", "two", "");
    send(
        "list@remote.example",
        "news",
        "List-Id: <news.remote.example>\r\nPrecedence: list\r\n",
    );
    send(
        "dave@remote.example",
        "bulk",
        "Auto-Submitted: auto-generated\r\n",
    );
    send("erin@remote.example", "three", "");

    // Erin's reply was the last one queued; once it is out, every earlier decision was made.
    // Replies are decided at delivery, in order, but the queue sends them in parallel: wait for
    // both repliable senders (with the greeting no longer delayed on loopback, the five
    // deliveries take milliseconds and erin's reply can leave before carol's).
    for who in ["carol@remote.example", "erin@remote.example"] {
        eventually("the replies to carol and erin", || {
            let m = fake.messages();
            async move { m.iter().any(|s| s.rcpts == [who]).then_some(()) }
        })
        .await;
    }
    let replies = fake.messages();
    let to = |who: &str| replies.iter().filter(|s| s.rcpts == [who]).count();
    assert_eq!(to("carol@remote.example"), 1, "{replies:?}");
    assert_eq!(to("list@remote.example"), 0);
    assert_eq!(to("dave@remote.example"), 0);
    let r = replies
        .iter()
        .find(|s| s.rcpts == ["carol@remote.example"])
        .unwrap();
    assert_eq!(r.mail_from, "", "auto-replies use the null sender");
    let text = String::from_utf8_lossy(r.data.as_ref().unwrap()).to_string();
    assert!(text.contains("Auto-Submitted: auto-replied"), "{text}");
    assert!(text.contains("Subject: Away until Monday"), "{text}");
    assert!(text.contains("In-Reply-To: <one@remote.example>"), "{text}");
    assert!(text.contains("Back on Monday."), "{text}");
}
