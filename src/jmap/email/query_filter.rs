//! Email/query filters (RFC 8621 §4.4.1) on the shared filter tree (`jmap/query/filter.rs`):
//! the typed conditions ([`Cond`]) and deciding whether one email matches. Text conditions
//! (text, from, to, cc, bcc, subject, body, header) become [`TextSearch`]es answered by the
//! index before the walk; the walk only looks their results up. Everything else is answered
//! from the store, reading an email's records only when a condition needs them.

use crate::index::query::{Target, TextSearch};
use crate::index::schema::TextField;
use crate::jmap::Ctx;
use crate::jmap::error::MethodError;
use crate::jmap::query::{self, Condition};
use crate::store::Reader;
use crate::store::model::{AccountId, EmailMeta, EmailState, IdKind};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

/// More text conditions than this in one filter are refused (each is one index search).
const MAX_TEXT: usize = 32;

pub type Filter = query::Filter<Cond>;

/// One FilterCondition property (RFC 8621 §4.4.1).
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
    /// A search answered by the index; `slot` is its place in [`Parsed::texts`] (numbered by
    /// [`number`]).
    Text {
        slot: usize,
        search: TextSearch,
    },
}

/// A parsed filter and its text searches (run once each, before the walk).
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

/// Parses `filter` (SearchSnippet/get takes the same filter as Email/query).
pub fn parse(ctx: &Ctx<'_>, v: Option<&Value>) -> Result<Parsed, MethodError> {
    number(Filter::parse(ctx, v)?)
}

/// Numbers the text searches of a parsed filter; too many is unsupportedFilter.
pub fn number(mut filter: Option<Filter>) -> Result<Parsed, MethodError> {
    let mut texts = Vec::new();
    if let Some(f) = &mut filter {
        f.visit_mut(&mut |c: &mut Cond| {
            if let Cond::Text { slot, search } = c {
                if texts.len() >= MAX_TEXT {
                    return Err(MethodError::unsupported_filter(format!(
                        "at most {MAX_TEXT} text conditions per filter"
                    )));
                }
                *slot = texts.len();
                texts.push(search.clone());
            }
            Ok(())
        })?;
    }
    Ok(Parsed { filter, texts })
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

impl Condition for Cond {
    fn parse(ctx: &Ctx<'_>, k: &str, v: &Value) -> Result<Option<Cond>, MethodError> {
        let text = |target: Target, value: Option<String>| Cond::Text {
            slot: 0,
            search: TextSearch {
                target,
                text: value,
            },
        };
        let field = |f: TextField, v: &Value| -> Result<Cond, MethodError> {
            Ok(text(Target::Field(f), Some(string(k, v)?.to_string())))
        };
        Ok(Some(match k {
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
            "text" => text(Target::Anywhere, Some(string(k, v)?.to_string())),
            "from" => field(TextField::From, v)?,
            "to" => field(TextField::To, v)?,
            "cc" => field(TextField::Cc, v)?,
            "bcc" => field(TextField::Bcc, v)?,
            "subject" => field(TextField::Subject, v)?,
            "body" => field(TextField::Body, v)?,
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
                text(Target::Header(name), value)
            }
            _ => return Ok(None),
        }))
    }
}

/// The inMailbox every match must satisfy, if the top of the tree requires one: the query can
/// then walk that mailbox's date index instead of the whole account.
pub fn required_mailbox(f: &Filter) -> Option<Option<u32>> {
    f.required().into_iter().find_map(|c| match c {
        Cond::InMailbox(m) => Some(*m),
        _ => None,
    })
}

/// The mailbox of a filter that is only `inMailbox` (alone or the one member of an AND): its
/// results are the mailbox's emails, so their count is the mailbox's totalEmails, and collapsed
/// its totalThreads (RFC 8621 §2).
pub fn only_mailbox(f: &Filter) -> Option<u32> {
    match f {
        crate::jmap::query::Filter::Cond(Cond::InMailbox(Some(m))) => Some(*m),
        crate::jmap::query::Filter::And(l) if l.len() == 1 => l.first().and_then(only_mailbox),
        _ => None,
    }
}

/// The text searches every match must satisfy (top-level AND only).
pub fn required_texts(f: &Filter, out: &mut Vec<usize>) {
    out.extend(f.required().into_iter().filter_map(|c| match c {
        Cond::Text { slot, .. } => Some(*slot),
        _ => None,
    }));
}

/// Whether evaluating the filter needs the thread of an email (thread keyword conditions).
pub fn uses_threads(f: &Filter) -> bool {
    f.any(&|c| {
        matches!(
            c,
            Cond::AllInThread(_) | Cond::SomeInThread(_) | Cond::NoneInThread(_)
        )
    })
}

/// The positive text conditions (not under NOT), for snippet highlighting (RFC 8621 §5).
pub fn positive_texts(f: &Filter, negated: bool, out: &mut Vec<usize>) {
    match f {
        Filter::Cond(Cond::Text { slot, .. }) if !negated => out.push(*slot),
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
    f.try_matches(&mut |c: &Cond| cond(c, e, env))
}

fn cond(c: &Cond, e: &mut Email, env: &mut Env<'_>) -> Result<bool, MethodError> {
    Ok(match c {
        Cond::Text { slot, .. } => env.texts.get(*slot).is_some_and(|s| s.contains(&e.id)),
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
