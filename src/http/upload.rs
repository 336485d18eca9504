//! POST /jmap/upload/{accountId} (RFC 8620 §6.1). Size (maxSizeUpload, 413) and concurrency
//! (maxConcurrentUpload per user, 429) are enforced here, before any byte is stored; errors are
//! problem JSON (§6.1 "SHOULD return a JSON problem details object").

use super::{State, authenticate, problem, read_body};
use crate::jmap::error::RequestError;
use crate::store::model::{AccountId, IdKind};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;
use tide::http::mime;
use tide::{Request, Response, StatusCode};

/// Uploads in progress per user (one process serves one data directory).
static ACTIVE: Mutex<Option<HashMap<AccountId, usize>>> = Mutex::new(None);

/// One upload slot of a user, released on drop.
struct Slot(AccountId);

impl Slot {
    fn take(user: AccountId, max: usize) -> Option<Slot> {
        let mut g = ACTIVE.lock().ok()?;
        let n = g.get_or_insert_with(HashMap::new).entry(user).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot(user))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut g) = ACTIVE.lock()
            && let Some(m) = g.as_mut()
            && let Some(n) = m.get_mut(&self.0)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                m.remove(&self.0);
            }
        }
    }
}

pub async fn upload(mut req: Request<State>) -> tide::Result {
    let user = match authenticate(&req).await {
        Ok(u) => u,
        Err(r) => return Ok(r),
    };
    let state = req.state().clone();
    let limits = &state.jmap.limits;
    if IdKind::Account.decode(req.param("account").unwrap_or_default()) != Some(user.id) {
        return Ok(problem(&json!({
            "type": "about:blank",
            "status": 404,
            "detail": "No such account for this user",
        })));
    }
    let Some(_slot) = Slot::take(user.id, limits.max_concurrent_upload) else {
        let e = RequestError::Limit {
            limit: "maxConcurrentUpload",
            detail: format!("at most {} uploads at a time", limits.max_concurrent_upload),
        };
        return Ok(problem(&e.problem()));
    };
    let content_type = req.header("Content-Type").map(|h| h.as_str().to_string());
    let body = match read_body(&mut req, limits.max_size_upload).await {
        Ok(b) => b,
        Err(None) => {
            let e = RequestError::Limit {
                limit: "maxSizeUpload",
                detail: format!("uploads are limited to {} bytes", limits.max_size_upload),
            };
            return Ok(problem(&e.problem()));
        }
        Err(Some(r)) => return Ok(r),
    };
    match crate::jmap::upload::upload(&state.jmap, user.id, content_type.as_deref(), body).await {
        Ok(v) => {
            let mut res = Response::new(StatusCode::Created);
            res.set_content_type(mime::JSON);
            res.set_body(v.to_string());
            Ok(res)
        }
        Err(crate::store::StoreError::OverQuota(why)) => Ok(problem(&json!({
            // RFC 4918 §11.5: the server cannot store what the request needs (the quota).
            "type": "about:blank",
            "title": "overQuota",
            "status": 507,
            "detail": format!("overQuota: {why}"),
        }))),
        Err(e) => {
            log::error!("upload: {e}");
            Ok(problem(&json!({
                "type": "about:blank",
                "status": 500,
                "detail": "The upload could not be stored",
            })))
        }
    }
}
