//! PatchObject application (RFC 8620 §5.3, "update").
//!
//! A PatchObject maps paths (JSON Pointer, RFC 6901, with an implicit leading "/") to values.
//! The rules, each of which is an `invalidPatch` SetError when broken:
//! - a path must not point inside an array (arrays are replaced whole);
//! - every part before the last must already exist on the object (and be an object);
//! - no path may be a prefix of another path in the same patch.
//!
//! A `null` value resets: at the top level the property is set to `null`, which each type's
//! /set treats as "its default" (top-level properties always exist on a JMAP object); deeper
//! down the key is removed (a no-op if absent). Anything else is set.

use super::error::SetError;
use serde_json::{Map, Value};

/// The deepest path we accept. Real JMAP patches go two or three levels deep (`keywords/$seen`,
/// `bodyStructure/...`); a bound keeps a hostile patch from costing more than it should.
const MAX_DEPTH: usize = 16;

/// Splits a patch key into unescaped tokens (`~1` is `/`, `~0` is `~`, RFC 6901 §4).
pub fn tokens(path: &str) -> Result<Vec<String>, SetError> {
    if path.is_empty() {
        return Err(invalid(path, "an empty path"));
    }
    let mut out = Vec::new();
    for raw in path.split('/') {
        let mut t = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c == '~' {
                match chars.next() {
                    Some('0') => t.push('~'),
                    Some('1') => t.push('/'),
                    _ => return Err(invalid(path, "a '~' not followed by 0 or 1")),
                }
            } else {
                t.push(c);
            }
        }
        out.push(t);
    }
    if out.len() > MAX_DEPTH {
        return Err(invalid(path, "too deep"));
    }
    Ok(out)
}

fn invalid(path: &str, why: &str) -> SetError {
    let mut e = SetError::new("invalidPatch", format!("patch path '{path}': {why}"));
    e.properties = Some(vec![path.split('/').next().unwrap_or_default().to_string()]);
    e
}

/// Applies `patch` to `object` and returns the patched copy; `object` is left untouched, so a
/// rejected patch changes nothing (each update is atomic, §5.3).
pub fn apply(
    object: &Map<String, Value>,
    patch: &Map<String, Value>,
) -> Result<Map<String, Value>, SetError> {
    let mut parsed: Vec<(&str, Vec<String>, &Value)> = Vec::with_capacity(patch.len());
    for (path, value) in patch {
        parsed.push((path.as_str(), tokens(path)?, value));
    }
    // No path may be a prefix of another (token-wise, so "a/b" and "a/bc" do not clash).
    let mut sorted: Vec<&Vec<String>> = parsed.iter().map(|(_, t, _)| t).collect();
    sorted.sort();
    for pair in sorted.windows(2) {
        if pair[1].starts_with(pair[0]) {
            return Err(invalid(
                &pair[1].join("/"),
                "another patch in the same update is a prefix of it",
            ));
        }
    }
    let mut out = object.clone();
    for (path, toks, value) in parsed {
        let Some((last, parents)) = toks.split_last() else {
            return Err(invalid(path, "an empty path"));
        };
        let mut cur: &mut Map<String, Value> = &mut out;
        for p in parents {
            cur = match cur.get_mut(p) {
                Some(Value::Object(m)) => m,
                Some(Value::Array(_)) => return Err(invalid(path, "it points inside an array")),
                Some(_) => return Err(invalid(path, "a part before the last is not an object")),
                None => return Err(invalid(path, "a part before the last does not exist")),
            };
        }
        match value {
            Value::Null if !parents.is_empty() => {
                cur.remove(last);
            }
            v => {
                cur.insert(last.clone(), v.clone());
            }
        }
    }
    Ok(out)
}

/// The top-level properties whose values differ between two versions of an object.
pub fn changed(old: &Map<String, Value>, new: &Map<String, Value>) -> Vec<String> {
    let mut out: Vec<String> = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .collect();
    out.extend(old.keys().filter(|k| !new.contains_key(*k)).cloned());
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn sets_nested_and_top_level() {
        let o = obj(json!({"name": "a", "keywords": {"$seen": true}, "list": [1, 2]}));
        let p = obj(json!({"keywords/$flagged": true, "keywords/$seen": null, "name": "b"}));
        let n = apply(&o, &p).unwrap();
        assert_eq!(
            Value::Object(n),
            json!({"name": "b", "keywords": {"$flagged": true}, "list": [1, 2]})
        );
    }

    #[test]
    fn escapes() {
        let o = obj(json!({"keywords": {}}));
        let p = obj(json!({"keywords/a~1b~0c": true}));
        let n = apply(&o, &p).unwrap();
        assert_eq!(n["keywords"], json!({"a/b~c": true}));
        assert!(apply(&o, &obj(json!({"keywords/a~2": true}))).is_err());
        assert!(apply(&o, &obj(json!({"keywords/a~": true}))).is_err());
    }

    #[test]
    fn top_level_null_resets() {
        let o = obj(json!({"role": "inbox"}));
        let n = apply(&o, &obj(json!({"role": null}))).unwrap();
        assert_eq!(n["role"], Value::Null);
    }

    #[test]
    fn rejects_bad_paths() {
        let o = obj(json!({"list": [{"a": 1}], "s": "x", "m": {}}));
        for p in [
            json!({"list/0": 1}),
            json!({"list/0/a": 1}),
            json!({"s/x": 1}),
            json!({"nope/x": 1}),
            json!({"m": {}, "m/x": 1}),
            json!({"": 1}),
        ] {
            let e = apply(&o, &obj(p.clone())).unwrap_err();
            assert_eq!(e.kind, "invalidPatch", "{p}");
        }
        // Not a prefix token-wise.
        assert!(apply(&o, &obj(json!({"m/a": 1, "m/ab": 2}))).is_ok());
    }

    #[test]
    fn changed_props() {
        let a = obj(json!({"x": 1, "y": 2, "z": 3}));
        let b = obj(json!({"x": 1, "y": 5, "w": 0}));
        assert_eq!(changed(&a, &b), vec!["w", "y", "z"]);
    }
}
