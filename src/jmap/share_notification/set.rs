//! ShareNotification/set (RFC 9670 §5.4): destroy only; create and update are `forbidden`.

use crate::jmap::error::SetError;
use crate::jmap::set::{Created, Obj, SetCx, SetHandler};
use crate::store::Writer;
use crate::store::model::{DataType, IdKind};

pub struct ShareNotificationSet;

fn forbidden() -> SetError {
    SetError::new(
        "forbidden",
        "share notifications are made by the server; they can only be destroyed",
    )
}

impl SetHandler for ShareNotificationSet {
    fn data_type(&self) -> Option<DataType> {
        Some(DataType::ShareNotification)
    }

    fn create(&self, _: &mut Writer<'_>, _: &mut SetCx, _: Obj) -> Result<Created, SetError> {
        Err(forbidden())
    }

    fn load(&self, _: &mut Writer<'_>, _: &SetCx, _: &str) -> Result<Option<Obj>, SetError> {
        // Every update is refused, whether or not the id exists.
        Ok(Some(Obj::new()))
    }

    fn update(
        &self,
        _: &mut Writer<'_>,
        _: &mut SetCx,
        _: &str,
        _: &Obj,
        _: Obj,
    ) -> Result<Option<Obj>, SetError> {
        Err(forbidden())
    }

    fn destroy(&self, w: &mut Writer<'_>, cx: &mut SetCx, id: &str) -> Result<(), SetError> {
        let n = IdKind::ShareNote
            .decode(id)
            .ok_or_else(SetError::not_found)?;
        if w.remove_share_note(cx.account, n)? {
            Ok(())
        } else {
            Err(SetError::not_found())
        }
    }
}
