//! Bearer tokens (RFC 6750, issue #15) through the real binary: accepted wherever Basic is,
//! refused with the §3 challenges (`invalid_token` when a token was sent), dead once expired
//! or once the account password changes, never accepted by the admin API, and counted by the
//! login door's failure budget like wrong passwords.

use crate::common::{Server, eventually};

const ALICE: &str = "alice@example.org";
const PW: &str = "alice main password";

/// Runs `mailnook user token ADDR` and returns the token it prints.
fn token(s: &Server, ttl: Option<&str>) -> String {
    let mut args = vec!["user", "token", ALICE];
    if let Some(t) = ttl {
        args.extend(["--ttl-secs", t]);
    }
    let out = s.cli(&args, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let t = text.lines().last().unwrap_or_default().trim().to_string();
    assert!(t.starts_with("mnk_"), "{text}");
    t
}

/// GET the session with a Bearer token: (status, WWW-Authenticate values).
async fn session(s: &Server, bearer: Option<&str>) -> (u16, Vec<String>) {
    let mut req = s.http().get(format!("{}/.well-known/jmap", s.base_url()));
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let challenges = res
        .headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap_or_default().to_string())
        .collect();
    (res.status().as_u16(), challenges)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_work_like_basic_and_die_with_the_password() {
    let s = Server::start();
    s.add_user(ALICE, PW);
    let t = token(&s, None);

    let (status, _) = session(&s, Some(&t)).await;
    assert_eq!(status, 200);
    let res = s
        .http()
        .post(format!("{}/jmap/api", s.base_url()))
        .bearer_auth(&t)
        .header("Content-Type", "application/json")
        .body(r#"{"using":["urn:ietf:params:jmap:core","urn:ietf:params:jmap:mail"],"methodCalls":[["Mailbox/get",{"ids":null},"0"]]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let v: serde_json::Value = res.json().await.unwrap();
    assert_eq!(v["methodResponses"][0][0], "Mailbox/get", "{v}");

    // No credentials: both schemes offered, no error code (RFC 6750 §3.1: "SHOULD NOT").
    let (status, ch) = session(&s, None).await;
    assert_eq!(status, 401);
    assert!(ch.iter().any(|c| c.starts_with("Basic realm=")), "{ch:?}");
    assert!(
        ch.iter().any(|c| c == "Bearer realm=\"mailnook\""),
        "{ch:?}"
    );
    // A token that was never issued: invalid_token.
    let forged = format!("mnk_{}", "A".repeat(43));
    let (status, ch) = session(&s, Some(&forged)).await;
    assert_eq!(status, 401);
    assert!(
        ch.iter()
            .any(|c| c.starts_with("Bearer realm=\"mailnook\", error=\"invalid_token\"")),
        "{ch:?}"
    );

    // Not for the admin API, even for an admin's token.
    let res = s
        .http()
        .get(format!("{}/admin/api/status", s.base_url()))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);

    // An expired token is refused and says so.
    let short = token(&s, Some("1"));
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (status, ch) = session(&s, Some(&short)).await;
    assert_eq!(status, 401);
    assert!(ch.iter().any(|c| c.contains("expired")), "{ch:?}");

    // A password change ends every token of the account.
    let out = s.cli(
        &["user", "passwd", ALICE, "--password-stdin"],
        Some("a new main password"),
    );
    assert!(out.status.success());
    let (status, ch) = session(&s, Some(&t)).await;
    assert_eq!(status, 401, "{ch:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_tokens_spend_the_login_budget() {
    let s = Server::start();
    s.add_user(ALICE, PW);
    let good = token(&s, None);
    // Distinct guesses until the door closes (10 per client by default).
    let status = eventually("throttled", || async {
        let guess = random_token();
        let (status, _) = session(&s, Some(&guess)).await;
        (status == 429).then_some(status)
    })
    .await;
    assert_eq!(status, 429);
    // Even the right token waits now: the client's budget is spent.
    let (status, _) = session(&s, Some(&good)).await;
    assert_eq!(status, 429);
}

/// A well-formed token nobody issued (distinct each call).
fn random_token() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("mnk_{:043}", n)
}
