//! The DNS doctor on the admin side (`dns_check/`, the same as `mailnook dns check`):
//!
//! - `GET /admin/api/dns-check[?domain=D]`: the report as JSON (`status` per line: ok, missing,
//!   wrong, optional, unknown; `problems` counts what needs action).
//! - `GET /admin/dns-check[?domain=D]`: the same as a page, linked from the setup section. It
//!   is its own page, not part of `/admin`, because it waits on DNS (up to the doctor's
//!   deadline), which the dashboard must not.

use super::admin_session::{self as session, require_admin};
use super::{State, admin, admin_html};
use crate::dns_check::{Report, Status};
use std::fmt::Write;
use tide::{Request, Response, StatusCode};

pub fn mount(app: &mut tide::Server<State>) {
    app.at("/admin/api/dns-check").get(api);
    app.at("/admin/dns-check").get(page);
}

/// The `domain` query parameter, if any.
fn domain(req: &Request<State>) -> Option<String> {
    req.url()
        .query_pairs()
        .find(|(k, _)| k == "domain")
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

async fn run(req: &Request<State>) -> Result<Report, String> {
    let state = req.state();
    crate::dns_check::run(
        &state.config,
        &state.jmap.store,
        domain(req).as_deref(),
        admin::host_ip(req),
    )
    .await
}

async fn api(req: Request<State>) -> tide::Result {
    if let Err(r) = require_admin(&req, false).await {
        return Ok(r);
    }
    let mut res = match run(&req).await {
        Ok(r) => {
            let mut res = Response::new(StatusCode::Ok);
            res.set_body(serde_json::to_string(&r).unwrap_or_default());
            res
        }
        Err(e) => {
            let mut res = Response::new(StatusCode::BadRequest);
            res.set_body(
                serde_json::json!({
                    "type": "about:blank",
                    "title": "Bad Request",
                    "status": 400,
                    "detail": e,
                })
                .to_string(),
            );
            res.insert_header("Content-Type", "application/problem+json");
            admin::harden(&mut res);
            return Ok(res);
        }
    };
    res.insert_header("Content-Type", "application/json");
    admin::harden(&mut res);
    Ok(res)
}

async fn page(req: Request<State>) -> tide::Result {
    if session::session_admin(&req).await.is_none() {
        let mut res = Response::new(StatusCode::SeeOther);
        res.insert_header("Location", "/admin");
        admin::harden(&mut res);
        return Ok(res);
    }
    let body = match run(&req).await {
        Ok(r) => render(&r),
        Err(e) => format!("<p class=\"note\">{}</p>", admin_html::esc(&e)),
    };
    Ok(admin::html(
        StatusCode::Ok,
        format!(
            "{}<body><header><h1>mailnook <span>admin</span></h1></header>\
             <main><section><h2>DNS check</h2>{body}\
             <p><a href=\"/admin#setup\">Back to the admin page</a></p></section></main></body></html>",
            admin_html::head("mailnook admin · DNS check", None)
        ),
    ))
}

fn render(r: &Report) -> String {
    use admin_html::esc;
    let mut out = String::new();
    let _ = write!(
        out,
        "<p class=\"muted small\">Asked {}; this server's addresses: {} ({}).</p>",
        esc(&r.resolver),
        esc(&if r.addresses.is_empty() {
            "unknown".to_string()
        } else {
            r.addresses.join(", ")
        }),
        esc(&r.addresses_from)
    );
    for w in &r.warnings {
        let _ = write!(out, "<p class=\"note\">{}</p>", esc(w));
    }
    if r.problems == 0 {
        out.push_str("<p class=\"flash\">Everything mailnook needs is published.</p>");
    } else {
        let _ = write!(
            out,
            "<p class=\"note\">{} record(s) need attention. DNS changes can take up to an hour \
             to be seen; reload this page after publishing.</p>",
            r.problems
        );
    }
    out.push_str(
        "<div class=\"scroll\"><table class=\"dns\"><thead><tr><th>Status</th><th>For</th>\
         <th>Name</th><th>Found</th><th>What to do</th><th>Why</th></tr></thead><tbody>",
    );
    for c in &r.checks {
        let todo = if matches!(c.status, Status::Ok | Status::Optional) {
            String::new()
        } else {
            format!("<code class=\"v\">{}</code>", esc(&c.publish))
        };
        let _ = write!(
            out,
            "<tr class=\"dns-{}\"><td><strong>{}</strong></td><td>{}{}</td><td><code>{}</code> {}</td>\
             <td><code class=\"v\">{}</code><br>{}</td><td>{}</td><td class=\"small\">{}</td></tr>",
            c.status.word(),
            c.status.word(),
            esc(&c.what),
            if c.domain.is_empty() {
                String::new()
            } else {
                format!("<br><small>{}</small>", esc(&c.domain))
            },
            esc(&c.name),
            esc(&c.kind),
            esc(&c.found.join(" | ")),
            esc(&c.detail),
            todo,
            esc(&c.why),
        );
    }
    out.push_str("</tbody></table></div>");
    out
}
