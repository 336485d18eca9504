//! Highlighting for search snippets (RFC 8621 §5): the text HTML-escaped, with the words that
//! match the search wrapped in `<mark></mark>`. Matching uses the index tokenizer, so whatever a
//! search finds (any case, accents folded, CJK bigrams) is what gets marked.

use super::tokenizer::{self, Mode};
use std::collections::HashSet;

/// Words of context kept before the first match in an excerpt, counted in characters.
const CONTEXT_CHARS: usize = 40;

/// The byte ranges of `text` that match one of `terms`, sorted and merged.
fn ranges(text: &str, terms: &HashSet<String>) -> Vec<(usize, usize)> {
    let mut r: Vec<(usize, usize)> = tokenizer::tokens(text, Mode::Index)
        .into_iter()
        .filter(|t| terms.contains(&t.text))
        .map(|t| (t.offset_from, t.offset_to))
        .collect();
    r.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(r.len());
    for (a, b) in r {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// All of `text`, escaped and marked; `None` if nothing in it matches.
pub fn highlight(text: &str, terms: &HashSet<String>) -> Option<String> {
    let r = ranges(text, terms);
    if r.is_empty() {
        return None;
    }
    Some(render(text, 0, &r, usize::MAX))
}

/// A section of `text` around its first match, escaped and marked, white space collapsed, at
/// most `max_bytes` long including the markup; `None` if nothing matches.
pub fn excerpt(text: &str, terms: &HashSet<String>, max_bytes: usize) -> Option<String> {
    let r = ranges(text, terms);
    let first = r.first()?.0;
    // Step back a little for context, then forward to the start of a word.
    let before: Vec<(usize, char)> = text[..first].char_indices().collect();
    let mut start = first;
    if before.len() > CONTEXT_CHARS {
        let from = before.len() - CONTEXT_CHARS;
        start = before[from..]
            .iter()
            .find(|(_, c)| c.is_whitespace())
            .map(|(i, _)| *i)
            .unwrap_or(before[from].0);
    } else {
        start = before.first().map(|(i, _)| *i).unwrap_or(start);
    }
    Some(render(text, start, &r, max_bytes))
}

fn escape(c: char, out: &mut String) {
    match c {
        '&' => out.push_str("&amp;"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '"' => out.push_str("&quot;"),
        c => out.push(c),
    }
}

const OPEN: &str = "<mark>";
const CLOSE: &str = "</mark>";

fn render(text: &str, start: usize, ranges: &[(usize, usize)], max: usize) -> String {
    let mut out = String::new();
    let mut ri = ranges
        .iter()
        .position(|r| r.1 > start)
        .unwrap_or(ranges.len());
    let mut in_mark = false;
    let mut last_space = true;
    let mut piece = String::new();
    for (off, c) in text[start..].char_indices() {
        let i = start + off;
        if in_mark && i >= ranges[ri].1 {
            out.push_str(CLOSE);
            in_mark = false;
            ri += 1;
        }
        piece.clear();
        if c.is_whitespace() {
            if last_space {
                continue;
            }
            piece.push(' ');
            last_space = true;
        } else {
            escape(c, &mut piece);
            last_space = false;
        }
        let opens = !in_mark && ri < ranges.len() && i >= ranges[ri].0 && !c.is_whitespace();
        let extra = if opens { OPEN.len() } else { 0 };
        let reserve = if in_mark || opens { CLOSE.len() } else { 0 };
        if out.len() + extra + piece.len() + reserve > max {
            break;
        }
        if opens {
            out.push_str(OPEN);
            in_mark = true;
        }
        out.push_str(&piece);
    }
    if in_mark {
        out.push_str(CLOSE);
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(q: &str) -> HashSet<String> {
        super::super::query::highlight_terms(q)
            .into_iter()
            .collect()
    }

    #[test]
    fn marks_and_escapes() {
        assert_eq!(
            highlight("Fish & <Chips> for CAFÉ", &terms("cafe chips")).as_deref(),
            Some("Fish &amp; &lt;<mark>Chips</mark>&gt; for <mark>CAFÉ</mark>")
        );
        assert_eq!(highlight("nothing here", &terms("cafe")), None);
    }

    #[test]
    fn cjk_matches_are_marked() {
        assert_eq!(
            highlight("我住在東京都。", &terms("東京")).as_deref(),
            Some("我住在<mark>東京</mark>都。")
        );
    }

    #[test]
    fn excerpt_is_bounded_and_starts_near_the_match() {
        let text = format!("{} needle {}", "word ".repeat(200), "tail ".repeat(200));
        let e = excerpt(&text, &terms("needle"), 255).unwrap_or_default();
        assert!(e.len() <= 255, "{}", e.len());
        assert!(e.contains("<mark>needle</mark>"), "{e}");
        assert!(e.starts_with("word"), "{e}");
        // Markup never gets cut in half.
        let tight = excerpt(&text, &terms("needle word tail"), 40).unwrap_or_default();
        assert!(tight.len() <= 40, "{tight}");
        assert_eq!(
            tight.matches(OPEN).count(),
            tight.matches(CLOSE).count(),
            "{tight}"
        );
    }
}
