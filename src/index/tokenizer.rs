//! The one tokenizer of the search index, used for indexing, for queries and for snippet
//! highlighting, so that the three always agree.
//!
//! - Words are runs of Unicode letters and digits; everything else separates them. Combining
//!   accents (U+0300..U+036F) inside a word are dropped, so a decomposed "é" matches "e".
//! - Tokens are lower-cased and accents are folded (tantivy's `LowerCaser` and
//!   `AsciiFoldingFilter`): "Crème" and "CREME" both become "creme".
//! - Scripts written without spaces (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar) have no
//!   word boundaries we could find without a dictionary, so a run of such characters is indexed
//!   as character bigrams plus single characters. A query for a run of two or more characters
//!   looks for its bigrams (each must be present, or in a phrase, in order); a query for a single
//!   character looks for the unigram. "東京都" is found by "東京", "京都" and "東京都".
//! - Tokens longer than [`MAX_TOKEN_BYTES`] are dropped (base64 junk, long URLs).

use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, TextAnalyzer, Token, TokenStream, Tokenizer,
};

/// The name the index's analyzer is registered under.
pub const NAME: &str = "mailnook";

pub const MAX_TOKEN_BYTES: usize = 64;

/// Indexing emits unigrams and bigrams for spaceless scripts; a query needs only the bigrams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Index,
    Query,
}

/// The analyzer: split, drop long tokens, lower-case, fold accents.
pub fn analyzer(mode: Mode) -> TextAnalyzer {
    TextAnalyzer::builder(Splitter { mode })
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// All tokens of `text` (with byte offsets into `text`).
pub fn tokens(text: &str, mode: Mode) -> Vec<Token> {
    let mut a = analyzer(mode);
    let mut stream = a.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().clone());
    }
    out
}

/// Just the token texts, in order.
pub fn terms(text: &str, mode: Mode) -> Vec<String> {
    tokens(text, mode).into_iter().map(|t| t.text).collect()
}

/// True for characters of scripts that do not separate words with spaces.
pub fn is_spaceless(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF      // Thai, Lao
        | 0x1000..=0x109F    // Myanmar
        | 0x1780..=0x17FF    // Khmer
        | 0x3040..=0x30FF    // Hiragana, Katakana
        | 0x31F0..=0x31FF    // Katakana phonetic extensions
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0xFF66..=0xFF9F    // half-width Katakana
        | 0x20000..=0x3FFFF  // CJK extensions B..
    )
}

fn is_combining(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F)
}

#[derive(Clone)]
pub struct Splitter {
    mode: Mode,
}

/// The split as a stream: a word is written into the one reused [`Token`] (the indexer splits
/// every byte of text of every delivered message, and a `String` per word was a fifth of the
/// indexing thread's time in malloc and free, issue #20). Only a spaceless run, which yields
/// several tokens per character, is queued in `pending`.
pub struct Tokens<'a> {
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
    mode: Mode,
    token: Token,
    position: usize,
    pending: std::collections::VecDeque<Token>,
    run: Vec<(usize, char)>,
}

