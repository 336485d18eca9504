//! Typed access to method arguments. Every wrong JSON type is an invalidArguments error
//! naming the argument (RFC 8620 §3.6.2), never a panic.

use super::error::MethodError;
use serde_json::{Map, Value};

pub type Args = Map<String, Value>;

pub fn opt_str<'a>(args: &'a Args, name: &str) -> Result<Option<&'a str>, MethodError> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(MethodError::invalid_arguments(format!(
            "'{name}' must be a string"
        ))),
    }
}

pub fn req_str<'a>(args: &'a Args, name: &str) -> Result<&'a str, MethodError> {
    opt_str(args, name)?
        .ok_or_else(|| MethodError::invalid_arguments(format!("'{name}' is required")))
}

pub fn opt_bool(args: &Args, name: &str, default: bool) -> Result<bool, MethodError> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(MethodError::invalid_arguments(format!(
            "'{name}' must be a boolean"
        ))),
    }
}

/// An `Int` argument (RFC 8620 §1.3: -2^53+1 ..= 2^53-1).
pub fn opt_int(args: &Args, name: &str) -> Result<Option<i64>, MethodError> {
    const MAX: i64 = (1 << 53) - 1;
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(v) if (-MAX..=MAX).contains(&v) => Ok(Some(v)),
            _ => Err(MethodError::invalid_arguments(format!(
                "'{name}' must be an Int"
            ))),
        },
        Some(_) => Err(MethodError::invalid_arguments(format!(
            "'{name}' must be an Int"
        ))),
    }
}

/// An `UnsignedInt` argument.
pub fn opt_uint(args: &Args, name: &str) -> Result<Option<u64>, MethodError> {
    match opt_int(args, name)? {
        Some(v) if v < 0 => Err(MethodError::invalid_arguments(format!(
            "'{name}' must not be negative"
        ))),
        Some(v) => Ok(Some(v as u64)),
        None => Ok(None),
    }
}

pub fn opt_str_list(args: &Args, name: &str) -> Result<Option<Vec<String>>, MethodError> {
    match args.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(MethodError::invalid_arguments(format!(
                    "'{name}' must be an array of strings"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(MethodError::invalid_arguments(format!(
            "'{name}' must be an array of strings"
        ))),
    }
}

/// Rejects arguments the method does not define (RFC 8620 §3.6.2 invalidArguments).
pub fn only(args: &Args, allowed: &[&str]) -> Result<(), MethodError> {
    for k in args.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(MethodError::invalid_arguments(format!(
                "unknown argument '{k}'"
            )));
        }
    }
    Ok(())
}
