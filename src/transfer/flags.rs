//! Flags of other mail stores <-> JMAP keywords (RFC 8621 §4.1.1, RFC 9051 §2.3.2), and the
//! names other stores give to the special mailboxes (RFC 6154 roles).

use std::collections::BTreeSet;

/// Maildir info flags (`:2,` suffix, cr.yp.to/proto/maildir.html) and their keywords.
pub const MAILDIR: [(char, &str); 5] = [
    ('D', "$draft"),
    ('F', "$flagged"),
    ('P', "$forwarded"),
    ('R', "$answered"),
    ('S', "$seen"),
];

/// A keyword as JMAP stores it (lower-cased; RFC 8621 §4.1.1 forbids `( ) { ] % * " \` and
/// controls), or None when the word cannot be one. IMAP's `\Seen` style system flags map to
/// their `$` keywords.
pub fn keyword(word: &str) -> Option<String> {
    let w = word.trim();
    if let Some(sys) = w.strip_prefix('\\') {
        return match sys.to_ascii_lowercase().as_str() {
            "seen" => Some("$seen".into()),
            "answered" => Some("$answered".into()),
            "flagged" => Some("$flagged".into()),
            "draft" => Some("$draft".into()),
            _ => None,
        };
    }
    let ok = !w.is_empty()
        && w.len() <= 255
        && w.bytes()
            .all(|b| (0x21..0x7f).contains(&b) && !b"(){]%*\"\\".contains(&b));
    ok.then(|| w.to_ascii_lowercase())
}

/// Keywords of a Maildir file name's info part; `custom` maps Dovecot's `a`..`z` letters.
pub fn from_maildir_info(name: &str, custom: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let Some((_, info)) = name.rsplit_once(":2,") else {
        return out;
    };
    for c in info.chars() {
        if let Some((_, k)) = MAILDIR.iter().find(|(f, _)| *f == c) {
            out.insert(k.to_string());
        } else if c.is_ascii_lowercase()
            && let Some(k) = custom
                .get((c as u8 - b'a') as usize)
                .and_then(|k| keyword(k))
        {
            out.insert(k);
        }
    }
    out
}

/// The `:2,` info for keywords; keywords beyond the system ones get Dovecot letters from
/// `custom` (extended as needed, at most 26).
pub fn to_maildir_info(keywords: &BTreeSet<String>, custom: &mut Vec<String>) -> String {
    let mut letters: Vec<char> = Vec::new();
    for k in keywords {
        if let Some((c, _)) = MAILDIR.iter().find(|(_, kw)| kw == k) {
            letters.push(*c);
            continue;
        }
        let i = match custom.iter().position(|c| c == k) {
            Some(i) => i,
            None if custom.len() < 26 => {
                custom.push(k.clone());
                custom.len() - 1
            }
            None => continue,
        };
        letters.push((b'a' + i as u8) as char);
    }
    letters.sort_unstable();
    format!(":2,{}", letters.into_iter().collect::<String>())
}

/// `Status`, `X-Status` and the remaining keywords for an mbox file (mutt/Dovecot usage).
pub fn to_mbox(keywords: &BTreeSet<String>) -> (String, String, Vec<String>) {
    let mut status = String::new();
    let mut x = String::new();
    let mut rest = Vec::new();
    for k in keywords {
        match k.as_str() {
            "$seen" => status.push('R'),
            "$answered" => x.push('A'),
            "$flagged" => x.push('F'),
            "$draft" => x.push('T'),
            other => rest.push(other.to_string()),
        }
    }
    if !status.is_empty() {
        status.push('O');
    }
    (status, x, rest)
}

/// The role a mailbox of this name (top level) plays in other stores (RFC 6154 and the names
/// Gmail, Outlook, Apple Mail, Thunderbird and Dovecot's defaults use).
pub fn role_by_name(name: &str) -> Option<&'static str> {
    let n = name.trim().to_ascii_lowercase();
    let n = n.strip_prefix("[gmail]/").unwrap_or(&n);
    Some(match n {
        "inbox" => "inbox",
        "sent" | "sent mail" | "sent items" | "sent messages" => "sent",
        "drafts" | "draft" => "drafts",
        "trash" | "deleted items" | "deleted messages" | "bin" => "trash",
        "junk" | "spam" | "junk e-mail" | "junk email" | "bulk mail" => "junk",
        "archive" | "archives" | "all mail" => "archive",
        _ => return None,
    })
}

/// The RFC 6154 role of a LIST attribute (`\Sent`, ...).
pub fn role_by_attribute(attr: &str) -> Option<&'static str> {
    Some(match attr.to_ascii_lowercase().as_str() {
        "\\sent" => "sent",
        "\\drafts" => "drafts",
        "\\trash" => "trash",
        "\\junk" => "junk",
        "\\archive" | "\\all" => "archive",
        _ => return None,
    })
}

/// Gmail Takeout labels: (mailbox paths, keywords to add, whether the message is unread).
pub fn gmail_labels(labels: &[String]) -> (Vec<Vec<String>>, BTreeSet<String>, bool) {
    let mut paths = Vec::new();
    let mut kw = BTreeSet::new();
    let mut unread = false;
    for l in labels {
        match l.as_str() {
            "Unread" => unread = true,
            "Opened" | "Archived" | "IMAP_Junk" | "IMAP_NonJunk" => {}
            "Starred" => {
                kw.insert("$flagged".to_string());
            }
            "Important" => {
                kw.insert("$important".to_string());
            }
            l if l.starts_with("Category ") => {}
            "Inbox" => paths.push(vec!["INBOX".to_string()]),
            "Sent" => paths.push(vec!["Sent".to_string()]),
            "Drafts" | "Draft" => paths.push(vec!["Drafts".to_string()]),
            "Spam" => paths.push(vec!["Junk".to_string()]),
            "Trash" => paths.push(vec!["Trash".to_string()]),
            other => paths.push(other.split('/').map(str::to_string).collect()),
        }
    }
    if paths.is_empty() {
        // Gmail's "All Mail" without another label: archived.
        paths.push(vec!["Archive".to_string()]);
    }
    (paths, kw, unread)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maildir_info_round_trip() {
        let mut custom = vec![];
        let kw: BTreeSet<String> = ["$seen", "$flagged", "work", "$forwarded"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let info = to_maildir_info(&kw, &mut custom);
        assert_eq!(info, ":2,FPSa");
        assert_eq!(from_maildir_info(&format!("123.x{info}"), &custom), kw);
        assert!(from_maildir_info("123.host", &custom).is_empty());
    }

    #[test]
    fn names_and_labels() {
        assert_eq!(role_by_name("[Gmail]/Sent Mail"), Some("sent"));
        assert_eq!(role_by_name("Projects"), None);
        let (p, kw, unread) = gmail_labels(&[
            "Inbox".into(),
            "Work/2026".into(),
            "Starred".into(),
            "Unread".into(),
        ]);
        assert_eq!(
            p,
            vec![
                vec!["INBOX".to_string()],
                vec!["Work".into(), "2026".into()]
            ]
        );
        assert!(kw.contains("$flagged") && unread);
        assert_eq!(keyword("\\Seen").as_deref(), Some("$seen"));
        assert_eq!(keyword("bad(word"), None);
    }
}
