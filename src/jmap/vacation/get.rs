//! VacationResponse/get (RFC 8621 §8.1) and the JSON form of the singleton.

use crate::jmap::args::Args;
use crate::jmap::error::MethodError;
use crate::jmap::set::Obj;
use crate::jmap::{Ctx, get};
use crate::store::model::{DataType, VacationResponse};
use serde_json::{Map, Value, json};

pub const SINGLETON: &str = "singleton";

pub const PROPERTIES: [&str; 7] = [
    "id",
    "isEnabled",
    "fromDate",
    "toDate",
    "subject",
    "textBody",
    "htmlBody",
];

pub fn to_json(v: &VacationResponse) -> Obj {
    let o = json!({
        "id": SINGLETON,
        "isEnabled": v.is_enabled,
        "fromDate": v.from_date.map(crate::date::rfc3339),
        "toDate": v.to_date.map(crate::date::rfc3339),
        "subject": v.subject,
        "textBody": v.text_body,
        "htmlBody": v.html_body,
    });
    match o {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub async fn get(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let acct = ctx.account(&a)?;
    let g = get::parse(ctx, &a, &[], &PROPERTIES)?;
    let (state, v) = ctx
        .jmap
        .store
        .read(move |r| {
            Ok((
                r.state(acct, DataType::VacationResponse)?,
                r.vacation(acct)?,
            ))
        })
        .await?;
    let obj = get::select(to_json(&v), g.properties.as_deref());
    let (list, not_found) = match g.ids {
        None => (vec![obj], Vec::new()),
        Some(ids) => {
            let mut list = Vec::new();
            let mut nf = Vec::new();
            for id in ids {
                if id == SINGLETON && list.is_empty() {
                    list.push(obj.clone());
                } else if id != SINGLETON {
                    nf.push(id);
                }
            }
            (list, nf)
        }
    };
    Ok(get::response(&ctx.account_id(), state, list, not_found))
}
