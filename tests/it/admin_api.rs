//! The admin page's sign-in and JSON API through the real binary: every action, and every
//! refusal (no session, wrong role, CSRF token missing or wrong, cross-site, bad input).

use crate::admin_support;
use crate::common;
use admin_support::*;
use common::*;
use serde_json::{Value, json};

const PW: &str = "a long enough secret";

#[tokio::test]
async fn sign_in_sets_a_hardened_cookie_and_the_page_reads_without_js() {
    let s = Server::start();
    // Not signed in: the sign-in form, a plain HTML form that works without JavaScript.
    let res = client()
        .get(format!("{}/admin", s.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    let page = res.text().await.unwrap();
    assert!(page.contains("<form method=\"post\" action=\"/admin/login\""));

    let res = post_login(&s, &s.admin, &s.admin_password).await;
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/admin");
    let set = res.headers()["set-cookie"].to_str().unwrap().to_string();
    for part in [
        "__Host-mailnook-admin=",
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/",
    ] {
        assert!(set.contains(part), "{part} missing in {set}");
    }
    assert!(set.contains("Max-Age="), "the cookie must expire: {set}");
    // A 256-bit token, base64url: 43 characters.
    let token = set.split(';').next().unwrap().split_once('=').unwrap().1;
    assert_eq!(token.len(), 43, "{token}");

    // Signed in: the whole status view is server-rendered HTML.
    let cookie = session_cookie(&res).unwrap();
    let page = client()
        .get(format!("{}/admin", s.base_url()))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for needle in [
        "Received today",
        "Memory (RSS)",
        "Last SMTP transactions",
        env!("CARGO_PKG_VERSION"),
        &s.admin,
        &s.fingerprint,
        "id=\"account-rows\"",
    ] {
        assert!(page.contains(needle), "{needle} not on the page");
    }
    // No inline script (the CSP forbids it anyway): only the embedded file.
    assert_eq!(page.matches("<script").count(), 1);
    assert!(page.contains("<script src=\"/admin/assets/admin.js\" defer></script>"));

    // The assets are embedded and served with a content type.
    for (path, ctype) in [
        ("/admin/assets/admin.js", "text/javascript"),
        ("/admin/assets/admin.css", "text/css"),
    ] {
        let res = client()
            .get(format!("{}{path}", s.base_url()))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(ctype)
        );
    }
}

#[tokio::test]
async fn wrong_passwords_are_refused_logged_and_rate_limited_per_ip() {
    let s = Server::start();
    // Ten different guesses (the same wrong password again spends no budget: a stale client).
    for i in 0..10 {
        let res = post_login(&s, &s.admin, &format!("wrong password {i}")).await;
        assert_eq!(res.status().as_u16(), 401);
        assert!(session_cookie(&res).is_none());
    }
    // Past the limit even the right password is refused for a while (429).
    let res = post_login(&s, &s.admin, &s.admin_password).await;
    assert_eq!(res.status().as_u16(), 429);
    assert!(res.headers().contains_key("retry-after"));
    assert!(session_cookie(&res).is_none());
    let log = s.log();
    assert!(log.contains("admin: failed sign-in"), "{log}");
    assert!(log.contains("sign-in throttled"), "{log}");
    // Unknown addresses count the same.
    let res = post_login(&s, "nobody@example.org", "x").await;
    assert_eq!(res.status().as_u16(), 429);
}

#[tokio::test]
async fn a_non_admin_account_gets_403_everywhere() {
    let s = Server::start();
    s.add_user("alice@example.org", PW);
    let res = post_login(&s, "alice@example.org", PW).await;
    assert_eq!(res.status().as_u16(), 403);
    assert!(session_cookie(&res).is_none());
    assert!(res.text().await.unwrap().contains("not an administrator"));

    // HTTP Basic on the API: the right password of a non-admin is still 403.
    let res = client()
        .get(format!("{}/admin/api/user/list", s.base_url()))
        .basic_auth("alice@example.org", Some(PW))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    let res = client()
        .post(format!("{}/admin/api/user/add", s.base_url()))
        .basic_auth("alice@example.org", Some(PW))
        .header("Content-Type", "application/json")
        .body(json!({"address": "evil@example.org", "password": PW}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    assert!(s.log().contains("alice@example.org is not an admin"));
    let admin = admin_login(&s).await;
    assert!(admin.account(&s, "evil@example.org").await.is_none());
}

#[tokio::test]
async fn every_api_endpoint_refuses_without_a_session() {
    let s = Server::start();
    for path in [
        "/admin/api/session",
        "/admin/api/status",
        "/admin/api/setup",
        "/admin/api/user/list",
        "/admin/api/domain/list",
        "/admin/api/alias/list",
    ] {
        let (status, v) = get(&s, None, path).await;
        assert_eq!(status, 401, "{path}: {v}");
        assert_eq!(v["status"], 401, "problem JSON for {path}");
    }
    for path in [
        "/admin/api/user/add",
        "/admin/api/user/passwd",
        "/admin/api/user/del",
        "/admin/api/domain/add",
        "/admin/api/domain/del",
        "/admin/api/alias/add",
        "/admin/api/alias/del",
        "/admin/api/cert/install",
    ] {
        let (status, _) = post_raw(
            &s,
            path,
            &[("Content-Type", "application/json")],
            r#"{"address":"x@example.org"}"#,
        )
        .await;
        assert_eq!(status, 401, "{path}");
    }
    // A made-up or expired cookie is no session either.
    let (status, _) = get(
        &s,
        Some("__Host-mailnook-admin=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        "/admin/api/user/list",
    )
    .await;
    assert_eq!(status, 401);
    // Signed out, /admin is the sign-in form again.
    let page = client()
        .get(format!("{}/admin", s.base_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"login\""));
}

#[tokio::test]
async fn state_changes_need_the_csrf_token_same_origin_and_json() {
    let s = Server::start();
    let a = admin_login(&s).await;
    let origin = s.base_url();
    let body = json!({"address": "csrf@example.org", "password": PW}).to_string();
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, u16);
    let cases: Vec<Case> = vec![
        (
            "no CSRF token",
            vec![
                ("Cookie", &a.cookie),
                ("Origin", &origin),
                ("Content-Type", "application/json"),
            ],
            403,
        ),
        (
            "wrong CSRF token",
            vec![
                ("Cookie", &a.cookie),
                ("X-CSRF-Token", "not-the-token"),
                ("Origin", &origin),
                ("Content-Type", "application/json"),
            ],
            403,
        ),
        (
            "another site's Origin",
            vec![
                ("Cookie", &a.cookie),
                ("X-CSRF-Token", &a.csrf),
                ("Origin", "https://evil.example"),
                ("Content-Type", "application/json"),
            ],
            403,
        ),
        (
            "cross-site fetch metadata",
            vec![
                ("Cookie", &a.cookie),
                ("X-CSRF-Token", &a.csrf),
                ("Sec-Fetch-Site", "cross-site"),
                ("Content-Type", "application/json"),
            ],
            403,
        ),
        (
            "a form's content type",
            vec![
                ("Cookie", &a.cookie),
                ("X-CSRF-Token", &a.csrf),
                ("Origin", &origin),
                ("Content-Type", "text/plain"),
            ],
            415,
        ),
    ];
    for (what, headers, want) in cases {
        let (status, v) = post_raw(&s, "/admin/api/user/add", &headers, body.clone()).await;
        assert_eq!(status, want, "{what}: {v}");
    }
    assert!(a.account(&s, "csrf@example.org").await.is_none());
    assert!(s.log().contains("missing or wrong CSRF token"));
    // The same request with everything right works.
    let (status, v) = a
        .post(
            &s,
            "/admin/api/user/add",
            json!({"address": "csrf@example.org", "password": PW}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    // Sign-in and sign-out check the Origin too.
    let res = client()
        .post(format!("{}/admin/login", s.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Origin", "https://evil.example")
        .body(format!(
            "address={}&password={}",
            urlencode(&s.admin),
            urlencode(&s.admin_password)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    assert!(session_cookie(&res).is_none());
}

#[tokio::test]
async fn accounts_added_with_a_typed_or_generated_password_can_sign_in() {
    let s = Server::start();
    let a = admin_login(&s).await;

    // add with a typed password
    let (status, v) = a
        .post(
            &s,
            "/admin/api/user/add",
            json!({"address": "Bob@Example.org", "password": PW}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["address"], "bob@example.org");
    assert!(v["password"].is_null(), "a typed password is not echoed");
    let bob = a.account(&s, "bob@example.org").await.expect("listed");
    assert_eq!(bob["admin"], false);
    assert_eq!(bob["emails"], 0);
    assert!(jmap_ok(&s, "bob@example.org", PW).await);

    // add an admin with a generated password (returned once)
    let (status, v) = a
        .post(
            &s,
            "/admin/api/user/add",
            json!({"address": "carol@example.org", "admin": true}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let generated = v["password"]
        .as_str()
        .expect("generated password")
        .to_string();
    assert!(generated.len() >= 16);
    assert_eq!(
        a.account(&s, "carol@example.org").await.unwrap()["admin"],
        true
    );
    let carol = login(&s, "carol@example.org", &generated).await;
    assert_eq!(carol.accounts(&s).await.len(), 3);
}

#[tokio::test]
async fn bad_account_input_is_refused_with_a_reason_and_changes_nothing() {
    let s = Server::start();
    let a = admin_login(&s).await;
    let (status, v) = a
        .post(
            &s,
            "/admin/api/user/add",
            json!({"address": "bob@example.org", "password": PW}),
        )
        .await;
    assert_eq!(status, 200, "{v}");

    // bad input: each refused with a clear message, nothing changed
    let bad = [
        (
            json!({"address": "bob@example.org", "password": PW}),
            "already in use",
        ),
        (
            json!({"address": "no-at-sign", "password": PW}),
            "not a valid address",
        ),
        (
            json!({"address": "a b@example.org", "password": PW}),
            "not a valid address",
        ),
        (
            json!({"address": "x@exa_mple.org", "password": PW}),
            "not a valid address",
        ),
        (
            json!({"address": "short@example.org", "password": "2short"}),
            "at least 8",
        ),
        (
            json!({"address": "x@example.org", "password": PW, "role": "root"}),
            "unknown field",
        ),
        (json!({"password": PW}), "missing field"),
        (json!({"address": 7}), "invalid type"),
    ];
    for (body, why) in bad {
        let (status, v) = a.post(&s, "/admin/api/user/add", body.clone()).await;
        assert_eq!(status, 400, "{body}: {v}");
        assert!(
            v["detail"].as_str().unwrap_or("").contains(why),
            "{body}: {v}"
        );
    }
    let (status, v) = post_raw(
        &s,
        "/admin/api/user/add",
        &[
            ("Cookie", &a.cookie),
            ("X-CSRF-Token", &a.csrf),
            ("Content-Type", "application/json"),
        ],
        "{not json",
    )
    .await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(a.accounts(&s).await.len(), 2);
}

#[tokio::test]
async fn a_password_reset_ends_the_old_password_at_once() {
    let s = Server::start();
    let a = admin_login(&s).await;
    let (status, v) = a
        .post(
            &s,
            "/admin/api/user/add",
            json!({"address": "bob@example.org", "password": PW}),
        )
        .await;
    assert_eq!(status, 200, "{v}");

    // passwd: typed, then generated; the old password stops working at once
    let (status, v) = a
        .post(
            &s,
            "/admin/api/user/passwd",
            json!({"address": "bob@example.org", "password": "another long secret"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert!(!jmap_ok(&s, "bob@example.org", PW).await);
    assert!(jmap_ok(&s, "bob@example.org", "another long secret").await);
    let (status, v) = a
        .post(
            &s,
            "/admin/api/user/passwd",
            json!({"address": "bob@example.org"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let p2 = v["password"].as_str().unwrap().to_string();
    assert!(jmap_ok(&s, "bob@example.org", &p2).await);
    for (body, why) in [
        (
            json!({"address": "nobody@example.org", "password": PW}),
            "no account",
        ),
        (
            json!({"address": "bob@example.org", "password": "short"}),
            "at least 8",
        ),
        (json!({"address": ""}), "required"),
    ] {
        let (status, v) = a.post(&s, "/admin/api/user/passwd", body.clone()).await;
        assert_eq!(status, 400, "{body}: {v}");
        assert!(v["detail"].as_str().unwrap().contains(why), "{v}");
    }
}

#[tokio::test]
async fn deleting_an_account_needs_confirmation_and_the_cli_sees_the_same() {
    let s = Server::start();
    let a = admin_login(&s).await;
    let (status, v) = a
        .post(
            &s,
            "/admin/api/user/add",
            json!({"address": "carol@example.org", "admin": true}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = a
        .post(
            &s,
            "/admin/api/user/add",
            json!({"address": "bob@example.org"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let p2 = v["password"].as_str().expect("generated").to_string();
    assert!(jmap_ok(&s, "bob@example.org", &p2).await);

    // del: needs the address repeated; not oneself; unknown is an error
    for (body, want) in [
        (json!({"address": "bob@example.org"}), 400),
        (
            json!({"address": "bob@example.org", "confirm": "bo@example.org"}),
            400,
        ),
        (json!({"address": s.admin, "confirm": s.admin}), 409),
        (
            json!({"address": "nobody@example.org", "confirm": "nobody@example.org"}),
            400,
        ),
    ] {
        let (status, v) = a.post(&s, "/admin/api/user/del", body.clone()).await;
        assert_eq!(status, want, "{body}: {v}");
    }
    assert!(a.account(&s, "bob@example.org").await.is_some());
    let (status, v) = a
        .post(
            &s,
            "/admin/api/user/del",
            json!({"address": "bob@example.org", "confirm": "BOB@example.org"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert!(a.account(&s, "bob@example.org").await.is_none());
    assert!(!jmap_ok(&s, "bob@example.org", &p2).await);

    // Parity: the CLI (through the control socket of the running server) sees the same.
    let out = s.cli(&["user", "list"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("carol@example.org") && !text.contains("bob@example.org"),
        "{text}"
    );
    // and what the CLI does, the page lists.
    s.add_user("dave@example.org", PW);
    assert!(a.account(&s, "dave@example.org").await.is_some());
    assert!(
        s.log()
            .contains(&format!("admin: {} ran user add bob@example.org", s.admin))
    );
}

#[tokio::test]
async fn scripts_can_use_the_api_with_basic_auth() {
    let s = Server::start();
    let base = s.base_url();
    let res = client()
        .get(format!("{base}/admin/api/user/list"))
        .basic_auth(&s.admin, Some(&s.admin_password))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let res = client()
        .post(format!("{base}/admin/api/user/add"))
        .basic_auth(&s.admin, Some(&s.admin_password))
        .header("Content-Type", "application/json")
        .body(json!({"address": "eve@example.org", "password": PW}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    // A cross-site page cannot ride on credentials a browser remembers.
    let res = client()
        .post(format!("{base}/admin/api/user/del"))
        .basic_auth(&s.admin, Some(&s.admin_password))
        .header("Content-Type", "application/json")
        .header("Origin", "https://evil.example")
        .body(json!({"address": "eve@example.org", "confirm": "eve@example.org"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    let res = client()
        .post(format!("{base}/admin/api/user/del"))
        .basic_auth(&s.admin, Some(&s.admin_password))
        .header("Content-Type", "text/plain")
        .body(json!({"address": "eve@example.org", "confirm": "eve@example.org"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 415);
    let res = client()
        .get(format!("{base}/admin/api/user/list"))
        .basic_auth(&s.admin, Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let a = admin_login(&s).await;
    assert!(a.account(&s, "eve@example.org").await.is_some());
    let (status, _) = a.get(&s, "/admin/api/nothing-here").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let s = Server::start();
    let a = admin_login(&s).await;
    let origin = s.base_url();
    // Without the CSRF token (header or form field), sign-out is refused: a cross-site form
    // must not be able to sign the admin out either.
    let (status, _) = post_raw(
        &s,
        "/admin/logout",
        &[
            ("Cookie", &a.cookie),
            ("Origin", &origin),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        "",
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(a.get(&s, "/admin/api/session").await.0, 200);
    // The page's plain form sends the token as a field.
    let res = client()
        .post(format!("{}/admin/logout", s.base_url()))
        .header("Cookie", &a.cookie)
        .header("Origin", &origin)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("csrf={}", urlencode(&a.csrf)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(a.get(&s, "/admin/api/session").await.0, 401);
    assert!(s.log().contains("signed out"));
}

#[tokio::test]
async fn sessions_end_when_the_account_changes() {
    let s = Server::start();
    let a = admin_login(&s).await;
    for who in ["x1@example.org", "x2@example.org"] {
        let (status, v) = a
            .post(
                &s,
                "/admin/api/user/add",
                json!({"address": who, "password": PW, "admin": true}),
            )
            .await;
        assert_eq!(status, 200, "{v}");
    }
    let x1 = login(&s, "x1@example.org", PW).await;
    let x2 = login(&s, "x2@example.org", PW).await;
    // Someone else changes x1's password: x1's session ends.
    a.post(
        &s,
        "/admin/api/user/passwd",
        json!({"address": "x1@example.org", "password": "new long secret"}),
    )
    .await;
    assert_eq!(x1.get(&s, "/admin/api/session").await.0, 401);
    // x2 is deleted: its session ends.
    a.post(
        &s,
        "/admin/api/user/del",
        json!({"address": "x2@example.org", "confirm": "x2@example.org"}),
    )
    .await;
    assert_eq!(x2.get(&s, "/admin/api/session").await.0, 401);
    // Changing one's own password keeps one signed in.
    let (status, v) = a
        .post(
            &s,
            "/admin/api/user/passwd",
            json!({"address": s.admin, "password": "my new long secret"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(a.get(&s, "/admin/api/session").await.0, 200);
}

#[tokio::test]
async fn usage_and_status_show_figures_but_never_mail_content() {
    let s = Server::start();
    s.add_user("frank@example.org", PW);
    let secret_subject = "Subject-only-in-the-mail-7d1f";
    let secret_body = "Body-only-in-the-mail-93ac";
    for i in 0..2 {
        let raw = message(
            "sender@example.net",
            "frank@example.org",
            secret_subject,
            &format!("m{i}@example.net"),
            secret_body,
        );
        s.send("sender@example.net", &["frank@example.org"], &raw)
            .expect("SMTP");
    }
    let a = admin_login(&s).await;
    let f = a.account(&s, "frank@example.org").await.unwrap();
    assert_eq!(f["emails"], 2);
    assert!(f["storage_bytes"].as_u64().unwrap() > 200, "{f}");
    assert!(f["last_delivery"].as_i64().unwrap() > 1_700_000_000, "{f}");

    let (status, st) = a.get(&s, "/admin/api/status").await;
    assert_eq!(status, 200);
    assert_eq!(st["version"], env!("CARGO_PKG_VERSION"));
    assert!(st["rss_bytes"].as_u64().unwrap() > 1_000_000, "{st}");
    assert!(st["db_bytes"].as_u64().unwrap() > 0);
    assert_eq!(st["messages_today"], 2);
    assert_eq!(st["accounts"], 2);
    assert_eq!(st["push_connections"], 0);
    let smtp = st["smtp"].as_array().unwrap();
    assert_eq!(smtp.len(), 2, "{st}");
    assert_eq!(smtp[0]["recipients"][0], "frank@example.org");
    assert_eq!(smtp[0]["sender"], "sender@example.net");
    assert_eq!(smtp[0]["code"], 250);

    // No view shows message content: not the JSON, not the page.
    let (_, setup) = a.get(&s, "/admin/api/setup").await;
    let (_, list) = a.get(&s, "/admin/api/user/list").await;
    let page = client()
        .get(format!("{}/admin", s.base_url()))
        .header("Cookie", &a.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for text in [
        st.to_string(),
        setup.to_string(),
        list.to_string(),
        page.clone(),
    ] {
        assert!(!text.contains(secret_subject) && !text.contains(secret_body));
    }
    assert!(page.contains("frank@example.org"));
}

#[tokio::test]
async fn setup_lists_dns_records_and_the_certificate() {
    let s = Server::start_with(&["--hostname", "mail.example.org"]);
    s.add_user("gina@example.com", PW);
    let a = admin_login(&s).await;
    let (status, v) = a.get(&s, "/admin/api/setup").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["hostname"], "mail.example.org");
    let host = v["host_records"].as_array().unwrap();
    assert_eq!(host[0]["type"], "A");
    assert_eq!(host[0]["name"], "mail.example.org.");
    assert_eq!(host[1]["type"], "AAAA");
    let d = v["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain"] == "example.com")
        .expect("example.com listed")
        .clone();
    let recs = d["records"].as_array().unwrap();
    let find = |t: &str, n: &str| {
        recs.iter()
            .find(|r| r["type"] == t && r["name"] == n)
            .unwrap_or_else(|| panic!("{t} {n} in {d}"))["value"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(find("MX", "example.com."), "10 mail.example.org.");
    assert!(find("TXT", "example.com.").contains("v=spf1"));
    assert!(find("TXT", "_dmarc.example.com.").contains("v=DMARC1"));
    assert!(find("SRV", "_jmap._tcp.example.com.").ends_with("mail.example.org."));
    // MTA-STS and TLS reporting (RFC 8461, 8460): the policy host, its id record, reports.
    assert_eq!(find("CNAME", "mta-sts.example.com."), "mail.example.org.");
    assert!(find("TXT", "_mta-sts.example.com.").starts_with("\"v=STSv1; id="));
    assert_eq!(
        find("TXT", "_smtp._tls.example.com."),
        "\"v=TLSRPTv1; rua=mailto:postmaster@example.com\""
    );
    assert_eq!(
        find("TXT", "_dmarc.example.com."),
        "\"v=DMARC1; p=none; adkim=s; aspf=s; rua=mailto:postmaster@example.com\"",
        "the admin page and `mailnook dns` advise the same starting policy"
    );
    // No keys yet: the page says so and how to make them (it never generates keys itself).
    let note = v["dkim"].as_str().unwrap().to_string();
    assert!(
        note.contains("No DKIM keys yet for") && note.contains("example.com"),
        "{note}"
    );
    assert!(
        !recs
            .iter()
            .any(|r| r["name"].as_str().unwrap().contains("_domainkey"))
    );
    // `mailnook dns` makes them; the page then lists the same records the CLI printed.
    let out = s.cli(&["dns", "example.com"], None);
    assert!(out.status.success(), "{out:?}");
    let printed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(printed.contains("p=none"), "{printed}");
    let (_, v) = a.get(&s, "/admin/api/setup").await;
    let d = v["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain"] == "example.com")
        .expect("example.com listed")
        .clone();
    let dkim: Vec<&Value> = d["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["name"]
                .as_str()
                .unwrap()
                .contains("._domainkey.example.com.")
        })
        .collect();
    assert_eq!(dkim.len(), 2, "RSA and ed25519 records: {d}");
    for r in &dkim {
        let name = r["name"].as_str().unwrap();
        let value = r["value"].as_str().unwrap();
        assert!(
            printed.contains(&format!("{name}\tIN TXT\t{value}")),
            "{name} {value} not as printed by mailnook dns:\n{printed}"
        );
    }
    assert!(!v["dkim"].as_str().unwrap().contains("example.com"), "{v}");
    let c = &v["certificate"];
    assert_eq!(c["fingerprint_sha256"], s.fingerprint.as_str());
    let names: Vec<&str> = c["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    for n in ["mail.example.org", "localhost", "127.0.0.1", "::1"] {
        assert!(names.contains(&n), "{n} in {names:?}");
    }
    assert_eq!(c["source"], "generated");
    assert_eq!(c["self_signed"], true);
    assert!(c["days_left"].as_i64().unwrap() > 0);
    // The page offers a copy button per record.
    let page = client()
        .get(format!("{}/admin", s.base_url()))
        .header("Cookie", &a.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-copy=\"10 mail.example.org.\""));
}

#[tokio::test]
async fn every_state_change_refuses_a_missing_csrf_token() {
    let s = Server::start();
    let a = admin_login(&s).await;
    let origin = s.base_url();
    for path in [
        "/admin/api/user/add",
        "/admin/api/user/passwd",
        "/admin/api/user/del",
        "/admin/api/domain/add",
        "/admin/api/domain/del",
        "/admin/api/alias/add",
        "/admin/api/alias/del",
        "/admin/api/cert/install",
    ] {
        let (status, v) = post_raw(
            &s,
            path,
            &[
                ("Cookie", &a.cookie),
                ("Origin", &origin),
                ("Content-Type", "application/json"),
            ],
            r#"{"domain":"x.example"}"#,
        )
        .await;
        assert_eq!(status, 403, "{path}: {v}");
    }
    let (_, v) = a.get(&s, "/admin/api/domain/list").await;
    assert!(!v.to_string().contains("x.example"), "{v}");
}

#[tokio::test]
async fn domains_and_aliases_round_trip_and_match_the_cli() {
    let s = Server::start();
    let a = admin_login(&s).await;
    s.add_user("hana@example.org", PW);
    s.add_user("ike@example.org", PW);

    let (status, v) = a
        .post(
            &s,
            "/admin/api/domain/add",
            json!({"domain": "Example.NET"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = a.get(&s, "/admin/api/domain/list").await;
    assert_eq!(status, 200);
    let domains: Vec<String> = v["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["domain"].as_str().unwrap().to_string())
        .collect();
    assert!(domains.contains(&"example.net".to_string()), "{v}");
    assert!(domains.contains(&"example.org".to_string()), "{v}");

    // an alias with two targets, and a catch-all
    let (status, v) = a
        .post(&s, "/admin/api/alias/add", json!({"address": "team@example.org", "targets": ["hana@example.org", "ike@example.org"]}))
        .await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = a
        .post(
            &s,
            "/admin/api/alias/add",
            json!({"address": "@example.net", "targets": ["hana@example.org"]}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let (_, v) = a.get(&s, "/admin/api/alias/list").await;
    let team = v["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["address"] == "team@example.org")
        .cloned()
        .expect("team alias listed");
    assert_eq!(team["targets"].as_array().unwrap().len(), 2);
    // The CLI sees what the page did.
    let out = s.cli(&["alias", "list"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("team@example.org"), "{text}");
    // Mail to the alias reaches both accounts.
    let raw = message(
        "x@example.com",
        "team@example.org",
        "hi team",
        "t1@example.com",
        "hello",
    );
    s.send("x@example.com", &["team@example.org"], &raw)
        .expect("SMTP to alias");
    for who in ["hana@example.org", "ike@example.org"] {
        assert_eq!(a.account(&s, who).await.unwrap()["emails"], 1, "{who}");
    }
    // The setup view lists DNS records for the added domain.
    let (_, setup) = a.get(&s, "/admin/api/setup").await;
    assert!(
        setup["domains"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["domain"] == "example.net")
    );

    // bad input
    for (path, body) in [
        (
            "/admin/api/alias/add",
            json!({"address": "x@example.org", "targets": []}),
        ),
        (
            "/admin/api/alias/add",
            json!({"address": "x@example.org", "targets": ["nobody@example.org"]}),
        ),
        ("/admin/api/alias/add", json!({"address": "x@example.org"})),
        (
            "/admin/api/alias/add",
            json!({"address": "x@example.org", "targets": "hana@example.org"}),
        ),
        (
            "/admin/api/alias/del",
            json!({"address": "nothing@example.org"}),
        ),
        ("/admin/api/domain/add", json!({"domain": "not a domain"})),
        (
            "/admin/api/domain/add",
            json!({"domain": "example.net", "extra": 1}),
        ),
        ("/admin/api/domain/del", json!({})),
    ] {
        let (status, v) = a.post(&s, path, body.clone()).await;
        assert_eq!(status, 400, "{path} {body}: {v}");
        assert!(v["detail"].is_string(), "{v}");
    }

    // removal
    let (status, v) = a
        .post(
            &s,
            "/admin/api/alias/del",
            json!({"address": "team@example.org", "target": "ike@example.org"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = a
        .post(
            &s,
            "/admin/api/alias/del",
            json!({"address": "@example.net"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = a
        .post(
            &s,
            "/admin/api/domain/del",
            json!({"domain": "example.net"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let (_, v) = a.get(&s, "/admin/api/domain/list").await;
    assert!(!v.to_string().contains("example.net"), "{v}");
    let (_, v) = a.get(&s, "/admin/api/alias/list").await;
    let team = &v["aliases"].as_array().unwrap()[0];
    assert_eq!(team["targets"], json!(["hana@example.org"]), "{v}");
    assert!(s.log().contains("ran alias add team@example.org"));
}

#[tokio::test]
async fn status_counts_live_push_connections() {
    let s = Server::start();
    s.add_user("pat@example.org", PW);
    let a = admin_login(&s).await;
    let push = |_: ()| async {
        s.http()
            .get(format!(
                "{}/jmap/eventsource?types=*&closeafter=no&ping=0",
                s.base_url()
            ))
            .basic_auth("pat@example.org", Some(PW))
            .send()
            .await
            .expect("eventsource")
    };
    let one = push(()).await;
    assert_eq!(one.status().as_u16(), 200);
    let two = push(()).await;
    push_count(&s, &a, 2).await;
    drop(one);
    push_count(&s, &a, 1).await;
    drop(two);
    push_count(&s, &a, 0).await;
}

/// Waits until the status shows `want` push connections. The server notices a closed stream
/// when it next writes to it, so each poll that does not see the count yet delivers a message
/// to pat@example.org, which is an event on each of its streams.
async fn push_count(s: &Server, a: &Session, want: u64) {
    for i in 0..100 {
        let (_, st) = a.get(s, "/admin/api/status").await;
        if st["push_connections"] == want {
            return;
        }
        let raw = message(
            "x@example.com",
            "pat@example.org",
            "ev",
            &format!("e{i}.{want}@x"),
            "x",
        );
        let _ = s.send("x@example.com", &["pat@example.org"], &raw);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("push connections never reached {want}");
}

/// Issue #21: the admin page renders each table once, on the server. The rows the script fetches
/// after a change are the very rows the page embeds, and a change shows in them.
#[tokio::test]
async fn table_rows_are_rendered_once_and_served_to_the_script() {
    let s = Server::start();
    let a = admin_login(&s).await;
    let (status, _) = get(&s, None, "/admin/rows/lists").await;
    assert_eq!(status, 401, "rows need a session");
    let (status, _) = get(&s, None, "/admin/rows/status").await;
    assert_eq!(status, 401, "rows need a session");

    let page = client()
        .get(format!("{}/admin", s.base_url()))
        .header("Cookie", &a.cookie)
        .send()
        .await
        .expect("GET /admin")
        .text()
        .await
        .expect("page");
    let (status, rows) = a.get(&s, "/admin/rows/lists").await;
    assert_eq!(status, 200, "{rows}");
    for id in ["account-rows", "domain-rows", "alias-rows"] {
        let html = rows[id].as_str().expect(id);
        assert!(
            page.contains(&format!("<tbody id=\"{id}\">{html}</tbody>")),
            "{id}: the script's rows differ from the page's: {html}"
        );
    }
    assert!(
        rows["alias-rows"]
            .as_str()
            .unwrap()
            .contains("No aliases yet.")
    );

    let domain = s.admin.split('@').nth(1).expect("admin domain").to_string();
    let (status, v) = a
        .post(
            &s,
            "/admin/api/alias/add",
            json!({"address": format!("Team@{domain}"), "targets": [s.admin]}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let (_, rows) = a.get(&s, "/admin/rows/lists").await;
    let aliases = rows["alias-rows"].as_str().unwrap();
    assert!(
        aliases.contains(&format!("data-alias=\"team@{domain}\"")),
        "{aliases}"
    );

    let msg = format!(
        "From: a@example.net\r\nTo: {0}\r\nSubject: rows\r\n\r\nHello\r\n",
        s.admin
    );
    s.send("a@example.net", &[&s.admin], msg.as_bytes())
        .expect("deliver");
    let (status, rows) = a.get(&s, "/admin/rows/status").await;
    assert_eq!(status, 200, "{rows}");
    let smtp = rows["smtp-rows"].as_str().unwrap();
    assert!(smtp.contains("<tr class=\"ok\">"), "{smtp}");
}
