//! The admin JSON API under `/admin/api`, used by the page and by scripts (curl with HTTP
//! Basic credentials of an admin account). Each account action mirrors a CLI command and runs
//! through the same `accounts::run` (parity: `mailnook user add` is `POST /admin/api/user/add`):
//!
//! | CLI | API |
//! | --- | --- |
//! | `mailnook user list` | `GET /admin/api/user/list` |
//! | `mailnook user add ADDR [--admin]` | `POST /admin/api/user/add {"address","password"?,"admin"?}` |
//! | `mailnook user passwd ADDR` | `POST /admin/api/user/passwd {"address","password"?}` |
//! | `mailnook user del ADDR` | `POST /admin/api/user/del {"address","confirm"}` |
//! | `mailnook domain list` | `GET /admin/api/domain/list` |
//! | `mailnook domain add DOMAIN` | `POST /admin/api/domain/add {"domain"}` |
//! | `mailnook domain del DOMAIN` | `POST /admin/api/domain/del {"domain"}` |
//! | `mailnook alias list` | `GET /admin/api/alias/list` |
//! | `mailnook alias add ADDR TARGET...` | `POST /admin/api/alias/add {"address","targets":[..]}` |
//! | `mailnook alias del ADDR [TARGET]` | `POST /admin/api/alias/del {"address","target"?}` |
//! | `mailnook junk mode ADDR MODE` | `POST /admin/api/junk/mode {"address","mode"}` |
//! | `mailnook share ...` | `POST /admin/api/share {"Add":{"owner","mailbox","grantees":[..],"rights"}}` (or `Remove`, `AccountAdd`, `AccountRemove`, `List`) |
//!
//! | `mailnook user app-password list ADDR` | `GET /admin/api/app-password/list?address=ADDR` |
//! | `mailnook user app-password add ADDR NAME` | `POST /admin/api/app-password/add {"address","name"}` |
//! | `mailnook user app-password del ADDR ID` | `POST /admin/api/app-password/del {"address","which"}` |
//!
//! | `mailnook cert show` | `GET /admin/api/setup` (`certificate`) |
//! | `mailnook dns check [DOMAIN]` | `GET /admin/api/dns-check[?domain=DOMAIN]` (`admin_dns.rs`) |
//! | `mailnook cert install --cert P --key P` | `POST /admin/api/cert/install {"cert_path","key_path"}` |
//!
//! (the last also takes `{"cert_pem","key_pem"}`, an upload), plus `GET /admin/api/status`, and
//! `GET /admin/api/session`. A password left out is generated and returned once. Errors are
//! RFC 7807 problem JSON. State changes need the CSRF token of a session (or Basic auth), a
//! same-origin request and a JSON body: see `admin_session.rs`.

use super::admin_session::{Admin, refusal, require_admin};
use super::{State, admin, admin_status, read_body};
use crate::accounts::{self, Command, Outcome};
use crate::junk::admin::JunkCommand;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::path::PathBuf;
use tide::{Request, Response, StatusCode};

const MAX_BODY: usize = 256 * 1024;

pub fn mount(app: &mut tide::Server<State>) {
    app.at("/admin/api/session").get(session);
    app.at("/admin/api/status").get(status);
    app.at("/admin/api/setup").get(setup);
    app.at("/admin/api/user/list").get(user_list);
    app.at("/admin/api/user/add").post(user_add);
    app.at("/admin/api/user/passwd").post(user_passwd);
    app.at("/admin/api/user/del").post(user_del);
    app.at("/admin/api/domain/list").get(domain_list);
    app.at("/admin/api/domain/add").post(domain_add);
    app.at("/admin/api/domain/del").post(domain_del);
    app.at("/admin/api/alias/list").get(alias_list);
    app.at("/admin/api/alias/add").post(alias_add);
    app.at("/admin/api/alias/del").post(alias_del);
    app.at("/admin/api/junk/mode").post(junk_mode);
    super::admin_quota::mount(app);
    app.at("/admin/api/share").post(share);
    app.at("/admin/api/cert/install").post(cert_install);
    app.at("/admin/api/app-password/list")
        .get(app_password_list);
    app.at("/admin/api/app-password/add").post(app_password_add);
    app.at("/admin/api/app-password/del").post(app_password_del);
    app.at("/admin/api").all(not_found);
    app.at("/admin/api/*").all(not_found);
}

