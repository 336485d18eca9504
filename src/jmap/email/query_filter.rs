//! Email/query filters (RFC 8621 §4.4.1, RFC 8620 §5.5): parsing the JSON tree and deciding
//! whether one email matches. Text conditions (text, from, to, cc, bcc, subject, body, header)
//! become [`TextSearch`]es answered by the index before the walk; the walk only looks their
//! results up. Everything else is answered from the store, reading an email's records only when
//! a condition needs them.

use crate::index::query::{Target, TextSearch};
use crate::index::schema::TextField;
use crate::jmap::Ctx;
use crate::jmap::error::MethodError;
use crate::store::Reader;
use crate::store::model::{AccountId, EmailMeta, EmailState, IdKind};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Deeper trees are refused (a request must not be able to exhaust the stack).
const MAX_DEPTH: usize = 16;
/// More text conditions than this in one filter are refused (each is one index search).
const MAX_TEXT: usize = 32;

#[derive(Debug, Clone)]
pub enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Vec<Filter>),
    Cond(Cond),
}

#[derive(Debug, Clone)]
pub enum Cond {
    /// `None`: an id that names no mailbox (nothing is in it).
    InMailbox(Option<u32>),
    InMailboxOtherThan(Vec<u32>),
    Before(i64),
    After(i64),
    MinSize(u64),
    MaxSize(u64),
    AllInThread(String),
    SomeInThread(String),
    NoneInThread(String),
    HasKeyword(String),
    NotKeyword(String),
    HasAttachment(bool),
    /// Index of the text search in [`Parsed::texts`].
    Text(usize),
}

#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub filter: Option<Filter>,
    pub texts: Vec<TextSearch>,
}

impl Parsed {
    pub fn has_text(&self) -> bool {
        !self.texts.is_empty()
    }
}

pub fn parse(ctx: &Ctx<'_>, v: Option<&Value>) -> Result<Parsed, MethodError> {
    let mut p = Parsed::default();
    p.filter = match v {
        None | Some(Value::Null) => None,
        Some(v) => Some(node(ctx, v, 0, &mut p.texts)?),
    };
    Ok(p)
}

fn node(
    ctx: &Ctx<'_>,
    v: &Value,
    depth: usize,
    texts: &mut Vec<TextSearch>,
) -> Result<Filter, MethodError> {
    if depth > MAX_DEPTH {
        return Err(MethodError::unsupported_filter(format!(
            "filters may nest at most {MAX_DEPTH} levels"
        )));
    }
    let Value::Object(o) = v else {
        return Err(MethodError::invalid_arguments(
            "a filter must be a FilterOperator or FilterCondition object",
        ));
    };
    if let Some(op) = o.get("operator") {
        for k in o.keys() {
            if k != "operator" && k != "conditions" {
                return Err(MethodError::invalid_arguments(format!(
                    "unknown FilterOperator property '{k}'"
                )));
            }
        }
        let Some(Value::Array(list)) = o.get("conditions") else {
            return Err(MethodError::invalid_arguments(
                "a FilterOperator needs a 'conditions' array",
            ));
        };
        let children = list
            .iter()
            .map(|c| node(ctx, c, depth + 1, texts))
            .collect::<Result<Vec<_>, _>>()?;
        return match op.as_str() {
            Some("AND") => Ok(Filter::And(children)),
            Some("OR") => Ok(Filter::Or(children)),
            Some("NOT") => Ok(Filter::Not(children)),
            _ => Err(MethodError::invalid_arguments(
                "operator must be \"AND\", \"OR\" or \"NOT\"",
            )),
        };
    }
    // A FilterCondition: all its properties must hold (an AND of one-property conditions).
    let mut conds = Vec::with_capacity(o.len());
    for (k, v) in o {
        conds.push(Filter::Cond(condition(ctx, k, v, texts)?));
    }
    if conds.len() == 1 {
        return Ok(conds.remove(0));
    }
    Ok(Filter::And(conds))
}

fn string<'a>(k: &str, v: &'a Value) -> Result<&'a str, MethodError> {
    v.as_str()
        .ok_or_else(|| MethodError::invalid_arguments(format!("filter '{k}' must be a string")))
}

