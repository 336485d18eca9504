//! The compiled form of a Sieve script: every command and test checked against its
//! extension's grammar, tagged arguments resolved into fields. It is what the store keeps
//! (serialised as JSON next to the script text, see `store/redb/sieve.rs`), so a delivery
//! only deserialises and runs it; it never reparses the text. `VERSION` changes whenever this
//! shape changes; a stored program of another version is recompiled from its text.

use serde::{Deserialize, Serialize};

pub const VERSION: u32 = 1;

/// A string as written in the script. When the `variables` extension is required, `${...}`
/// inside is expanded at run time (RFC 5229 §3); otherwise it is taken literally.
pub type Str = String;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Program {
    pub version: u32,
    /// Extensions named by `require`.
    pub requires: Vec<String>,
    pub body: Vec<Cmd>,
}

impl Program {
    pub fn has(&self, ext: &str) -> bool {
        self.requires.iter().any(|r| r == ext)
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub enum FlagOp {
    Set,
    Add,
    Remove,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Vacation {
    pub reason: Str,
    /// The period in seconds (`:days` * 86400 or `:seconds`, RFC 5230 §4.1, RFC 6131).
    pub period: Option<u64>,
    pub subject: Option<Str>,
    pub from: Option<Str>,
    pub addresses: Vec<Str>,
    pub mime: bool,
    pub handle: Option<Str>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum Cmd {
    /// if / elsif* / else: the first branch whose test holds runs.
    If {
        branches: Vec<(Test, Vec<Cmd>)>,
        otherwise: Option<Vec<Cmd>>,
    },
    Stop,
    Keep {
        flags: Option<Vec<Str>>,
    },
    Discard,
    FileInto {
        mailbox: Str,
        copy: bool,
        create: bool,
        flags: Option<Vec<Str>>,
    },
    Redirect {
        address: Str,
        copy: bool,
    },
    Reject {
        reason: Str,
        ereject: bool,
    },
    Vacation(Box<Vacation>),
    Flags {
        op: FlagOp,
        var: Option<Str>,
        flags: Vec<Str>,
    },
    Set {
        name: String,
        value: Str,
        mods: Vec<Modifier>,
    },
    Include {
        name: Str,
        global: bool,
        once: bool,
        optional: bool,
    },
    Return,
    Global(Vec<Str>),
}

/// `set` modifiers (RFC 5229 §4.1), kept in the order they are applied (precedence).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum Modifier {
    Lower,
    Upper,
    LowerFirst,
    UpperFirst,
    QuoteWildcard,
    Length,
}

impl Modifier {
    /// Precedence (RFC 5229 §4.1: 40 lower/upper, 30 lowerfirst/upperfirst, 20 quotewildcard,
    /// 10 length); higher applies first.
    pub fn precedence(self) -> u8 {
        match self {
            Modifier::Lower | Modifier::Upper => 40,
            Modifier::LowerFirst | Modifier::UpperFirst => 30,
            Modifier::QuoteWildcard => 20,
            Modifier::Length => 10,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub enum Comparator {
    Octet,
    AsciiCasemap,
    AsciiNumeric,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub enum Rel {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub enum MatchKind {
    Is,
    Contains,
    Matches,
    Value(Rel),
    Count(Rel),
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Match {
    pub cmp: Comparator,
    pub kind: MatchKind,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub enum AddrPart {
    All,
    Local,
    Domain,
    User,
    Detail,
}

/// `:index n [:last]` (RFC 5260 §6): the n-th occurrence of a field, 1-based.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Index {
    pub n: u32,
    pub last: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum Zone {
    /// The server's zone (UTC here: the server has no per-user zone).
    Local,
    Original,
    /// `:zone "+hhmm"`, in minutes east of UTC.
    Offset(i32),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum BodyTransform {
    Raw,
    Text,
    Content(Vec<Str>),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum Test {
    True,
    False,
    Not(Box<Test>),
    AllOf(Vec<Test>),
    AnyOf(Vec<Test>),
    Exists(Vec<Str>),
    Size {
        over: bool,
        limit: u64,
    },
    Header {
        m: Match,
        headers: Vec<Str>,
        keys: Vec<Str>,
        index: Option<Index>,
    },
    Address {
        m: Match,
        part: AddrPart,
        headers: Vec<Str>,
        keys: Vec<Str>,
        index: Option<Index>,
    },
    Envelope {
        m: Match,
        part: AddrPart,
        fields: Vec<Str>,
        keys: Vec<Str>,
    },
    Body {
        m: Match,
        transform: BodyTransform,
        keys: Vec<Str>,
    },
    String {
        m: Match,
        sources: Vec<Str>,
        keys: Vec<Str>,
    },
    HasFlag {
        m: Match,
        vars: Vec<Str>,
        keys: Vec<Str>,
    },
    Date {
        m: Match,
        zone: Zone,
        header: Str,
        part: Str,
        keys: Vec<Str>,
        index: Option<Index>,
    },
    CurrentDate {
        m: Match,
        zone: Zone,
        part: Str,
        keys: Vec<Str>,
    },
    MailboxExists(Vec<Str>),
    SpamTest {
        m: Match,
        percent: bool,
        key: Str,
    },
}
