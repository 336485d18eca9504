//! The OAuth 2.0 authorization server (issue #15) through the real binary, played like an app
//! would: discover the metadata, send the user to `/oauth/authorize` with a PKCE challenge,
//! catch the redirect on a loopback listener (RFC 8252 §7.3), exchange the code, call JMAP
//! with the access token, refresh (rotation), revoke. The end-to-end test drives the consent
//! page in headless Chromium (tests/browser/oauth.mjs); the others post the form over HTTP and
//! check each refusal: unregistered redirect URI (no redirect), plain PKCE, cross-site consent,
//! wrong verifier, reused code, refresh-token reuse (the family dies), expiry, revocation.

use crate::browser_support;
use crate::common::Server;
use base64::Engine;
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;

const ALICE: &str = "alice@example.org";
const PW: &str = "alice main password";
const REDIRECT: &str = "http://127.0.0.1/callback";

/// `mailnook oauth client add NAME --redirect URI`: the client_id it prints.
fn register(s: &Server, name: &str, redirect: &str) -> String {
    let out = s.cli(
        &["oauth", "client", "add", name, "--redirect", redirect],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let id = text
        .split('\t')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    assert!(id.starts_with("mnc_"), "{text}");
    id
}

/// A PKCE pair (RFC 7636 §4.1, §4.2): (verifier, S256 challenge).
fn pkce(seed: u8) -> (String, String) {
    let verifier: String = (0..64)
        .map(|i| (b'a' + ((i as u8).wrapping_mul(7).wrapping_add(seed) % 26)) as char)
        .collect();
    let d = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d.as_ref());
    (verifier, challenge)
}

/// An `application/x-www-form-urlencoded` body.
fn enc<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let mut f = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        f.append_pair(k.as_ref(), v.as_ref());
    }
    f.finish()
}

/// An HTTP client that shows redirects instead of following them.
fn raw() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn authorize_url(
    s: &Server,
    client: &str,
    redirect: &str,
    challenge: &str,
    method: &str,
) -> String {
    let mut u = reqwest::Url::parse(&format!("{}/oauth/authorize", s.base_url())).unwrap();
    u.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client)
        .append_pair("redirect_uri", redirect)
        .append_pair("state", "xyz 123")
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", method);
    u.to_string()
}

/// The consent form's per-request token from the page.
fn request_token(page: &str) -> String {
    let at = page
        .find("name=\"request\" value=\"")
        .expect("request field")
        + 22;
    page[at..].split('"').next().unwrap_or_default().to_string()
}

