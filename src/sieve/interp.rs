//! Runs a compiled [`Program`] on one [`Message`] and returns the actions to take. No I/O:
//! the caller (delivery) files, redirects, rejects and replies. Semantics follow RFC 5228 §4
//! (implicit keep, cancelled by fileinto/redirect/discard/reject; duplicate fileinto/redirect
//! done once, §4.2 and §2.10.3) and each extension's section, cited where it matters.

use super::compare;
use super::program::*;
use super::{Env, Limits, Message, RunError};
use crate::mime::header::RawHeader;
use crate::mime::tree::Structure;
use std::collections::{HashMap, HashSet};

/// The CPU budget of one run: work units left. Charged per command, per test and per byte
/// compared (compare.rs), so a hostile script stops at a fixed amount of work.
#[derive(Debug)]
pub struct Budget {
    left: u64,
}

impl Budget {
    pub fn new(limits: &Limits) -> Budget {
        Budget {
            left: limits.max_cost,
        }
    }
    pub fn charge(&mut self, n: usize) -> Result<(), RunError> {
        let n = n as u64;
        if n > self.left {
            self.left = 0;
            return Err(RunError("the script used up its CPU budget".into()));
        }
        self.left -= n;
        Ok(())
    }
}

/// A vacation reply the script asked for (RFC 5230 §4); the caller checks RFC 3834's rules
/// and the once-per-period memory before sending.
#[derive(Debug, Clone, PartialEq)]
pub struct VacationReply {
    pub reason: String,
    /// Seconds between two replies to one sender (default 7 days, RFC 5230 §4.1).
    pub period: u64,
    pub subject: Option<String>,
    pub from: Option<String>,
    pub mime: bool,
    /// Replies with different handles are tracked separately (§4.2).
    pub handle: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// File into the Inbox (RFC 5228 §4.3) with these IMAP keywords.
    Keep {
        flags: Vec<String>,
    },
    FileInto {
        mailbox: String,
        flags: Vec<String>,
        create: bool,
    },
    Redirect {
        address: String,
    },
    Reject {
        reason: String,
        ereject: bool,
    },
    Vacation(VacationReply),
    /// Recorded for the log only; delivery does nothing for it.
    Discard,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// In the order the script took them; the implicit keep, if it survived, is last.
    pub actions: Vec<Action>,
}

enum Flow {
    Next,
    Stop,
    Return,
}

struct Frame<'p> {
    program: &'p Program,
    vars: HashMap<String, String>,
    globals_declared: HashSet<String>,
    match_vars: Vec<String>,
}

struct Run<'a> {
    msg: Message<'a>,
    env: &'a dyn Env,
    limits: &'a Limits,
    budget: Budget,
    parsed: Option<Structure<'a>>,
    actions: Vec<Action>,
    cancel_keep: bool,
    explicit_keep: bool,
    redirects: usize,
    flags: Vec<String>,
    globals: HashMap<String, String>,
    var_count: usize,
    included_once: HashSet<(String, bool)>,
    include_depth: usize,
    includes: usize,
}

/// Runs `program` on `msg`. An `Err` means the script failed: the caller keeps the message in
/// the Inbox and tells the owner (RFC 5228 §2.10.6: a run-time error keeps implicitly).
pub fn run(
    program: &Program,
    msg: Message<'_>,
    env: &dyn Env,
    limits: &Limits,
) -> Result<Outcome, RunError> {
    let mut r = Run {
        msg,
        env,
        limits,
        budget: Budget::new(limits),
        parsed: None,
        actions: Vec::new(),
        cancel_keep: false,
        explicit_keep: false,
        redirects: 0,
        flags: Vec::new(),
        globals: HashMap::new(),
        var_count: 0,
        included_once: HashSet::new(),
        include_depth: 0,
        includes: 0,
    };
    let mut frame = Frame {
        program,
        vars: HashMap::new(),
        globals_declared: HashSet::new(),
        match_vars: Vec::new(),
    };
    r.block(&mut frame, &program.body, 0)?;
    if !r.cancel_keep {
        let flags = r.flags.clone();
        r.actions.push(Action::Keep { flags });
    }
    Ok(Outcome { actions: r.actions })
}

