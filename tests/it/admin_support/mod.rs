//! Helpers for the admin tests: a signed-in browser-like client (cookie + CSRF token) and raw
//! requests with chosen headers, against the real binary.
#![allow(dead_code)]

use crate::common::Server;
use serde_json::Value;

/// A signed-in admin session as a browser holds it.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("client")
}

/// Posts the sign-in form; returns the response (not following the redirect).
pub async fn post_login(s: &Server, user: &str, password: &str) -> reqwest::Response {
    let body = format!(
        "address={}&password={}",
        urlencode(user),
        urlencode(password)
    );
    client()
        .post(format!("{}/admin/login", s.base_url()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Origin", s.base_url())
        .body(body)
        .send()
        .await
        .expect("POST /admin/login")
}

pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The `name=value` of the session cookie from a `Set-Cookie` header.
pub fn session_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-mailnook-admin="))
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
}

pub async fn login(s: &Server, user: &str, password: &str) -> Session {
    let res = post_login(s, user, password).await;
    assert_eq!(res.status().as_u16(), 303, "sign-in: {}", res.status());
    let cookie = session_cookie(&res).expect("session cookie");
    let (status, v) = get(s, Some(&cookie), "/admin/api/session").await;
    assert_eq!(status, 200, "{v}");
    let csrf = v["csrf"].as_str().expect("csrf").to_string();
    Session { cookie, csrf }
}

pub async fn admin_login(s: &Server) -> Session {
    login(s, &s.admin, &s.admin_password).await
}

async fn parse(res: reqwest::Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub async fn get(s: &Server, cookie: Option<&str>, path: &str) -> (u16, Value) {
    let mut req = client().get(format!("{}{path}", s.base_url()));
    if let Some(c) = cookie {
        req = req.header("Cookie", c);
    }
    parse(req.send().await.expect("GET")).await
}

/// A POST with full control over the headers that the CSRF rules look at.
pub async fn post_raw(
    s: &Server,
    path: &str,
    headers: &[(&str, &str)],
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    let mut req = client().post(format!("{}{path}", s.base_url()));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    parse(req.body(body).send().await.expect("POST")).await
}

impl Session {
    pub async fn get(&self, s: &Server, path: &str) -> (u16, Value) {
        get(s, Some(&self.cookie), path).await
    }

    /// A POST as the page's script sends it: cookie, CSRF header, same Origin, JSON.
    pub async fn post(&self, s: &Server, path: &str, body: Value) -> (u16, Value) {
        let origin = s.base_url();
        post_raw(
            s,
            path,
            &[
                ("Cookie", &self.cookie),
                ("X-CSRF-Token", &self.csrf),
                ("Origin", &origin),
                ("Content-Type", "application/json"),
            ],
            body.to_string(),
        )
        .await
    }

    pub async fn accounts(&self, s: &Server) -> Vec<Value> {
        let (status, v) = self.get(s, "/admin/api/user/list").await;
        assert_eq!(status, 200, "{v}");
        v["accounts"].as_array().cloned().expect("accounts")
    }

    pub async fn account(&self, s: &Server, address: &str) -> Option<Value> {
        self.accounts(s)
            .await
            .into_iter()
            .find(|a| a["address"] == address)
    }
}

/// Does a JMAP request with these credentials succeed?
pub async fn jmap_ok(s: &Server, user: &str, password: &str) -> bool {
    s.http()
        .get(format!("{}/.well-known/jmap", s.base_url()))
        .basic_auth(user, Some(password))
        .send()
        .await
        .map(|r| r.status().as_u16() == 200)
        .unwrap_or(false)
}