/// Plays the browser over HTTP: opens the page, signs in and allows; the `Location` answered.
async fn consent_over_http(s: &Server, url: &str) -> reqwest::Url {
    let page = raw().get(url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    let res = raw()
        .post(format!("{}/oauth/authorize", s.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(enc(&[
            ("request", request_token(&page).as_str()),
            ("address", ALICE),
            ("password", PW),
            ("decision", "allow"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    location(&res)
}

fn location(res: &reqwest::Response) -> reqwest::Url {
    let l = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("Location");
    reqwest::Url::parse(l).expect("absolute Location")
}

fn param(u: &reqwest::Url, k: &str) -> Option<String> {
    u.query_pairs()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.into_owned())
}

/// POSTs a form to the token or revocation endpoint: (status, JSON, Cache-Control).
async fn post_form(s: &Server, path: &str, form: &[(&str, &str)]) -> (u16, Value, String) {
    let res = raw()
        .post(format!("{}{path}", s.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(enc(form))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let cc = res
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    (status, body, cc)
}

async fn exchange(
    s: &Server,
    client: &str,
    code: &str,
    redirect: &str,
    verifier: &str,
) -> (u16, Value) {
    let (st, v, cc) = post_form(
        s,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("client_id", client),
            ("code", code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ],
    )
    .await;
    assert_eq!(
        cc, "no-store",
        "token responses are not cached (RFC 6749 §5.1)"
    );
    (st, v)
}

async fn refresh(s: &Server, client: &str, rt: &str) -> (u16, Value) {
    let (st, v, _) = post_form(
        s,
        "/oauth/token",
        &[
            ("grant_type", "refresh_token"),
            ("client_id", client),
            ("refresh_token", rt),
        ],
    )
    .await;
    (st, v)
}

/// Mailbox/get with a Bearer token: the HTTP status and the WWW-Authenticate values.
async fn jmap(s: &Server, access: &str) -> (u16, String) {
    let res = raw()
        .post(format!("{}/jmap/api", s.base_url()))
        .bearer_auth(access)
        .header("Content-Type", "application/json")
        .body(r#"{"using":["urn:ietf:params:jmap:core","urn:ietf:params:jmap:mail"],"methodCalls":[["Mailbox/get",{"ids":null},"0"]]}"#)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let challenge = res
        .headers()
        .get_all("www-authenticate")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(" | ");
    if status == 200 {
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["methodResponses"][0][0], "Mailbox/get", "{v}");
    }
    (status, challenge)
}

/// A fresh grant over HTTP: (access token, refresh token).
async fn grant(s: &Server, client: &str, seed: u8) -> (String, String) {
    let (verifier, challenge) = pkce(seed);
    let back = consent_over_http(s, &authorize_url(s, client, REDIRECT, &challenge, "S256")).await;
    let code = param(&back, "code").expect("code");
    let (st, v) = exchange(s, client, &code, REDIRECT, &verifier).await;
    assert_eq!(st, 200, "{v}");
    (
        v["access_token"].as_str().unwrap().to_string(),
        v["refresh_token"].as_str().unwrap().to_string(),
    )
}

/// A one-shot loopback HTTP listener (the native app's redirect target, RFC 8252 §7.3): the
/// port, and a thread that returns the request target of the first request.
fn loopback() -> (u16, std::thread::JoinHandle<String>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().unwrap().port();
    let t = std::thread::spawn(move || {
        // Browsers may open a speculative connection that sends nothing: skip those.
        for conn in l.incoming() {
            let Ok(mut conn) = conn else { continue };
            let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let mut reader = BufReader::new(conn.try_clone().expect("clone"));
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || !line.starts_with("GET /callback") {
                continue;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                    break;
                }
            }
            let body =
                "<!doctype html><title>Signed in</title><p id=done>You can close this window.</p>";
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            return line.split(' ').nth(1).unwrap_or_default().to_string();
        }
        String::new()
    });
    (port, t)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_signs_in_through_the_consent_page_in_chromium() {
    let (browser, dir) = browser_support::ready();
    let shots = browser_support::screenshot_dir();
    let s = Server::start();
    s.add_user(ALICE, PW);
    let client = register(&s, "Parula on Anna's phone", REDIRECT);

    // 1. Discovery (RFC 8414).
    let meta: Value = raw()
        .get(format!(
            "{}/.well-known/oauth-authorization-server",
            s.base_url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["issuer"], s.base_url(), "{meta}");
    assert_eq!(
        meta["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        meta["response_types_supported"],
        serde_json::json!(["code"])
    );
    assert_eq!(
        meta["token_endpoint_auth_methods_supported"],
        serde_json::json!(["none"])
    );
    let grants = meta["grant_types_supported"].to_string();
    assert!(
        grants.contains("authorization_code") && grants.contains("refresh_token"),
        "{meta}"
    );
    let authorize = meta["authorization_endpoint"].as_str().unwrap().to_string();
    let token_ep = meta["token_endpoint"].as_str().unwrap().to_string();
    let revoke_ep = meta["revocation_endpoint"].as_str().unwrap().to_string();
    assert_eq!(token_ep, format!("{}/oauth/token", s.base_url()));

    // 2. The user signs in and allows in a real browser; the redirect reaches our listener.
    let (port, caught) = loopback();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let (verifier, challenge) = pkce(1);
    let mut url = reqwest::Url::parse(&authorize).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client)
        .append_pair("redirect_uri", &redirect)
        .append_pair("scope", "mail")
        .append_pair("state", "s-42")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    let out = Command::new("node")
        .arg("oauth.mjs")
        .current_dir(&dir)
        .env("MAILNOOK_AUTHORIZE_URL", url.as_str())
        .env("MAILNOOK_USER", ALICE)
        .env("MAILNOOK_PASSWORD", PW)
        .env("MAILNOOK_CLIENT_NAME", "Parula on Anna's phone")
        .env("MAILNOOK_REDIRECT", &redirect)
        .env("MAILNOOK_SCREENSHOT_DIR", &shots)
        .env("CHROMIUM", &browser)
        .output()
        .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("BROWSER TEST PASSED"),
        "browser test failed:\n{stdout}\n{stderr}\nserver log:\n{}",
        s.log()
    );
    let target = caught.join().expect("listener");
    let back = reqwest::Url::parse(&format!("http://127.0.0.1:{port}{target}")).unwrap();
    assert_eq!(back.path(), "/callback");
    assert_eq!(param(&back, "state").as_deref(), Some("s-42"));
    assert_eq!(param(&back, "iss").as_deref(), Some(s.base_url().as_str()));
    let code = param(&back, "code").expect("code in the redirect");

    // 3. The code and the verifier buy a token pair.
    let (st, v) = exchange(&s, &client, &code, &redirect, &verifier).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["token_type"], "Bearer");
    assert!(v["expires_in"].as_i64().unwrap_or(0) > 0, "{v}");
    let access = v["access_token"].as_str().unwrap().to_string();
    let rt = v["refresh_token"].as_str().unwrap().to_string();

    // 4. JMAP with the token.
    assert_eq!(jmap(&s, &access).await.0, 200);

    // 5. Refresh: a new pair, a new refresh token (rotation), both work.
    let (st, v) = refresh(&s, &client, &rt).await;
    assert_eq!(st, 200, "{v}");
    let access2 = v["access_token"].as_str().unwrap().to_string();
    let rt2 = v["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt2, rt);
    assert_ne!(access2, access);
    assert_eq!(jmap(&s, &access2).await.0, 200);

    // 6. Revoke the refresh token (RFC 7009): the grant ends, the access tokens with it.
    let res = raw()
        .post(&revoke_ep)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(enc(&[
            ("token", rt2.as_str()),
            ("client_id", client.as_str()),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (st, challenge) = jmap(&s, &access2).await;
    assert_eq!(st, 401);
    assert!(challenge.contains("invalid_token"), "{challenge}");
    assert_eq!(jmap(&s, &access).await.0, 401);
    assert_eq!(refresh(&s, &client, &rt2).await.0, 400);
    let log = s.log();
    assert!(
        log.contains(&format!("oauth: {ALICE} allowed Parula on Anna's phone")),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_requests_and_codes_are_checked() {
    let s = Server::start();
    s.add_user(ALICE, PW);
    let client = register(&s, "Test app", REDIRECT);
    let (verifier, challenge) = pkce(2);

    // A redirect URI that was not registered: our own error page, never a redirect
    // (RFC 6749 §4.1.2.1). Same for an unknown client.
    for url in [
        authorize_url(
            &s,
            &client,
            "http://127.0.0.1:9999/elsewhere",
            &challenge,
            "S256",
        ),
        authorize_url(
            &s,
            &client,
            "https://evil.example/callback",
            &challenge,
            "S256",
        ),
        authorize_url(&s, "mnc_unknown", REDIRECT, &challenge, "S256"),
    ] {
        let res = raw().get(&url).send().await.unwrap();
        assert_eq!(res.status(), 400, "{url}");
        assert!(res.headers().get("location").is_none(), "{url}");
        let page = res.text().await.unwrap();
        assert!(page.contains("id=\"error\""), "{page}");
        assert!(
            !page.contains("name=\"request\""),
            "no consent form: {page}"
        );
    }

    // plain PKCE, or none, is refused back to the (registered) app (RFC 7636 §4.4.1).
    for method in ["plain", ""] {
        let url = authorize_url(
            &s,
            &client,
            "http://127.0.0.1:5000/callback",
            &challenge,
            method,
        );
        let res = raw().get(&url).send().await.unwrap();
        assert_eq!(res.status(), 303, "{method}");
        let back = location(&res);
        assert_eq!(back.port(), Some(5000));
        assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
        assert_eq!(param(&back, "state").as_deref(), Some("xyz 123"));
        assert!(param(&back, "code").is_none());
    }

    // A cross-site consent POST is refused (and no code is issued).
    let page = raw()
        .get(authorize_url(&s, &client, REDIRECT, &challenge, "S256"))
        .send()
        .await
        .unwrap();
    let csp = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(csp.contains("form-action 'self' http://127.0.0.1"), "{csp}");
    let page = page.text().await.unwrap();
    assert!(page.contains("Test app"), "{page}");
    let form = [
        ("request", request_token(&page)),
        ("address", ALICE.to_string()),
        ("password", PW.to_string()),
        ("decision", "allow".to_string()),
    ];
    let res = raw()
        .post(format!("{}/oauth/authorize", s.base_url()))
        .header("Origin", "https://evil.example")
        .header("Sec-Fetch-Site", "cross-site")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(enc(&form))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers().get("location").is_none());

    // The same form from our own origin goes through once; the page cannot be posted again.
    let res = raw()
        .post(format!("{}/oauth/authorize", s.base_url()))
        .header("Origin", s.base_url())
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(enc(&form))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let code = param(&location(&res), "code").expect("code");
    let res = raw()
        .post(format!("{}/oauth/authorize", s.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(enc(&form))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "a consent form is single-use");

    // A wrong verifier is refused, and the code is spent with it.
    let (wrong, _) = pkce(3);
    let (st, v) = exchange(&s, &client, &code, REDIRECT, &wrong).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    let (st, v) = exchange(&s, &client, &code, REDIRECT, &verifier).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );

    // A reused code is refused and takes the tokens it bought with it (RFC 6749 §4.1.2).
    let back = consent_over_http(
        &s,
        &authorize_url(&s, &client, REDIRECT, &challenge, "S256"),
    )
    .await;
    let code = param(&back, "code").expect("code");
    let (st, v) = exchange(&s, &client, &code, REDIRECT, &verifier).await;
    assert_eq!(st, 200, "{v}");
    let access = v["access_token"].as_str().unwrap().to_string();
    assert_eq!(jmap(&s, &access).await.0, 200);
    let (st, v) = exchange(&s, &client, &code, REDIRECT, &verifier).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    assert_eq!(
        jmap(&s, &access).await.0,
        401,
        "tokens of a replayed code are revoked"
    );

    // Other §5.2 errors.
    let (st, v, _) = post_form(
        &s,
        "/oauth/token",
        &[("grant_type", "password"), ("client_id", &client)],
    )
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("unsupported_grant_type")),
        "{v}"
    );
    let (st, v, _) = post_form(
        &s,
        "/oauth/token",
        &[("grant_type", "authorization_code"), ("client_id", &client)],
    )
    .await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_request")),
        "{v}"
    );
    let (st, v) = exchange(&s, "mnc_nobody", "x", REDIRECT, &verifier).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (401, Some("invalid_client")),
        "{v}"
    );

    // Deny goes back to the app with access_denied.
    let page = raw()
        .get(authorize_url(&s, &client, REDIRECT, &challenge, "S256"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let res = raw()
        .post(format!("{}/oauth/authorize", s.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(enc(&[
            ("request", request_token(&page).as_str()),
            ("decision", "deny"),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        param(&location(&res), "error").as_deref(),
        Some("access_denied")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let s = Server::start();
    s.add_user(ALICE, PW);
    let client = register(&s, "Rotating app", REDIRECT);
    let other = register(&s, "Other app", REDIRECT);

    let (a1, r1) = grant(&s, &client, 4).await;
    let (st, v) = refresh(&s, &client, &r1).await;
    assert_eq!(st, 200, "{v}");
    let r2 = v["refresh_token"].as_str().unwrap().to_string();
    let (st, v) = refresh(&s, &client, &r2).await;
    assert_eq!(st, 200, "{v}");
    let (a3, r3) = (
        v["access_token"].as_str().unwrap().to_string(),
        v["refresh_token"].as_str().unwrap().to_string(),
    );
    assert_eq!(jmap(&s, &a3).await.0, 200);
    assert_eq!(
        jmap(&s, &a1).await.0,
        200,
        "older access tokens live until they expire"
    );

    // Another client cannot use this client's refresh token.
    let (st, v) = refresh(&s, &other, &r3).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );

    // r1 was rotated away: presenting it again (a stolen copy) revokes the whole family.
    let (st, v) = refresh(&s, &client, &r1).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    assert_eq!(
        refresh(&s, &client, &r3).await.0,
        400,
        "the newest refresh token is dead too"
    );
    assert_eq!(jmap(&s, &a3).await.0, 401);

    // Revoking an access token ends only that token; the grant's refresh token still works.
    let (a4, r4) = grant(&s, &client, 5).await;
    let (st, _, _) = post_form(
        &s,
        "/oauth/revoke",
        &[("token", &a4), ("client_id", &client)],
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(jmap(&s, &a4).await.0, 401);
    let (st, v) = refresh(&s, &client, &r4).await;
    assert_eq!(st, 200, "{v}");
    let r5 = v["refresh_token"].as_str().unwrap().to_string();

    // A password change ends refresh tokens too.
    let out = s.cli(
        &["user", "passwd", ALICE, "--password-stdin"],
        Some("a brand new password"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (st, v) = refresh(&s, &client, &r5).await;
    assert_eq!(
        (st, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_tokens_expire_and_the_refresh_token_renews_them() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("mailnook.toml");
    std::fs::write(&config, "oauth_access_ttl_secs = 3\n").unwrap();
    let s = Server::start_with(&["--config", config.to_str().unwrap()]);
    s.add_user(ALICE, PW);
    let client = register(&s, "Short-lived app", REDIRECT);
    let (access, rt) = grant(&s, &client, 6).await;
    std::thread::sleep(std::time::Duration::from_secs(4));
    let (st, challenge) = jmap(&s, &access).await;
    assert_eq!(st, 401);
    assert!(challenge.contains("expired"), "{challenge}");
    let (st, v) = refresh(&s, &client, &rt).await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["expires_in"], 3);
}
