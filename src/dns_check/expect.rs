//! What mailnook needs published: the admin setup list (`http/admin_setup.rs::records` plus the
//! DKIM keys), completed with any record that `mailnook dns DOMAIN` prints and that list lacks
//! (`outbound/dkim.rs::dns_records`, read back from its zone-file lines). So a record added to
//! either place (MTA-STS, TLS-RPT, ...) is checked without a change here.

use crate::http::admin_setup::Record;

/// Record types a printed zone line may carry (`Record::kind` is a `&'static str`).
const TYPES: [&str; 10] = [
    "A", "AAAA", "MX", "TXT", "SRV", "CNAME", "TLSA", "CAA", "NS", "HTTPS",
];

/// The records of zone-file text (`name [ttl] [IN] TYPE value`, RFC 1035 §5.1), each with the
/// comment line before it as its note. Lines that are not records are skipped.
pub fn from_zone_text(text: &str) -> Vec<Record> {
    let mut out = Vec::new();
    let mut note = String::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(c) = line.strip_prefix(';') {
            note = c.trim().to_string();
            continue;
        }
        let mut rest = line;
        let mut next = || {
            let t = rest.trim_start();
            let end = t.find(char::is_whitespace).unwrap_or(t.len());
            let (tok, r) = t.split_at(end);
            rest = r;
            tok
        };
        let name = next().to_string();
        let mut tok = next();
        if tok.chars().all(|c| c.is_ascii_digit()) && !tok.is_empty() {
            tok = next();
        }
        if tok.eq_ignore_ascii_case("IN") {
            tok = next();
        }
        let Some(kind) = TYPES.iter().find(|t| t.eq_ignore_ascii_case(tok)) else {
            continue;
        };
        let value = rest.trim().to_string();
        if name.is_empty() || value.is_empty() {
            continue;
        }
        out.push(Record {
            name,
            kind,
            value,
            note: note.clone(),
        });
    }
    out
}

/// What identifies a record for merging: its name, type and, for TXT, its `v=` tag (so the
/// SPF record and another TXT record at the same name stay apart).
fn key(r: &Record) -> (String, String, String) {
    let name = r.name.trim_end_matches('.').to_ascii_lowercase();
    let tag = if r.kind == "TXT" {
        super::verify::unquote(&r.value)
            .split([';', ' '])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
    } else {
        String::new()
    };
    (name, r.kind.to_string(), tag)
}

/// `list` followed by the records of `extra` that it does not already have.
pub fn merge(mut list: Vec<Record>, extra: Vec<Record>) -> Vec<Record> {
    for r in extra {
        let k = key(&r);
        if !list.iter().any(|x| key(x) == k) {
            list.push(r);
        }
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_records_complete_the_list() {
        let text = "; DNS records for example.org\n\
                    ; MX: where mail goes\n\
                    example.org.\tIN MX\t10 mail.example.org.\n\
                    ; MTA-STS (RFC 8461)\n\
                    _mta-sts.example.org.\tIN TXT\t\"v=STSv1; id=20261201\"\n\
                    mta-sts.example.org. 3600 IN CNAME mail.example.org.\n";
        let printed = from_zone_text(text);
        assert_eq!(printed.len(), 3);
        assert_eq!(printed[1].note, "MTA-STS (RFC 8461)");
        assert_eq!(printed[1].value, "\"v=STSv1; id=20261201\"");
        assert_eq!(printed[2].kind, "CNAME");
        let list = vec![Record {
            name: "example.org.".into(),
            kind: "MX",
            value: "10 mail.example.org.".into(),
            note: String::new(),
        }];
        let merged = merge(list, printed);
        assert_eq!(merged.len(), 3, "the MX is not listed twice");
        assert_eq!(merged[1].name, "_mta-sts.example.org.");
    }
}
