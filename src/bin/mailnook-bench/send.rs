//! The JMAP sending figure: a draft saved and submitted in one request (Email/set +
//! EmailSubmission/set, RFC 8621 §7), timed until EmailSubmission/get reports the local
//! delivery ("yes"), i.e. the whole queue round trip through the real binary.

use crate::http_client::Https;
use crate::stats::{Row, ms, percentile};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const USING: [&str; 3] = [
    "urn:ietf:params:jmap:core",
    "urn:ietf:params:jmap:mail",
    "urn:ietf:params:jmap:submission",
];

fn first_id(v: &Value, call: usize, pick: impl Fn(&Value) -> bool) -> Result<String, String> {
    v["methodResponses"][call][1]["list"]
        .as_array()
        .and_then(|l| l.iter().find(|x| pick(x)))
        .and_then(|x| x["id"].as_str())
        .map(str::to_string)
        .ok_or_else(|| format!("unexpected answer: {v}"))
}

/// `runs` sends from `user` to itself; one row.
pub fn figure(http: &mut Https, acct: &str, user: &str, runs: usize) -> Result<Row, String> {
    let v = http.jmap(&json!({"using": USING, "methodCalls": [
        ["Mailbox/get", {"accountId": acct, "properties": ["role"]}, "m"],
        ["Identity/get", {"accountId": acct}, "i"]]}))?;
    let drafts = first_id(&v, 0, |m| m["role"] == "drafts")?;
    let identity = first_id(&v, 1, |_| true)?;
    let mut lat = Vec::with_capacity(runs);
    for i in 0..runs {
        let t = Instant::now();
        let v = http.jmap(&json!({"using": USING, "methodCalls": [
            ["Email/set", {"accountId": acct, "create": {"d": {
                "mailboxIds": {drafts.clone(): true}, "keywords": {"$draft": true},
                "from": [{"email": user}], "to": [{"email": user}], "subject": format!("bench send {i}"),
                "bodyStructure": {"type": "text/plain", "partId": "1"},
                "bodyValues": {"1": {"value": "A short note to myself."}}}}}, "0"],
            ["EmailSubmission/set", {"accountId": acct, "create": {"s": {"emailId": "#d", "identityId": identity}},
              "onSuccessDestroyEmail": ["#s"]}, "1"]]}))?;
        let sid = v["methodResponses"][1][1]["created"]["s"]["id"]
            .as_str()
            .ok_or_else(|| format!("not sent: {v}"))?
            .to_string();
        loop {
            let v = http.jmap(&json!({"using": USING, "methodCalls": [
                ["EmailSubmission/get", {"accountId": acct, "ids": [sid], "properties": ["deliveryStatus"]}, "g"]]}))?;
            if v["methodResponses"][0][1]["list"][0]["deliveryStatus"][user]["delivered"] == "yes" {
                lat.push(t.elapsed());
                break;
            }
            if t.elapsed() > Duration::from_secs(10) {
                return Err(format!("send {i} not delivered after 10 s: {v}"));
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    lat.sort();
    Ok(Row {
        figure: "JMAP send -> delivered".into(),
        value: format!(
            "p50 {} p99 {}",
            ms(percentile(&lat, 0.5)),
            ms(percentile(&lat, 0.99))
        ),
        target: "-".into(),
        how: format!(
            "Email/set + EmailSubmission/set to a local account until deliveryStatus \"yes\", {runs} runs"
        ),
    })
}
