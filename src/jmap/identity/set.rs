//! Identity/set (RFC 8621 §6.3) on the shared /set machinery; the ownership rule is in `mod.rs`.

use super::get::{PROPERTIES, to_json};
use super::owns;
use crate::jmap::Ctx;
use crate::jmap::args::Args;
use crate::jmap::error::{MethodError, SetError};
use crate::jmap::set::{self, Created, Obj, SetCx, SetHandler};
use crate::store::Writer;
use crate::store::model::{DataType, EmailAddress, IdKind, Identity};
use serde_json::{Value, json};

const OWNED_KEY: &str = "\u{0}owned";

fn string(obj: &Obj, prop: &str, default: &str) -> Result<String, SetError> {
    match obj.get(prop) {
        None => Ok(default.to_string()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(SetError::invalid_properties(
            &[prop],
            format!("{prop} must be a string"),
        )),
    }
}

fn addresses(
    obj: &Obj,
    prop: &str,
    default: Option<Vec<EmailAddress>>,
) -> Result<Option<Vec<EmailAddress>>, SetError> {
    match obj.get(prop) {
        None => Ok(default),
        Some(Value::Null) => Ok(None),
        Some(v) => {
            let list: Vec<EmailAddress> = serde_json::from_value(v.clone()).map_err(|_| {
                SetError::invalid_properties(&[prop], format!("{prop} must be EmailAddress[]"))
            })?;
            if list.iter().any(|a| !a.email.contains('@')) {
                return Err(SetError::invalid_properties(
                    &[prop],
                    "every address needs an email",
                ));
            }
            Ok(Some(list))
        }
    }
}

struct IdentitySet;

impl SetHandler for IdentitySet {
    fn data_type(&self) -> Option<DataType> {
        Some(DataType::Identity)
    }

    fn create(
        &self,
        w: &mut Writer<'_>,
        cx: &mut SetCx,
        mut obj: Obj,
    ) -> Result<Created, SetError> {
        let owned = obj.remove(OWNED_KEY) == Some(Value::Bool(true));
        set::only_props(
            &obj,
            &[
                "name",
                "email",
                "replyTo",
                "bcc",
                "textSignature",
                "htmlSignature",
            ],
        )?;
        let Some(Value::String(email)) = obj.get("email") else {
            return Err(SetError::invalid_properties(
                &["email"],
                "email is required",
            ));
        };
        if !owned {
            return Err(SetError::new(
                "forbiddenFrom",
                format!("this account may not send from {email}"),
            ));
        }
        let ident = Identity {
            id: 0,
            name: string(&obj, "name", "")?,
            email: email.trim().to_lowercase(),
            reply_to: addresses(&obj, "replyTo", None)?,
            bcc: addresses(&obj, "bcc", None)?,
            text_signature: string(&obj, "textSignature", "")?,
            html_signature: string(&obj, "htmlSignature", "")?,
            may_delete: true,
        };
        let id = w.put_identity(cx.account, ident.clone(), true)?;
        let mut c = Created::new(IdKind::Identity.encode(id)).with("mayDelete", json!(true));
        for (p, v) in to_json(&ident) {
            if p != "id" && p != "mayDelete" && !obj.contains_key(&p) {
                c = c.with(&p, v);
            }
        }
        Ok(c)
    }

    fn load(&self, w: &mut Writer<'_>, cx: &SetCx, id: &str) -> Result<Option<Obj>, SetError> {
        let Some(n) = IdKind::Identity.decode(id) else {
            return Ok(None);
        };
        Ok(w.identities(cx.account)?
            .iter()
            .find(|i| i.id == n)
            .map(to_json))
    }

    fn update(
        &self,
        w: &mut Writer<'_>,
        cx: &mut SetCx,
        id: &str,
        old: &Obj,
        new: Obj,
    ) -> Result<Option<Obj>, SetError> {
        set::same_server_set(old, &new, &["id", "email", "mayDelete"])?;
        set::only_props(&new, &PROPERTIES)?;
        let n = IdKind::Identity
            .decode(id)
            .ok_or_else(SetError::not_found)?;
        let cur = w
            .identities(cx.account)?
            .into_iter()
            .find(|i| i.id == n)
            .ok_or_else(SetError::not_found)?;
        let next = Identity {
            name: string(&new, "name", &cur.name)?,
            reply_to: addresses(&new, "replyTo", cur.reply_to.clone())?,
            bcc: addresses(&new, "bcc", cur.bcc.clone())?,
            text_signature: string(&new, "textSignature", &cur.text_signature)?,
            html_signature: string(&new, "htmlSignature", &cur.html_signature)?,
            ..cur.clone()
        };
        if next != cur {
            w.put_identity(cx.account, next, false)?;
        }
        Ok(None)
    }

    fn destroy(&self, w: &mut Writer<'_>, cx: &mut SetCx, id: &str) -> Result<(), SetError> {
        let n = IdKind::Identity
            .decode(id)
            .ok_or_else(SetError::not_found)?;
        let cur = w
            .identities(cx.account)?
            .into_iter()
            .find(|i| i.id == n)
            .ok_or_else(SetError::not_found)?;
        if !cur.may_delete {
            return Err(SetError::new(
                "forbidden",
                "the account's default identity cannot be deleted",
            ));
        }
        w.remove_identity(cx.account, n)?;
        Ok(())
    }
}

pub async fn set(ctx: &mut Ctx<'_>, mut a: Args) -> Result<Value, MethodError> {
    let acct = ctx.account(&a)?;
    if let Some(Value::Object(creates)) = a.get_mut("create") {
        for obj in creates.values_mut() {
            let Value::Object(o) = obj else { continue };
            o.remove(OWNED_KEY);
            let owned = match o.get("email") {
                Some(Value::String(e)) => {
                    let e = e.clone();
                    ctx.jmap.store.read(move |r| owns(r, acct, &e)).await?
                }
                _ => false,
            };
            o.insert(OWNED_KEY.into(), json!(owned));
        }
    }
    Ok(set::set(ctx, a, IdentitySet).await?.response)
}
