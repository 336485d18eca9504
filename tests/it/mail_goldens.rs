//! Golden files for Email/get (RFC 8621 §4.2): every message in tests/fixtures/emails arrives
//! over SMTP, is fetched with every property, the whole body structure and all body values, and
//! is compared exactly with its NN-name.json. Fields that depend on the delivery are normalised:
//! ids, receivedAt, the message blob's hash (kept: the part path after it), size, and the
//! trace header fields the server prepends.
//!
//! `UPDATE_GOLDEN=1 cargo test --test mail_goldens` rewrites the .json files; every rewritten
//! golden must be reviewed by hand against the RFC before it is committed.

use crate::common;
use crate::mail_support;
use common::*;
use serde_json::{Value, json};
use std::path::PathBuf;

const USER: &str = "gold@example.org";
const PASS: &str = "golden files are exact";

const PROPERTIES: [&str; 38] = [
    "id",
    "blobId",
    "threadId",
    "mailboxIds",
    "keywords",
    "size",
    "receivedAt",
    "messageId",
    "inReplyTo",
    "references",
    "sender",
    "from",
    "to",
    "cc",
    "bcc",
    "replyTo",
    "subject",
    "sentAt",
    "hasAttachment",
    "preview",
    "headers",
    "bodyStructure",
    "bodyValues",
    "textBody",
    "htmlBody",
    "attachments",
    "header:Subject:asText",
    "header:Date:asDate",
    "header:Message-ID:asMessageIds:all",
    "header:To:asGroupedAddresses",
    "header:Cc:asGroupedAddresses",
    "header:Bcc:asGroupedAddresses",
    "header:List-Id:asText",
    "header:List-Post:asURLs",
    "header:List-Unsubscribe:asURLs:all",
    "header:List-Archive:asURLs",
    "header:X-Mailer",
    "header:X-List-Post-Disabled:asURLs",
];

fn fixtures() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/emails");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    v.sort();
    v
}

/// Header fields in the fixture itself (a line starting a field, before the blank line).
fn header_count(raw: &[u8]) -> usize {
    let mut n = 0;
    for line in raw.split(|b| *b == b'\n') {
        if line.is_empty() || line == b"\r" {
            break;
        }
        if !line.starts_with(b" ") && !line.starts_with(b"\t") {
            n += 1;
        }
    }
    n
}

fn normalise(mut v: Value, raw: &[u8]) -> Value {
    let blob = v["blobId"].as_str().unwrap_or_default().to_string();
    let obj = v.as_object_mut().expect("object");
    for k in [
        "id",
        "blobId",
        "threadId",
        "receivedAt",
        "mailboxIds",
        "size",
    ] {
        obj.insert(k.into(), json!("<volatile>"));
    }
    drop_trace(&mut v, header_count(raw));
    // textBody/htmlBody/attachments hold the same part objects as bodyStructure (one renderer):
    // the golden records which parts they list, by partId, and checks they match the tree.
    let mut tree = Vec::new();
    flatten(&v["bodyStructure"], &mut tree);
    for list in ["textBody", "htmlBody", "attachments"] {
        let parts = v[list].as_array().cloned().unwrap_or_default();
        for p in &parts {
            assert!(tree.contains(p), "{list} part not in bodyStructure: {p}");
        }
        v[list] = Value::Array(parts.iter().map(|p| p["partId"].clone()).collect());
    }
    let text = serde_json::to_string(&v).expect("json");
    let text = text.replace(&blob, "<blob>");
    serde_json::from_str(&text).expect("json")
}

fn flatten(part: &Value, out: &mut Vec<Value>) {
    out.push(part.clone());
    for sub in part["subParts"].as_array().into_iter().flatten() {
        flatten(sub, out);
    }
}

/// The server prepends its Received field to the message: keep only the fixture's own fields
/// in every `headers` list that holds the message header (the root part's).
fn drop_trace(v: &mut Value, ours: usize) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "headers"
                    && let Value::Array(a) = x
                    && a.iter().any(|h| {
                        h["value"]
                            .as_str()
                            .is_some_and(|s| s.contains("(mailnook)"))
                    })
                {
                    let extra = a.len().saturating_sub(ours);
                    a.drain(..extra);
                } else {
                    drop_trace(x, ours);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| drop_trace(x, ours)),
        _ => {}
    }
}

#[tokio::test]
async fn email_get_matches_golden_files() {
    let s = Server::start();
    s.add_user(USER, PASS);
    let files = fixtures();
    assert!(files.len() >= 30, "the corpus has {} messages", files.len());
    let acct = s.account_id(USER, PASS).await;
    let mut ids: Vec<String> = Vec::new();
    for f in &files {
        let raw = std::fs::read(f).expect("read fixture");
        ids.push(mail_support::deliver_id(&s, USER, PASS, &acct, &raw).await);
    }
    let r = s
        .call(
            USER,
            PASS,
            json!([["Email/get", {"accountId": acct, "ids": ids,
                     "properties": PROPERTIES.to_vec(),
                     "bodyProperties": ["partId", "blobId", "size", "headers", "name", "type", "charset",
                                        "disposition", "cid", "language", "location", "subParts"],
                     "fetchAllBodyValues": true}, "g"]]),
        )
        .await;
    let list = r[0][1]["list"].as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), files.len(), "{r:?}");
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let mut failures = Vec::new();
    for (f, got) in files.iter().zip(list) {
        let raw = std::fs::read(f).expect("read fixture");
        let got = normalise(got, &raw);
        let golden = f.with_extension("json");
        let pretty = serde_json::to_string_pretty(&got).expect("json") + "\n";
        if update {
            std::fs::write(&golden, &pretty).expect("write golden");
            continue;
        }
        let want = std::fs::read_to_string(&golden)
            .unwrap_or_else(|_| panic!("missing golden {}", golden.display()));
        let want: Value = serde_json::from_str(&want).expect("golden json");
        if want != got {
            failures.push(format!(
                "{}:\n--- want\n{}\n--- got\n{pretty}",
                golden.display(),
                serde_json::to_string_pretty(&want).expect("json")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
