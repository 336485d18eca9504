//! Email/query sorting (RFC 8621 §4.4.2, RFC 8620 §5.5 Comparator): every property of §4.4.2,
//! `isAscending`, and the collations the Session advertises (RFC 4790 i;ascii-casemap,
//! i;unicode-casemap, i;ascii-numeric). Ties are broken by email id in the direction of the
//! first comparator, so the order is stable (§4.4.2 "must be stable").

use super::query_filter::{Email, Env, has_keyword};
use crate::jmap::error::MethodError;
use serde_json::Value;
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collation {
    AsciiCasemap,
    UnicodeCasemap,
    AsciiNumeric,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Property {
    ReceivedAt,
    Size,
    From,
    To,
    Subject,
    SentAt,
    HasKeyword(String),
    AllInThread(String),
    SomeInThread(String),
}

#[derive(Debug, Clone)]
pub struct Comparator {
    pub property: Property,
    pub ascending: bool,
    pub collation: Collation,
}

/// Sort properties Email/query supports (advertised as `emailQuerySortOptions`).
pub const SORT_OPTIONS: [&str; 9] = [
    "receivedAt",
    "size",
    "from",
    "to",
    "subject",
    "sentAt",
    "hasKeyword",
    "allInThreadHaveKeyword",
    "someInThreadHaveKeyword",
];

/// Parses `sort`; `None` or an empty list means the default, newest first.
pub fn parse(v: Option<&Value>) -> Result<Vec<Comparator>, MethodError> {
    let list = match v {
        None | Some(Value::Null) => return Ok(default()),
        Some(Value::Array(l)) if l.is_empty() => return Ok(default()),
        Some(Value::Array(l)) => l,
        Some(_) => return Err(MethodError::invalid_arguments("sort must be an array")),
    };
    list.iter().map(comparator).collect()
}

pub fn default() -> Vec<Comparator> {
    vec![Comparator {
        property: Property::ReceivedAt,
        ascending: false,
        collation: Collation::UnicodeCasemap,
    }]
}

fn comparator(c: &Value) -> Result<Comparator, MethodError> {
    let Value::Object(o) = c else {
        return Err(MethodError::invalid_arguments(
            "each sort entry must be a Comparator object",
        ));
    };
    let prop = o
        .get("property")
        .and_then(Value::as_str)
        .ok_or_else(|| MethodError::invalid_arguments("each Comparator needs a property"))?;
    let ascending = match o.get("isAscending") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(MethodError::invalid_arguments(
                "isAscending must be a boolean",
            ));
        }
    };
    let collation = match o.get("collation") {
        None | Some(Value::Null) => Collation::UnicodeCasemap,
        Some(Value::String(s)) => match s.as_str() {
            "i;ascii-casemap" => Collation::AsciiCasemap,
            "i;unicode-casemap" => Collation::UnicodeCasemap,
            "i;ascii-numeric" => Collation::AsciiNumeric,
            other => {
                return Err(MethodError::unsupported_sort(format!(
                    "collation '{other}' is not supported"
                )));
            }
        },
        Some(_) => return Err(MethodError::invalid_arguments("collation must be a string")),
    };
    let keyword = || -> Result<String, MethodError> {
        match o.get("keyword") {
            Some(Value::String(k)) if !k.is_empty() => Ok(k.to_ascii_lowercase()),
            _ => Err(MethodError::invalid_arguments(format!(
                "sorting by '{prop}' needs a 'keyword'"
            ))),
        }
    };
    let property = match prop {
        "receivedAt" => Property::ReceivedAt,
        "size" => Property::Size,
        "from" => Property::From,
        "to" => Property::To,
        "subject" => Property::Subject,
        "sentAt" => Property::SentAt,
        "hasKeyword" => Property::HasKeyword(keyword()?),
        "allInThreadHaveKeyword" => Property::AllInThread(keyword()?),
        "someInThreadHaveKeyword" => Property::SomeInThread(keyword()?),
        other => {
            return Err(MethodError::unsupported_sort(format!(
                "sorting by '{other}' is not supported"
            )));
        }
    };
    Ok(Comparator {
        property,
        ascending,
        collation,
    })
}

/// True when the order is receivedAt alone: the store's date indexes already give it.
pub fn by_received_only(sort: &[Comparator]) -> Option<bool> {
    match sort {
        [c] if c.property == Property::ReceivedAt => Some(c.ascending),
        _ => None,
    }
}

pub fn uses_threads(sort: &[Comparator]) -> bool {
    sort.iter().any(|c| {
        matches!(
            c.property,
            Property::AllInThread(_) | Property::SomeInThread(_)
        )
    })
}

/// One sort value. Strings are stored already folded by their collation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Int(i64),
    Str(String),
    /// i;ascii-numeric: the leading digits' value; no digits sorts after every number.
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

fn fold(s: &str, c: Collation) -> Key {
    match c {
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

fn first_address(list: Option<&Vec<crate::store::model::EmailAddress>>) -> String {
    list.and_then(|l| l.first())
        .map(|a| match a.name.as_deref() {
            Some(n) if !n.is_empty() => n.to_string(),
            _ => a.email.clone(),
        })
        .unwrap_or_default()
}

/// The sort values of one email for every comparator.
pub fn keys(
    sort: &[Comparator],
    e: &mut Email,
    env: &mut Env<'_>,
) -> Result<Vec<Key>, MethodError> {
    let mut out = Vec::with_capacity(sort.len());
    for c in sort {
        let k = match &c.property {
            Property::ReceivedAt => Key::Int(e.received_at),
            Property::Size => Key::Int(e.state(env)?.map_or(0, |s| s.size as i64)),
            Property::From => fold(
                &first_address(e.meta(env)?.and_then(|m| m.from.as_ref())),
                c.collation,
            ),
            Property::To => fold(
                &first_address(e.meta(env)?.and_then(|m| m.to.as_ref())),
                c.collation,
            ),
            Property::Subject => fold(
                e.meta(env)?.map_or("", |m| m.base_subject.as_str()),
                c.collation,
            ),
            Property::SentAt => Key::Int(
                e.meta(env)?
                    .and_then(|m| m.sent_at.as_deref())
                    .and_then(crate::date::parse_rfc3339)
                    .unwrap_or(e.received_at),
            ),
            Property::HasKeyword(k) => Key::Int(
                e.state(env)?
                    .is_some_and(|s| has_keyword(&s.keywords, k))
                    .into(),
            ),
            Property::AllInThread(k) | Property::SomeInThread(k) => {
                let v = match e.thread(env)? {
                    Some(t) => {
                        let all = env.thread_keywords(t)?;
                        let with = all.iter().filter(|kw| has_keyword(kw, k)).count();
                        if matches!(c.property, Property::AllInThread(_)) {
                            with > 0 && with == all.len()
                        } else {
                            with > 0
                        }
                    }
                    None => false,
                };
                Key::Int(v.into())
            }
        };
        out.push(k);
    }
    Ok(out)
}

/// Compares two emails' keys under the comparators, then by id.
pub fn compare(sort: &[Comparator], a: (&[Key], u32), b: (&[Key], u32)) -> Ordering {
    for (i, c) in sort.iter().enumerate() {
        let (x, y) = (&a.0[i], &b.0[i]);
        let o = if c.ascending { x.cmp(y) } else { y.cmp(x) };
        if o != Ordering::Equal {
            return o;
        }
    }
    let ascending = sort.first().is_none_or(|c| c.ascending);
    if ascending {
        a.1.cmp(&b.1)
    } else {
        b.1.cmp(&a.1)
    }
}
