//! The webmail's server side over real HTTPS (issue #14): the cookie session that the JMAP
//! endpoints accept, its CSRF defence, sign-out and password change ending sessions, the shared
//! login limits, the versioned and compressed files within the size budget, and the frame CSP.

use crate::admin_support::urlencode;
use crate::common::*;
use serde_json::json;

const PW: &str = "a long enough secret";
const COOKIE: &str = "__Host-mailnook-web";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("client")
}

async fn sign_in(s: &Server, user: &str, pass: &str, origin: &str) -> reqwest::Response {
    client()
        .post(format!("{}/webmail/login", s.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Origin", origin)
        .body(format!(
            "address={}&password={}",
            urlencode(user),
            urlencode(pass)
        ))
        .send()
        .await
        .expect("POST /webmail/login")
}

/// Signs in; returns ("name=value" cookie, csrf token).
async fn session(s: &Server, user: &str) -> (String, String) {
    let res = sign_in(s, user, PW, &s.base_url()).await;
    assert_eq!(res.status().as_u16(), 303);
    let set = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("Set-Cookie")
        .to_string();
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attr), "{set} lacks {attr}");
    }
    assert!(
        !set.contains("Domain="),
        "a __Host- cookie is host-only: {set}"
    );
    let cookie = set.split(';').next().expect("cookie").to_string();
    assert!(cookie.starts_with(&format!("{COOKIE}=")), "{cookie}");
    let page = client()
        .get(format!("{}/", s.base_url()))
        .header("Cookie", &cookie)
        .send()
        .await
        .expect("GET /")
        .text()
        .await
        .expect("shell");
    let csrf = page
        .split("<meta name=\"csrf\" content=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("csrf meta in the shell")
        .to_string();
    (cookie, csrf)
}

async fn api(s: &Server, cookie: &str, csrf: Option<&str>, origin: Option<&str>) -> u16 {
    let mut req = client()
        .post(format!("{}/jmap/api", s.base_url()))
        .header("Cookie", cookie)
        .header("Content-Type", "application/json")
        .body(
            json!({"using": [CORE, MAIL], "methodCalls": [["Mailbox/get", {}, "0"]]}).to_string(),
        );
    if let Some(t) = csrf {
        req = req.header("X-CSRF-Token", t);
    }
    if let Some(o) = origin {
        req = req.header("Origin", o);
    }
    req.send().await.expect("POST api").status().as_u16()
}

async fn get_status(s: &Server, cookie: &str, path: &str) -> u16 {
    client()
        .get(format!("{}{path}", s.base_url()))
        .header("Cookie", cookie)
        .send()
        .await
        .expect("GET")
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_session_cookie_opens_jmap_and_every_change_needs_the_csrf_token() {
    let s = Server::start();
    s.add_user("anna@example.org", PW);
    let (cookie, csrf) = session(&s, "anna@example.org").await;
    assert_eq!(get_status(&s, &cookie, "/jmap/session").await, 200);
    assert_eq!(
        api(&s, &cookie, Some(&csrf), Some(&s.base_url())).await,
        200
    );
    assert_eq!(api(&s, &cookie, None, None).await, 403, "no CSRF token");
    assert_eq!(
        api(&s, &cookie, Some("forged"), None).await,
        403,
        "a wrong token"
    );
    assert_eq!(
        api(&s, &cookie, Some(&csrf), Some("https://evil.example")).await,
        403,
        "another site"
    );
    // Uploads are state changes too.
    let acct = s.account_id("anna@example.org", PW).await;
    let up = client()
        .post(format!("{}/jmap/upload/{acct}", s.base_url()))
        .header("Cookie", &cookie)
        .body("hello")
        .send()
        .await
        .expect("upload");
    assert_eq!(up.status().as_u16(), 403);
    let up = client()
        .post(format!("{}/jmap/upload/{acct}", s.base_url()))
        .header("Cookie", &cookie)
        .header("X-CSRF-Token", &csrf)
        .body("hello")
        .send()
        .await
        .expect("upload");
    assert_eq!(up.status().as_u16(), 201);
    // A made-up cookie is no session.
    assert_eq!(
        get_status(&s, &format!("{COOKIE}=made-up"), "/jmap/session").await,
        401
    );
}

#[tokio::test]
async fn sign_out_and_a_password_change_end_sessions_on_the_server() {
    let s = Server::start();
    s.add_user("anna@example.org", PW);
    let (a, a_csrf) = session(&s, "anna@example.org").await;
    let (b, _) = session(&s, "anna@example.org").await;
    let change = |current: &str, new: &str| {
        client()
            .post(format!("{}/webmail/password", s.base_url()))
            .header("Cookie", &a)
            .header("X-CSRF-Token", &a_csrf)
            .header("Content-Type", "application/json")
            .body(json!({"current": current, "new": new}).to_string())
            .send()
    };
    assert_eq!(
        change("wrong one!", "another long secret")
            .await
            .unwrap()
            .status()
            .as_u16(),
        403
    );
    assert_eq!(change(PW, "short").await.unwrap().status().as_u16(), 400);
    assert_eq!(get_status(&s, &b, "/jmap/session").await, 200);
    assert_eq!(
        change(PW, "another long secret")
            .await
            .unwrap()
            .status()
            .as_u16(),
        204
    );
    assert_eq!(
        get_status(&s, &b, "/jmap/session").await,
        401,
        "the other device is signed out"
    );
    assert_eq!(
        get_status(&s, &a, "/jmap/session").await,
        200,
        "this one stays"
    );
    assert!(
        s.client("anna@example.org", "another long secret")
            .await
            .session()
            .accounts()
            .count()
            > 0
    );

    // Sign-out needs the CSRF token, then the cookie is dead everywhere.
    let out = client()
        .post(format!("{}/webmail/logout", s.base_url()))
        .header("Cookie", &a)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().as_u16(), 403);
    let out = client()
        .post(format!("{}/webmail/logout", s.base_url()))
        .header("Cookie", &a)
        .header("X-CSRF-Token", &a_csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status().as_u16(), 204);
    assert_eq!(get_status(&s, &a, "/jmap/session").await, 401);
    assert_eq!(
        get_status(&s, &a, "/jmap/eventsource?types=*&closeafter=no&ping=0").await,
        401
    );
}

