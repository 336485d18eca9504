//! Comparators (RFC 5228 §2.7.3, RFC 4790) and match types: `:is`, `:contains`, `:matches`
//! (with match variables, RFC 5229 §3.2) and the relational `:value`/`:count` (RFC 5231).
//! Every comparison is charged to the run's budget in proportion to the bytes it looks at, so
//! a script cannot spend unbounded CPU on one message (`:matches "*a*a*a*b"` over a long header
//! costs its length times its pattern, and is stopped when the budget runs out).

use super::RunError;
use super::interp::Budget;
use super::program::{Comparator, Rel};

fn fold(cmp: Comparator, c: char) -> char {
    match cmp {
        Comparator::AsciiCasemap => c.to_ascii_lowercase(),
        _ => c,
    }
}

/// i;ascii-numeric: the leading digits as a number; None (positive infinity) when the string
/// does not start with a digit (RFC 4790 §9.1.1).
fn numeric(s: &str) -> Option<u128> {
    let digits: &str = &s[..s.bytes().take_while(u8::is_ascii_digit).count()];
    if digits.is_empty() {
        return None;
    }
    // Leading zeros do not count; more than 38 significant digits saturate.
    let trimmed = digits.trim_start_matches('0');
    Some(
        trimmed
            .parse::<u128>()
            .unwrap_or(if trimmed.is_empty() { 0 } else { u128::MAX }),
    )
}

fn ordering(cmp: Comparator, a: &str, b: &str) -> std::cmp::Ordering {
    match cmp {
        Comparator::AsciiNumeric => match (numeric(a), numeric(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        },
        Comparator::AsciiCasemap => a
            .chars()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.chars().map(|c| c.to_ascii_lowercase())),
        Comparator::Octet => a.as_bytes().cmp(b.as_bytes()),
    }
}

pub fn relation(
    cmp: Comparator,
    rel: Rel,
    a: &str,
    b: &str,
    budget: &mut Budget,
) -> Result<bool, RunError> {
    budget.charge(a.len() + b.len() + 1)?;
    let o = ordering(cmp, a, b);
    use std::cmp::Ordering::*;
    Ok(match rel {
        Rel::Gt => o == Greater,
        Rel::Ge => o != Less,
        Rel::Lt => o == Less,
        Rel::Le => o != Greater,
        Rel::Eq => o == Equal,
        Rel::Ne => o != Equal,
    })
}

pub fn is(cmp: Comparator, value: &str, key: &str, budget: &mut Budget) -> Result<bool, RunError> {
    relation(cmp, Rel::Eq, value, key, budget)
}

pub fn contains(
    cmp: Comparator,
    value: &str,
    key: &str,
    budget: &mut Budget,
) -> Result<bool, RunError> {
    budget.charge(value.len().saturating_mul(key.len().max(1)) / 8 + 1)?;
    Ok(match cmp {
        Comparator::Octet => value.contains(key),
        _ => value
            .to_ascii_lowercase()
            .contains(&key.to_ascii_lowercase()),
    })
}

enum Pat {
    Star,
    One,
    Lit(char),
}

