//! The generic Sieve grammar (RFC 5228 §8.2) into a syntax tree: commands with arguments,
//! tests and blocks. Which command takes which arguments is checked afterwards, in
//! `compile.rs`, so this file knows nothing of any extension.

use super::SieveError;
use super::lexer::{Tok, Token};

#[derive(Debug, Clone)]
pub enum Arg {
    Tag(String),
    Number(u64),
    /// A single string (`Str`) or a string list; `list` says which was written.
    Strings {
        list: bool,
        items: Vec<String>,
    },
}

#[derive(Debug, Clone)]
pub struct Test {
    pub name: String,
    pub args: Vec<Arg>,
    pub tests: Vec<Test>,
    pub line: u32,
    pub col: u32,
}

#[derive(Debug, Clone)]
pub struct Command {
    pub name: String,
    pub args: Vec<Arg>,
    pub tests: Vec<Test>,
    pub block: Option<Vec<Command>>,
    pub line: u32,
    pub col: u32,
}

struct P<'a> {
    t: &'a [Token],
    i: usize,
    max_depth: usize,
}

/// Parses tokens into commands. `max_depth` bounds block and test nesting together, so a
/// script of a million `(` cannot exhaust the stack.
pub fn parse(tokens: &[Token], max_depth: usize) -> Result<Vec<Command>, SieveError> {
    let mut p = P {
        t: tokens,
        i: 0,
        max_depth,
    };
    let cmds = p.commands(0)?;
    if let Some(t) = p.t.get(p.i) {
        let what = match t.tok {
            Tok::RBrace => "unexpected '}'",
            _ => "expected a command",
        };
        return Err(SieveError::at(t.line, t.col, what));
    }
    Ok(cmds)
}

impl P<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i).map(|t| &t.tok)
    }
    fn pos(&self) -> (u32, u32) {
        match self.t.get(self.i).or(self.t.last()) {
            Some(t) => (t.line, t.col),
            None => (1, 1),
        }
    }
    fn err(&self, msg: impl Into<String>) -> SieveError {
        let (l, c) = self.pos();
        if self.i >= self.t.len() {
            return SieveError::at(l, c, format!("{} (at end of script)", msg.into()));
        }
        SieveError::at(l, c, msg)
    }

    /// Blocks and tests share one nesting limit.
    fn too_deep(&self) -> SieveError {
        self.err(format!(
            "blocks and tests nested more than {} deep",
            self.max_depth
        ))
    }

    fn commands(&mut self, depth: usize) -> Result<Vec<Command>, SieveError> {
        let mut out = Vec::new();
        while let Some(Tok::Ident(_)) = self.peek() {
            out.push(self.command(depth)?);
        }
        Ok(out)
    }

    fn command(&mut self, depth: usize) -> Result<Command, SieveError> {
        let (line, col) = self.pos();
        let Some(Tok::Ident(name)) = self.peek().cloned() else {
            return Err(self.err("expected a command"));
        };
        self.i += 1;
        let (args, tests) = self.arguments(depth)?;
        let block = match self.peek() {
            Some(Tok::Semi) => {
                self.i += 1;
                None
            }
            Some(Tok::LBrace) => {
                if depth + 1 > self.max_depth {
                    return Err(self.too_deep());
                }
                self.i += 1;
                let inner = self.commands(depth + 1)?;
                match self.peek() {
                    Some(Tok::RBrace) => self.i += 1,
                    _ => return Err(self.err("expected '}' or a command")),
                }
                Some(inner)
            }
            _ => return Err(self.err(format!("expected ';' or '{{' after {name}"))),
        };
        Ok(Command {
            name,
            args,
            tests,
            block,
            line,
            col,
        })
    }

    fn arguments(&mut self, depth: usize) -> Result<(Vec<Arg>, Vec<Test>), SieveError> {
        let mut args = Vec::new();
        loop {
            match self.peek().cloned() {
                Some(Tok::Tag(t)) => {
                    self.i += 1;
                    args.push(Arg::Tag(t));
                }
                Some(Tok::Number(n)) => {
                    self.i += 1;
                    args.push(Arg::Number(n));
                }
                Some(Tok::Str(s)) => {
                    self.i += 1;
                    args.push(Arg::Strings {
                        list: false,
                        items: vec![s],
                    });
                }
                Some(Tok::LBracket) => {
                    self.i += 1;
                    let mut items = Vec::new();
                    loop {
                        match self.peek().cloned() {
                            Some(Tok::Str(s)) => {
                                self.i += 1;
                                items.push(s);
                            }
                            _ => return Err(self.err("expected a string in the list")),
                        }
                        match self.peek() {
                            Some(Tok::Comma) => self.i += 1,
                            Some(Tok::RBracket) => {
                                self.i += 1;
                                break;
                            }
                            _ => return Err(self.err("expected ',' or ']'")),
                        }
                    }
                    args.push(Arg::Strings { list: true, items });
                }
                _ => break,
            }
        }
        let tests = match self.peek() {
            Some(Tok::Ident(_)) => vec![self.test(depth + 1)?],
            Some(Tok::LParen) => self.test_list(depth + 1)?,
            _ => Vec::new(),
        };
        Ok((args, tests))
    }

    fn test_list(&mut self, depth: usize) -> Result<Vec<Test>, SieveError> {
        if depth > self.max_depth {
            return Err(self.too_deep());
        }
        self.i += 1; // (
        let mut out = Vec::new();
        loop {
            out.push(self.test(depth)?);
            match self.peek() {
                Some(Tok::Comma) => self.i += 1,
                Some(Tok::RParen) => {
                    self.i += 1;
                    return Ok(out);
                }
                _ => return Err(self.err("expected ',' or ')'")),
            }
        }
    }

    fn test(&mut self, depth: usize) -> Result<Test, SieveError> {
        if depth > self.max_depth {
            return Err(self.too_deep());
        }
        let (line, col) = self.pos();
        let Some(Tok::Ident(name)) = self.peek().cloned() else {
            return Err(self.err("expected a test"));
        };
        self.i += 1;
        let (args, tests) = self.arguments(depth)?;
        Ok(Test {
            name,
            args,
            tests,
            line,
            col,
        })
    }
}
