//! The Request object (RFC 8620 §3.3) and result references (§3.7).

use super::error::{MethodError, RequestError};
use serde_json::{Map, Value};
use std::collections::HashMap;

pub struct Invocation {
    pub name: String,
    pub args: Map<String, Value>,
    pub call_id: String,
}

pub struct Request {
    pub using: Vec<String>,
    pub calls: Vec<Invocation>,
    pub created_ids: Option<HashMap<String, String>>,
}

/// The most JSON values (array elements, object members, scalars) one request may hold. A
/// parsed value costs up to ~16 times its bytes (`[0,0,...]` is 2 bytes a value in, 32 out), so
/// this bounds what a maximal request can make the server allocate; real requests (1000 ids,
/// 1000 objects to set) stay far below it.
pub const MAX_VALUES: usize = 200_000;
/// Deepest nesting accepted (serde_json stops at 128 anyway; JMAP needs a handful of levels
/// plus FilterOperator trees).
pub const MAX_DEPTH: usize = 64;

/// A cheap pass over the bytes before parsing: counts values and nesting outside strings.
fn check_shape(body: &[u8]) -> Result<(), RequestError> {
    let (mut values, mut depth, mut in_str, mut esc) = (1usize, 0usize, false, false);
    for &b in body {
        if in_str {
            match (esc, b) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                values += 1;
                if depth > MAX_DEPTH {
                    return Err(RequestError::NotRequest(format!(
                        "JSON nested deeper than {MAX_DEPTH} levels"
                    )));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' => values += 1,
            _ => {}
        }
        if values > MAX_VALUES {
            return Err(RequestError::Limit {
                limit: "maxSizeRequest",
                detail: format!("the request holds more than {MAX_VALUES} JSON values; split it"),
            });
        }
    }
    Ok(())
}

/// Validates the shape of a Request. Every type mismatch is notRequest, never a panic.
pub fn parse(body: &[u8], max_calls: usize) -> Result<Request, RequestError> {
    let text = std::str::from_utf8(body)
        .map_err(|e| RequestError::NotJson(format!("invalid UTF-8: {e}")))?;
    check_shape(body)?;
    let v: Value = serde_json::from_str(text).map_err(|e| RequestError::NotJson(e.to_string()))?;
    let Value::Object(mut obj) = v else {
        return Err(RequestError::NotRequest(
            "the request must be a JSON object".into(),
        ));
    };
    let using = match obj.remove("using") {
        Some(Value::Array(a)) => a
            .into_iter()
            .map(|c| match c {
                Value::String(s) => Ok(s),
                _ => Err(RequestError::NotRequest(
                    "'using' must be an array of strings".into(),
                )),
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => {
            return Err(RequestError::NotRequest(
                "'using' must be an array of strings".into(),
            ));
        }
    };
    let calls_v = match obj.remove("methodCalls") {
        Some(Value::Array(a)) => a,
        _ => {
            return Err(RequestError::NotRequest(
                "'methodCalls' must be an array".into(),
            ));
        }
    };
    if calls_v.len() > max_calls {
        return Err(RequestError::Limit {
            limit: "maxCallsInRequest",
            detail: format!("at most {max_calls} method calls per request"),
        });
    }
    let mut calls = Vec::with_capacity(calls_v.len());
    for c in calls_v {
        let Value::Array(parts) = c else {
            return Err(RequestError::NotRequest(
                "each method call must be an array".into(),
            ));
        };
        let [name, args, call_id]: [Value; 3] = parts.try_into().map_err(|_| {
            RequestError::NotRequest("each method call must have exactly 3 elements".into())
        })?;
        let (Value::String(name), Value::Object(args), Value::String(call_id)) =
            (name, args, call_id)
        else {
            return Err(RequestError::NotRequest(
                "a method call is [String, Object, String]".into(),
            ));
        };
        calls.push(Invocation {
            name,
            args,
            call_id,
        });
    }
    let created_ids = match obj.remove("createdIds") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(
            m.into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k, s)),
                    _ => Err(RequestError::NotRequest(
                        "'createdIds' values must be strings".into(),
                    )),
                })
                .collect::<Result<HashMap<_, _>, _>>()?,
        ),
        Some(_) => {
            return Err(RequestError::NotRequest(
                "'createdIds' must be an object".into(),
            ));
        }
    };
    Ok(Request {
        using,
        calls,
        created_ids,
    })
}

