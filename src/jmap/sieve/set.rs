//! SieveScript/set (RFC 9661 §2.3) on the shared /set machinery, then the activation the
//! call asks for: `onSuccessActivateScript` (an id or `#creationId`) or
//! `onSuccessDeactivateScript: true`, applied only when every create, update and destroy
//! succeeded, and reported in `updated` as the scripts whose `isActive` changed.

use super::super::args::Args;
use super::super::error::{MethodError, SetError};
use super::super::set::{self, Created, Obj, SetCx, SetHandler};
use super::super::{Ctx, blob, state_string};
use super::{parse_id, to_json, valid_name};
use crate::sieve::Limits;
use crate::store::Writer;
use crate::store::model::{DataType, SieveScript};
use serde_json::{Value, json};

struct SieveSet;

fn name_taken(
    w: &Writer<'_>,
    acct: u32,
    name: &str,
    except: Option<u32>,
) -> Result<bool, SetError> {
    Ok(w.sieve_scripts(acct)?
        .iter()
        .any(|s| s.name == name && Some(s.id) != except))
}

/// Reads and compiles the script text behind `blobId`.
fn load_text(w: &Writer<'_>, acct: u32, blob_id: &str) -> Result<(Vec<u8>, String), SetError> {
    let hash = blob::hash_of(blob_id)
        .ok_or_else(|| SetError::new("blobNotFound", format!("no blob {blob_id}")))?;
    let bytes = w
        .account_blob(acct, hash)?
        .ok_or_else(|| SetError::new("blobNotFound", format!("no blob {blob_id}")))?;
    if bytes.len() > Limits::default().max_script_bytes {
        return Err(SetError::new(
            "tooLarge",
            format!(
                "scripts may be at most {} bytes",
                Limits::default().max_script_bytes
            ),
        ));
    }
    let program = super::validate::compile(&bytes)?;
    let compiled =
        serde_json::to_string(&program).map_err(|e| SetError::new("serverFail", e.to_string()))?;
    Ok((bytes, compiled))
}

fn name_of(obj: &Obj, cur: Option<&str>) -> Result<Option<String>, SetError> {
    match obj.get("name") {
        None => Ok(cur.map(str::to_string)),
        Some(Value::Null) => Ok(None),
        Some(Value::String(n)) if valid_name(n) => Ok(Some(n.clone())),
        Some(_) => Err(SetError::invalid_properties(
            &["name"],
            "name must be 1-128 bytes without control characters or '/'",
        )),
    }
}

impl SetHandler for SieveSet {
    fn data_type(&self) -> Option<DataType> {
        Some(DataType::SieveScript)
    }
    fn extra_args(&self) -> &'static [&'static str] {
        &["onSuccessActivateScript", "onSuccessDeactivateScript"]
    }
    fn create(&self, w: &mut Writer<'_>, cx: &mut SetCx, obj: Obj) -> Result<Created, SetError> {
        set::only_props(&obj, &["name", "blobId"])?;
        let acct = cx.account;
        let existing = w.sieve_scripts(acct)?;
        if existing.len() >= Limits::default().max_scripts {
            return Err(SetError::new(
                "overQuota",
                format!("at most {} scripts", Limits::default().max_scripts),
            ));
        }
        let blob_id = match obj.get("blobId") {
            Some(Value::String(b)) => cx.resolve(b).unwrap_or_else(|| b.clone()),
            _ => {
                return Err(SetError::invalid_properties(
                    &["blobId"],
                    "blobId is required",
                ));
            }
        };
        let (text, compiled) = load_text(w, acct, &blob_id)?;
        let chosen = name_of(&obj, None)?;
        let name = match &chosen {
            Some(n) => n.clone(),
            // RFC 9661 §2.3: a null name is chosen by the server.
            None => (1..)
                .map(|i| format!("script-{i}"))
                .find(|n| !existing.iter().any(|s| &s.name == n))
                .unwrap_or_default(),
        };
        if name_taken(w, acct, &name, None)? {
            return Err(SetError::new(
                "alreadyExists",
                format!("a script is named \"{name}\""),
            ));
        }
        let s = w.put_sieve_script(
            acct,
            SieveScript {
                id: 0,
                name: name.clone(),
                blob: String::new(),
                is_active: false,
                compiled,
            },
            Some(&text),
            true,
        )?;
        let mut c = Created::new(super::id(s.id)).with("isActive", json!(false));
        if chosen.is_none() {
            c = c.with("name", json!(name));
        }
        Ok(c)
    }
    fn load(&self, w: &mut Writer<'_>, cx: &SetCx, id: &str) -> Result<Option<Obj>, SetError> {
        let Some(n) = parse_id(id) else {
            return Ok(None);
        };
        Ok(w.sieve_scripts(cx.account)?
            .into_iter()
            .find(|s| s.id == n)
            .map(|s| to_json(&s)))
    }
    fn update(
        &self,
        w: &mut Writer<'_>,
        cx: &mut SetCx,
        id: &str,
        old: &Obj,
        new: Obj,
    ) -> Result<Option<Obj>, SetError> {
        set::same_server_set(old, &new, &["id", "isActive"])?;
        set::only_props(&new, &["id", "name", "blobId", "isActive"])?;
        let acct = cx.account;
        let n = parse_id(id).ok_or_else(SetError::not_found)?;
        let mut cur = w
            .sieve_scripts(acct)?
            .into_iter()
            .find(|s| s.id == n)
            .ok_or_else(SetError::not_found)?;
        let mut text = None;
        if old.get("blobId") != new.get("blobId") {
            let blob_id = match new.get("blobId") {
                Some(Value::String(b)) => cx.resolve(b).unwrap_or_else(|| b.clone()),
                _ => {
                    return Err(SetError::invalid_properties(
                        &["blobId"],
                        "blobId must be an id",
                    ));
                }
            };
            let (t, compiled) = load_text(w, acct, &blob_id)?;
            cur.compiled = compiled;
            text = Some(t);
        }
        if let Some(name) = name_of(&new, Some(&cur.name))? {
            if name != cur.name && name_taken(w, acct, &name, Some(n))? {
                return Err(SetError::new(
                    "alreadyExists",
                    format!("a script is named \"{name}\""),
                ));
            }
            cur.name = name;
        }
        w.put_sieve_script(acct, cur, text.as_deref(), false)?;
        Ok(None)
    }
    fn destroy(&self, w: &mut Writer<'_>, cx: &mut SetCx, id: &str) -> Result<(), SetError> {
        let n = parse_id(id).ok_or_else(SetError::not_found)?;
        let s = w
            .sieve_scripts(cx.account)?
            .into_iter()
            .find(|s| s.id == n)
            .ok_or_else(SetError::not_found)?;
        // RFC 9661 §2.3: the active script cannot be destroyed.
        if s.is_active {
            return Err(SetError::new(
                "sieveIsActive",
                "deactivate the script first",
            ));
        }
        w.remove_sieve_script(cx.account, n)?;
        Ok(())
    }
}

