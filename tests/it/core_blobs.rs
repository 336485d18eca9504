//! RFC 8620 §6 binary data through the real HTTP endpoints: upload returns accountId, blobId,
//! type and size; the same bytes give the same blobId; download returns the exact bytes with
//! the type and name from the URL; uploads are private to the uploader; maxSizeUpload and
//! maxConcurrentUpload are enforced with problem JSON naming the limit; Blob/copy.

use crate::common;
use crate::core_common;
use common::Server;
use serde_json::{Value, json};
use std::io::Write;

const USER: &str = "alice@example.org";
const PASS: &str = "correct horse battery";

/// A server whose `[limits]` come from a config file (kept alive by the returned dir).
pub fn server_with_limits(limits: &str) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("mailnook.toml");
    std::fs::write(&path, format!("[limits]\n{limits}\n")).expect("config");
    let s = Server::start_with(&["--config", path.to_str().expect("path")]);
    s.add_user(USER, PASS);
    (s, dir)
}

async fn upload(s: &Server, acct: &str, ctype: &str, bytes: Vec<u8>) -> (u16, Value) {
    let res = s
        .http()
        .post(format!("{}/jmap/upload/{acct}", s.base_url()))
        .basic_auth(USER, Some(PASS))
        .header("Content-Type", ctype)
        .body(bytes)
        .send()
        .await
        .expect("upload");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn upload_then_download_is_byte_exact() {
    let s = Server::start();
    s.add_user(USER, PASS);
    s.add_user("bob@example.org", "bob password 1");
    let acct = s.account_id(USER, PASS).await;
    // Every byte value, including invalid UTF-8 and NULs.
    let bytes: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 256) as u8).collect();
    let (status, v) = upload(&s, &acct, "image/png", bytes.clone()).await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["accountId"], json!(acct));
    assert_eq!(v["type"], json!("image/png"));
    assert_eq!(v["size"], json!(bytes.len()));
    let blob = v["blobId"].as_str().expect("blobId").to_string();

    // The same bytes again: stored once, same id.
    let (status, v2) = upload(&s, &acct, "application/x-other", bytes.clone()).await;
    assert_eq!(status, 201);
    assert_eq!(v2["blobId"], json!(blob));
    assert_eq!(v2["type"], json!("application/x-other"));

    let url = format!(
        "{}/jmap/download/{acct}/{blob}/caf%C3%A9%20photo.png?accept=image/png",
        s.base_url()
    );
    let res = s
        .http()
        .get(&url)
        .basic_auth(USER, Some(PASS))
        .send()
        .await
        .expect("download");
    assert_eq!(res.status().as_u16(), 200);
    let h = res.headers().clone();
    assert_eq!(h["content-type"], "image/png");
    let cd = h["content-disposition"].to_str().expect("ascii");
    assert!(
        cd.contains("filename*=UTF-8''caf%C3%A9%20photo.png"),
        "{cd}"
    );
    assert!(
        h["cache-control"]
            .to_str()
            .expect("cc")
            .contains("immutable")
    );
    let got = res.bytes().await.expect("bytes");
    assert_eq!(got.as_ref(), bytes.as_slice());

    // A bad type falls back to octet-stream rather than echoing junk into a header.
    let url = format!(
        "{}/jmap/download/{acct}/{blob}/x?accept=%3Cscript%3E",
        s.base_url()
    );
    let res = s
        .http()
        .get(&url)
        .basic_auth(USER, Some(PASS))
        .send()
        .await
        .expect("download");
    assert_eq!(res.headers()["content-type"], "application/octet-stream");

    // Uploads are private to the uploader (§6.1).
    let bob_acct = s.account_id("bob@example.org", "bob password 1").await;
    for (a, who) in [(&acct, "bob@example.org"), (&bob_acct, "bob@example.org")] {
        let url = format!("{}/jmap/download/{a}/{blob}/x", s.base_url());
        let res = s
            .http()
            .get(&url)
            .basic_auth(who, Some("bob password 1"))
            .send()
            .await
            .expect("dl");
        assert_eq!(res.status().as_u16(), 404);
    }
    // Nor can bob upload into alice's account.
    let res = s
        .http()
        .post(format!("{}/jmap/upload/{acct}", s.base_url()))
        .basic_auth("bob@example.org", Some("bob password 1"))
        .body("x")
        .send()
        .await
        .expect("upload");
    assert_eq!(res.status().as_u16(), 404);
    // Without credentials: 401.
    let res = s
        .http()
        .post(format!("{}/jmap/upload/{acct}", s.base_url()))
        .body("x")
        .send()
        .await
        .expect("upload");
    assert_eq!(res.status().as_u16(), 401);

    // Blob/copy within the user's reach; unknown blobs are notCopied, wrong accounts errors.
    let r = s
        .call(USER, PASS, json!([
            ["Blob/copy", {"fromAccountId": acct, "accountId": acct, "blobIds": [blob, "bnope"]}, "0"],
            ["Blob/copy", {"fromAccountId": bob_acct, "accountId": acct, "blobIds": [blob]}, "1"],
            ["Blob/copy", {"fromAccountId": acct, "accountId": bob_acct, "blobIds": [blob]}, "2"],
        ]))
        .await;
    assert_eq!(r[0][1]["copied"], json!({ blob.clone(): blob }));
    assert_eq!(r[0][1]["notCopied"]["bnope"]["type"], json!("notFound"));
    assert_eq!(r[1][1]["type"], json!("fromAccountNotFound"));
    assert_eq!(r[2][1]["type"], json!("accountNotFound"));
}

