//! Email/query sorting (RFC 8621 §4.4.2) on the shared comparators (`jmap/query/sort.rs`):
//! every property of §4.4.2 ([`Property`]), under the collations every /query knows. Ties are
//! broken by email id in the direction of the first comparator, so the order is stable
//! (§4.4.2 "must be stable").

use super::query_filter::{Email, Env, has_keyword};
use crate::jmap::error::MethodError;
use crate::jmap::query::{self, Collation, Key, SortProperty};
use serde_json::{Map, Value};
use std::cmp::Ordering;

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

pub type Comparator = query::Comparator<Property>;

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

impl SortProperty for Property {
    fn parse(prop: &str, o: &Map<String, Value>) -> Result<Option<Property>, MethodError> {
        let keyword = || -> Result<String, MethodError> {
            match o.get("keyword") {
                Some(Value::String(k)) if !k.is_empty() => Ok(k.to_ascii_lowercase()),
                _ => Err(MethodError::invalid_arguments(format!(
                    "sorting by '{prop}' needs a 'keyword'"
                ))),
            }
        };
        Ok(Some(match prop {
            "receivedAt" => Property::ReceivedAt,
            "size" => Property::Size,
            "from" => Property::From,
            "to" => Property::To,
            "subject" => Property::Subject,
            "sentAt" => Property::SentAt,
            "hasKeyword" => Property::HasKeyword(keyword()?),
            "allInThreadHaveKeyword" => Property::AllInThread(keyword()?),
            "someInThreadHaveKeyword" => Property::SomeInThread(keyword()?),
            _ => return Ok(None),
        }))
    }
}

/// The comparators of a parsed `sort`; none means the default, newest first.
pub fn or_default(sort: Vec<Comparator>) -> Vec<Comparator> {
    if !sort.is_empty() {
        return sort;
    }
    vec![Comparator {
        property: Property::ReceivedAt,
        ascending: false,
        collation: Collation::UnicodeCasemap,
    }]
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
            Property::From => c
                .collation
                .key(&first_address(e.meta(env)?.and_then(|m| m.from.as_ref()))),
            Property::To => c
                .collation
                .key(&first_address(e.meta(env)?.and_then(|m| m.to.as_ref()))),
            Property::Subject => c
                .collation
                .key(e.meta(env)?.map_or("", |m| m.base_subject.as_str())),
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
