//! The Date header field read the way real mail needs (RFC 5322 §3.3 and its obsolete forms,
//! §4.3), in front of mail-parser's reader. Three defects seen on a public corpus (issue #23):
//!
//! - a three-digit year (or a four-digit one with a leading zero, `0102`, a real mailer's year
//!   bug) is read by adding 1900 (§4.3), so `0102` is 2002, not "no date";
//! - a date with no zone at all is read as `-0000`, "no information about the local zone"
//!   (§3.3), keeping the wall-clock time the sender meant instead of dropping the date;
//! - a numeric zone must be a sign and four digits with minutes below 60: `01800` is refused
//!   rather than read as an invented `+01:20`.
//!
//! A field this reader does not recognise at all falls back to mail-parser.

use mail_parser::DateTime;

/// What this reader made of a field.
#[derive(Debug, PartialEq)]
pub enum Reading {
    /// A date (not yet checked against the calendar: `DateTime::is_valid` does that).
    Date(DateTime),
    /// The shape of a date with a part that is wrong (a zone like `01800`): no date.
    Invalid,
    /// Not the shape this reader knows: let another reader try.
    Unknown,
}

/// `[day-of-week ","] day month year hour ":" minute [":" second] [zone] [comment]`.
pub fn read(field: &str) -> Reading {
    // Comments (RFC 5322 §3.2.2) are CFWS: drop them, one level deep is all real dates use.
    let mut text = String::with_capacity(field.len());
    let mut depth = 0usize;
    for c in field.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => text.push(if c == ',' { ' ' } else { c }),
            _ => {}
        }
    }
    let mut tokens = text.split_whitespace().peekable();
    if tokens
        .peek()
        .is_some_and(|t| t.chars().all(|c| c.is_ascii_alphabetic()))
    {
        tokens.next(); // day of week
    }
    let (Some(day), Some(month), Some(year), Some(time)) =
        (tokens.next(), tokens.next(), tokens.next(), tokens.next())
    else {
        return Reading::Unknown;
    };
    let zone = tokens.next();
    if tokens.next().is_some() {
        return Reading::Unknown;
    }
    let Some(day) = number(day, 1, 2) else {
        return Reading::Unknown;
    };
    let Some(month) = month_number(month) else {
        return Reading::Unknown;
    };
    let Some(year) = year_number(year) else {
        return Reading::Unknown;
    };
    let mut hms = time.split(':');
    let (Some(hour), Some(minute)) = (
        hms.next().and_then(|h| number(h, 1, 2)),
        hms.next().and_then(|m| number(m, 2, 2)),
    ) else {
        return Reading::Unknown;
    };
    let second = match hms.next() {
        Some(s) => match number(s, 2, 2) {
            Some(s) => s,
            None => return Reading::Unknown,
        },
        None => 0,
    };
    if hms.next().is_some() {
        return Reading::Unknown;
    }
    let (tz_before_gmt, tz_hour, tz_minute) = match zone.map(zone_offset) {
        None => (true, 0, 0), // no zone: -0000 (§3.3)
        Some(Some(z)) => z,
        Some(None) => return Reading::Invalid,
    };
    Reading::Date(DateTime {
        year,
        month,
        day: day as u8,
        hour: hour as u8,
        minute: minute as u8,
        // A leap second (60) is kept by the calendar check's rules: read it as 59.
        second: second.min(59) as u8,
        tz_before_gmt,
        tz_hour,
        tz_minute,
    })
}

fn number(s: &str, min_len: usize, max_len: usize) -> Option<u16> {
    (s.len() >= min_len && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn month_number(s: &str) -> Option<u8> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let s = s.to_ascii_lowercase();
    MONTHS.iter().position(|m| s == *m).map(|i| i as u8 + 1)
}

/// RFC 5322 §4.3: 00-49 -> 2000s, 50-99 and any three-digit year -> add 1900. A four-digit
/// year with a leading zero is a three-digit year written wide (`0102`).
fn year_number(s: &str) -> Option<u16> {
    let y = number(s, 2, 4)?;
    Some(match s.len() {
        2 if y < 50 => 2000 + y,
        2 => 1900 + y,
        3 => 1900 + y,
        _ if s.starts_with('0') => 1900 + y,
        _ => y,
    })
}

/// A zone as (west of Greenwich, hours, minutes); None if it is not a valid zone.
fn zone_offset(z: &str) -> Option<(bool, u8, u8)> {
    if let Some(digits) = z.strip_prefix(['+', '-']) {
        let v = number(digits, 4, 4)?;
        let (h, m) = (v / 100, v % 100);
        return (h < 24 && m < 60).then_some((z.starts_with('-'), h as u8, m as u8));
    }
    // Obsolete zone names (§4.3); any other letters, military zones included, mean -0000.
    if !z.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    Some(match z.to_ascii_uppercase().as_str() {
        "EDT" => (true, 4, 0),
        "EST" | "CDT" => (true, 5, 0),
        "CST" | "MDT" => (true, 6, 0),
        "MST" | "PDT" => (true, 7, 0),
        "PST" => (true, 8, 0),
        "UT" | "GMT" | "Z" => (false, 0, 0),
        _ => (true, 0, 0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc3339(s: &str) -> Option<String> {
        match read(s) {
            Reading::Date(d) if d.is_valid() => Some(d.to_rfc3339()),
            _ => None,
        }
    }

    #[test]
    fn real_world_dates() {
        assert_eq!(
            rfc3339("Mon, 2 Sep 2002 10:11:12 +0900").as_deref(),
            Some("2002-09-02T10:11:12+09:00")
        );
        // §4.3: a three-digit year (here written with a leading zero) adds 1900.
        assert_eq!(
            rfc3339("Mon, 2 Sep 0102 10:11:12 +0900").as_deref(),
            Some("2002-09-02T10:11:12+09:00")
        );
        assert_eq!(
            rfc3339("2 Sep 102 10:11 -0500").as_deref(),
            Some("2002-09-02T10:11:00-05:00")
        );
        assert_eq!(
            rfc3339("Mon, 2 Sep 02 10:11:12 EST").as_deref(),
            Some("2002-09-02T10:11:12-05:00")
        );
        assert_eq!(
            rfc3339("Mon, 2 Sep 99 10:11:12 GMT").as_deref(),
            Some("1999-09-02T10:11:12Z")
        );
        // No zone: -0000, the wall-clock time kept.
        assert_eq!(
            rfc3339("Mon, 2 Sep 2002 10:11:12").as_deref(),
            Some("2002-09-02T10:11:12Z")
        );
        assert_eq!(
            rfc3339("Mon, 2 Sep 2002 10:11:12 (no zone)").as_deref(),
            Some("2002-09-02T10:11:12Z")
        );
        // An impossible zone is no date, not an invented offset.
        assert_eq!(read("Mon, 2 Sep 2002 10:11:12 01800"), Reading::Invalid);
        assert_eq!(read("Mon, 2 Sep 2002 10:11:12 +0960"), Reading::Invalid);
        // Shapes this reader does not know are left to mail-parser.
        assert_eq!(read("2002-09-02T10:11:12Z"), Reading::Unknown);
        assert_eq!(read(""), Reading::Unknown);
    }
}