fn keyword(k: &str, v: &Value) -> Result<String, MethodError> {
    let s = string(k, v)?;
    // RFC 8621 §4.1.1: keywords are 1-255 of %x21-%x7E except ( ) { ] % * " \
    let ok = !s.is_empty()
        && s.len() <= 255
        && s.bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && !b"(){]%*\"\\".contains(&b));
    if !ok {
        return Err(MethodError::invalid_arguments(format!(
            "filter '{k}': '{s}' is not a valid keyword"
        )));
    }
    Ok(s.to_ascii_lowercase())
}

fn date(k: &str, v: &Value) -> Result<i64, MethodError> {
    let s = string(k, v)?;
    crate::date::parse_rfc3339(s).ok_or_else(|| {
        MethodError::invalid_arguments(format!("filter '{k}' must be a UTCDate, not '{s}'"))
    })
}

fn size(k: &str, v: &Value) -> Result<u64, MethodError> {
    v.as_u64().ok_or_else(|| {
        MethodError::invalid_arguments(format!("filter '{k}' must be an UnsignedInt"))
    })
}

fn mailbox(ctx: &Ctx<'_>, k: &str, v: &Value) -> Result<Option<u32>, MethodError> {
    Ok(IdKind::Mailbox.decode(&ctx.resolve_id(string(k, v)?)))
}

fn condition(
    ctx: &Ctx<'_>,
    k: &str,
    v: &Value,
    texts: &mut Vec<TextSearch>,
) -> Result<Cond, MethodError> {
    let mut text = |target: Target, value: Option<String>| {
        if texts.len() >= MAX_TEXT {
            return Err(MethodError::unsupported_filter(format!(
                "at most {MAX_TEXT} text conditions per filter"
            )));
        }
        texts.push(TextSearch {
            target,
            text: value,
        });
        Ok(Cond::Text(texts.len() - 1))
    };
    let field = |f: TextField| Target::Field(f);
    Ok(match k {
        "inMailbox" => Cond::InMailbox(mailbox(ctx, k, v)?),
        "inMailboxOtherThan" => {
            let Value::Array(list) = v else {
                return Err(MethodError::invalid_arguments(
                    "filter 'inMailboxOtherThan' must be an array of ids",
                ));
            };
            let mut ids = Vec::with_capacity(list.len());
            for item in list {
                // An id that names no mailbox excludes nothing.
                if let Some(id) = mailbox(ctx, k, item)? {
                    ids.push(id);
                }
            }
            Cond::InMailboxOtherThan(ids)
        }
        "before" => Cond::Before(date(k, v)?),
        "after" => Cond::After(date(k, v)?),
        "minSize" => Cond::MinSize(size(k, v)?),
        "maxSize" => Cond::MaxSize(size(k, v)?),
        "allInThreadHaveKeyword" => Cond::AllInThread(keyword(k, v)?),
        "someInThreadHaveKeyword" => Cond::SomeInThread(keyword(k, v)?),
        "noneInThreadHaveKeyword" => Cond::NoneInThread(keyword(k, v)?),
        "hasKeyword" => Cond::HasKeyword(keyword(k, v)?),
        "notKeyword" => Cond::NotKeyword(keyword(k, v)?),
        "hasAttachment" => Cond::HasAttachment(v.as_bool().ok_or_else(|| {
            MethodError::invalid_arguments("filter 'hasAttachment' must be a boolean")
        })?),
        "text" => text(Target::Anywhere, Some(string(k, v)?.to_string()))?,
        "from" => text(field(TextField::From), Some(string(k, v)?.to_string()))?,
        "to" => text(field(TextField::To), Some(string(k, v)?.to_string()))?,
        "cc" => text(field(TextField::Cc), Some(string(k, v)?.to_string()))?,
        "bcc" => text(field(TextField::Bcc), Some(string(k, v)?.to_string()))?,
        "subject" => text(field(TextField::Subject), Some(string(k, v)?.to_string()))?,
        "body" => text(field(TextField::Body), Some(string(k, v)?.to_string()))?,
        "header" => {
            let list: Vec<&str> = match v {
                Value::Array(a) if (1..=2).contains(&a.len()) => {
                    a.iter().map(|x| string(k, x)).collect::<Result<_, _>>()?
                }
                _ => {
                    return Err(MethodError::invalid_arguments(
                        "filter 'header' must be an array of one or two strings",
                    ));
                }
            };
            let name = list[0].trim().to_ascii_lowercase();
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| (0x21..=0x7e).contains(&b) && b != b':')
            {
                return Err(MethodError::invalid_arguments(format!(
                    "filter 'header': '{}' is not a header field name",
                    list[0]
                )));
            }
            let value = list.get(1).map(|s| s.to_string());
            if value.is_some()
                && crate::index::schema::UNINDEXED_HEADER_VALUES.contains(&name.as_str())
            {
                return Err(MethodError::unsupported_filter(format!(
                    "the values of '{name}' header fields are not searchable"
                )));
            }
            text(Target::Header(name), value)?
        }
        other => {
            return Err(MethodError::unsupported_filter(format!(
                "filter condition '{other}' is not supported"
            )));
        }
    })
}

