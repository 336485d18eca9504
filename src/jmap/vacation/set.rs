//! VacationResponse/set (RFC 8621 §8.2) on the shared /set machinery.

use super::get::{PROPERTIES, SINGLETON, to_json};
use crate::jmap::Ctx;
use crate::jmap::args::Args;
use crate::jmap::error::{MethodError, SetError};
use crate::jmap::set::{self, Created, Obj, SetCx, SetHandler};
use crate::store::Writer;
use crate::store::model::{DataType, VacationResponse};
use serde_json::Value;

fn date(obj: &Obj, prop: &str, cur: Option<i64>) -> Result<Option<i64>, SetError> {
    match obj.get(prop) {
        None => Ok(cur),
        Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => crate::date::parse_rfc3339(s).map(Some).ok_or_else(|| {
            SetError::invalid_properties(&[prop], format!("{prop} must be a UTCDate or null"))
        }),
        Some(_) => Err(SetError::invalid_properties(
            &[prop],
            format!("{prop} must be a UTCDate or null"),
        )),
    }
}

fn text(obj: &Obj, prop: &str, cur: &Option<String>) -> Result<Option<String>, SetError> {
    match obj.get(prop) {
        None => Ok(cur.clone()),
        Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(SetError::invalid_properties(
            &[prop],
            format!("{prop} must be a string or null"),
        )),
    }
}

struct VacationSet;

impl SetHandler for VacationSet {
    fn data_type(&self) -> Option<DataType> {
        Some(DataType::VacationResponse)
    }
    fn create(&self, _: &mut Writer<'_>, _: &mut SetCx, _: Obj) -> Result<Created, SetError> {
        Err(SetError::new(
            "singleton",
            "there is exactly one VacationResponse; update \"singleton\"",
        ))
    }
    fn load(&self, w: &mut Writer<'_>, cx: &SetCx, id: &str) -> Result<Option<Obj>, SetError> {
        if id != SINGLETON {
            return Ok(None);
        }
        Ok(Some(to_json(&w.vacation(cx.account)?)))
    }
    fn update(
        &self,
        w: &mut Writer<'_>,
        cx: &mut SetCx,
        _id: &str,
        old: &Obj,
        new: Obj,
    ) -> Result<Option<Obj>, SetError> {
        set::same_server_set(old, &new, &["id"])?;
        set::only_props(&new, &PROPERTIES)?;
        let cur = w.vacation(cx.account)?;
        let is_enabled = match new.get("isEnabled") {
            None => cur.is_enabled,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(SetError::invalid_properties(
                    &["isEnabled"],
                    "isEnabled must be a boolean",
                ));
            }
        };
        let next = VacationResponse {
            is_enabled,
            from_date: date(&new, "fromDate", cur.from_date)?,
            to_date: date(&new, "toDate", cur.to_date)?,
            subject: text(&new, "subject", &cur.subject)?,
            text_body: text(&new, "textBody", &cur.text_body)?,
            html_body: text(&new, "htmlBody", &cur.html_body)?,
        };
        if let (Some(f), Some(t)) = (next.from_date, next.to_date)
            && t < f
        {
            return Err(SetError::invalid_properties(
                &["toDate"],
                "toDate is before fromDate",
            ));
        }
        if next != cur {
            w.put_vacation(cx.account, &next)?;
        }
        Ok(None)
    }
    fn destroy(&self, _: &mut Writer<'_>, _: &mut SetCx, _: &str) -> Result<(), SetError> {
        Err(SetError::new(
            "singleton",
            "the VacationResponse cannot be destroyed; set isEnabled to false",
        ))
    }
}

pub async fn set(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    Ok(set::set(ctx, a, VacationSet).await?.response)
}
