//! A protocol-neutral text search and its translation to a tantivy query.
//!
//! `jmap/` builds a [`TextSearch`] for each text condition of a filter; the index answers it with
//! the set of matching email ids of one account. Query text follows RFC 8621 §4.4.1: words
//! separated by white space must all be present; text in single or double quotes is a phrase
//! (`\` escapes a quote or backslash inside it).

use super::schema::{Fields, TextField};
use super::tokenizer::{self, Mode};
use crate::store::model::AccountId;
use tantivy::Term;
use tantivy::query::{AllQuery, BooleanQuery, EmptyQuery, Occur, PhraseQuery, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};

/// Where a text condition looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// JMAP `text`: From, To, Cc, Bcc, Subject, the body and attachment names.
    Anywhere,
    Field(TextField),
    /// A header field by name (case-insensitive); with `None` text, its presence alone.
    Header(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextSearch {
    pub target: Target,
    /// The text as the client wrote it; `None` only for a header-presence test.
    pub text: Option<String>,
}

/// One part of a query text: a word or a quoted phrase, as the client wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Words(String),
    Phrase(String),
}

/// Splits query text into words and quoted phrases (RFC 8621 §4.4.1).
pub fn parts(text: &str) -> Vec<Part> {
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '"' || c == '\'' {
            // A quote opens a phrase only if it is closed later; otherwise it is plain text.
            let rest: String = chars.clone().collect();
            if let Some(phrase) = closed_phrase(&rest, c) {
                if !plain.trim().is_empty() {
                    out.push(Part::Words(std::mem::take(&mut plain)));
                }
                plain.clear();
                // Skip the phrase and its closing quote in the input.
                let mut escaped = false;
                for d in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if d == '\\' {
                        escaped = true;
                    } else if d == c {
                        break;
                    }
                }
                out.push(Part::Phrase(phrase));
                continue;
            }
        }
        plain.push(c);
    }
    if !plain.trim().is_empty() {
        out.push(Part::Words(plain));
    }
    out
}

fn closed_phrase(rest: &str, quote: char) -> Option<String> {
    let mut out = String::new();
    let mut escaped = false;
    for d in rest.chars() {
        if escaped {
            out.push(d);
            escaped = false;
        } else if d == '\\' {
            escaped = true;
        } else if d == quote {
            return Some(out);
        } else {
            out.push(d);
        }
    }
    None
}

/// The folded terms of a query text, for highlighting.
pub fn highlight_terms(text: &str) -> Vec<String> {
    parts(text)
        .into_iter()
        .flat_map(|p| match p {
            Part::Words(w) | Part::Phrase(w) => tokenizer::terms(&w, Mode::Query),
        })
        .collect()
}

/// Builds the tantivy query for one text condition in one account.
pub fn build(f: &Fields, account: AccountId, search: &TextSearch) -> Box<dyn Query> {
    let scope: Box<dyn Query> = Box::new(TermQuery::new(
        Term::from_field_u64(f.account, u64::from(account)),
        IndexRecordOption::Basic,
    ));
    let inner: Box<dyn Query> = match (&search.target, &search.text) {
        (Target::Header(name), None) => Box::new(TermQuery::new(
            Term::from_field_text(f.header_names, &name.to_ascii_lowercase()),
            IndexRecordOption::Basic,
        )),
        (Target::Header(name), Some(text)) => {
            let name = name.to_ascii_lowercase();
            let prefix = |t: &str| format!("{name}:{t}");
            let must_have_name: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_text(f.header_names, &name),
                IndexRecordOption::Basic,
            ));
            let value = text_query(&[f.headers], text, &prefix);
            Box::new(BooleanQuery::new(vec![
                (Occur::Must, must_have_name),
                (Occur::Must, value),
            ]))
        }
        (target, Some(text)) => {
            let fields: Vec<Field> = match target {
                Target::Anywhere => {
                    vec![f.subject, f.from, f.to, f.cc, f.bcc, f.body, f.attachments]
                }
                Target::Field(t) => vec![f.text(*t)],
                Target::Header(_) => Vec::new(),
            };
            text_query(&fields, text, &|t: &str| t.to_string())
        }
        (_, None) => Box::new(AllQuery),
    };
    Box::new(BooleanQuery::new(vec![
        (Occur::Must, scope),
        (Occur::Must, inner),
    ]))
}

/// Every word and every phrase must be found, each in any one of `fields`. A text with no
/// searchable words at all (only punctuation) matches every email: it names nothing to look for.
fn text_query(fields: &[Field], text: &str, term: &dyn Fn(&str) -> String) -> Box<dyn Query> {
    let mut musts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    for part in parts(text) {
        match part {
            Part::Words(w) => {
                for t in tokenizer::tokens(&w, Mode::Query) {
                    let shoulds = fields
                        .iter()
                        .map(|f| {
                            let q: Box<dyn Query> = Box::new(TermQuery::new(
                                Term::from_field_text(*f, &term(&t.text)),
                                IndexRecordOption::Basic,
                            ));
                            (Occur::Should, q)
                        })
                        .collect();
                    musts.push((Occur::Must, Box::new(BooleanQuery::new(shoulds))));
                }
            }
            Part::Phrase(p) => {
                let toks = tokenizer::tokens(&p, Mode::Query);
                if toks.is_empty() {
                    continue;
                }
                let shoulds = fields
                    .iter()
                    .map(|f| {
                        let q: Box<dyn Query> = if toks.len() == 1 {
                            Box::new(TermQuery::new(
                                Term::from_field_text(*f, &term(&toks[0].text)),
                                IndexRecordOption::Basic,
                            ))
                        } else {
                            let first = toks[0].position;
                            let terms = toks
                                .iter()
                                .map(|t| {
                                    (
                                        t.position - first,
                                        Term::from_field_text(*f, &term(&t.text)),
                                    )
                                })
                                .collect();
                            Box::new(PhraseQuery::new_with_offset(terms))
                        };
                        (Occur::Should, q)
                    })
                    .collect();
                musts.push((Occur::Must, Box::new(BooleanQuery::new(shoulds))));
            }
        }
    }
    if fields.is_empty() {
        return Box::new(EmptyQuery);
    }
    if musts.is_empty() {
        return Box::new(AllQuery);
    }
    Box::new(BooleanQuery::new(musts))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_make_phrases() {
        assert_eq!(
            parts(r#"alpha "beta gamma" delta 'it\'s' x"#),
            vec![
                Part::Words("alpha ".into()),
                Part::Phrase("beta gamma".into()),
                Part::Words(" delta ".into()),
                Part::Phrase("it's".into()),
                Part::Words(" x".into()),
            ]
        );
        // An unclosed quote is plain text.
        assert_eq!(parts(r#"don"t"#), vec![Part::Words(r#"don"t"#.into())]);
    }
}