/// The inMailbox every match must satisfy, if the top of the tree requires one: the query can
/// then walk that mailbox's date index instead of the whole account.
pub fn required_mailbox(f: &Filter) -> Option<Option<u32>> {
    match f {
        Filter::Cond(Cond::InMailbox(m)) => Some(*m),
        Filter::And(list) => list.iter().find_map(required_mailbox),
        _ => None,
    }
}

/// The text searches every match must satisfy (top-level AND only).
pub fn required_texts(f: &Filter, out: &mut Vec<usize>) {
    match f {
        Filter::Cond(Cond::Text(i)) => out.push(*i),
        Filter::And(list) => list.iter().for_each(|c| required_texts(c, out)),
        _ => {}
    }
}

/// Whether evaluating the filter needs the thread of an email (thread keyword conditions).
pub fn uses_threads(f: &Filter) -> bool {
    match f {
        Filter::Cond(c) => matches!(
            c,
            Cond::AllInThread(_) | Cond::SomeInThread(_) | Cond::NoneInThread(_)
        ),
        Filter::And(l) | Filter::Or(l) | Filter::Not(l) => l.iter().any(uses_threads),
    }
}

/// The positive text conditions (not under NOT), for snippet highlighting (RFC 8621 §5).
pub fn positive_texts(f: &Filter, negated: bool, out: &mut Vec<usize>) {
    match f {
        Filter::Cond(Cond::Text(i)) if !negated => out.push(*i),
        Filter::Cond(_) => {}
        Filter::And(l) | Filter::Or(l) => l.iter().for_each(|c| positive_texts(c, negated, out)),
        Filter::Not(l) => l.iter().for_each(|c| positive_texts(c, !negated, out)),
    }
}

pub fn has_keyword(keywords: &BTreeMap<String, bool>, k: &str) -> bool {
    keywords
        .iter()
        .any(|(name, set)| *set && name.eq_ignore_ascii_case(k))
}

/// One email as the filter walk and the sort see it; records are read on first use.
pub struct Email {
    pub id: u32,
    pub received_at: i64,
    state: Option<Option<EmailState>>,
    meta: Option<Option<EmailMeta>>,
}

impl Email {
    pub fn new(id: u32, received_at: i64) -> Email {
        Email {
            id,
            received_at,
            state: None,
            meta: None,
        }
    }
    pub fn with_state(id: u32, st: EmailState) -> Email {
        Email {
            id,
            received_at: st.received_at,
            state: Some(Some(st)),
            meta: None,
        }
    }
    pub fn state(&mut self, env: &Env<'_>) -> Result<Option<&EmailState>, MethodError> {
        if self.state.is_none() {
            self.state = Some(env.reader.email_state(env.acct, self.id)?);
        }
        Ok(self.state.as_ref().and_then(|s| s.as_ref()))
    }
    pub fn meta(&mut self, env: &Env<'_>) -> Result<Option<&EmailMeta>, MethodError> {
        if self.meta.is_none() {
            self.meta = Some(env.reader.email_meta(env.acct, self.id)?);
        }
        Ok(self.meta.as_ref().and_then(|s| s.as_ref()))
    }
    pub fn thread(&mut self, env: &Env<'_>) -> Result<Option<u32>, MethodError> {
        Ok(self.state(env)?.map(|s| s.thread_id))
    }
}