pub(super) fn ok(v: Value) -> Response {
    let mut res = Response::new(StatusCode::Ok);
    res.insert_header("Content-Type", "application/json");
    res.set_body(v.to_string());
    admin::harden(&mut res);
    res
}

pub(super) fn bad(detail: impl AsRef<str>) -> Response {
    refusal(StatusCode::BadRequest, detail.as_ref())
}

async fn not_found(_req: Request<State>) -> tide::Result {
    Ok(refusal(StatusCode::NotFound, "no such admin API endpoint"))
}

/// Reads and parses a JSON body; unknown fields are refused by the request types.
pub(super) async fn body<T: DeserializeOwned>(req: &mut Request<State>) -> Result<T, Response> {
    let bytes = match read_body(req, MAX_BODY).await {
        Ok(b) => b,
        Err(None) => {
            return Err(refusal(
                StatusCode::PayloadTooLarge,
                &format!("the request is larger than {MAX_BODY} bytes"),
            ));
        }
        Err(Some(_)) => return Err(bad("the request body could not be read")),
    };
    serde_json::from_slice(&bytes).map_err(|e| bad(format!("bad request body: {e}")))
}

macro_rules! admin_or_return {
    ($req:expr, $changing:expr) => {
        match require_admin(&$req, $changing).await {
            Ok(a) => a,
            Err(r) => return Ok(r),
        }
    };
}

macro_rules! body_or_return {
    ($req:expr) => {
        match body(&mut $req).await {
            Ok(b) => b,
            Err(r) => return Ok(r),
        }
    };
}

async fn session(req: Request<State>) -> tide::Result {
    let admin = admin_or_return!(req, false);
    Ok(ok(json!({
        "address": admin.account.name,
        "csrf": admin.session.as_ref().map(|s| s.1.clone()),
    })))
}

async fn status(req: Request<State>) -> tide::Result {
    let _admin = admin_or_return!(req, false);
    let s = admin_status::gather(req.state()).await;
    Ok(ok(serde_json::to_value(&s).unwrap_or(Value::Null)))
}

async fn list(state: &State) -> Result<Vec<accounts::AccountSummary>, Response> {
    match accounts::run(&state.jmap.store, Command::List).await {
        Outcome::Accounts(list) => Ok(list),
        Outcome::Error(e) => Err(refusal(StatusCode::InternalServerError, &e)),
        _ => Err(refusal(
            StatusCode::InternalServerError,
            "unexpected answer",
        )),
    }
}

async fn setup(req: Request<State>) -> tide::Result {
    let _admin = admin_or_return!(req, false);
    let lists = admin::Lists::load(req.state()).await;
    let s = admin::setup_for(&req, &lists).await;
    Ok(ok(serde_json::to_value(&s).unwrap_or(Value::Null)))
}

async fn user_list(req: Request<State>) -> tide::Result {
    let _admin = admin_or_return!(req, false);
    match list(req.state()).await {
        Ok(l) => Ok(ok(json!({ "accounts": l }))),
        Err(r) => Ok(r),
    }
}

/// A typed password (checked) or, when absent or empty, a generated one (returned once).
/// Returns (hash, the generated password if any).
async fn password_hash(password: Option<String>) -> Result<(String, Option<String>), Response> {
    let (p, generated) = match password.filter(|p| !p.is_empty()) {
        Some(p) => {
            accounts::check_password(&p).map_err(bad)?;
            (p, false)
        }
        None => (crate::password::generate(), true),
    };
    let hash = crate::pool::unblock({
        let p = p.clone();
        move || crate::password::hash(&p)
    })
    .await
    .map_err(|e| refusal(StatusCode::InternalServerError, &e))?;
    Ok((hash, generated.then_some(p)))
}

