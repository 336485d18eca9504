//! Checks the syntax tree against each command's and test's grammar (RFC 5228 §§3-5 and the
//! extensions) and builds the [`Program`]. Every error names the line and column of the
//! command, test or argument at fault.

use super::SieveError;
use super::parser::{Arg, Command, Test as PTest};
use super::program::*;

/// Extensions this interpreter implements (the `require` names and ManageSieve's SIEVE
/// capability line).
pub const EXTENSIONS: &[&str] = &[
    "fileinto",
    "envelope",
    "imap4flags",
    "copy",
    "body",
    "variables",
    "vacation",
    "vacation-seconds",
    "relational",
    "subaddress",
    "reject",
    "ereject",
    "mailbox",
    "date",
    "index",
    "spamtest",
    "spamtestplus",
    "include",
    "comparator-i;ascii-numeric",
];

struct Ctx {
    requires: Vec<String>,
    /// Depth of `if` nesting being compiled, for `elsif`/`else` checks.
    line: u32,
    col: u32,
}

impl Ctx {
    fn err(&self, msg: impl Into<String>) -> SieveError {
        SieveError::at(self.line, self.col, msg)
    }
    fn need(&self, ext: &str, what: &str) -> Result<(), SieveError> {
        if self.requires.iter().any(|r| r == ext) {
            Ok(())
        } else {
            Err(self.err(format!("{what} needs require \"{ext}\"")))
        }
    }
}

pub fn compile(cmds: &[Command]) -> Result<Program, SieveError> {
    let mut cx = Ctx {
        requires: Vec::new(),
        line: 1,
        col: 1,
    };
    // RFC 5228 §3.2: require commands come first.
    let mut rest = cmds;
    while let Some((c, tail)) = rest.split_first() {
        if c.name != "require" {
            break;
        }
        cx.line = c.line;
        cx.col = c.col;
        if !c.tests.is_empty() || c.block.is_some() {
            return Err(cx.err("require takes a string list"));
        }
        let [Arg::Strings { items, .. }] = c.args.as_slice() else {
            return Err(cx.err("require takes a string list"));
        };
        for ext in items {
            let ext = ext.to_ascii_lowercase();
            if !EXTENSIONS.contains(&ext.as_str())
                && ext != "comparator-i;octet"
                && ext != "comparator-i;ascii-casemap"
            {
                return Err(cx.err(format!("unsupported extension \"{ext}\"")));
            }
            if !cx.requires.contains(&ext) {
                cx.requires.push(ext);
            }
        }
        rest = tail;
    }
    let body = block(&mut cx, rest)?;
    Ok(Program {
        version: VERSION,
        requires: cx.requires,
        body,
    })
}

fn block(cx: &mut Ctx, cmds: &[Command]) -> Result<Vec<Cmd>, SieveError> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < cmds.len() {
        let c = &cmds[i];
        cx.line = c.line;
        cx.col = c.col;
        if c.name == "if" {
            let mut branches = vec![(one_test(cx, c)?, sub_block(cx, c)?)];
            let mut otherwise = None;
            while let Some(next) = cmds.get(i + 1) {
                cx.line = next.line;
                cx.col = next.col;
                match next.name.as_str() {
                    "elsif" => {
                        branches.push((one_test(cx, next)?, sub_block(cx, next)?));
                        i += 1;
                    }
                    "else" => {
                        no_args(cx, next)?;
                        otherwise = Some(sub_block(cx, next)?);
                        i += 1;
                        break;
                    }
                    _ => break,
                }
            }
            out.push(Cmd::If {
                branches,
                otherwise,
            });
        } else {
            out.push(command(cx, c)?);
        }
        i += 1;
    }
    Ok(out)
}

fn sub_block(cx: &mut Ctx, c: &Command) -> Result<Vec<Cmd>, SieveError> {
    match &c.block {
        Some(b) => block(cx, b),
        None => Err(cx.err(format!("{} needs a block", c.name))),
    }
}

fn one_test(cx: &mut Ctx, c: &Command) -> Result<Test, SieveError> {
    if !c.args.is_empty() || c.tests.len() != 1 {
        return Err(cx.err(format!("{} takes exactly one test", c.name)));
    }
    test(cx, &c.tests[0])
}

fn no_args(cx: &Ctx, c: &Command) -> Result<(), SieveError> {
    if !c.args.is_empty() || !c.tests.is_empty() {
        return Err(cx.err(format!("{} takes no arguments", c.name)));
    }
    Ok(())
}