/// A syntactically plausible mailbox address for redirect (RFC 5228 §4.2): `local@domain`,
/// no spaces, controls or brackets, at most 320 bytes.
pub fn plausible_address(a: &str) -> bool {
    let Some((local, domain)) = a.rsplit_once('@') else {
        return false;
    };
    a.len() <= 320
        && !local.is_empty()
        && !domain.is_empty()
        && !a
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>(),;[]\\".contains(c))
        && domain
            .split('.')
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'))
}

fn address_part(addr: &str, part: AddrPart) -> Option<String> {
    let (local, domain) = match addr.rsplit_once('@') {
        Some((l, d)) => (l, d),
        None => (addr, ""),
    };
    match part {
        AddrPart::All => Some(addr.to_string()),
        AddrPart::Local => Some(local.to_string()),
        AddrPart::Domain => Some(domain.to_string()),
        // RFC 5233 §4 with "+" as the separator.
        AddrPart::User => Some(local.split_once('+').map_or(local, |(u, _)| u).to_string()),
        AddrPart::Detail => local.split_once('+').map(|(_, d)| d.to_string()),
    }
}

/// The addresses of an address-list field value (RFC 5322 §3.4), groups flattened.
fn emails(value: &[u8]) -> Vec<String> {
    use crate::mime::header::{Form, form_value};
    match form_value(value, Form::Addresses) {
        serde_json::Value::Array(list) => list
            .iter()
            .filter_map(|a| a.get("email").and_then(|e| e.as_str()))
            .filter(|e| !e.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// Distinct flags one list keeps; more are dropped (IMAP servers cap keywords too, and a
/// script must not grow a list that every later flag action walks).
const MAX_FLAGS: usize = 256;

/// The flags of space-separated lists, each once (ASCII case-insensitive, RFC 5232 §3), in
/// order, at most [`MAX_FLAGS`]: linear in the input, whatever a script repeats.
fn normalise_flags(list: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    for s in list {
        for f in s.split_whitespace() {
            if out.len() >= MAX_FLAGS {
                return out;
            }
            if seen.insert(f.to_ascii_lowercase()) {
                out.push(f.to_string());
            }
        }
    }
    out
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

impl<'a> Run<'a> {
    fn structure(&mut self) -> &Structure<'a> {
        let raw = self.msg.raw;
        self.parsed.get_or_insert_with(|| Structure::parse(raw))
    }

    /// The message's header fields, charged for their number and size: a test that reads
    /// them costs what the message makes it cost, not a flat few units.
    fn headers(&mut self) -> Result<Vec<RawHeader>, RunError> {
        let hs = self.structure().headers.clone();
        let bytes: usize = hs.iter().map(|h| h.value.len() + h.name.len()).sum();
        self.budget.charge(hs.len() + bytes / 8 + 1)?;
        Ok(hs)
    }

    fn push(&mut self, a: Action) -> Result<(), RunError> {
        if self.actions.len() >= self.limits.max_actions {
            return Err(RunError(format!(
                "more than {} actions",
                self.limits.max_actions
            )));
        }
        self.actions.push(a);
        Ok(())
    }

    fn has_reject(&self) -> bool {
        self.actions
            .iter()
            .any(|a| matches!(a, Action::Reject { .. }))
    }

    // ----- variables (RFC 5229) -----

    fn get_var(&self, f: &Frame<'_>, name: &str) -> String {
        let name = name.to_ascii_lowercase();
        if let Some(g) = name.strip_prefix("global.") {
            return self.globals.get(g).cloned().unwrap_or_default();
        }
        if f.globals_declared.contains(&name) {
            return self.globals.get(&name).cloned().unwrap_or_default();
        }
        f.vars.get(&name).cloned().unwrap_or_default()
    }

    fn set_var(&mut self, f: &mut Frame<'_>, name: &str, value: String) -> Result<(), RunError> {
        let value = truncate(value, self.limits.max_string);
        let name = name.to_ascii_lowercase();
        let (map, key) = if let Some(g) = name.strip_prefix("global.") {
            (&mut self.globals, g.to_string())
        } else if f.globals_declared.contains(&name) {
            (&mut self.globals, name)
        } else {
            (&mut f.vars, name)
        };
        if !map.contains_key(&key) {
            self.var_count += 1;
            if self.var_count > self.limits.max_variables {
                return Err(RunError(format!(
                    "more than {} variables",
                    self.limits.max_variables
                )));
            }
        }
        map.insert(key, value);
        Ok(())
    }

    /// Expands `${name}` and `${n}` when the script requires variables (RFC 5229 §3); an
    /// unknown variable is the empty string, a malformed reference stays as written.
    fn expand(&mut self, f: &Frame<'_>, s: &str) -> Result<String, RunError> {
        self.budget.charge(s.len() / 16 + 1)?;
        if !f.program.has("variables") || !s.contains("${") {
            return Ok(s.to_string());
        }
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(at) = rest.find("${") {
            out.push_str(&rest[..at]);
            let after = &rest[at + 2..];
            let end = after.find('}');
            let name = end.map(|e| &after[..e]);
            let valid = name.is_some_and(|n| {
                !n.is_empty()
                    && n.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            });
            match (name, end) {
                (Some(n), Some(e)) if valid => {
                    if n.bytes().all(|b| b.is_ascii_digit()) {
                        let i: usize = n.parse().unwrap_or(usize::MAX);
                        out.push_str(f.match_vars.get(i).map_or("", String::as_str));
                    } else {
                        out.push_str(&self.get_var(f, n));
                    }
                    rest = &after[e + 1..];
                }
                _ => {
                    out.push_str("${");
                    rest = after;
                }
            }
            if out.len() > self.limits.max_string {
                break;
            }
        }
        out.push_str(rest);
        self.budget.charge(out.len() / 16)?;
        Ok(truncate(out, self.limits.max_string))
    }

    fn expand_all(&mut self, f: &Frame<'_>, list: &[String]) -> Result<Vec<String>, RunError> {
        list.iter().map(|s| self.expand(f, s)).collect()
    }

    // ----- commands -----

    fn block(&mut self, f: &mut Frame<'_>, cmds: &[Cmd], depth: usize) -> Result<Flow, RunError> {
        for c in cmds {
            self.budget.charge(1)?;
            match self.command(f, c, depth)? {
                Flow::Next => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Next)
    }

    fn command(&mut self, f: &mut Frame<'_>, c: &Cmd, depth: usize) -> Result<Flow, RunError> {
        match c {
            Cmd::If {
                branches,
                otherwise,
            } => {
                for (t, body) in branches {
                    if self.test(f, t)? {
                        return self.block(f, body, depth + 1);
                    }
                }
                if let Some(body) = otherwise {
                    return self.block(f, body, depth + 1);
                }
            }
            Cmd::Stop => return Ok(Flow::Stop),
            Cmd::Return => return Ok(Flow::Return),
            Cmd::Keep { flags } => {
                if self.has_reject() {
                    return Err(RunError("keep cannot follow reject (RFC 5429 §2.1)".into()));
                }
                let flags = self.flags_for(f, flags.as_deref())?;
                self.cancel_keep = true;
                self.explicit_keep = true;
                if let Some(Action::Keep { flags: old }) = self
                    .actions
                    .iter_mut()
                    .find(|a| matches!(a, Action::Keep { .. }))
                {
                    *old = normalise_flags(old.drain(..).chain(flags));
                } else {
                    self.push(Action::Keep { flags })?;
                }
            }
            Cmd::Discard => {
                self.cancel_keep = true;
                if !self.actions.contains(&Action::Discard) {
                    self.push(Action::Discard)?;
                }
            }
            Cmd::FileInto {
                mailbox,
                copy,
                create,
                flags,
            } => {
                if self.has_reject() {
                    return Err(RunError(
                        "fileinto cannot follow reject (RFC 5429 §2.1)".into(),
                    ));
                }
                let mailbox = self.expand(f, mailbox)?;
                let flags = self.flags_for(f, flags.as_deref())?;
                if !copy {
                    self.cancel_keep = true;
                }
                // RFC 5228 §4.1: filing twice into one mailbox files once.
                if let Some(Action::FileInto { flags: old, .. }) = self
                    .actions
                    .iter_mut()
                    .find(|a| matches!(a, Action::FileInto { mailbox: m, .. } if *m == mailbox))
                {
                    *old = normalise_flags(old.drain(..).chain(flags));
                } else {
                    self.push(Action::FileInto {
                        mailbox,
                        flags,
                        create: *create,
                    })?;
                }
            }
            Cmd::Redirect { address, copy } => {
                if self.has_reject() {
                    return Err(RunError(
                        "redirect cannot follow reject (RFC 5429 §2.1)".into(),
                    ));
                }
                let address = self.expand(f, address)?;
                if !plausible_address(&address) {
                    return Err(RunError(format!("redirect: invalid address \"{address}\"")));
                }
                if !copy {
                    self.cancel_keep = true;
                }
                let dup = self.actions.iter().any(
                    |a| matches!(a, Action::Redirect { address: x } if x.eq_ignore_ascii_case(&address)),
                );
                if !dup {
                    self.redirects += 1;
                    if self.redirects > self.limits.max_redirects {
                        return Err(RunError(format!(
                            "more than {} redirects",
                            self.limits.max_redirects
                        )));
                    }
                    self.push(Action::Redirect { address })?;
                }
            }
            Cmd::Reject { reason, ereject } => {
                // RFC 5429 §2.1: reject with keep, fileinto, redirect or vacation is an error.
                if self.explicit_keep
                    || self.actions.iter().any(|a| {
                        matches!(
                            a,
                            Action::FileInto { .. }
                                | Action::Redirect { .. }
                                | Action::Vacation(_)
                                | Action::Reject { .. }
                        )
                    })
                {
                    return Err(RunError(
                        "reject together with keep, fileinto, redirect, vacation or another reject"
                            .into(),
                    ));
                }
                let reason = self.expand(f, reason)?;
                self.cancel_keep = true;
                self.push(Action::Reject {
                    reason,
                    ereject: *ereject,
                })?;
            }
            Cmd::Vacation(v) => self.vacation(f, v)?,
            Cmd::Flags { op, var, flags } => {
                let new = normalise_flags(self.expand_all(f, flags)?);
                let current = match var {
                    Some(v) => normalise_flags([self.get_var(f, v)]),
                    None => self.flags.clone(),
                };
                let result = match op {
                    FlagOp::Set => new,
                    FlagOp::Add => normalise_flags(current.into_iter().chain(new)),
                    FlagOp::Remove => current
                        .into_iter()
                        .filter(|c| !new.iter().any(|n| n.eq_ignore_ascii_case(c)))
                        .collect(),
                };
                match var {
                    Some(v) => self.set_var(f, v, result.join(" "))?,
                    None => {
                        let joined: usize = result.iter().map(String::len).sum();
                        if joined > self.limits.max_string {
                            return Err(RunError("flag list too long".into()));
                        }
                        self.flags = result;
                    }
                }
            }
            Cmd::Set { name, value, mods } => {
                let mut v = self.expand(f, value)?;
                for m in mods {
                    v = match m {
                        Modifier::Lower => v.to_lowercase(),
                        Modifier::Upper => v.to_uppercase(),
                        Modifier::LowerFirst => first_char(&v, false),
                        Modifier::UpperFirst => first_char(&v, true),
                        Modifier::QuoteWildcard => v
                            .chars()
                            .flat_map(|c| {
                                let esc = matches!(c, '*' | '?' | '\\');
                                esc.then_some('\\').into_iter().chain([c])
                            })
                            .collect(),
                        Modifier::Length => v.chars().count().to_string(),
                    };
                }
                self.set_var(f, name, v)?;
            }
            Cmd::Global(names) => {
                for n in self.expand_all(f, names)? {
                    f.globals_declared.insert(n.to_ascii_lowercase());
                }
            }
            Cmd::Include {
                name,
                global,
                once,
                optional,
            } => {
                let name = self.expand(f, name)?;
                let key = (name.clone(), *global);
                if *once && self.included_once.contains(&key) {
                    return Ok(Flow::Next);
                }
                let Some(program) = self.env.script(&name, *global) else {
                    if *optional {
                        return Ok(Flow::Next);
                    }
                    return Err(RunError(format!("include: no script \"{name}\"")));
                };
                self.included_once.insert(key);
                self.includes += 1;
                if self.includes > self.limits.max_includes {
                    return Err(RunError(format!(
                        "more than {} includes in one run",
                        self.limits.max_includes
                    )));
                }
                if self.include_depth >= self.limits.max_include_depth {
                    return Err(RunError(format!(
                        "includes nested deeper than {}",
                        self.limits.max_include_depth
                    )));
                }
                let mut inner = Frame {
                    program: &program,
                    vars: HashMap::new(),
                    globals_declared: HashSet::new(),
                    match_vars: Vec::new(),
                };
                // RFC 6609 §3.2: return ends the included script only; stop ends all.
                self.include_depth += 1;
                let flow = self.block(&mut inner, &program.body, depth + 1);
                self.include_depth -= 1;
                if let Flow::Stop = flow? {
                    return Ok(Flow::Stop);
                }
            }
        }
        Ok(Flow::Next)
    }

    fn flags_for(
        &mut self,
        f: &Frame<'_>,
        explicit: Option<&[String]>,
    ) -> Result<Vec<String>, RunError> {
        match explicit {
            Some(list) => Ok(normalise_flags(self.expand_all(f, list)?)),
            None => Ok(self.flags.clone()),
        }
    }

    fn vacation(&mut self, f: &Frame<'_>, v: &Vacation) -> Result<(), RunError> {
        if self.has_reject() {
            return Err(RunError(
                "vacation cannot follow reject (RFC 5429 §2.1)".into(),
            ));
        }
        if self
            .actions
            .iter()
            .any(|a| matches!(a, Action::Vacation(_)))
        {
            return Err(RunError("more than one vacation (RFC 5230 §4.7)".into()));
        }
        let reason = self.expand(f, &v.reason)?;
        let subject = v.subject.as_ref().map(|s| self.expand(f, s)).transpose()?;
        let from = v.from.as_ref().map(|s| self.expand(f, s)).transpose()?;
        let addresses = self.expand_all(f, &v.addresses)?;
        // RFC 5230 §4.5: reply only when one of the user's addresses is in a recipient field.
        let mine: Vec<String> = std::iter::once(self.msg.envelope_to.to_string())
            .chain(addresses)
            .filter_map(|a| {
                let a = a.to_ascii_lowercase();
                let (l, d) = a.rsplit_once('@')?;
                Some(format!("{}@{d}", l.split_once('+').map_or(l, |(u, _)| u)))
            })
            .collect();
        let mut addressed = false;
        for h in self.headers()? {
            let n = h.name.to_ascii_lowercase();
            if !matches!(
                n.as_str(),
                "to" | "cc" | "bcc" | "resent-to" | "resent-cc" | "resent-bcc"
            ) {
                continue;
            }
            self.budget.charge(h.value.len() + 1)?;
            for e in emails(&h.value) {
                let e = e.to_ascii_lowercase();
                let stripped = match e.rsplit_once('@') {
                    Some((l, d)) => format!("{}@{d}", l.split_once('+').map_or(l, |(u, _)| u)),
                    None => e,
                };
                addressed |= mine.contains(&stripped);
            }
        }
        if !addressed {
            return Ok(());
        }
        let handle = match &v.handle {
            Some(h) => self.expand(f, h)?,
            // §4.2: without :handle, the reply's text and subject identify it.
            None => crate::store::hex_sha256(
                format!(
                    "{reason}\0{}\0{}\0{}",
                    subject.as_deref().unwrap_or(""),
                    from.as_deref().unwrap_or(""),
                    v.mime
                )
                .as_bytes(),
            ),
        };
        self.push(Action::Vacation(VacationReply {
            reason,
            period: v.period.unwrap_or(7 * 86_400),
            subject,
            from,
            mime: v.mime,
            handle,
        }))
    }

    // ----- tests -----

    fn test(&mut self, f: &mut Frame<'_>, t: &Test) -> Result<bool, RunError> {
        self.budget.charge(1)?;
        Ok(match t {
            Test::True => true,
            Test::False => false,
            Test::Not(t) => !self.test(f, t)?,
            Test::AllOf(list) => {
                for t in list {
                    if !self.test(f, t)? {
                        return Ok(false);
                    }
                }
                true
            }
            Test::AnyOf(list) => {
                for t in list {
                    if self.test(f, t)? {
                        return Ok(true);
                    }
                }
                false
            }
            Test::Exists(names) => {
                let names = self.expand_all(f, names)?;
                let count = self.structure().headers.len();
                self.budget.charge(count.saturating_mul(names.len()) + 1)?;
                let hs = &self.structure().headers;
                names
                    .iter()
                    .all(|n| hs.iter().any(|h| h.name.eq_ignore_ascii_case(n)))
            }
            Test::Size { over, limit } => {
                let size = self.msg.raw.len() as u64;
                if *over { size > *limit } else { size < *limit }
            }
            Test::Header {
                m,
                headers,
                keys,
                index,
            } => {
                let names = self.expand_all(f, headers)?;
                let mut values = Vec::new();
                for n in &names {
                    let fields = self.fields(n, *index)?;
                    values.extend(fields.iter().map(|v| crate::mime::header::text(v)));
                }
                self.matches(f, *m, &values, keys)?
            }
            Test::Address {
                m,
                part,
                headers,
                keys,
                index,
            } => {
                let names = self.expand_all(f, headers)?;
                let mut values = Vec::new();
                for n in &names {
                    for field in self.fields(n, *index)? {
                        self.budget.charge(field.len() + 1)?;
                        for e in emails(&field) {
                            values.extend(address_part(&e, *part));
                        }
                    }
                }
                self.matches(f, *m, &values, keys)?
            }
            Test::Envelope {
                m,
                part,
                fields,
                keys,
            } => {
                let fields = self.expand_all(f, fields)?;
                let mut values = Vec::new();
                for fl in fields {
                    let v = match fl.to_ascii_lowercase().as_str() {
                        "from" => self.msg.envelope_from,
                        "to" => self.msg.envelope_to,
                        _ => continue,
                    };
                    // RFC 5228 §5.4: the null reverse-path is "" for :all and matches no part.
                    if v.is_empty() {
                        if *part == AddrPart::All {
                            values.push(String::new());
                        }
                        continue;
                    }
                    values.extend(address_part(v, *part));
                }
                self.matches(f, *m, &values, keys)?
            }
            Test::Body { m, transform, keys } => {
                let values = self.body_values(f, transform)?;
                self.matches(f, *m, &values, keys)?
            }
            Test::String { m, sources, keys } => {
                let mut values = self.expand_all(f, sources)?;
                // RFC 5229 §5: :count counts the non-empty strings.
                if matches!(m.kind, MatchKind::Count(_)) {
                    values.retain(|v| !v.is_empty());
                }
                self.matches(f, *m, &values, keys)?
            }
            Test::HasFlag { m, vars, keys } => {
                let values = if vars.is_empty() {
                    self.flags.clone()
                } else {
                    let names = self.expand_all(f, vars)?;
                    normalise_flags(names.iter().map(|n| self.get_var(f, n)).collect::<Vec<_>>())
                };
                let keys: Vec<String> = keys
                    .iter()
                    .flat_map(|k| k.split_whitespace().map(str::to_string).collect::<Vec<_>>())
                    .collect();
                self.matches(f, *m, &values, &keys)?
            }
            Test::Date {
                m,
                zone,
                header,
                part,
                keys,
                index,
            } => {
                let header = self.expand(f, header)?;
                let fields = self.fields(&header, *index)?;
                let mut values = Vec::new();
                // RFC 5260 §4: without :index, every occurrence is compared.
                for v in fields {
                    let text = crate::mime::header::text(&v);
                    // Received: the date follows the last semicolon (RFC 5260 §4).
                    let text = if header.eq_ignore_ascii_case("received") {
                        text.rsplit(';').next().unwrap_or("").trim().to_string()
                    } else {
                        text
                    };
                    if let Some((t, orig)) = super::date::parse_header_date(&text) {
                        let off = match zone {
                            Zone::Local => 0,
                            Zone::Original => orig,
                            Zone::Offset(o) => *o,
                        };
                        values.extend(super::date::part(t, off, part));
                    }
                }
                if values.is_empty() && !matches!(m.kind, MatchKind::Count(_)) {
                    false
                } else {
                    self.matches(f, *m, &values, keys)?
                }
            }
            Test::CurrentDate {
                m,
                zone,
                part,
                keys,
            } => {
                let off = match zone {
                    Zone::Offset(o) => *o,
                    _ => 0,
                };
                let values: Vec<String> = super::date::part(self.env.now(), off, part)
                    .into_iter()
                    .collect();
                if values.is_empty() {
                    false
                } else {
                    self.matches(f, *m, &values, keys)?
                }
            }
            Test::MailboxExists(names) => {
                let names = self.expand_all(f, names)?;
                names.iter().all(|n| self.env.mailbox_exists(n))
            }
            Test::SpamTest { m, percent, key } => {
                // RFC 5235 §3.2: "0" means not tested; 1..10 from surely ham to surely spam.
                let v = match (self.msg.spamtest, *percent) {
                    (None, _) => 0u32,
                    (Some(v), false) => u32::from(v.min(10)),
                    (Some(v), true) => (u32::from(v.clamp(1, 10)) - 1) * 100 / 9,
                };
                self.matches(f, *m, &[v.to_string()], std::slice::from_ref(key))?
            }
        })
    }

    /// The raw values of the header fields named `name`, narrowed by `:index` (RFC 5260 §6).
    /// The values of the header fields named `name`, charged for the fields walked and the
    /// bytes copied.
    fn fields(&mut self, name: &str, index: Option<Index>) -> Result<Vec<Vec<u8>>, RunError> {
        let count = self.structure().headers.len();
        self.budget.charge(count + 1)?;
        let mut all: Vec<Vec<u8>> = self
            .structure()
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.clone())
            .collect();
        let bytes: usize = all.iter().map(Vec::len).sum();
        self.budget.charge(bytes / 8)?;
        if let Some(ix) = index {
            let n = ix.n as usize;
            let pick = if ix.last {
                all.len().checked_sub(n)
            } else {
                n.checked_sub(1)
            };
            all = match pick.and_then(|i| all.get(i)) {
                Some(v) => vec![v.clone()],
                None => Vec::new(),
            };
        }
        Ok(all)
    }

    fn body_values(
        &mut self,
        f: &Frame<'_>,
        transform: &BodyTransform,
    ) -> Result<Vec<String>, RunError> {
        let max = self.limits.max_body_bytes;
        let types = match transform {
            BodyTransform::Content(t) => Some(self.expand_all(f, t)?),
            _ => None,
        };
        let raw = self.msg.raw;
        let s = self.structure();
        let mut out = Vec::new();
        match transform {
            BodyTransform::Raw => {
                let start = raw
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .map(|p| p + 4)
                    .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|p| p + 2))
                    .unwrap_or(raw.len());
                let body = &raw[start..raw.len().min(start + max)];
                out.push(String::from_utf8_lossy(body).into_owned());
            }
            _ => {
                let mut total = 0usize;
                for (i, p) in s.parts.iter().enumerate() {
                    if p.is_multipart() || total >= max {
                        continue;
                    }
                    let wanted = match &types {
                        None => p.is_text(),
                        Some(ts) => ts.iter().any(|t| {
                            let t = t.to_ascii_lowercase();
                            t.is_empty()
                                || p.ctype == t
                                || (!t.contains('/')
                                    && p.ctype.split('/').next() == Some(t.as_str()))
                        }),
                    };
                    if !wanted {
                        continue;
                    }
                    let mut text = if p.is_text() {
                        s.text(i).text
                    } else {
                        String::from_utf8_lossy(&s.content(i)).into_owned()
                    };
                    // RFC 5173 §5.2: :text compares text without markup.
                    if types.is_none() && p.ctype == "text/html" {
                        text = crate::mime::text::html_text(&text);
                    }
                    let text = truncate(text, max - total);
                    total += text.len();
                    out.push(text);
                }
            }
        }
        let cost: usize = out.iter().map(String::len).sum();
        self.budget.charge(cost / 8 + 1)?;
        Ok(out)
    }

    /// Compares `values` against `keys` with the match type and comparator. True when any
    /// pair matches (RFC 5228 §2.7.1); `:count` compares the number of values (RFC 5231 §4.2).
    fn matches(
        &mut self,
        f: &mut Frame<'_>,
        m: Match,
        values: &[String],
        keys: &[String],
    ) -> Result<bool, RunError> {
        let keys = self.expand_all(f, keys)?;
        if let MatchKind::Count(rel) = m.kind {
            let n = values.len().to_string();
            for k in &keys {
                if compare::relation(m.cmp, rel, &n, k, &mut self.budget)? {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        let capture = f.program.has("variables") && m.kind == MatchKind::Matches;
        let mut caps = Vec::new();
        for v in values {
            for k in &keys {
                let hit = match m.kind {
                    MatchKind::Is => compare::is(m.cmp, v, k, &mut self.budget)?,
                    MatchKind::Contains => compare::contains(m.cmp, v, k, &mut self.budget)?,
                    MatchKind::Matches => compare::matches(
                        m.cmp,
                        v,
                        k,
                        capture.then_some(&mut caps),
                        &mut self.budget,
                    )?,
                    MatchKind::Value(rel) => compare::relation(m.cmp, rel, v, k, &mut self.budget)?,
                    MatchKind::Count(_) => false,
                };
                if hit {
                    if capture {
                        f.match_vars = caps
                            .into_iter()
                            .map(|c| truncate(c, self.limits.max_string))
                            .collect();
                    }
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }
}

fn first_char(s: &str, upper: bool) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) if upper => first.to_uppercase().chain(c).collect(),
        Some(first) => first.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}
