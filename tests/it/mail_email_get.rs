//! Email/get arguments (RFC 8621 §4.2) through the real endpoint, on messages that arrived over
//! SMTP: properties and their defaults, header forms and their restrictions, bodyProperties,
//! the fetch*BodyValues switches, maxBodyValueBytes truncation, and downloading body parts by
//! their blob ids (including a part inside an attached message).

use crate::common;
use crate::mail_support;
use common::*;
use mail_support::*;
use serde_json::json;

const USER: &str = "getter@example.org";
const PASS: &str = "fetch all the things";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/emails/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

async fn download(s: &Server, acct: &str, blob: &str) -> (u16, Vec<u8>) {
    let res = s
        .http()
        .get(format!("{}/jmap/download/{acct}/{blob}/x", s.base_url()))
        .basic_auth(USER, Some(PASS))
        .send()
        .await
        .expect("download");
    let status = res.status().as_u16();
    (status, res.bytes().await.expect("bytes").to_vec())
}

#[tokio::test]
async fn arguments_forms_truncation_and_part_blobs() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let acct = s.account_id(USER, PASS).await;
    let alt = deliver_id(
        &s,
        USER,
        PASS,
        &acct,
        &fixture("05-multipart-alternative.eml"),
    )
    .await;
    let att = deliver_id(
        &s,
        USER,
        PASS,
        &acct,
        &fixture("06-multipart-mixed-two-attachments.eml"),
    )
    .await;
    let fwd = deliver_id(
        &s,
        USER,
        PASS,
        &acct,
        &fixture("09-attached-rfc822-multipart.eml"),
    )
    .await;
    let utf8 = deliver_id(&s, USER, PASS, &acct, &fixture("02-utf8-8bit-body.eml")).await;

    // properties: null gives the §4.2 default list: body lists and bodyValues, no headers.
    let r = call1(
        &s,
        USER,
        PASS,
        "Email/get",
        json!({"accountId": acct, "ids": [alt]}),
    )
    .await;
    let e = &r["list"][0];
    for p in [
        "textBody",
        "htmlBody",
        "attachments",
        "bodyValues",
        "preview",
        "threadId",
    ] {
        assert!(e.get(p).is_some(), "default property {p} missing: {e}");
    }
    assert!(e.get("headers").is_none() && e.get("bodyStructure").is_none());
    assert_eq!(e["bodyValues"], json!({}), "no fetch* argument, no values");
    // Default bodyProperties: no headers, no subParts.
    assert_eq!(
        e["textBody"][0]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>(),
        vec![
            "blobId",
            "charset",
            "cid",
            "disposition",
            "language",
            "location",
            "name",
            "partId",
            "size",
            "type"
        ]
    );

    // fetchHTMLBodyValues picks the HTML part only; fetchTextBodyValues the plain one.
    let r = call1(
        &s,
        USER,
        PASS,
        "Email/get",
        json!({"accountId": acct, "ids": [alt],
        "properties": ["bodyValues"], "fetchHTMLBodyValues": true}),
    )
    .await;
    let keys: Vec<String> = r["list"][0]["bodyValues"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, vec!["2"]);
    let r = call1(
        &s,
        USER,
        PASS,
        "Email/get",
        json!({"accountId": acct, "ids": [alt],
        "properties": ["bodyValues"], "fetchTextBodyValues": true}),
    )
    .await;
    let keys: Vec<String> = r["list"][0]["bodyValues"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(keys, vec!["1"]);

    // maxBodyValueBytes: never mid-code-point, never inside an HTML tag.
    let r = call1(
        &s,
        USER,
        PASS,
        "Email/get",
        json!({"accountId": acct, "ids": [utf8, alt],
        "properties": ["bodyValues"], "fetchAllBodyValues": true, "maxBodyValueBytes": 14}),
    )
    .await;
    let v = &r["list"][0]["bodyValues"]["1"];
    // "Bonjour à tous" is 15 bytes (à is 2): 14 bytes cut before the last 's' boundary.
    assert_eq!(v["value"], json!("Bonjour à tou"));
    assert_eq!(v["isTruncated"], json!(true));
    let html = &r["list"][1]["bodyValues"]["2"];
    assert_eq!(html["value"], json!("<html><body>"), "{html}");
    assert_eq!(
        r["list"][1]["bodyValues"]["1"]["value"],
        json!("Good news! You")
    );

    // Header forms, case of the property name kept as asked.
    let r = call1(
        &s,
        USER,
        PASS,
        "Email/get",
        json!({"accountId": acct, "ids": [utf8],
        "properties": ["header:SUBJECT:asText", "header:subject", "header:From:asAddresses",
                       "header:Date:asDate", "header:X-None:all", "header:Content-Type"]}),
    )
    .await;
    let e = &r["list"][0];
    assert_eq!(e["header:SUBJECT:asText"], json!("Café menu ☕"));
    assert_eq!(
        e["header:subject"],
        json!(" =?UTF-8?Q?Caf=C3=A9_menu_=E2=98=95?=")
    );
    assert_eq!(
        e["header:From:asAddresses"],
        json!([{"name": "Zoë Ng", "email": "zoe@example.net"}])
    );
    assert_eq!(e["header:Date:asDate"], json!("2023-11-15T18:02:33-08:00"));
    assert_eq!(e["header:X-None:all"], json!([]));
    assert_eq!(
        e["header:Content-Type"],
        json!(" text/plain; charset=utf-8; format=flowed")
    );

    // Forbidden forms and unknown properties are invalidArguments (§4.2).
    for bad in [
        "header:From:asDate",
        "header:Subject:asAddresses",
        "header:Date:asURLs",
        "header:From:asText",
        "header:X:asNothing",
        "nope",
    ] {
        let e = call_err(
            &s,
            USER,
            PASS,
            "Email/get",
            json!({"accountId": acct, "ids": [utf8], "properties": [bad]}),
        )
        .await;
        assert_eq!(e["type"], json!("invalidArguments"), "{bad}: {e}");
    }
    let e = call_err(&s, USER, PASS, "Email/get",
        json!({"accountId": acct, "ids": [utf8], "properties": ["textBody"], "bodyProperties": ["nope"]})).await;
    assert_eq!(e["type"], json!("invalidArguments"));
    let e = call_err(
        &s,
        USER,
        PASS,
        "Email/get",
        json!({"accountId": acct, "ids": [utf8], "maxBodyValueBytes": -1}),
    )
    .await;
    assert_eq!(e["type"], json!("invalidArguments"));

    // bodyProperties with a header form on parts.
    let r = call1(
        &s,
        USER,
        PASS,
        "Email/get",
        json!({"accountId": acct, "ids": [att],
        "properties": ["attachments"],
        "bodyProperties": ["partId", "header:Content-Disposition", "header:Content-Type:asRaw"]}),
    )
    .await;
    let a = &r["list"][0]["attachments"];
    assert_eq!(
        a[0]["header:Content-Disposition"],
        json!(" attachment; filename=\"Invoice 2023-11.pdf\"; size=90")
    );
    assert_eq!(a[1]["partId"], json!("3"));

    // Part blobs download as the decoded octets.
    let r = call1(
        &s,
        USER,
        PASS,
        "Email/get",
        json!({"accountId": acct, "ids": [att, fwd],
        "properties": ["attachments", "blobId"]}),
    )
    .await;
    let pdf_blob = r["list"][0]["attachments"][0]["blobId"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, pdf) = download(&s, &acct, &pdf_blob).await;
    assert_eq!(status, 200);
    assert!(
        pdf.starts_with(b"%PDF-1.4"),
        "{:?}",
        String::from_utf8_lossy(&pdf)
    );
    assert_eq!(pdf.len(), 90);
    // The attached message is a blob; a part inside it is reachable by extending the path.
    let msg_blob = r["list"][1]["attachments"][0]["blobId"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, inner) = download(&s, &acct, &msg_blob).await;
    assert_eq!(status, 200);
    assert!(inner.starts_with(b"Message-ID: <kickoff.999@example.org>"));
    let (status, csv) = download(&s, &acct, &format!("{msg_blob}_2")).await;
    assert_eq!(status, 200);
    assert_eq!(csv, b"time,topic\r\n09:00,Intro\r\n09:30,Roadmap\r\n");
    // Paths that lead nowhere are 404, never a server error.
    for bad in [
        format!("{msg_blob}_9"),
        format!("{pdf_blob}_1_1"),
        format!("{msg_blob}_x"),
        format!(
            "{}_1",
            r["list"][1]["blobId"].as_str().unwrap().replace('b', "c")
        ),
    ] {
        let (status, _) = download(&s, &acct, &bad).await;
        assert_eq!(status, 404, "{bad}");
    }
}
