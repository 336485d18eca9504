//! App passwords (issue #15) through the real binary: made by the CLI and the admin API (one
//! implementation), shown once, used over JMAP (Basic) and SMTP AUTH on the submission port,
//! listed with their last use, revoked, and refused afterwards; never accepted by the admin
//! page or its API, whose doors take the account password only.

use crate::admin_support::{self, jmap_ok};
use crate::common::{Server, eventually, message};
use crate::send_support::submit;
use serde_json::json;

const ALICE: &str = "alice@example.org";
const PW: &str = "alice main password";

/// The password from `mailnook user app-password add`'s output.
fn shown_password(stdout: &[u8]) -> String {
    let text = String::from_utf8_lossy(stdout);
    let line = text.lines().next().unwrap_or_default();
    line.rsplit(": ")
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn submit_blocking(s: &Server, user: &str, pass: &str) -> Result<(), String> {
    let raw = message(ALICE, ALICE, "via app password", "ap@example.org", "hi");
    tokio::task::block_in_place(|| submit(s, user, pass, ALICE, &[ALICE], &raw))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_password_made_by_cli_works_for_jmap_and_smtp_until_revoked() {
    let s = Server::start();
    s.add_user(ALICE, PW);
    let out = s.cli(
        &["user", "app-password", "add", ALICE, "Anna's phone"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let app = shown_password(&out.stdout);
    assert_eq!(app.len(), 24, "{}", String::from_utf8_lossy(&out.stdout));

    // JMAP over Basic, with and without the dashes.
    assert!(jmap_ok(&s, ALICE, &app).await);
    assert!(jmap_ok(&s, ALICE, &app.replace('-', "")).await);
    let r = s
        .call(ALICE, &app, json!([["Mailbox/get", {"ids": null}, "0"]]))
        .await;
    assert_eq!(r[0][0], "Mailbox/get", "{r:?}");
    // SMTP AUTH on the submission port.
    submit_blocking(&s, ALICE, &app).expect("submission with the app password");
    // The main password still works; a wrong app password of the right shape does not.
    assert!(jmap_ok(&s, ALICE, PW).await);
    let mut wrong = app.clone().into_bytes();
    wrong[23] = if wrong[23] == b'a' { b'b' } else { b'a' };
    assert!(!jmap_ok(&s, ALICE, &String::from_utf8(wrong).unwrap()).await);

    // Listed with its name and last use (written in the background, at most once a minute).
    let id = &app[..4];
    let listed = eventually("last use recorded", || async {
        let out = s.cli(&["user", "app-password", "list", ALICE], None);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        (text.contains("from 127.0.0.1")).then_some(text)
    })
    .await;
    assert!(
        listed.starts_with(id) && listed.contains("Anna's phone"),
        "{listed}"
    );
    assert!(
        !listed.contains(&app[5..]),
        "the secret is never shown again: {listed}"
    );

    // Revoked by name: refused at once on both doors, though it succeeded seconds ago.
    let out = s.cli(
        &["user", "app-password", "del", ALICE, "Anna's phone"],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!jmap_ok(&s, ALICE, &app).await);
    let err = submit_blocking(&s, ALICE, &app).expect_err("revoked app password");
    assert!(
        err.contains("535") || err.to_lowercase().contains("auth"),
        "{err}"
    );
    let out = s.cli(&["user", "app-password", "list", ALICE], None);
    assert!(String::from_utf8_lossy(&out.stdout).trim().is_empty());
    assert!(
        jmap_ok(&s, ALICE, PW).await,
        "the account password is untouched"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_passwords_from_the_admin_api_and_never_for_the_admin_page() {
    let s = Server::start();
    let session = admin_support::admin_login(&s).await;
    // The admin makes one for their own account through the API: shown once in the answer.
    let (status, v) = session
        .post(
            &s,
            "/admin/api/app-password/add",
            json!({"address": s.admin, "name": "laptop"}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    let app = v["password"].as_str().expect("password").to_string();
    assert_eq!(v["app_passwords"][0]["name"], "laptop", "{v}");
    assert!(v["app_passwords"][0].get("hash").is_none(), "{v}");

    // It opens JMAP...
    assert!(jmap_ok(&s, &s.admin, &app).await);
    // ...but not the admin sign-in form, nor the admin API with Basic.
    let res = admin_support::post_login(&s, &s.admin, &app).await;
    assert_eq!(res.status().as_u16(), 401);
    let res = admin_support::client()
        .get(format!("{}/admin/api/status", s.base_url()))
        .basic_auth(&s.admin, Some(&app))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    // The webmail takes it (issue #14: a phone's browser needs no main password), but its
    // session cannot change the account password, and it ends when the app password is revoked.
    let res = admin_support::client()
        .post(format!("{}/webmail/login", s.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Origin", s.base_url())
        .body(format!(
            "address={}&password={}",
            admin_support::urlencode(&s.admin),
            admin_support::urlencode(&app)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 303);
    let web = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("webmail cookie")
        .to_string();
    let web_status = |cookie: String| {
        let url = format!("{}/jmap/session", s.base_url());
        async move {
            admin_support::client()
                .get(url)
                .header("Cookie", cookie)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(web_status(web.clone()).await, 200);
    // The account password still signs in to the admin page.
    let res = admin_support::post_login(&s, &s.admin, &s.admin_password).await;
    assert_eq!(res.status().as_u16(), 303);

    // Listed, then revoked by id through the API.
    let path = format!("/admin/api/app-password/list?address={}", s.admin);
    let (status, v) = session.get(&s, &path).await;
    assert_eq!(status, 200, "{v}");
    let id = v["app_passwords"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(id, app[..4]);
    let (status, v) = session
        .post(
            &s,
            "/admin/api/app-password/del",
            json!({"address": s.admin, "which": id}),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert!(!jmap_ok(&s, &s.admin, &app).await);
    assert_eq!(
        web_status(web.clone()).await,
        401,
        "the webmail session opened with it ends"
    );
    let (_, v) = session.get(&s, &path).await;
    assert_eq!(v["app_passwords"], json!([]), "{v}");
}