impl TokenStream for Tokens<'_> {
    fn advance(&mut self) -> bool {
        if let Some(t) = self.pending.pop_front() {
            self.token = t;
            return true;
        }
        while let Some((start, c)) = self.chars.next() {
            if is_spaceless(c) {
                self.run.clear();
                self.run.push((start, c));
                while let Some(&(i, d)) = self.chars.peek() {
                    if !is_spaceless(d) {
                        break;
                    }
                    self.run.push((i, d));
                    self.chars.next();
                }
                emit_run(&self.run, self.mode, &mut self.position, &mut self.pending);
                if let Some(t) = self.pending.pop_front() {
                    self.token = t;
                    return true;
                }
            } else if c.is_alphanumeric() {
                let word = &mut self.token.text;
                word.clear();
                word.push(c);
                let mut end = start + c.len_utf8();
                while let Some(&(i, d)) = self.chars.peek() {
                    if is_combining(d) {
                        end = i + d.len_utf8();
                    } else if d.is_alphanumeric() && !is_spaceless(d) {
                        word.push(d);
                        end = i + d.len_utf8();
                    } else {
                        break;
                    }
                    self.chars.next();
                }
                self.token.offset_from = start;
                self.token.offset_to = end;
                self.token.position = self.position;
                self.token.position_length = 1;
                self.position += 1;
                return true;
            }
        }
        false
    }
    fn token(&self) -> &Token {
        &self.token
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

impl Tokenizer for Splitter {
    type TokenStream<'a> = Tokens<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Tokens<'a> {
        Tokens {
            chars: text.char_indices().peekable(),
            mode: self.mode,
            token: Token::default(),
            position: 0,
            pending: std::collections::VecDeque::new(),
            run: Vec::new(),
        }
    }
}

/// Bigrams (and, when indexing, unigrams at the same position) of a spaceless run.
fn emit_run(
    run: &[(usize, char)],
    mode: Mode,
    position: &mut usize,
    out: &mut std::collections::VecDeque<Token>,
) {
    let end_of = |k: usize| run[k].0 + run[k].1.len_utf8();
    if run.len() == 1 {
        out.push_back(Token {
            offset_from: run[0].0,
            offset_to: end_of(0),
            position: *position,
            text: run[0].1.to_string(),
            position_length: 1,
        });
        *position += 1;
        return;
    }
    for k in 0..run.len() {
        if mode == Mode::Index {
            out.push_back(Token {
                offset_from: run[k].0,
                offset_to: end_of(k),
                position: *position,
                text: run[k].1.to_string(),
                position_length: 1,
            });
        }
        if k + 1 < run.len() {
            let mut s = String::with_capacity(8);
            s.push(run[k].1);
            s.push(run[k + 1].1);
            out.push_back(Token {
                offset_from: run[k].0,
                offset_to: end_of(k + 1),
                position: *position,
                text: s,
                position_length: 1,
            });
        }
        // One position per character in both modes, so that a phrase mixing a run and a word
        // lines up with the index.
        *position += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lowercased_and_folded() {
        assert_eq!(
            terms("Crème BRÛLÉE, naïve—Straße 42x", Mode::Index),
            ["creme", "brulee", "naive", "strasse", "42x"]
        );
        // A decomposed accent (e + U+0301) folds the same way.
        assert_eq!(
            terms("Cafe\u{301} au lait", Mode::Query),
            ["cafe", "au", "lait"]
        );
    }

    #[test]
    fn cjk_is_split_into_bigrams() {
        assert_eq!(
            terms("東京都", Mode::Index),
            ["東", "東京", "京", "京都", "都"]
        );
        assert_eq!(terms("東京都", Mode::Query), ["東京", "京都"]);
        assert_eq!(terms("東", Mode::Query), ["東"]);
        assert_eq!(terms("hello世界abc", Mode::Query), ["hello", "世界", "abc"]);
    }

    #[test]
    fn offsets_point_into_the_text() {
        let text = "Hi Zoë, 東京!";
        for t in tokens(text, Mode::Index) {
            assert!(text.get(t.offset_from..t.offset_to).is_some(), "{t:?}");
        }
    }

    #[test]
    fn long_tokens_are_dropped() {
        let long = "a".repeat(100);
        assert_eq!(terms(&format!("x {long} y"), Mode::Index), ["x", "y"]);
    }

    #[test]
    fn query_positions_of_bigrams_follow_on() {
        let t = tokens("東京都 tower", Mode::Query);
        let pos: Vec<usize> = t.iter().map(|t| t.position).collect();
        assert_eq!(pos, [0, 1, 3]);
        let i = tokens("東京都 tower", Mode::Index);
        assert_eq!(i.last().map(|t| t.position), Some(3));
    }
}
