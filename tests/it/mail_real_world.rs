//! Five ways real mail was read wrong (issue #23: 6,046 public 2002-era messages compared with
//! an independent parser). Each message goes in over SMTP and is read back with Email/get, the
//! way a client sees it.

use crate::common;

use common::Server;
use serde_json::{Value, json};

const PASSWORD: &str = "a long secret";

fn deliver_and_get(s: &Server, raw: &str) -> Value {
    s.send("list@example.net", &["alice@example.org"], raw.as_bytes())
        .expect("SMTP delivery");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let id = s.account_id("alice@example.org", PASSWORD).await;
        let r = s
            .call(
                "alice@example.org",
                PASSWORD,
                json!([
                    ["Email/query", {"accountId": id, "sort": [{"property": "receivedAt", "isAscending": false}], "limit": 1}, "q"],
                    ["Email/get", {"accountId": id, "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
                        "properties": ["subject", "from", "sentAt", "preview", "hasAttachment"]}, "g"]
                ]),
            )
            .await;
        r[1][1]["list"][0].clone()
    })
}

#[test]
fn real_world_mail_is_read_right() {
    let s = Server::start();
    s.add_user("alice@example.org", PASSWORD);

    // 1. Two adjacent ISO-2022-JP encoded words ("テスト" + "テスト").
    let e = deliver_and_get(
        &s,
        "From: a@example.net\r\nTo: alice@example.org\r\n\
         Subject: =?iso-2022-jp?B?GyRCJUYlOSVIGyhC?= =?iso-2022-jp?B?GyRCJUYlOSVIGyhC?=\r\n\r\nbody\r\n",
    );
    assert_eq!(e["subject"], "テストテスト", "{e}");

    // 2. A quoted local part containing "@" (RFC 5322 §3.4.1).
    let e = deliver_and_get(
        &s,
        "From: \"joko@rs.128.ne.jp\"@FreeBSD.ORG\r\nTo: alice@example.org\r\nSubject: q\r\n\r\nbody\r\n",
    );
    assert_eq!(
        e["from"],
        json!([{"name": null, "email": "\"joko@rs.128.ne.jp\"@FreeBSD.ORG"}]),
        "{e}"
    );

    // 3. HTML whose <head> is never closed: the preview has the body text.
    let e = deliver_and_get(
        &s,
        "From: a@example.net\r\nTo: alice@example.org\r\nSubject: h\r\nContent-Type: text/html\r\n\r\n\
         <html><head><title>Special offer</title>\r\n<p>Dear friend, this is the body.</p></html>\r\n",
    );
    assert!(
        e["preview"]
            .as_str()
            .unwrap_or_default()
            .contains("Dear friend, this is the body"),
        "{e}"
    );

    // 4. Dates: a year-bug year (RFC 5322 §4.3), no zone (read as -0000), an impossible zone.
    let e = deliver_and_get(
        &s,
        "From: a@example.net\r\nTo: alice@example.org\r\nSubject: d1\r\nDate: Mon, 2 Sep 0102 10:11:12 +0900\r\n\r\nx\r\n",
    );
    assert_eq!(e["sentAt"], "2002-09-02T10:11:12+09:00", "{e}");
    let e = deliver_and_get(
        &s,
        "From: a@example.net\r\nTo: alice@example.org\r\nSubject: d2\r\nDate: Mon, 2 Sep 2002 10:11:12\r\n\r\nx\r\n",
    );
    assert_eq!(e["sentAt"], "2002-09-02T10:11:12Z", "{e}");
    let e = deliver_and_get(
        &s,
        "From: a@example.net\r\nTo: alice@example.org\r\nSubject: d3\r\nDate: Mon, 2 Sep 2002 10:11:12 01800\r\n\r\nx\r\n",
    );
    assert_eq!(e["sentAt"], Value::Null, "{e}");

    // 5. The only non-text part is an inline patch with a filename: hasAttachment.
    let e = deliver_and_get(
        &s,
        "From: a@example.net\r\nTo: alice@example.org\r\nSubject: patch\r\n\
         Content-Type: multipart/mixed; boundary=b\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nHere is the fix.\r\n\
         --b\r\nContent-Type: text/x-diff; name=fix.patch\r\nContent-Disposition: inline; filename=fix.patch\r\n\r\n\
         --- a/x\r\n+++ b/x\r\n--b--\r\n",
    );
    assert_eq!(e["hasAttachment"], true, "{e}");
}
