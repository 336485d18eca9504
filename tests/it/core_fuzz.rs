//! Fuzz-style tests (deterministic, seeded): random and mutated JMAP requests through
//! `jmap::handle` against a real store, and random PatchObjects through the patch applier.
//! The property: never a panic; every request gets either a request-level error or one
//! response per call (plus implicit ones); every accepted patch sets exactly what it says.

use crate::common::rng;
use mailnook::jmap::{self, Jmap, Limits, patch};
use mailnook::store::Store;
use rng::Rng;
use serde_json::{Map, Value, json};

const WORDS: &[&str] = &[
    "",
    "a",
    "#c1",
    "#c2",
    "#",
    "f0",
    "fa",
    "ma",
    "m0",
    "ta",
    "a1",
    "ab",
    "0",
    "1",
    "-1",
    "99999999999",
    "inbox",
    "Inbox",
    "$seen",
    "keywords/$seen",
    "a/b",
    "~0",
    "~1",
    "~",
    "/",
    "x~1y",
    "ü",
    "\u{0}",
    "name",
    "parentId",
    "role",
    "id",
    "ids",
    "list",
    "*",
    "/ids",
    "/list/*/id",
    "Email/query",
    "Mailbox/get",
    "2026-11-23T10:00:00Z",
    "https://localhost:1/p",
    "http://x",
    "bnope",
];
const KEYS: &[&str] = &[
    "accountId",
    "ids",
    "properties",
    "sinceState",
    "maxChanges",
    "create",
    "update",
    "destroy",
    "ifInState",
    "filter",
    "sort",
    "position",
    "anchor",
    "anchorOffset",
    "limit",
    "calculateTotal",
    "collapseThreads",
    "blobIds",
    "fromAccountId",
    "fetchTextBodyValues",
    "bodyProperties",
    "maxBodyValueBytes",
    "#ids",
    "deviceClientId",
    "url",
    "types",
    "expires",
    "verificationCode",
    "name",
    "parentId",
    "role",
    "keywords",
    "mailboxIds",
    "inMailbox",
    "text",
    "operator",
    "conditions",
    "property",
    "isAscending",
    "resultOf",
    "path",
    "onDestroyRemoveEmails",
    "onSuccessUpdateEmail",
    "onSuccessDestroyEmail",
    "emailId",
    "identityId",
    "envelope",
    "undoStatus",
];
const METHODS: &[&str] = &[
    "Core/echo",
    "Mailbox/get",
    "Mailbox/changes",
    "Mailbox/set",
    "Mailbox/query",
    "Mailbox/queryChanges",
    "Email/get",
    "Email/changes",
    "Email/query",
    "Email/queryChanges",
    "Email/set",
    "Email/import",
    "Email/copy",
    "Email/parse",
    "Thread/get",
    "Thread/changes",
    "SearchSnippet/get",
    "Identity/get",
    "Identity/set",
    "EmailSubmission/get",
    "EmailSubmission/set",
    "EmailSubmission/changes",
    "EmailSubmission/query",
    "EmailSubmission/queryChanges",
    "VacationResponse/get",
    "VacationResponse/set",
    "PushSubscription/get",
    "PushSubscription/set",
    "Blob/copy",
    "Nope/nope",
    "Email",
    "",
];

fn value(r: &mut Rng, depth: usize, acct: &str) -> Value {
    let k = if depth == 0 { r.below(5) } else { r.below(8) };
    match k {
        0 => Value::Null,
        1 => json!(r.below(2) == 0),
        2 => json!((r.next() % 2001) as i64 - 1000),
        3 => {
            if r.below(4) == 0 {
                json!(acct)
            } else {
                json!(*r.pick(WORDS))
            }
        }
        4 => json!(1.5e300),
        5 | 6 => {
            let mut m = Map::new();
            for _ in 0..r.below(5) {
                let key = if r.below(3) == 0 {
                    r.pick(WORDS).to_string()
                } else {
                    r.pick(KEYS).to_string()
                };
                m.insert(key, value(r, depth - 1, acct));
            }
            Value::Object(m)
        }
        _ => Value::Array((0..r.below(5)).map(|_| value(r, depth - 1, acct)).collect()),
    }
}

fn request(r: &mut Rng, acct: &str) -> Value {
    let mut calls = Vec::new();
    for i in 0..1 + r.below(4) {
        let mut args = Map::new();
        if r.below(4) != 0 {
            args.insert("accountId".into(), json!(acct));
        }
        // Half the calls carry only an accountId: they reach the methods' real work.
        let extra = if r.below(2) == 0 { r.below(4) } else { 0 };
        for _ in 0..extra {
            args.insert(r.pick(KEYS).to_string(), value(r, 3, acct));
        }
        if r.below(6) == 0 {
            args.insert(
                "#ids".into(),
                json!({"resultOf": (i.saturating_sub(1)).to_string(), "name": *r.pick(METHODS), "path": *r.pick(WORDS)}),
            );
        }
        calls.push(json!([*r.pick(METHODS), args, i.to_string()]));
    }
    let mut req = json!({
        "using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail",
                  "urn:ietf:params:jmap:submission"],
        "methodCalls": calls,
    });
    if r.below(4) == 0 {
        req["createdIds"] = json!({"c1": "fa", "c2": "ma"});
    }
    req
}

