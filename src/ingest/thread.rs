//! Thread keys (DESIGN.md "Threading", Cyrus-style).
//!
//! A message joins an existing thread when one of the ids it carries (Message-ID, In-Reply-To,
//! References) is already known in the account *and* the base subject matches. Both facts go
//! into one key: a hash of (message id, base subject). Two unrelated messages with the same
//! subject share no id, and a reply whose subject changed shares no subject, so neither joins.

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
}