/// Tagged arguments pulled out of an argument list; what remains is positional.
struct Args {
    tags: Vec<(String, Option<Arg>)>,
    pos: Vec<Arg>,
}

impl Args {
    /// `with_value` lists the tags that take the following argument.
    fn split(
        cx: &Ctx,
        args: &[Arg],
        allowed: &[&str],
        with_value: &[&str],
    ) -> Result<Args, SieveError> {
        let mut tags: Vec<(String, Option<Arg>)> = Vec::new();
        let mut pos = Vec::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a {
                Arg::Tag(t) => {
                    if !pos.is_empty() {
                        return Err(cx.err(format!(":{t} must come before the other arguments")));
                    }
                    if !allowed.contains(&t.as_str()) {
                        return Err(cx.err(format!("unknown tag :{t}")));
                    }
                    if tags.iter().any(|(x, _)| x == t) {
                        return Err(cx.err(format!(":{t} given twice")));
                    }
                    let v = if with_value.contains(&t.as_str()) {
                        Some(
                            it.next()
                                .cloned()
                                .ok_or_else(|| cx.err(format!(":{t} needs a value")))?,
                        )
                    } else {
                        None
                    };
                    tags.push((t.clone(), v));
                }
                other => pos.push(other.clone()),
            }
        }
        Ok(Args { tags, pos })
    }
    fn has(&self, t: &str) -> bool {
        self.tags.iter().any(|(x, _)| x == t)
    }
    fn value(&self, t: &str) -> Option<&Arg> {
        self.tags
            .iter()
            .find(|(x, _)| x == t)
            .and_then(|(_, v)| v.as_ref())
    }
}

fn string(cx: &Ctx, a: Option<&Arg>, what: &str) -> Result<Str, SieveError> {
    match a {
        Some(Arg::Strings { list: false, items }) if items.len() == 1 => Ok(items[0].clone()),
        _ => Err(cx.err(format!("{what} must be a string"))),
    }
}

fn strings(cx: &Ctx, a: Option<&Arg>, what: &str) -> Result<Vec<Str>, SieveError> {
    match a {
        Some(Arg::Strings { items, .. }) => Ok(items.clone()),
        _ => Err(cx.err(format!("{what} must be a string list"))),
    }
}

fn number(cx: &Ctx, a: Option<&Arg>, what: &str) -> Result<u64, SieveError> {
    match a {
        Some(Arg::Number(n)) => Ok(*n),
        _ => Err(cx.err(format!("{what} must be a number"))),
    }
}

fn positional(cx: &Ctx, a: &Args, n: usize, name: &str) -> Result<(), SieveError> {
    if a.pos.len() != n {
        return Err(cx.err(format!(
            "{name} takes {n} positional argument{}, got {}",
            if n == 1 { "" } else { "s" },
            a.pos.len()
        )));
    }
    Ok(())
}

fn flags_tag(cx: &Ctx, a: &Args) -> Result<Option<Vec<Str>>, SieveError> {
    match a.value("flags") {
        None => Ok(None),
        Some(v) => {
            cx.need("imap4flags", ":flags")?;
            strings(cx, Some(v), ":flags").map(Some)
        }
    }
}

