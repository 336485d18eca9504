//! Bad input: garbage bytes, NUL, bare LF/CR, invalid UTF-8 in headers, 8-bit data without
//! 8BITMIME, malformed MIME, missing or duplicated Message-ID, a header block with no body, and
//! SMTP smuggling. Each gets a clear reply or is stored exactly as received, and the server
//! carries on.

use crate::common;
use crate::smtp_support as support;

use common::code;
use support::{PLAIN, deliver, start, stored};

const USER: &str = "alice@example.org";
const PASS: &str = "alice password 1";

#[tokio::test]
async fn garbage_commands_get_clear_replies() {
    let s = start(PLAIN, &[]);
    s.add_user(USER, PASS);
    let mut t = s.transcript();
    let cases: [(&[u8], &str); 8] = [
        (b"\x00\x01\x02\xff\xfe\r\n", "500 5.5.1"),
        (b"\r\n", "500 5.5.1"),
        (b"NOOP\x00\r\n", ""),
        (b"MAIL FROM:<a\x00b@example.net>\r\n", "50"),
        (b"\xc3\x28\xa0\xa1 bad utf8\r\n", "500 5.5.1"),
        (b"EHLO bare-lf.example\n", "250-"),
        (b"MAIL FROM:<x@example.net> BODY=9BIT\r\n", "50"),
        (b"RCPT TO:<<<>>>\r\n", "50"),
    ];
    for (input, expect) in cases {
        t.send(input);
        let r = t.reply();
        assert!(!r.is_empty(), "{input:?}: the server answered");
        assert!(r.starts_with(expect), "{input:?} -> {r:?}");
        assert!(r.ends_with("\r\n"), "{input:?}: replies end in CRLF");
    }
    // A bare CR inside a line is not a line end.
    t.send(b"NOOP\rRSET\r\n");
    let r = t.reply();
    assert!(r.starts_with('2') || r.starts_with('5'), "{r:?}");
    assert_eq!(t.cmd("RSET"), 250, "the session carries on");
    let r = deliver(
        &mut t,
        "b@example.net",
        &[USER],
        &common::message("b@example.net", USER, "after garbage", "g@x", "ok"),
    );
    assert!(r.starts_with("250 2.6.0"), "{r}");
}

#[tokio::test]
async fn odd_messages_are_stored_as_received() {
    let s = start(PLAIN, &[]);
    s.add_user(USER, PASS);
    let mut t = s.transcript();
    // HELO: no 8BITMIME was offered, yet the client sends 8-bit data. It is stored as received.
    assert_eq!(t.cmd("HELO old.example"), 250);
    let messages: Vec<(&str, Vec<u8>)> = vec![
        (
            "eightbit",
            "Subject: eightbit\r\n\r\nGrüße aus Köln, 8-bit without 8BITMIME\r\n"
                .as_bytes()
                .to_vec(),
        ),
        (
            "badutf8",
            b"Subject: badutf8 \xff\xfe\xc3\x28\r\nFrom: \xe9t\xe9 <x@example.net>\r\n\r\nbody \xff\r\n"
                .to_vec(),
        ),
        (
            "nomime",
            b"Subject: nomime\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n--nothing\r\nnot really mime\r\n"
                .to_vec(),
        ),
        (
            "unclosed",
            b"Subject: unclosed\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\npart one, never closed\r\n"
                .to_vec(),
        ),
        ("nomsgid", b"Subject: nomsgid\r\n\r\nno message id\r\n".to_vec()),
        (
            "dupmsgid",
            b"Subject: dupmsgid\r\nMessage-ID: <one@x>\r\nMessage-ID: <two@x>\r\n\r\ntwo ids\r\n"
                .to_vec(),
        ),
        ("headersonly", b"Subject: headersonly\r\nFrom: h@example.net\r\n".to_vec()),
        ("nulbyte", b"Subject: nulbyte\r\n\r\nbefore\x00after\r\n".to_vec()),
    ];
    // With sender authentication off, a forged Authentication-Results naming this server is
    // still removed (RFC 8601 §5); others' results stay.
    let forged = b"Authentication-Results: localhost; dkim=pass\r\nAuthentication-Results: other.example; spf=pass\r\nSubject: forged\r\n\r\nx\r\n";
    let r = deliver(&mut t, "b@example.net", &[USER], forged);
    assert!(r.starts_with("250 2.6.0"), "{r}");
    for (name, m) in &messages {
        let r = deliver(&mut t, "b@example.net", &[USER], m);
        assert!(r.starts_with("250 2.6.0"), "{name}: {r}");
    }
    // Bare LF line ends are normalised to CRLF, and "\n.\n" does not end the data (SMTP
    // smuggling): the smuggled command stays inside the one message.
    assert_eq!(t.cmd("MAIL FROM:<b@example.net>"), 250);
    assert_eq!(t.cmd(&format!("RCPT TO:<{USER}>")), 250);
    assert_eq!(t.cmd("DATA"), 354);
    t.send(b"Subject: smuggle\n\nline one\n.\nMAIL FROM:<evil@example.net>\r\n.\r\n");
    assert_eq!(code(&t.reply()), 250);
    assert_eq!(t.cmd("NOOP"), 250, "nothing smuggled was run as a command");
    assert_eq!(t.cmd("QUIT"), 221);

    let all = stored(&s, USER, PASS).await;
    assert_eq!(all.len(), messages.len() + 2, "one message each");
    let f = all.iter().find(|x| x.subject == "forged").expect("forged");
    assert!(
        !f.raw.contains("Authentication-Results: localhost"),
        "{}",
        f.raw
    );
    assert!(
        f.raw
            .contains("Authentication-Results: other.example; spf=pass\r\n")
    );
    let acct = s.account_id(USER, PASS).await;
    for (name, m) in &messages {
        let found = all
            .iter()
            .find(|x| x.raw.contains(&format!("Subject: {name}")))
            .unwrap_or_else(|| panic!("{name} stored"));
        let _ = found;
        // Byte-exact after our trace headers: download the blob again as bytes.
        let raw = download_raw(&s, &acct, name).await;
        assert!(
            raw.windows(m.len()).any(|w| w == m.as_slice()),
            "{name} stored byte for byte"
        );
    }
    let smuggle = all
        .iter()
        .find(|x| x.subject == "smuggle")
        .expect("smuggle");
    assert!(
        smuggle
            .raw
            .contains("line one\r\n.\r\nMAIL FROM:<evil@example.net>\r\n")
    );
}

/// The raw bytes of the message whose subject starts with `name`.
async fn download_raw(s: &common::Server, acct: &str, name: &str) -> Vec<u8> {
    use serde_json::json;
    let r = s
        .call(
            USER,
            PASS,
            json!([["Email/query", {"accountId": acct}, "q"], ["Email/get", {"accountId": acct, "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"}, "properties": ["blobId"]}, "g"]]),
        )
        .await;
    for e in r[1][1]["list"].as_array().cloned().unwrap_or_default() {
        let blob = e["blobId"].as_str().unwrap_or_default();
        let url = format!("{}/jmap/download/{acct}/{blob}/m.eml", s.base_url());
        let bytes = s
            .http()
            .get(url)
            .basic_auth(USER, Some(PASS))
            .send()
            .await
            .expect("download")
            .bytes()
            .await
            .expect("bytes")
            .to_vec();
        let needle = format!("Subject: {name}");
        if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
            return bytes;
        }
    }
    panic!("{name} not found");
}