#[tokio::test]
async fn sign_in_is_refused_cross_site_and_limited_like_every_login() {
    let s = Server::start();
    s.add_user("anna@example.org", PW);
    let res = sign_in(&s, "anna@example.org", PW, "https://evil.example").await;
    assert_eq!(res.status().as_u16(), 403);
    assert!(res.headers().get("set-cookie").is_none());
    let mut statuses = Vec::new();
    for i in 0..30 {
        let res = sign_in(&s, "anna@example.org", &format!("wrong {i}"), &s.base_url()).await;
        statuses.push(res.status().as_u16());
        if res.status().as_u16() == 429 {
            assert!(res.headers().get("retry-after").is_some());
            break;
        }
    }
    assert_eq!(statuses.first(), Some(&401), "{statuses:?}");
    assert_eq!(
        statuses.last(),
        Some(&429),
        "the login door throttles: {statuses:?}"
    );
}

#[tokio::test]
async fn files_are_versioned_cached_compressed_and_within_budget() {
    let s = Server::start();
    let page = client()
        .get(format!("{}/", s.base_url()))
        .send()
        .await
        .unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    let page = page.text().await.unwrap();
    assert!(
        page.contains("action=\"/webmail/login\""),
        "the sign-in form"
    );
    let css = page
        .split("href=\"/webmail/v/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("versioned stylesheet");
    let version = css.split('/').next().unwrap().to_string();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/webmail");
    let (mut plain, mut gz) = (0usize, 0usize);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        if name.ends_with(".html") || name == "sw.js" {
            continue;
        }
        let res = client()
            .get(format!("{}/webmail/v/{version}/{name}", s.base_url()))
            .header("Accept-Encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200, "{name}");
        assert_eq!(res.headers()["content-encoding"], "gzip", "{name}");
        assert!(
            res.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable"),
            "{name}"
        );
        gz += res.bytes().await.unwrap().len();
        plain += std::fs::metadata(dir.join(&name)).unwrap().len() as usize;
    }
    println!("webmail: {plain} bytes uncompressed, {gz} bytes gzipped (budget 150 KB)");
    assert!(plain <= 150 * 1024, "over the 150 KB budget: {plain}");
    // An old version's URL still works, but is not cached for a year.
    let old = client()
        .get(format!("{}/webmail/v/000000/app.js", s.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status().as_u16(), 200);
    assert_eq!(old.headers()["cache-control"], "no-cache");
    assert_eq!(
        client()
            .get(format!(
                "{}/webmail/v/{version}/../../Cargo.toml",
                s.base_url()
            ))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
}

#[tokio::test]
async fn the_html_frame_document_forbids_scripts_forms_and_remote_loads() {
    let s = Server::start();
    let res = client()
        .get(format!("{}/webmail/frame", s.base_url()))
        .send()
        .await
        .unwrap();
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("img-src data:;"), "{csp}");
    assert!(
        csp.contains("sandbox") && !csp.contains("allow-scripts"),
        "{csp}"
    );
    assert!(csp.contains("form-action 'none'"), "{csp}");
    assert!(!csp.contains("script-src"), "{csp}");
    let remote = client()
        .get(format!("{}/webmail/frame?remote=1", s.base_url()))
        .send()
        .await
        .unwrap();
    let csp = remote.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("img-src data: https: http:"), "{csp}");
    assert!(!csp.contains("allow-scripts"), "{csp}");
}
