//! Date parts for the `date` and `currentdate` tests (RFC 5260 §4.2) and `:zone` values.

use crate::mime::date::{Reading, read};

/// `+hhmm` / `-hhmm` to minutes east of UTC.
pub fn parse_zone(z: &str) -> Option<i32> {
    let b = z.as_bytes();
    if b.len() != 5 || !matches!(b[0], b'+' | b'-') || !b[1..].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let h: i32 = z[1..3].parse().ok()?;
    let m: i32 = z[3..5].parse().ok()?;
    if h > 23 || m > 59 {
        return None;
    }
    Some(if b[0] == b'-' {
        -(h * 60 + m)
    } else {
        h * 60 + m
    })
}

/// A header field's date: (Unix time, the zone it was written in, in minutes east).
pub fn parse_header_date(value: &str) -> Option<(i64, i32)> {
    let dt = match read(value) {
        Reading::Date(d) => d,
        Reading::Invalid => return None,
        Reading::Unknown => mail_parser::DateTime::parse_rfc822(value)?,
    };
    if !dt.is_valid() {
        return None;
    }
    let off = i32::from(dt.tz_hour) * 60 + i32::from(dt.tz_minute);
    let off = if dt.tz_before_gmt { -off } else { off };
    Some((dt.to_timestamp(), off))
}

/// The named part of `secs` seen in the zone `offset` (minutes east), or None for an unknown
/// part name (RFC 5260 §4.2: the test then fails).
pub fn part(secs: i64, offset: i32, name: &str) -> Option<String> {
    let local = secs + i64::from(offset) * 60;
    let (y, mo, d, h, mi, s, wd) = crate::date::civil(local);
    let zone = format!(
        "{}{:02}{:02}",
        if offset < 0 { '-' } else { '+' },
        offset.unsigned_abs() / 60,
        offset.unsigned_abs() % 60
    );
    Some(match name {
        "year" => format!("{y:04}"),
        "month" => format!("{mo:02}"),
        "day" => format!("{d:02}"),
        "date" => format!("{y:04}-{mo:02}-{d:02}"),
        // Modified Julian Day: days since 1858-11-17 (Unix day 0 is MJD 40587).
        "julian" => format!("{}", local.div_euclid(86_400) + 40_587),
        "hour" => format!("{h:02}"),
        "minute" => format!("{mi:02}"),
        "second" => format!("{s:02}"),
        "time" => format!("{h:02}:{mi:02}:{s:02}"),
        "iso8601" => format!(
            "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{}:{}",
            &zone[..3],
            &zone[3..]
        ),
        "std11" => {
            const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
            const MONTHS: [&str; 12] = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ];
            format!(
                "{}, {d} {} {y:04} {h:02}:{mi:02}:{s:02} {zone}",
                DAYS.get(wd as usize)?,
                MONTHS.get(mo as usize - 1)?
            )
        }
        "zone" => zone,
        "weekday" => format!("{wd}"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts() {
        let (t, z) = parse_header_date("Tue, 1 Apr 1997 09:06:31 -0800").unwrap();
        assert_eq!(z, -480);
        assert_eq!(part(t, z, "date").unwrap(), "1997-04-01");
        assert_eq!(part(t, z, "hour").unwrap(), "09");
        assert_eq!(part(t, 0, "hour").unwrap(), "17");
        assert_eq!(part(t, z, "weekday").unwrap(), "2");
        assert_eq!(part(t, z, "zone").unwrap(), "-0800");
        assert_eq!(part(t, z, "iso8601").unwrap(), "1997-04-01T09:06:31-08:00");
        assert_eq!(part(0, 0, "julian").unwrap(), "40587");
        assert_eq!(parse_zone("+0530"), Some(330));
        assert_eq!(parse_zone("0530"), None);
    }
}
