//! The MTA-STS policy host (RFC 8461 §3.3) and JMAP discovery (RFC 8620 §2.2) through the real
//! server: a client that resolves `mta-sts.<domain>` to the server gets the policy of that
//! local domain; `mailnook dns` prints the `_mta-sts` TXT whose id changes with the policy and
//! the TLS-RPT record (RFC 8460); `/.well-known/jmap` redirects to the Session and a real JMAP
//! client follows it.

use crate::common::Server;
use crate::smtp_support;

/// A client that sends `mta-sts.<domain>` as SNI and Host, resolved to the server.
fn policy_client(s: &Server, domain: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .resolve(&format!("mta-sts.{domain}"), s.https)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn fetch_policy(s: &Server, domain: &str) -> (u16, String, String) {
    let url = format!(
        "https://mta-sts.{domain}:{}/.well-known/mta-sts.txt",
        s.https.port()
    );
    let res = policy_client(s, domain).get(url).send().await.unwrap();
    let status = res.status().as_u16();
    let ctype = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, ctype, res.text().await.unwrap())
}

/// The `id=` of the `_mta-sts` line `mailnook dns` prints.
fn dns_id(s: &smtp_support::Srv, domain: &str) -> (String, String) {
    let config = s.config.display().to_string();
    let out = s.cli_ok(&["dns", domain, "--config", &config]);
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("_mta-sts.{domain}.\tIN TXT\t")))
        .unwrap_or_else(|| panic!("no _mta-sts record in:\n{out}"))
        .to_string();
    let id = line
        .split("id=")
        .nth(1)
        .unwrap_or_default()
        .trim_end_matches('"')
        .to_string();
    (id, out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_the_policy_by_host_and_its_id_follows_the_mode() {
    let mut s = smtp_support::start(
        "hostname = \"mail.example.org\"\nsmtp_greeting_delay_ms = 0\n",
        &[],
    );
    s.add_user("ann@example.org", "ann's long password");

    let (status, ctype, body) = fetch_policy(&s, "example.org").await;
    assert_eq!(status, 200, "{body}");
    assert!(ctype.starts_with("text/plain"), "{ctype}");
    assert_eq!(
        body,
        "version: STSv1\r\nmode: testing\r\nmx: mail.example.org\r\nmax_age: 604800\r\n"
    );
    // A domain that is not ours, or a Host that is not a policy host: no policy.
    assert_eq!(fetch_policy(&s, "example.net").await.0, 404);
    let res = s
        .http()
        .get(format!("{}/.well-known/mta-sts.txt", s.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);

    let (testing_id, out) = dns_id(&s, "example.org");
    assert!(!testing_id.is_empty() && testing_id.len() <= 32, "{out}");
    assert!(
        out.contains(
            "_smtp._tls.example.org.\tIN TXT\t\"v=TLSRPTv1; rua=mailto:postmaster@example.org\""
        ),
        "{out}"
    );
    assert!(
        out.contains("mta-sts.example.org.\tIN CNAME\tmail.example.org."),
        "{out}"
    );
    assert_eq!(
        dns_id(&s, "example.org").0,
        testing_id,
        "stable while unchanged"
    );

    // Enforce (with a report address of our choosing): a new policy, hence a new id.
    std::fs::write(
        &s.config,
        "hostname = \"mail.example.org\"\nsmtp_greeting_delay_ms = 0\n\
         [mta_sts]\nmode = \"enforce\"\nmax_age_secs = 86400\n\
         tlsrpt_rua = \"mailto:tls-reports@example.org\"\n",
    )
    .unwrap();
    s.restart();
    let (_, _, body) = fetch_policy(&s, "example.org").await;
    assert_eq!(
        body,
        "version: STSv1\r\nmode: enforce\r\nmx: mail.example.org\r\nmax_age: 86400\r\n"
    );
    let (enforce_id, out) = dns_id(&s, "example.org");
    assert_ne!(enforce_id, testing_id, "the id changes with the policy");
    assert!(out.contains("rua=mailto:tls-reports@example.org"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn well_known_jmap_redirects_to_the_session() {
    let s = Server::start();
    s.add_user("ann@example.org", "ann's long password");
    // Without following: a 307 to the Session resource, before any authentication.
    let res = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/.well-known/jmap", s.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 307);
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("{}/jmap/session", s.base_url())
    );
    // A real JMAP client given only the server's base URL discovers the session through the
    // redirect and works.
    let client = s.client("ann@example.org", "ann's long password").await;
    let session = client.session();
    assert!(
        session.api_url().ends_with("/jmap/api"),
        "{}",
        session.api_url()
    );
    let r = s
        .call(
            "ann@example.org",
            "ann's long password",
            serde_json::json!([["Mailbox/get", {"accountId": client.default_account_id()}, "m"]]),
        )
        .await;
    assert!(
        r[0][1]["list"].as_array().is_some_and(|l| !l.is_empty()),
        "{r:?}"
    );
}