/// Replaces every `#name` argument by the value its ResultReference points at (§3.7).
pub fn resolve_references(
    args: &mut Map<String, Value>,
    responses: &[(String, Value, String)],
) -> Result<(), MethodError> {
    let refs: Vec<String> = args
        .keys()
        .filter(|k| k.starts_with('#'))
        .cloned()
        .collect();
    for key in refs {
        let plain = key[1..].to_string();
        if args.contains_key(&plain) {
            return Err(MethodError::invalid_arguments(format!(
                "both '{plain}' and '{key}' given"
            )));
        }
        let Some(Value::Object(r)) = args.remove(&key) else {
            return Err(MethodError::new(
                "invalidResultReference",
                format!("'{key}' is not a ResultReference"),
            ));
        };
        let (Some(Value::String(result_of)), Some(Value::String(name)), Some(Value::String(path))) =
            (r.get("resultOf"), r.get("name"), r.get("path"))
        else {
            return Err(MethodError::new(
                "invalidResultReference",
                format!("'{key}' needs resultOf, name and path strings"),
            ));
        };
        let Some((_, result, _)) = responses
            .iter()
            .find(|(n, _, id)| id == result_of && n == name)
        else {
            return Err(MethodError::new(
                "invalidResultReference",
                format!("no earlier {name} response with call id {result_of}"),
            ));
        };
        let value = pointer(result, path).ok_or_else(|| {
            MethodError::new(
                "invalidResultReference",
                format!("path {path} does not resolve in the {name} response"),
            )
        })?;
        args.insert(plain, value);
    }
    Ok(())
}

/// JSON Pointer (RFC 6901) with JMAP's `*` extension (RFC 8620 §3.7): `*` maps the rest of the
/// path over an array and flattens array results one level.
pub fn pointer(v: &Value, path: &str) -> Option<Value> {
    if path.is_empty() {
        return Some(v.clone());
    }
    let rest = path.strip_prefix('/')?;
    let (token, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let token = token.replace("~1", "/").replace("~0", "~");
    match v {
        Value::Array(items) if token == "*" => {
            let mut out = Vec::new();
            for item in items {
                match pointer(item, tail)? {
                    Value::Array(inner) => out.extend(inner),
                    other => out.push(other),
                }
            }
            Some(Value::Array(out))
        }
        Value::Array(items) => {
            let i: usize = token.parse().ok()?;
            pointer(items.get(i)?, tail)
        }
        Value::Object(m) => pointer(m.get(&token)?, tail),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn star_paths() {
        let v = json!({"list": [{"id": "a", "ids": ["x"]}, {"id": "b", "ids": ["y", "z"]}]});
        assert_eq!(pointer(&v, "/list/*/id"), Some(json!(["a", "b"])));
        assert_eq!(pointer(&v, "/list/*/ids"), Some(json!(["x", "y", "z"])));
        assert_eq!(pointer(&v, "/list/1/id"), Some(json!("b")));
        assert_eq!(pointer(&v, "/nope"), None);
    }

    #[test]
    fn bad_requests() {
        assert!(matches!(parse(b"{", 10), Err(RequestError::NotJson(_))));
        assert!(matches!(parse(b"[]", 10), Err(RequestError::NotRequest(_))));
        assert!(matches!(
            parse(br#"{"using":[],"methodCalls":[["a",{},1]]}"#, 10),
            Err(RequestError::NotRequest(_))
        ));
        assert!(matches!(parse(b"\xff", 10), Err(RequestError::NotJson(_))));
        assert!(parse(br#"{"using":[],"methodCalls":[["a",{},"c"]]}"#, 10).is_ok());
    }
}
