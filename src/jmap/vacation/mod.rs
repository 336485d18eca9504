//! VacationResponse (RFC 8621 §8): the one "singleton" object per account; `get.rs`
//! VacationResponse/get, `set.rs` VacationResponse/set (stored and validated
//! there). Sending the automatic replies (RFC 3834) is `outbound/vacation.rs`.

pub mod get;
pub mod set;