/// `:matches`: `*` any sequence, `?` one character, `\` escapes the next character. On a
/// match, `caps` holds `${0}` (the whole value) and one entry per wildcard, each `*` as short
/// as the match allows, the last one taking the rest (RFC 5229 §3.2's example).
///
/// The classic single-backtrack glob algorithm: on a mismatch only the most recent `*` grows,
/// which is enough for `*`/`?` patterns and keeps the work at O(len(value) * len(pattern)).
pub fn matches(
    cmp: Comparator,
    value: &str,
    pattern: &str,
    caps: Option<&mut Vec<String>>,
    budget: &mut Budget,
) -> Result<bool, RunError> {
    // Decoding both into characters is work too, whatever the walk below does.
    budget.charge((value.len() + pattern.len()) / 8 + 1)?;
    let mut pat = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        pat.push(match c {
            '*' => Pat::Star,
            '?' => Pat::One,
            '\\' => Pat::Lit(it.next().unwrap_or('\\')),
            c => Pat::Lit(c),
        });
    }
    let v: Vec<char> = value.chars().collect();
    let (mut pi, mut vi) = (0usize, 0usize);
    // (pattern index after the star, where the star's text ends, captures before it + 1)
    let mut star: Option<(usize, usize, usize)> = None;
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut steps = 0usize;
    while vi < v.len() {
        steps += 1;
        if steps.is_multiple_of(1024) {
            budget.charge(1024)?;
        }
        match pat.get(pi) {
            Some(Pat::Star) => {
                spans.push((vi, vi));
                star = Some((pi + 1, vi, spans.len()));
                pi += 1;
                continue;
            }
            Some(Pat::One) => {
                spans.push((vi, vi + 1));
                pi += 1;
                vi += 1;
                continue;
            }
            Some(Pat::Lit(c)) if fold(cmp, *c) == fold(cmp, v[vi]) => {
                pi += 1;
                vi += 1;
                continue;
            }
            _ => {}
        }
        let Some((sp, send, n)) = star else {
            return Ok(false);
        };
        let grown = send + 1;
        star = Some((sp, grown, n));
        spans.truncate(n);
        if let Some(last) = spans.last_mut() {
            last.1 = grown;
        }
        pi = sp;
        vi = grown;
    }
    budget.charge(steps % 1024 + 1)?;
    while let Some(Pat::Star) = pat.get(pi) {
        spans.push((vi, vi));
        pi += 1;
    }
    if pi != pat.len() {
        return Ok(false);
    }
    if let Some(caps) = caps {
        caps.clear();
        caps.push(value.to_string());
        for (a, b) in spans {
            caps.push(v[a..b].iter().collect());
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sieve::Limits;

    fn b() -> Budget {
        Budget::new(&Limits::default())
    }

    #[test]
    fn glob_and_captures() {
        let mut caps = Vec::new();
        let s = "[acme-users] [fwd] version 1.0 is out";
        assert!(
            matches(
                Comparator::AsciiCasemap,
                s,
                "[*] *",
                Some(&mut caps),
                &mut b()
            )
            .unwrap()
        );
        assert_eq!(caps[1], "acme-users");
        assert_eq!(caps[2], "[fwd] version 1.0 is out");
        assert!(
            matches(
                Comparator::AsciiCasemap,
                "Coyote <coyote@example.com>",
                "*<*@*",
                Some(&mut caps),
                &mut b()
            )
            .unwrap()
        );
        assert_eq!(caps[2], "coyote");
        assert!(matches(Comparator::AsciiCasemap, "MONEY", "m?n*", None, &mut b()).unwrap());
        assert!(!matches(Comparator::Octet, "MONEY", "m?n*", None, &mut b()).unwrap());
        assert!(matches(Comparator::Octet, "a*b", "a\\*b", None, &mut b()).unwrap());
        assert!(!matches(Comparator::Octet, "axb", "a\\*b", None, &mut b()).unwrap());
        assert!(matches(Comparator::Octet, "", "*", None, &mut b()).unwrap());
        assert!(!matches(Comparator::Octet, "", "?", None, &mut b()).unwrap());
    }

    #[test]
    fn numeric_and_relational() {
        let n = Comparator::AsciiNumeric;
        assert!(relation(n, Rel::Gt, "10", "9", &mut b()).unwrap());
        assert!(relation(n, Rel::Eq, "007", "7", &mut b()).unwrap());
        assert!(relation(n, Rel::Gt, "abc", "99999", &mut b()).unwrap());
        assert!(relation(Comparator::AsciiCasemap, Rel::Lt, "abc", "ABD", &mut b()).unwrap());
        assert!(
            contains(
                Comparator::AsciiCasemap,
                "Make MONEY fast",
                "money",
                &mut b()
            )
            .unwrap()
        );
    }
}