fn command(cx: &mut Ctx, c: &Command) -> Result<Cmd, SieveError> {
    let name = c.name.as_str();
    if name == "elsif" || name == "else" {
        return Err(cx.err(format!("{name} without if")));
    }
    if !c.tests.is_empty() {
        return Err(cx.err(format!("{name} takes no test")));
    }
    if c.block.is_some() {
        return Err(cx.err(format!("{name} takes no block")));
    }
    let cmd = match name {
        "require" => return Err(cx.err("require must come before other commands")),
        "stop" => {
            no_args(cx, c)?;
            Cmd::Stop
        }
        "discard" => {
            no_args(cx, c)?;
            Cmd::Discard
        }
        "keep" => {
            let a = Args::split(cx, &c.args, &["flags"], &["flags"])?;
            positional(cx, &a, 0, name)?;
            Cmd::Keep {
                flags: flags_tag(cx, &a)?,
            }
        }
        "fileinto" => {
            cx.need("fileinto", name)?;
            let a = Args::split(cx, &c.args, &["copy", "create", "flags"], &["flags"])?;
            positional(cx, &a, 1, name)?;
            if a.has("copy") {
                cx.need("copy", ":copy")?;
            }
            if a.has("create") {
                cx.need("mailbox", ":create")?;
            }
            Cmd::FileInto {
                mailbox: string(cx, a.pos.first(), "the mailbox")?,
                copy: a.has("copy"),
                create: a.has("create"),
                flags: flags_tag(cx, &a)?,
            }
        }
        "redirect" => {
            let a = Args::split(cx, &c.args, &["copy"], &[])?;
            positional(cx, &a, 1, name)?;
            if a.has("copy") {
                cx.need("copy", ":copy")?;
            }
            let address = string(cx, a.pos.first(), "the address")?;
            // RFC 5228 §4.2: a syntactically invalid address is an error (checked at run
            // time too, after variables expand).
            if !address.contains("${") && !super::interp::plausible_address(&address) {
                return Err(cx.err(format!("redirect: invalid address \"{address}\"")));
            }
            Cmd::Redirect {
                address,
                copy: a.has("copy"),
            }
        }
        "reject" | "ereject" => {
            cx.need(name, name)?;
            let a = Args::split(cx, &c.args, &[], &[])?;
            positional(cx, &a, 1, name)?;
            Cmd::Reject {
                reason: string(cx, a.pos.first(), "the reason")?,
                ereject: name == "ereject",
            }
        }
        "vacation" => {
            cx.need("vacation", name)?;
            let a = Args::split(
                cx,
                &c.args,
                &[
                    "days",
                    "seconds",
                    "subject",
                    "from",
                    "addresses",
                    "mime",
                    "handle",
                ],
                &["days", "seconds", "subject", "from", "addresses", "handle"],
            )?;
            positional(cx, &a, 1, name)?;
            let period = match (a.value("days"), a.value("seconds")) {
                (Some(_), Some(_)) => return Err(cx.err(":days and :seconds together")),
                (Some(d), None) => Some(number(cx, Some(d), ":days")?.max(1) * 86_400),
                (None, Some(s)) => {
                    cx.need("vacation-seconds", ":seconds")?;
                    Some(number(cx, Some(s), ":seconds")?)
                }
                (None, None) => None,
            };
            let opt = |t: &str| -> Result<Option<Str>, SieveError> {
                a.value(t).map(|v| string(cx, Some(v), t)).transpose()
            };
            Cmd::Vacation(Box::new(Vacation {
                reason: string(cx, a.pos.first(), "the reason")?,
                period,
                subject: opt("subject")?,
                from: opt("from")?,
                addresses: match a.value("addresses") {
                    Some(v) => strings(cx, Some(v), ":addresses")?,
                    None => Vec::new(),
                },
                mime: a.has("mime"),
                handle: opt("handle")?,
            }))
        }
        "setflag" | "addflag" | "removeflag" => {
            cx.need("imap4flags", name)?;
            let op = match name {
                "setflag" => FlagOp::Set,
                "addflag" => FlagOp::Add,
                _ => FlagOp::Remove,
            };
            let a = Args::split(cx, &c.args, &[], &[])?;
            let (var, flags) = match a.pos.as_slice() {
                [f] => (None, strings(cx, Some(f), "the flags")?),
                [v, f] => {
                    cx.need("variables", "a variable name")?;
                    let v = string(cx, Some(v), "the variable name")?;
                    check_var_name(cx, &v)?;
                    (Some(v), strings(cx, Some(f), "the flags")?)
                }
                _ => return Err(cx.err(format!("{name} takes [variable] flags"))),
            };
            Cmd::Flags { op, var, flags }
        }
        "set" => {
            cx.need("variables", name)?;
            let mods_all = [
                "lower",
                "upper",
                "lowerfirst",
                "upperfirst",
                "quotewildcard",
                "length",
            ];
            let a = Args::split(cx, &c.args, &mods_all, &[])?;
            positional(cx, &a, 2, name)?;
            let var = string(cx, a.pos.first(), "the variable name")?;
            check_var_name(cx, &var)?;
            let mut mods: Vec<Modifier> = a
                .tags
                .iter()
                .map(|(t, _)| match t.as_str() {
                    "lower" => Modifier::Lower,
                    "upper" => Modifier::Upper,
                    "lowerfirst" => Modifier::LowerFirst,
                    "upperfirst" => Modifier::UpperFirst,
                    "quotewildcard" => Modifier::QuoteWildcard,
                    _ => Modifier::Length,
                })
                .collect();
            mods.sort_by_key(|m| std::cmp::Reverse(m.precedence()));
            // RFC 5229 §4.1: two modifiers of one precedence is an error.
            if mods
                .windows(2)
                .any(|w| w[0].precedence() == w[1].precedence())
            {
                return Err(cx.err("two set modifiers of the same precedence"));
            }
            Cmd::Set {
                name: var.to_ascii_lowercase(),
                value: string(cx, a.pos.get(1), "the value")?,
                mods,
            }
        }
        "include" => {
            cx.need("include", name)?;
            let a = Args::split(
                cx,
                &c.args,
                &["personal", "global", "once", "optional"],
                &[],
            )?;
            positional(cx, &a, 1, name)?;
            if a.has("personal") && a.has("global") {
                return Err(cx.err(":personal and :global together"));
            }
            let script = string(cx, a.pos.first(), "the script name")?;
            Cmd::Include {
                name: script,
                global: a.has("global"),
                once: a.has("once"),
                optional: a.has("optional"),
            }
        }
        "return" => {
            cx.need("include", name)?;
            no_args(cx, c)?;
            Cmd::Return
        }
        "global" => {
            cx.need("include", name)?;
            cx.need("variables", name)?;
            let a = Args::split(cx, &c.args, &[], &[])?;
            positional(cx, &a, 1, name)?;
            Cmd::Global(strings(cx, a.pos.first(), "the variable names")?)
        }
        "if" => unreachable_if(cx)?,
        _ => return Err(cx.err(format!("unknown command \"{name}\""))),
    };
    Ok(cmd)
}