#[test]
fn random_requests_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("db"), 4 << 20).unwrap();
    let user = store
        .write_blocking(|w| w.create_account("fuzz@example.org", "x", false, 0))
        .unwrap();
    let jmap = Jmap {
        store,
        index: mailnook::index::SearchIndex::in_ram().unwrap(),
        limits: Limits::default(),
        outbound: None,
        net_guard: std::sync::Arc::new(mailnook::net_guard::NetGuard::public_only()),
    };
    let acct = mailnook::store::model::IdKind::Account.encode(user.id);
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut answered, mut refused) = (0, 0);
    for i in 0..1500 {
        let req = request(&mut r, &acct);
        let ncalls = req["methodCalls"].as_array().map(Vec::len).unwrap_or(0);
        let bytes = req.to_string().into_bytes();
        match smol::block_on(jmap::handle(&jmap, &user, &bytes)) {
            Ok(v) => {
                let n = v["methodResponses"].as_array().map(Vec::len).unwrap_or(0);
                assert!(
                    n >= ncalls,
                    "iteration {i}: {n} responses for {ncalls} calls: {req}"
                );
                answered += v["methodResponses"]
                    .as_array()
                    .map(|a| a.iter().filter(|x| x[0] != "error").count())
                    .unwrap_or(0);
            }
            Err(e) => {
                let p = e.problem();
                assert!(p["type"].is_string(), "iteration {i}: {p}");
                refused += 1;
            }
        }
        // The same request with bytes flipped, cut or duplicated.
        let mut m = bytes.clone();
        for _ in 0..1 + r.below(4) {
            if m.is_empty() {
                break;
            }
            let at = r.below(m.len());
            match r.below(3) {
                0 => m[at] = (r.next() & 0xff) as u8,
                1 => m.truncate(at),
                _ => {
                    let tail = m[at..].to_vec();
                    m.extend_from_slice(&tail);
                }
            }
        }
        let _ = smol::block_on(jmap::handle(&jmap, &user, &m));
    }
    eprintln!("fuzz: {answered} successful method responses, {refused} refused requests");
    assert!(
        answered > 200,
        "the generator must reach the methods, not only error paths"
    );
}

fn obj(r: &mut Rng, depth: usize) -> Map<String, Value> {
    let mut m = Map::new();
    for _ in 0..r.below(5) {
        let v = if depth > 0 && r.below(2) == 0 {
            Value::Object(obj(r, depth - 1))
        } else {
            value(r, 1, "a")
        };
        m.insert(r.pick(&["a", "b", "c", "x/y", "~", "k"]).to_string(), v);
    }
    m
}

/// Reads a patch path from an object (unescaping like the applier).
fn lookup<'a>(o: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let toks = patch::tokens(path).ok()?;
    let (last, parents) = toks.split_last()?;
    let mut cur = o;
    for p in parents {
        cur = cur.get(p)?.as_object()?;
    }
    cur.get(last)
}

#[test]
fn random_patches_never_panic_and_do_what_they_say() {
    let mut r = Rng(0xD1B5_4A32_D192_ED03);
    let segs = ["a", "b", "c", "x~1y", "~0", "~", "k", "", "0", "x/y"];
    let (mut ok, mut rejected) = (0, 0);
    for _ in 0..20_000 {
        let o = obj(&mut r, 3);
        let mut p = Map::new();
        for _ in 0..1 + r.below(3) {
            let n = 1 + r.below(3);
            let path: Vec<&str> = (0..n).map(|_| *r.pick(&segs)).collect();
            let v = if r.below(3) == 0 {
                Value::Null
            } else {
                value(&mut r, 1, "a")
            };
            p.insert(path.join("/"), v);
        }
        match patch::apply(&o, &p) {
            Ok(new) => {
                ok += 1;
                for (path, v) in &p {
                    let top = !path.contains('/');
                    match v {
                        Value::Null if !top => {
                            assert_eq!(lookup(&new, path), None, "{path} in {new:?}")
                        }
                        v => assert_eq!(lookup(&new, path), Some(v), "{path} in {new:?}"),
                    }
                }
            }
            Err(e) => {
                rejected += 1;
                assert_eq!(e.kind, "invalidPatch");
            }
        }
    }
    // The generator must explore both outcomes, or the test proves nothing.
    assert!(ok > 1000 && rejected > 1000, "ok {ok}, rejected {rejected}");
}
