//! The `sort` argument of every /query and /queryChanges (RFC 8620 §5.5 Comparator), parsed
//! once into [`Comparator<S>`] where `S` is the object type's own sort property, and the
//! collations (RFC 4790) every string sort uses.
//!
//! Errors, the same for every object type: `sort` not an array, a Comparator that is not an
//! object or lacks `property`, `isAscending` or `collation` of the wrong JSON type:
//! `invalidArguments`; a property the type cannot sort by, or a collation this server does
//! not implement: `unsupportedSort` (§5.5: "a property the server does not support sorting on
//! or a collation method it does not recognise"). The collation is checked for every
//! property, also those where it is ignored because they are not strings.
//!
//! Ties are broken by the object's id by each type (§5.5: the order "MUST be stable").

use crate::jmap::error::MethodError;
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// One sort property of an object type, typed. Implementing it (plus
/// [`Condition`](super::filter::Condition)) is what an object needs for /query.
pub trait SortProperty: Sized {
    /// Parses a Comparator's `property`; `comparator` is the whole object, for properties that
    /// take more (Email's `keyword`). `Ok(None)`: the type cannot sort by it (unsupportedSort).
    fn parse(property: &str, comparator: &Map<String, Value>) -> Result<Option<Self>, MethodError>;
}

/// The collations implemented, by their RFC 4790 registry names (advertised as the Session's
/// `collationAlgorithms`, RFC 8620 §2).
pub const COLLATIONS: [&str; 3] = ["i;ascii-numeric", "i;ascii-casemap", "i;unicode-casemap"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collation {
    /// RFC 4790 §9.2: ASCII letters compared without case.
    AsciiCasemap,
    /// RFC 5051: Unicode case-folded; the default (§5.5: it "MUST be unicode-aware").
    UnicodeCasemap,
    /// RFC 4790 §9.1: the value of the leading digits; no digits sorts after every number.
    AsciiNumeric,
}

impl Collation {
    fn parse(v: Option<&Value>) -> Result<Collation, MethodError> {
        match v {
            None | Some(Value::Null) => Ok(Collation::UnicodeCasemap),
            Some(Value::String(s)) => match s.as_str() {
                "i;ascii-casemap" => Ok(Collation::AsciiCasemap),
                "i;unicode-casemap" => Ok(Collation::UnicodeCasemap),
                "i;ascii-numeric" => Ok(Collation::AsciiNumeric),
                other => Err(MethodError::unsupported_sort(format!(
                    "collation '{other}' is not supported"
                ))),
            },
            Some(_) => Err(MethodError::invalid_arguments(
                "'collation' must be a string",
            )),
        }
    }

    /// The sort key of a string under this collation.
    pub fn key(self, s: &str) -> Key {
        match self {
            Collation::AsciiCasemap => Key::Str(s.to_ascii_lowercase()),
            Collation::UnicodeCasemap => Key::Str(s.to_lowercase()),
            Collation::AsciiNumeric => {
                let digits: String = s.chars().take_while(|c| c.is_ascii_digit()).collect();
                Key::Num(if digits.is_empty() {
                    None
                } else {
                    Some(digits.parse().unwrap_or(u128::MAX))
                })
            }
        }
    }
}

/// One parsed Comparator.
#[derive(Debug, Clone)]
pub struct Comparator<S> {
    pub property: S,
    pub ascending: bool,
    pub collation: Collation,
}

impl<S> Comparator<S> {
    /// Applies the direction to an ascending comparison.
    pub fn order(&self, o: Ordering) -> Ordering {
        if self.ascending { o } else { o.reverse() }
    }
}

impl<S: SortProperty> Comparator<S> {
    /// Parses `sort`; absent, null or empty is an empty list (the type's default order).
    pub fn parse_list(v: Option<&Value>) -> Result<Vec<Comparator<S>>, MethodError> {
        match v {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(l)) => l.iter().map(Comparator::parse).collect(),
            Some(_) => Err(MethodError::invalid_arguments("'sort' must be an array")),
        }
    }

    fn parse(c: &Value) -> Result<Comparator<S>, MethodError> {
        let Value::Object(o) = c else {
            return Err(MethodError::invalid_arguments(
                "each sort entry must be a Comparator object",
            ));
        };
        let name = o
            .get("property")
            .and_then(Value::as_str)
            .ok_or_else(|| MethodError::invalid_arguments("each Comparator needs a 'property'"))?;
        let ascending = match o.get("isAscending") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(MethodError::invalid_arguments(
                    "'isAscending' must be a boolean",
                ));
            }
        };
        let collation = Collation::parse(o.get("collation"))?;
        let property = S::parse(name, o)?.ok_or_else(|| {
            MethodError::unsupported_sort(format!("sorting by '{name}' is not supported"))
        })?;
        Ok(Comparator {
            property,
            ascending,
            collation,
        })
    }
}

/// One sort value. Strings are already folded by their collation ([`Collation::key`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Int(i64),
    Str(String),
    /// i;ascii-numeric: the leading digits' value; `None` (no digits) sorts last.
    Num(Option<u128>),
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Key::Int(a), Key::Int(b)) => a.cmp(b),
            (Key::Str(a), Key::Str(b)) => a.cmp(b),
            (Key::Num(a), Key::Num(b)) => match (a, b) {
                (Some(a), Some(b)) => a.cmp(b),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            },
            // Keys of one comparator always have the same kind.
            _ => Ordering::Equal,
        }
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collations_fold_as_registered() {
        assert!(Collation::AsciiNumeric.key("10 b") > Collation::AsciiNumeric.key("9 a"));
        assert!(Collation::AsciiNumeric.key("x") > Collation::AsciiNumeric.key("99"));
        assert_eq!(
            Collation::UnicodeCasemap.key("ÉTÉ"),
            Collation::UnicodeCasemap.key("été")
        );
        assert_ne!(
            Collation::AsciiCasemap.key("ÉTÉ"),
            Collation::AsciiCasemap.key("été")
        );
        assert!(Collation::parse(Some(&Value::from("i;octet"))).is_err());
        assert!(Collation::parse(None).is_ok_and(|c| c == Collation::UnicodeCasemap));
    }
}