#[tokio::test]
async fn upload_size_limit_is_413_with_the_limit_name() {
    let (s, _dir) = server_with_limits("max_size_upload = 1000");
    let acct = s.account_id(USER, PASS).await;
    let (status, v) = upload(&s, &acct, "text/plain", vec![b'a'; 1000]).await;
    assert_eq!(status, 201, "{v}");
    let (status, v) = upload(&s, &acct, "text/plain", vec![b'b'; 1001]).await;
    assert_eq!(status, 413, "{v}");
    assert_eq!(v["type"], json!("urn:ietf:params:jmap:error:limit"));
    assert_eq!(v["limit"], json!("maxSizeUpload"));
    // The session advertises the configured limit.
    let res = s
        .http()
        .get(format!("{}/jmap/session", s.base_url()))
        .basic_auth(USER, Some(PASS))
        .send()
        .await
        .expect("session");
    let session: Value = res.json().await.expect("json");
    assert_eq!(
        session["capabilities"][common::CORE]["maxSizeUpload"],
        json!(1000)
    );
}

#[tokio::test]
async fn concurrent_uploads_past_the_limit_get_429() {
    let (s, _dir) = server_with_limits("max_concurrent_upload = 1");
    let acct = s.account_id(USER, PASS).await;
    // Hold one upload open: headers and half the body sent, the rest withheld.
    let mut held = core_common::connect(s.https);
    core_common::send_head(
        &mut held,
        "POST",
        &format!("/jmap/upload/{acct}"),
        &core_common::basic(USER, PASS),
        &[
            ("Content-Length", "10".into()),
            ("Content-Type", "text/plain".into()),
        ],
    );
    held.write_all(b"01234").expect("half");
    held.flush().expect("flush");
    let v = common::eventually("the second upload to be refused", || async {
        let (status, v) = upload(&s, &acct, "text/plain", b"x".to_vec()).await;
        (status == 429).then_some(v)
    })
    .await;
    assert_eq!(v["type"], json!("urn:ietf:params:jmap:error:limit"));
    assert_eq!(v["limit"], json!("maxConcurrentUpload"));
    held.write_all(b"56789").expect("rest");
    held.flush().expect("flush");
    let mut r = std::io::BufReader::new(held);
    let (status, headers) = core_common::read_head(&mut r);
    assert_eq!(status, 201);
    let body: Value =
        serde_json::from_slice(&core_common::read_body(&mut r, &headers)).expect("json");
    assert_eq!(body["size"], json!(10));
    // The slot is free again.
    let (status, _) = upload(&s, &acct, "text/plain", b"y".to_vec()).await;
    assert_eq!(status, 201);
}