fn all_succeeded(resp: &Value) -> bool {
    ["notCreated", "notUpdated", "notDestroyed"]
        .iter()
        .all(|k| {
            resp.get(*k)
                .is_none_or(|v| v.is_null() || v.as_object().is_some_and(|o| o.is_empty()))
        })
}

pub async fn set(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let acct = ctx.account(&a)?;
    let activate = match a.get("onSuccessActivateScript") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(MethodError::invalid_arguments(
                "onSuccessActivateScript must be an id",
            ));
        }
    };
    let deactivate = match a.get("onSuccessDeactivateScript") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(MethodError::invalid_arguments(
                "onSuccessDeactivateScript must be a boolean",
            ));
        }
    };
    if activate.is_some() && deactivate {
        return Err(MethodError::invalid_arguments(
            "onSuccessActivateScript and onSuccessDeactivateScript together",
        ));
    }
    // A script to activate that cannot exist once the changes are made is refused before
    // any change is made: otherwise the creates and destroys would be stored and the client
    // told only that the call failed.
    if let Some(s) = &activate {
        let created_here = s.strip_prefix('#').is_some_and(|c| {
            a.get("create")
                .and_then(Value::as_object)
                .is_some_and(|o| o.contains_key(c))
        });
        if !created_here {
            let resolved = if s.starts_with('#') {
                ctx.resolve_id(s)
            } else {
                s.clone()
            };
            let destroyed = a
                .get("destroy")
                .and_then(Value::as_array)
                .is_some_and(|d| d.iter().any(|v| v.as_str() == Some(resolved.as_str())));
            let exists = match parse_id(&resolved) {
                Some(n) => ctx
                    .jmap
                    .store
                    .read(move |r| Ok(r.sieve_scripts(acct)?.iter().any(|s| s.id == n)))
                    .await
                    .map_err(MethodError::from)?,
                None => false,
            };
            if destroyed || !exists {
                return Err(MethodError::invalid_arguments(format!(
                    "onSuccessActivateScript: no script {s}"
                )));
            }
        }
    }
    let outcome = set::set(ctx, a, SieveSet).await?;
    let mut resp = outcome.response;
    if (activate.is_none() && !deactivate) || !all_succeeded(&resp) {
        return Ok(resp);
    }
    let target = match &activate {
        None => None,
        Some(s) => {
            let resolved = match s.strip_prefix('#') {
                Some(c) => outcome
                    .created
                    .iter()
                    .find(|(cid, _)| cid == c)
                    .map(|(_, id)| id.clone())
                    .unwrap_or_else(|| ctx.resolve_id(s)),
                None => s.clone(),
            };
            match parse_id(&resolved) {
                Some(n) => Some(n),
                None => {
                    return Err(MethodError::invalid_arguments(format!(
                        "onSuccessActivateScript: no script {s}"
                    )));
                }
            }
        }
    };
    let (changed, state) = ctx
        .jmap
        .store
        .write(move |w| {
            let before = w.sieve_scripts(acct)?;
            if let Some(n) = target
                && !before.iter().any(|s| s.id == n)
            {
                return Err(crate::store::StoreError::NotFound);
            }
            w.activate_sieve_script(acct, target)?;
            let changed: Vec<(u32, bool)> = before
                .iter()
                .filter(|s| s.is_active != (Some(s.id) == target))
                .map(|s| (s.id, Some(s.id) == target))
                .collect();
            Ok((changed, w.state(acct, DataType::SieveScript)?))
        })
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound => {
                MethodError::invalid_arguments("onSuccessActivateScript names no script")
            }
            e => MethodError::from(e),
        })?;
    if !changed.is_empty() {
        if !resp.get("updated").is_some_and(Value::is_object) {
            resp["updated"] = json!({});
        }
        for (id, active) in changed {
            resp["updated"][super::id(id)] = json!({ "isActive": active });
        }
        resp["newState"] = json!(state_string(state));
    }
    Ok(resp)
}
