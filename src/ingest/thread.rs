//! Thread keys and base subjects (DESIGN.md "Threading", Cyrus-style).
//!
//! A message joins an existing thread when one of the ids it carries (Message-ID, In-Reply-To,
//! References) is already known in the account *and* the base subject matches. Both facts go
//! into one key: a hash of (message id, base subject). Two unrelated messages with the same
//! subject share no id, and a reply whose subject changed shares no subject, so neither joins.
//!
//! Every key of a message is recorded for its thread, including the ids in its References and
//! In-Reply-To. So when a reply arrives before the message it answers, the reply records the
//! parent's id; the parent, arriving later with the same base subject, finds it and joins the
//! reply's thread (out-of-order delivery still threads).

use crate::store::model::EmailMeta;

pub fn keys(meta: &EmailMeta) -> Vec<u128> {
    let mut ids: Vec<&str> = Vec::new();
    for list in [&meta.message_id, &meta.in_reply_to, &meta.references]
        .into_iter()
        .flatten()
    {
        for id in list {
            let id = id.trim();
            if !id.is_empty() && !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids.into_iter()
        .map(|id| key(id, &meta.base_subject))
        .collect()
}

fn key(message_id: &str, base_subject: &str) -> u128 {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(message_id.as_bytes());
    ctx.update(&[0]);
    ctx.update(base_subject.as_bytes());
    let d = ctx.finish();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d.as_ref()[..16]);
    u128::from_be_bytes(b)
}

/// Reply and forward prefixes, lower-cased, in the languages mail clients localise them to
/// (Outlook, Thunderbird, Apple Mail, Gmail): English, German (AW, WG), Scandinavian (SV, VS,
/// VB, FS), Dutch (Antw, Doorst), Italian (R, RIF, I), French (TR, Réf), Spanish/Portuguese (RV,
/// ENC, RES), Polish (Odp, PD), Turkish (YNT, İLT), Hungarian (Vá, Továbbítás), Finnish (VL),
/// Greek, Hebrew, Arabic, Russian, Chinese and Japanese.
const PREFIXES: [&str; 52] = [
    "re",
    "fw",
    "fwd",
    "aw",
    "wg",
    "sv",
    "vs",
    "vb",
    "fs",
    "antw",
    "doorst",
    "r",
    "rif",
    "i",
    "tr",
    "trs",
    "réf",
    "ref",
    "rv",
    "enc",
    "res",
    "odp",
    "pd",
    "ynt",
    "ilt",
    "i̇lt",
    "yml",
    "vá",
    "továbbítás",
    "vl",
    "bls",
    "atb",
    "απ",
    "σχετ",
    "πρθ",
    "השב",
    "הועבר",
    "رد",
    "إعادة توجيه",
    "отв",
    "ответ",
    "пер",
    "переслать",
    "回复",
    "回覆",
    "答复",
    "答覆",
    "转发",
    "轉寄",
    "轉發",
    "返信",
    "転送",
];

/// The base subject (RFC 5256 §2.1, extended to localised prefixes): white space collapsed,
/// then repeatedly leading `Re:`/`Fwd:`-style prefixes (with an optional count such as
/// `Re[2]:`, `Re(2):`, `Re^2:`, and an ASCII or full-width colon), leading `[list]` tags and
/// trailing `(fwd)` removed, and a `[Fwd: ...]` wrapper unwrapped; lower-cased.
pub fn base_subject(subject: &str) -> String {
    let mut s: String = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    loop {
        let before = s.clone();
        // RFC 5256 (2): trailing "(fwd)".
        while s.to_lowercase().ends_with("(fwd)") {
            let cut = s.len() - "(fwd)".len();
            s = s[..cut].trim_end().to_string();
        }
        // (3)/(5): leading prefixes and blobs.
        loop {
            if let Some(rest) = strip_prefix(&s) {
                s = rest;
            } else if let Some(rest) = strip_blob(&s) {
                s = rest;
            } else {
                break;
            }
        }
        // (6): "[fwd: subject]".
        let lower = s.to_lowercase();
        if lower.starts_with("[fwd:") && s.ends_with(']') {
            s = s["[fwd:".len()..s.len() - 1].trim().to_string();
        }
        if s == before {
            break;
        }
    }
    s.to_lowercase()
}

/// `Re: x` -> `x` (also `Re [2]:`, `Re(3):`, `Re^2:`, `回复：`).
fn strip_prefix(s: &str) -> Option<String> {
    let (colon, width) = s
        .char_indices()
        .take(24)
        .find(|(_, c)| *c == ':' || *c == '：')
        .map(|(i, c)| (i, c.len_utf8()))?;
    let mut word = s[..colon].trim_end();
    if let Some(open) = word.rfind(['[', '(', '^']) {
        let count = word[open + 1..].trim_end_matches([']', ')']);
        if !count.is_empty() && count.bytes().all(|b| b.is_ascii_digit()) {
            word = word[..open].trim_end();
        }
    }
    let lower = word.to_lowercase();
    PREFIXES
        .contains(&lower.as_str())
        .then(|| s[colon + width..].trim_start().to_string())
}

/// `[list] x` -> `x`, unless nothing would remain.
fn strip_blob(s: &str) -> Option<String> {
    let rest = s.strip_prefix('[')?;
    let close = rest.find(']')?;
    let after = rest[close + 1..].trim_start();
    (!after.is_empty() && !rest[..close].contains('[')).then(|| after.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_id_different_subject_differs() {
        let a = EmailMeta {
            message_id: Some(vec!["a@x".into()]),
            base_subject: "hello".into(),
            ..Default::default()
        };
        let b = EmailMeta {
            in_reply_to: Some(vec!["a@x".into()]),
            base_subject: "hello".into(),
            ..Default::default()
        };
        let c = EmailMeta {
            in_reply_to: Some(vec!["a@x".into()]),
            base_subject: "other".into(),
            ..Default::default()
        };
        assert_eq!(keys(&a), keys(&b));
        assert_ne!(keys(&a), keys(&c));
    }

    #[test]
    fn base_subjects_in_many_languages() {
        for s in [
            "Lunch plans",
            "Re: Lunch plans",
            "RE: re: Lunch  plans",
            "Fwd: Re: Lunch plans",
            "AW: WG: Lunch plans",
            "SV: Lunch plans",
            "VS: Lunch plans",
            "RIF: Lunch plans",
            "R: I: Lunch plans",
            "Antw: Doorst: Lunch plans",
            "回复：Lunch plans",
            "回复: 转发: Lunch plans",
            "Re[2]: Lunch plans",
            "Re(3): Lunch plans",
            "Re^2: Lunch plans",
            "[team] Re: [team] Lunch plans",
            "Re: Lunch plans (fwd)",
            "[Fwd: Lunch plans]",
            "TR: Réf: Lunch plans",
            "Odp: Lunch plans",
            "Отв: Lunch plans",
            "ΑΠ: Lunch plans",
            "返信: Lunch plans",
        ] {
            assert_eq!(base_subject(s), "lunch plans", "{s}");
        }
        assert_eq!(base_subject("Re: [team]"), "[team]");
        assert_eq!(base_subject("Ideas: more"), "ideas: more");
        assert_eq!(base_subject(""), "");
    }
}