/// What a filter walk needs besides the email: the store snapshot, the text results and a
/// cache of thread members' keywords.
pub struct Env<'r> {
    pub reader: &'r Reader,
    pub acct: AccountId,
    pub texts: Vec<HashSet<u32>>,
    pub threads: HashMap<u32, Vec<BTreeMap<String, bool>>>,
    /// Set when every candidate comes from this mailbox's index: `inMailbox` of it is then
    /// known to hold without reading the email's record.
    pub known_mailbox: Option<u32>,
}

impl Env<'_> {
    /// Keywords of every email of a thread.
    pub fn thread_keywords(
        &mut self,
        thread: u32,
    ) -> Result<&Vec<BTreeMap<String, bool>>, MethodError> {
        if !self.threads.contains_key(&thread) {
            let mut all = Vec::new();
            for id in self.reader.thread(self.acct, thread)?.unwrap_or_default() {
                if let Some(st) = self.reader.email_state(self.acct, id)? {
                    all.push(st.keywords);
                }
            }
            self.threads.insert(thread, all);
        }
        Ok(self.threads.get(&thread).map_or(&EMPTY, |v| v))
    }
}

static EMPTY: Vec<BTreeMap<String, bool>> = Vec::new();

pub fn matches(f: &Filter, e: &mut Email, env: &mut Env<'_>) -> Result<bool, MethodError> {
    Ok(match f {
        Filter::And(l) => {
            for c in l {
                if !matches(c, e, env)? {
                    return Ok(false);
                }
            }
            true
        }
        Filter::Or(l) => {
            for c in l {
                if matches(c, e, env)? {
                    return Ok(true);
                }
            }
            false
        }
        // RFC 8620 §5.5: NOT is true when none of the conditions is.
        Filter::Not(l) => {
            for c in l {
                if matches(c, e, env)? {
                    return Ok(false);
                }
            }
            true
        }
        Filter::Cond(c) => cond(c, e, env)?,
    })
}

fn cond(c: &Cond, e: &mut Email, env: &mut Env<'_>) -> Result<bool, MethodError> {
    Ok(match c {
        Cond::Text(i) => env.texts.get(*i).is_some_and(|s| s.contains(&e.id)),
        Cond::Before(t) => e.received_at < *t,
        Cond::After(t) => e.received_at >= *t,
        Cond::InMailbox(None) => false,
        Cond::InMailbox(Some(m)) if env.known_mailbox == Some(*m) => true,
        Cond::InMailbox(Some(m)) => e.state(env)?.is_some_and(|s| s.mailbox_ids.contains(m)),
        Cond::InMailboxOtherThan(list) => e
            .state(env)?
            .is_some_and(|s| s.mailbox_ids.iter().any(|m| !list.contains(m))),
        Cond::MinSize(n) => e.state(env)?.is_some_and(|s| s.size >= *n),
        Cond::MaxSize(n) => e.state(env)?.is_some_and(|s| s.size < *n),
        Cond::HasKeyword(k) => e.state(env)?.is_some_and(|s| has_keyword(&s.keywords, k)),
        Cond::NotKeyword(k) => e.state(env)?.is_some_and(|s| !has_keyword(&s.keywords, k)),
        Cond::HasAttachment(b) => e.meta(env)?.is_some_and(|m| m.has_attachment == *b),
        Cond::AllInThread(k) | Cond::SomeInThread(k) | Cond::NoneInThread(k) => {
            let Some(t) = e.thread(env)? else {
                return Ok(false);
            };
            let all = env.thread_keywords(t)?;
            let with = all.iter().filter(|kw| has_keyword(kw, k)).count();
            match c {
                Cond::AllInThread(_) => with == all.len() && with > 0,
                Cond::SomeInThread(_) => with > 0,
                _ => with == 0,
            }
        }
    })
}