/// How a command is named in the log: the CLI's words.
fn describe(cmd: &Command) -> String {
    match cmd {
        Command::Add { address, .. } => format!("user add {address}"),
        Command::Passwd { address, .. } => format!("user passwd {address}"),
        Command::Del { address } => format!("user del {address}"),
        Command::List => "user list".into(),
        Command::DomainAdd { domain } => format!("domain add {domain}"),
        Command::DomainDel { domain } => format!("domain del {domain}"),
        Command::DomainList => "domain list".into(),
        Command::AliasAdd { address, targets } => {
            format!("alias add {address} {}", targets.join(" "))
        }
        Command::AliasDel { address, target } => {
            format!("alias del {address} {}", target.as_deref().unwrap_or(""))
        }
        Command::AliasList => "alias list".into(),
        Command::Dns { domain, .. } => format!("dns {domain}"),
        Command::AppPasswordAdd { address, name, .. } => {
            format!("user app-password add {address} {name:?}")
        }
        Command::AppPasswordList { address } => format!("user app-password list {address}"),
        Command::TokenAdd { address, .. } => format!("user token {address}"),
        Command::AppPasswordDel { address, which } => {
            format!("user app-password del {address} {which:?}")
        }
        Command::Junk { junk } => match junk {
            JunkCommand::Mode { address, mode } => format!("junk mode {address} {mode}"),
            JunkCommand::Status { address } => format!("junk status {address}"),
            JunkCommand::Rebuild { address } => format!("junk rebuild {address}"),
        },
        Command::OauthClientAdd { name, .. } => format!("oauth client add {name:?}"),
        Command::OauthClientList => "oauth client list".into(),
        Command::Quota { quota } => super::admin_quota::describe(quota),
        Command::OauthClientDel { which } => format!("oauth client del {which:?}"),
        Command::Share { share } => format!("share {share:?}"),
    }
}

/// Runs a command through `accounts::run` (the CLI's implementation) and answers with its
/// outcome as JSON (`done`, `accounts`, `domains` or `aliases`) merged into `extra`.
pub(super) async fn run(
    state: &State,
    admin: Option<&Admin>,
    cmd: Command,
    mut extra: Value,
) -> Response {
    let what = describe(&cmd);
    let (key, value) = match accounts::run(&state.jmap.store, cmd).await {
        Outcome::Done(msg) => {
            if let Some(a) = admin {
                log::info!("admin: {} ran {what}", a.account.name);
            }
            // Cached Basic-auth successes would let an old password work a little longer.
            state.auth.forget_all();
            ("done", Value::String(msg))
        }
        Outcome::Accounts(l) => ("accounts", serde_json::to_value(l).unwrap_or_default()),
        Outcome::Domains(l) => ("domains", serde_json::to_value(l).unwrap_or_default()),
        Outcome::Aliases(l) => ("aliases", serde_json::to_value(l).unwrap_or_default()),
        Outcome::AppPasswords(l) => {
            if let (Some(a), true) = (admin, what.contains(" add ")) {
                log::info!("admin: {} ran {what}", a.account.name);
            }
            ("app_passwords", serde_json::to_value(l).unwrap_or_default())
        }
        Outcome::Error(e) => return bad(e),
    };
    if let Some(o) = extra.as_object_mut() {
        o.insert(key.into(), value);
    }
    ok(extra)
}

/// `mailnook share ...` (issue #16): the body is a `share_admin::ShareCommand`.
async fn share(mut req: Request<State>) -> tide::Result {
    let admin = admin_or_return!(req, true);
    let share: crate::share_admin::ShareCommand = body_or_return!(req);
    let cmd = Command::Share { share };
    Ok(run(req.state(), Some(&admin), cmd, json!({})).await)
}

async fn domain_list(req: Request<State>) -> tide::Result {
    let _admin = admin_or_return!(req, false);
    Ok(run(req.state(), None, Command::DomainList, json!({})).await)
}