fn unreachable_if(cx: &Ctx) -> Result<Cmd, SieveError> {
    Err(cx.err("if in an unexpected place"))
}

/// RFC 5229 §3: identifier, or a number for match variables (which `set` may not assign).
fn check_var_name(cx: &Ctx, v: &str) -> Result<(), SieveError> {
    let ok = !v.is_empty()
        && v.split('.').all(|p| {
            p.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    if ok {
        Ok(())
    } else {
        Err(cx.err(format!("invalid variable name \"{v}\"")))
    }
}

const MATCH_TAGS: &[&str] = &["comparator", "is", "contains", "matches", "value", "count"];
const ADDR_TAGS: &[&str] = &["all", "localpart", "domain", "user", "detail"];

fn match_of(cx: &Ctx, a: &Args) -> Result<Match, SieveError> {
    let cmp = match a.value("comparator") {
        None => Comparator::AsciiCasemap,
        Some(v) => match string(cx, Some(v), ":comparator")?
            .to_ascii_lowercase()
            .as_str()
        {
            "i;octet" => Comparator::Octet,
            "i;ascii-casemap" => Comparator::AsciiCasemap,
            "i;ascii-numeric" => {
                cx.need("comparator-i;ascii-numeric", "i;ascii-numeric")?;
                Comparator::AsciiNumeric
            }
            other => return Err(cx.err(format!("unknown comparator \"{other}\""))),
        },
    };
    let mut kind = None;
    for t in ["is", "contains", "matches", "value", "count"] {
        if !a.has(t) {
            continue;
        }
        if kind.is_some() {
            return Err(cx.err("more than one match type"));
        }
        kind = Some(match t {
            "is" => MatchKind::Is,
            "contains" => MatchKind::Contains,
            "matches" => MatchKind::Matches,
            _ => {
                cx.need("relational", &format!(":{t}"))?;
                let r = string(cx, a.value(t), &format!(":{t}"))?;
                let rel = match r.to_ascii_lowercase().as_str() {
                    "gt" => Rel::Gt,
                    "ge" => Rel::Ge,
                    "lt" => Rel::Lt,
                    "le" => Rel::Le,
                    "eq" => Rel::Eq,
                    "ne" => Rel::Ne,
                    _ => return Err(cx.err(format!("unknown relational operator \"{r}\""))),
                };
                if t == "value" {
                    MatchKind::Value(rel)
                } else {
                    MatchKind::Count(rel)
                }
            }
        });
    }
    let kind = kind.unwrap_or(MatchKind::Is);
    // RFC 5228 §2.7.3 / RFC 4790: i;ascii-numeric has no substring operation.
    if cmp == Comparator::AsciiNumeric && matches!(kind, MatchKind::Contains | MatchKind::Matches) {
        return Err(cx.err("i;ascii-numeric supports only :is, :value and :count"));
    }
    Ok(Match { cmp, kind })
}

fn addr_part(cx: &Ctx, a: &Args) -> Result<AddrPart, SieveError> {
    let mut part = None;
    for t in ADDR_TAGS {
        if a.has(t) {
            if part.is_some() {
                return Err(cx.err("more than one address part"));
            }
            part = Some(match *t {
                "all" => AddrPart::All,
                "localpart" => AddrPart::Local,
                "domain" => AddrPart::Domain,
                "user" => {
                    cx.need("subaddress", ":user")?;
                    AddrPart::User
                }
                _ => {
                    cx.need("subaddress", ":detail")?;
                    AddrPart::Detail
                }
            });
        }
    }
    Ok(part.unwrap_or(AddrPart::All))
}

fn index_of(cx: &Ctx, a: &Args) -> Result<Option<Index>, SieveError> {
    match a.value("index") {
        None if a.has("last") => Err(cx.err(":last needs :index")),
        None => Ok(None),
        Some(v) => {
            cx.need("index", ":index")?;
            let n = number(cx, Some(v), ":index")?;
            if n == 0 {
                return Err(cx.err(":index counts from 1"));
            }
            Ok(Some(Index {
                n: u32::try_from(n).unwrap_or(u32::MAX),
                last: a.has("last"),
            }))
        }
    }
}

fn zone_of(cx: &Ctx, a: &Args) -> Result<Zone, SieveError> {
    match (a.value("zone"), a.has("originalzone")) {
        (Some(_), true) => Err(cx.err(":zone and :originalzone together")),
        (None, true) => Ok(Zone::Original),
        (None, false) => Ok(Zone::Local),
        (Some(v), false) => {
            let z = string(cx, Some(v), ":zone")?;
            super::date::parse_zone(&z)
                .map(Zone::Offset)
                .ok_or_else(|| cx.err(format!("invalid zone \"{z}\"")))
        }
    }
}

fn with(base: &[&'static str], more: &[&'static str]) -> Vec<&'static str> {
    base.iter().chain(more).copied().collect()
}

fn test(cx: &mut Ctx, t: &PTest) -> Result<Test, SieveError> {
    cx.line = t.line;
    cx.col = t.col;
    let name = t.name.as_str();
    let no_tests = |cx: &Ctx| -> Result<(), SieveError> {
        if t.tests.is_empty() {
            Ok(())
        } else {
            Err(cx.err(format!("{name} takes no nested test")))
        }
    };
    let value_tags = ["comparator", "value", "count", "index", "zone", "content"];
    Ok(match name {
        "true" | "false" => {
            if !t.args.is_empty() {
                return Err(cx.err(format!("{name} takes no arguments")));
            }
            no_tests(cx)?;
            if name == "true" {
                Test::True
            } else {
                Test::False
            }
        }
        "not" => {
            if !t.args.is_empty() || t.tests.len() != 1 {
                return Err(cx.err("not takes one test"));
            }
            Test::Not(Box::new(test(cx, &t.tests[0])?))
        }
        "allof" | "anyof" => {
            if !t.args.is_empty() || t.tests.is_empty() {
                return Err(cx.err(format!("{name} takes a list of tests")));
            }
            let list = t
                .tests
                .iter()
                .map(|x| test(cx, x))
                .collect::<Result<Vec<_>, _>>()?;
            if name == "allof" {
                Test::AllOf(list)
            } else {
                Test::AnyOf(list)
            }
        }
        "exists" => {
            no_tests(cx)?;
            let a = Args::split(cx, &t.args, &[], &[])?;
            positional(cx, &a, 1, name)?;
            Test::Exists(strings(cx, a.pos.first(), "the header names")?)
        }
        "size" => {
            no_tests(cx)?;
            let a = Args::split(cx, &t.args, &["over", "under"], &[])?;
            positional(cx, &a, 1, name)?;
            if a.has("over") == a.has("under") {
                return Err(cx.err("size needs exactly one of :over and :under"));
            }
            Test::Size {
                over: a.has("over"),
                limit: number(cx, a.pos.first(), "the size")?,
            }
        }
        "header" | "address" | "envelope" | "string" | "hasflag" | "body" => {
            no_tests(cx)?;
            let allowed = match name {
                "header" => with(MATCH_TAGS, &["index", "last"]),
                "address" => with(&with(MATCH_TAGS, ADDR_TAGS), &["index", "last"]),
                "envelope" => with(MATCH_TAGS, ADDR_TAGS),
                "body" => with(MATCH_TAGS, &["raw", "text", "content"]),
                _ => MATCH_TAGS.to_vec(),
            };
            let a = Args::split(cx, &t.args, &allowed, &value_tags)?;
            let m = match_of(cx, &a)?;
            match name {
                "envelope" => cx.need("envelope", name)?,
                "string" => cx.need("variables", name)?,
                "hasflag" => cx.need("imap4flags", name)?,
                "body" => cx.need("body", name)?,
                _ => {}
            }
            if name == "hasflag" {
                let (vars, keys) = match a.pos.as_slice() {
                    [k] => (Vec::new(), strings(cx, Some(k), "the flags")?),
                    [v, k] => {
                        cx.need("variables", "a variable list")?;
                        (
                            strings(cx, Some(v), "the variables")?,
                            strings(cx, Some(k), "the flags")?,
                        )
                    }
                    _ => return Err(cx.err("hasflag takes [variables] flags")),
                };
                return Ok(Test::HasFlag { m, vars, keys });
            }
            if name == "body" {
                positional(cx, &a, 1, name)?;
                let transform = match (a.has("raw"), a.value("content"), a.has("text")) {
                    (true, None, false) => BodyTransform::Raw,
                    (false, Some(v), false) => {
                        BodyTransform::Content(strings(cx, Some(v), ":content")?)
                    }
                    (false, None, _) => BodyTransform::Text,
                    _ => return Err(cx.err("only one body transform")),
                };
                return Ok(Test::Body {
                    m,
                    transform,
                    keys: strings(cx, a.pos.first(), "the keys")?,
                });
            }
            positional(cx, &a, 2, name)?;
            let first = strings(cx, a.pos.first(), "the header names")?;
            let keys = strings(cx, a.pos.get(1), "the keys")?;
            match name {
                "header" => Test::Header {
                    m,
                    headers: first,
                    keys,
                    index: index_of(cx, &a)?,
                },
                "address" => Test::Address {
                    m,
                    part: addr_part(cx, &a)?,
                    headers: first,
                    keys,
                    index: index_of(cx, &a)?,
                },
                "envelope" => Test::Envelope {
                    m,
                    part: addr_part(cx, &a)?,
                    fields: first,
                    keys,
                },
                _ => Test::String {
                    m,
                    sources: first,
                    keys,
                },
            }
        }
        "date" | "currentdate" => {
            cx.need("date", name)?;
            no_tests(cx)?;
            let mut allowed = with(MATCH_TAGS, &["zone", "originalzone"]);
            if name == "date" {
                allowed.extend(["index", "last"]);
            }
            let a = Args::split(cx, &t.args, &allowed, &value_tags)?;
            let m = match_of(cx, &a)?;
            let zone = zone_of(cx, &a)?;
            if name == "date" {
                positional(cx, &a, 3, name)?;
                Test::Date {
                    m,
                    zone,
                    header: string(cx, a.pos.first(), "the header name")?,
                    part: string(cx, a.pos.get(1), "the date part")?.to_ascii_lowercase(),
                    keys: strings(cx, a.pos.get(2), "the keys")?,
                    index: index_of(cx, &a)?,
                }
            } else {
                if zone == Zone::Original {
                    return Err(cx.err("currentdate has no :originalzone"));
                }
                positional(cx, &a, 2, name)?;
                Test::CurrentDate {
                    m,
                    zone,
                    part: string(cx, a.pos.first(), "the date part")?.to_ascii_lowercase(),
                    keys: strings(cx, a.pos.get(1), "the keys")?,
                }
            }
        }
        "mailboxexists" => {
            cx.need("mailbox", name)?;
            no_tests(cx)?;
            let a = Args::split(cx, &t.args, &[], &[])?;
            positional(cx, &a, 1, name)?;
            Test::MailboxExists(strings(cx, a.pos.first(), "the mailbox names")?)
        }
        "spamtest" => {
            no_tests(cx)?;
            let a = Args::split(cx, &t.args, &with(MATCH_TAGS, &["percent"]), &value_tags)?;
            if a.has("percent") {
                cx.need("spamtestplus", ":percent")?;
            } else if !cx.requires.iter().any(|r| r == "spamtestplus") {
                cx.need("spamtest", name)?;
            }
            positional(cx, &a, 1, name)?;
            let mut m = match_of(cx, &a)?;
            // RFC 5235 §3.2: the comparator defaults to i;ascii-numeric for spamtest.
            if a.value("comparator").is_none() {
                m.cmp = Comparator::AsciiNumeric;
            }
            Test::SpamTest {
                m,
                percent: a.has("percent"),
                key: string(cx, a.pos.first(), "the value")?,
            }
        }
        _ => return Err(cx.err(format!("unknown test \"{name}\""))),
    })
}
