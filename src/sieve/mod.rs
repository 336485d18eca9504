//! Sieve mail filtering (RFC 5228) with the extensions filter editors generate: fileinto,
//! envelope, imap4flags (RFC 5232), copy (RFC 3894), body (RFC 5173), variables (RFC 5229),
//! vacation (RFC 5230, + vacation-seconds RFC 6131), relational (RFC 5231), subaddress
//! (RFC 5233), reject/ereject (RFC 5429), mailbox (RFC 5490), date/index (RFC 5260), spamtest
//! and spamtestplus (RFC 5235) and include (RFC 6609).
//!
//! Written for this project (the well-known Rust Sieve crate is AGPL). The pipeline:
//! `lexer.rs` (tokens with line/column) -> `parser.rs` (RFC 5228 §8.2 grammar, a generic
//! tree) -> `compile.rs` (each command/test checked against its grammar, giving the
//! serialisable [`Program`]) -> `interp.rs` (runs a Program on a [`Message`] and returns the
//! actions; it does no I/O: delivery, `ingest/sieve.rs`, carries them out).
//!
//! Everything a script or a message can grow is bounded by [`Limits`]: script size, nesting,
//! actions and redirects per message, string and variable sizes, includes, and a CPU budget
//! charged per command and per byte compared. A script that hits a limit fails with a
//! [`RunError`], and delivery then keeps the message in the Inbox.

pub mod compare;
pub mod compile;
pub mod date;
pub mod interp;
pub mod lexer;
pub mod parser;
pub mod program;

#[cfg(test)]
mod tests_rfc;

pub use interp::{Action, Outcome, run};
pub use program::Program;

/// A compile error, with the line and column (1-based) where it was found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}, column {col}: {message}")]
pub struct SieveError {
    pub line: u32,
    pub col: u32,
    pub message: String,
}

impl SieveError {
    pub fn at(line: u32, col: u32, message: impl Into<String>) -> SieveError {
        SieveError {
            line,
            col,
            message: message.into(),
        }
    }
}

/// A failure while running a compiled script (a limit hit, a run-time-only error such as an
/// invalid redirect address after variable expansion, or conflicting actions).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct RunError(pub String);

/// Bounds on scripts and runs. The defaults are what the server uses.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Bytes of script text.
    pub max_script_bytes: usize,
    /// Scripts one account may store.
    pub max_scripts: usize,
    /// Block and test nesting.
    pub max_depth: usize,
    /// Actions (keep, fileinto, redirect, vacation, reject, discard) one run may take.
    pub max_actions: usize,
    /// Redirects one run may take (each is a message through the outbound queue).
    pub max_redirects: usize,
    /// Work units one run may spend: one per command and test, plus bytes compared.
    pub max_cost: u64,
    /// Bytes of one expanded string or variable value (RFC 5229 §6 allows truncation; a
    /// longer value is cut at a character boundary).
    pub max_string: usize,
    /// Variables one run may create.
    pub max_variables: usize,
    /// Include nesting (RFC 6609 §3.2 asks for a limit).
    pub max_include_depth: usize,
    /// Includes carried out in one run, counting repeats: nesting alone still lets three
    /// scripts of thousands of includes each multiply into millions.
    pub max_includes: usize,
    /// Bytes of body text the `body` test looks at.
    pub max_body_bytes: usize,
    /// Bytes of a script name (RFC 5804 §1.6 and RFC 9661 both leave this to the server).
    pub max_name_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_script_bytes: 64 * 1024,
            max_scripts: 16,
            max_depth: 24,
            max_actions: 32,
            max_redirects: 4,
            max_cost: 2_000_000,
            max_string: 16 * 1024,
            max_variables: 256,
            max_include_depth: 3,
            max_includes: 256,
            max_body_bytes: 512 * 1024,
            max_name_bytes: 128,
        }
    }
}

/// The message a script runs on: the envelope, the raw message (headers and body are read
/// from it, once, on first use) and the junk filter's verdict as an RFC 5235 spamtest value
/// (0 = not tested, 1 = surely not spam .. 10 = surely spam), None when no filter ran.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// MAIL FROM (empty for the null sender).
    pub envelope_from: &'a str,
    /// The RCPT TO this copy is for.
    pub envelope_to: &'a str,
    pub raw: &'a [u8],
    pub spamtest: Option<u8>,
}

/// What a run may ask of the account: which mailboxes exist (`mailboxexists`, fileinto
/// fallback is the caller's) and the scripts `include` names. Kept a trait so the interpreter
/// stays free of the store.
pub trait Env {
    fn mailbox_exists(&self, name: &str) -> bool;
    /// A compiled script of this account by name (`global` asks for a server-wide one).
    /// Shared, not copied: a script may include the same script thousands of times, and each
    /// include must cost the budget's few units, not a copy of the script.
    fn script(&self, name: &str, global: bool) -> Option<std::sync::Arc<Program>>;
    /// Now, Unix seconds (for `currentdate`).
    fn now(&self) -> i64;
}

/// Parses and compiles a script text, checking its size first.
pub fn compile(text: &str, limits: &Limits) -> Result<Program, SieveError> {
    if text.len() > limits.max_script_bytes {
        return Err(SieveError::at(
            1,
            1,
            format!("script is larger than {} bytes", limits.max_script_bytes),
        ));
    }
    let tokens = lexer::tokenize(text)?;
    let tree = parser::parse(&tokens, limits.max_depth)?;
    compile::compile(&tree)
}

/// The SIEVE capability list (RFC 5804 §1.7), space-separated.
pub fn capability_string() -> String {
    compile::EXTENSIONS.join(" ")
}