async fn alias_list(req: Request<State>) -> tide::Result {
    let _admin = admin_or_return!(req, false);
    Ok(run(req.state(), None, Command::AliasList, json!({})).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DomainReq {
    domain: String,
}

async fn domain_add(mut req: Request<State>) -> tide::Result {
    let admin = admin_or_return!(req, true);
    let r: DomainReq = body_or_return!(req);
    let cmd = Command::DomainAdd { domain: r.domain };
    Ok(run(req.state(), Some(&admin), cmd, json!({})).await)
}

async fn domain_del(mut req: Request<State>) -> tide::Result {
    let admin = admin_or_return!(req, true);
    let r: DomainReq = body_or_return!(req);
    let cmd = Command::DomainDel { domain: r.domain };
    Ok(run(req.state(), Some(&admin), cmd, json!({})).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AliasAddReq {
    /// `name@domain`, or `@domain` for the catch-all.
    address: String,
    /// Account addresses that receive a copy.
    targets: Vec<String>,
}

async fn alias_add(mut req: Request<State>) -> tide::Result {
    let admin = admin_or_return!(req, true);
    let r: AliasAddReq = body_or_return!(req);
    let targets: Vec<String> = r
        .targets
        .iter()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    if targets.is_empty() {
        return Ok(bad("an alias needs at least one target account"));
    }
    let cmd = Command::AliasAdd {
        address: r.address,
        targets,
    };
    Ok(run(req.state(), Some(&admin), cmd, json!({})).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AliasDelReq {
    address: String,
    /// Remove only this target; without it the whole alias goes.
    target: Option<String>,
}

async fn alias_del(mut req: Request<State>) -> tide::Result {
    let admin = admin_or_return!(req, true);
    let r: AliasDelReq = body_or_return!(req);
    let cmd = Command::AliasDel {
        address: r.address,
        target: r.target.filter(|t| !t.trim().is_empty()),
    };
    Ok(run(req.state(), Some(&admin), cmd, json!({})).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JunkModeReq {
    address: String,
    /// off, junk, reject or default.
    mode: String,
}

async fn junk_mode(mut req: Request<State>) -> tide::Result {
    let admin = admin_or_return!(req, true);
    let r: JunkModeReq = body_or_return!(req);
    let cmd = Command::Junk {
        junk: JunkCommand::Mode {
            address: r.address,
            mode: r.mode,
        },
    };
    Ok(run(req.state(), Some(&admin), cmd, json!({})).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddReq {
    address: String,
    password: Option<String>,
    #[serde(default)]
    admin: bool,
}

async fn user_add(mut req: Request<State>) -> tide::Result {
    let admin = admin_or_return!(req, true);
    let r: AddReq = body_or_return!(req);
    let address = match accounts::check_address(&r.address) {
        Ok(a) => a,
        Err(e) => return Ok(bad(e)),
    };
    let (hash, generated) = match password_hash(r.password).await {
        Ok(x) => x,
        Err(res) => return Ok(res),
    };
    let cmd = Command::Add {
        address: address.clone(),
        password_hash: hash,
        admin: r.admin,
    };
    let extra = json!({ "address": address, "admin": r.admin, "password": generated });
    Ok(run(req.state(), Some(&admin), cmd, extra).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswdReq {
    address: String,
    password: Option<String>,
}

async fn user_passwd(mut req: Request<State>) -> tide::Result {
    let admin = admin_or_return!(req, true);
    let r: PasswdReq = body_or_return!(req);
    let address = r.address.trim().to_lowercase();
    if address.is_empty() {
        return Ok(bad("address is required"));
    }
    let (hash, generated) = match password_hash(r.password).await {
        Ok(x) => x,
        Err(res) => return Ok(res),
    };
    let cmd = Command::Passwd {
        address: address.clone(),
        password_hash: hash.clone(),
    };
    let extra = json!({ "address": address, "password": generated });
    let res = run(req.state(), Some(&admin), cmd, extra).await;
    // Changing one's own password keeps this session (other sessions of the account end).
    if res.status() == StatusCode::Ok
        && address == admin.account.name
        && let Some((token, _)) = &admin.session
    {
        req.state().admin_sessions.refresh_password(token, &hash);
    }
    Ok(res)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DelReq {
    address: String,
    /// Must repeat the address: deleting an account deletes all its mail.
    confirm: Option<String>,
}

async fn user_del(mut req: Request<State>) -> tide::Result {
    let admin = admin_or_return!(req, true);
    let r: DelReq = body_or_return!(req);
    let address = r.address.trim().to_lowercase();
    if address.is_empty() {
        return Ok(bad("address is required"));
    }
    if r.confirm.as_deref().map(|c| c.trim().to_lowercase()) != Some(address.clone()) {
        return Ok(bad(
            "to delete an account and all its mail, repeat its address in \"confirm\"",
        ));
    }
    if address == admin.account.name {
        return Ok(refusal(
            StatusCode::Conflict,
            "you cannot delete the account you are signed in with",
        ));
    }
    let cmd = Command::Del {
        address: address.clone(),
    };
    Ok(run(
        req.state(),
        Some(&admin),
        cmd,
        json!({ "address": address }),
    )
    .await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CertReq {
    cert_pem: Option<String>,
    key_pem: Option<String>,
    cert_path: Option<PathBuf>,
    key_path: Option<PathBuf>,
}

async fn cert_install(mut req: Request<State>) -> tide::Result {
    let admin = admin_or_return!(req, true);
    let r: CertReq = body_or_return!(req);
    let nonempty = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
    let pem = (nonempty(r.cert_pem), nonempty(r.key_pem));
    let paths = (
        r.cert_path.filter(|p| !p.as_os_str().is_empty()),
        r.key_path.filter(|p| !p.as_os_str().is_empty()),
    );
    let state = req.state().clone();
    let tls = state.tls.clone();
    let data_dir = state.config.data_dir.clone();
    let result = match (pem, paths) {
        ((Some(c), Some(k)), (None, None)) => {
            crate::pool::unblock(move || tls.install_pem(&data_dir, c.as_bytes(), k.as_bytes()))
                .await
        }
        ((None, None), (Some(c), Some(k))) => {
            crate::pool::unblock(move || tls.install_paths(&data_dir, &c, &k)).await
        }
        _ => {
            return Ok(bad(
                "give either cert_pem and key_pem, or cert_path and key_path",
            ));
        }
    };
    match result {
        Ok(info) => {
            log::info!(
                "admin: {} installed the certificate {} (SHA-256 {})",
                admin.account.name,
                info.subject,
                info.fingerprint
            );
            let cert = super::admin_setup::certificate(&info, &state.config);
            Ok(ok(
                json!({ "done": "certificate installed", "certificate": cert }),
            ))
        }
        Err(e) => Ok(bad(e)),
    }
}

async fn app_password_list(req: Request<State>) -> tide::Result {
    let _admin = admin_or_return!(req, false);
    let address = req
        .url()
        .query_pairs()
        .find(|(k, _)| k == "address")
        .map(|(_, v)| v.trim().to_lowercase())
        .unwrap_or_default();
    if address.is_empty() {
        return Ok(bad("address is required"));
    }
    let cmd = Command::AppPasswordList { address };
    Ok(run(req.state(), None, cmd, json!({})).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppPasswordAddReq {
    address: String,
    /// The holder's label, e.g. "Anna's phone".
    name: String,
}

/// Makes an app password and returns it once (`password`); only its hash is kept.
async fn app_password_add(mut req: Request<State>) -> tide::Result {
    let admin = admin_or_return!(req, true);
    let r: AppPasswordAddReq = body_or_return!(req);
    let name = match crate::app_passwords::check_name(&r.name) {
        Ok(n) => n,
        Err(e) => return Ok(bad(e)),
    };
    let fresh = match crate::pool::unblock(crate::app_passwords::generate).await {
        Ok(f) => f,
        Err(e) => return Ok(refusal(StatusCode::InternalServerError, &e)),
    };
    let address = r.address.trim().to_lowercase();
    let cmd = Command::AppPasswordAdd {
        address: address.clone(),
        name,
        id: fresh.id,
        password_hash: fresh.hash,
    };
    let extra = json!({ "address": address, "password": fresh.password });
    Ok(run(req.state(), Some(&admin), cmd, extra).await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppPasswordDelReq {
    address: String,
    /// The app password's id or name.
    which: String,
}

async fn app_password_del(mut req: Request<State>) -> tide::Result {
    let admin = admin_or_return!(req, true);
    let r: AppPasswordDelReq = body_or_return!(req);
    let cmd = Command::AppPasswordDel {
        address: r.address.trim().to_lowercase(),
        which: r.which,
    };
    Ok(run(req.state(), Some(&admin), cmd, json!({})).await)
}
