//! The checks of an EmailSubmission create (RFC 8621 §7.5), done before the write transaction
//! because they read the message and resolve addresses:
//!
//! - `emailId` and `identityId` must name existing objects (else invalidProperties);
//! - the envelope is the client's, or derived from the Sender/From and To/Cc/Bcc headers
//!   (§7 "envelope"); its MAIL FROM must be an address of the account (forbiddenMailFrom);
//! - every From: and Sender: address must belong to the account (forbiddenFrom naming the
//!   field), by the same rule as on the submission port (`outbound::headers::foreign_sender`,
//!   RFC 6409 §8.1, RFC 5322 §3.6.2), so nobody sends in somebody else's name;
//! - recipients: at least one (noRecipients), at most `max_recipients` (tooManyRecipients),
//!   each a valid address (invalidRecipients); the message at most `max_message_size` octets
//!   (tooLarge);
//! - MAIL FROM parameters HOLDFOR/HOLDUNTIL (FUTURERELEASE, RFC 4865) set `sendAt`, up to
//!   `[outbound] max_delayed_send_secs` ahead. Other parameters that change nothing here are
//!   accepted; unknown ones are invalidProperties rather than silently dropped.
//!
//! The bytes that go out are the stored message without its Bcc: fields (§7.5 MUST).

use crate::jmap::error::SetError;
use crate::jmap::identity;
use crate::jmap::set::Obj;
use crate::outbound::headers;
use crate::store::Store;
use crate::store::model::{AccountId, EmailAddress, IdKind};
use crate::store::model_send::EnvelopeAddress;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// What the sending side allows, from the config.
#[derive(Clone, Copy)]
pub struct SendLimits {
    pub max_size: usize,
    pub max_recipients: usize,
    pub max_delay: u64,
}

/// A create that passed every check, ready to be stored and queued.
#[derive(Clone)]
pub struct Checked {
    pub identity_id: String,
    pub email_id: u32,
    pub thread_id: u32,
    pub mail_from: EnvelopeAddress,
    pub rcpt_to: Vec<EnvelopeAddress>,
    /// The envelope came from the headers: the create response then reports it (server-set).
    pub derived: bool,
    pub send_at: i64,
    /// The message as it goes out (without Bcc).
    pub bytes: Arc<Vec<u8>>,
}

const MAIL_PARAMS: [&str; 7] = [
    "HOLDFOR",
    "HOLDUNTIL",
    "SIZE",
    "BODY",
    "SMTPUTF8",
    "ENVID",
    "RET",
];
const RCPT_PARAMS: [&str; 2] = ["NOTIFY", "ORCPT"];

fn bad_envelope(why: impl Into<String>) -> SetError {
    SetError::invalid_properties(&["envelope"], why)
}

fn parse_address(v: &Value, known: &[&str]) -> Result<EnvelopeAddress, SetError> {
    let Value::Object(m) = v else {
        return Err(bad_envelope("an envelope Address must be an object"));
    };
    let email = m
        .get("email")
        .and_then(Value::as_str)
        .ok_or_else(|| bad_envelope("an envelope Address needs 'email'"))?
        .trim()
        .to_string();
    let parameters = match m.get("parameters") {
        None | Some(Value::Null) => None,
        Some(Value::Object(p)) => {
            let mut out = BTreeMap::new();
            for (k, v) in p {
                let upper = k.to_ascii_uppercase();
                if !known.contains(&upper.as_str()) {
                    return Err(bad_envelope(format!("unsupported SMTP parameter {k}")));
                }
                let v = match v {
                    Value::Null => None,
                    Value::String(s) => Some(s.clone()),
                    _ => return Err(bad_envelope("parameter values must be strings or null")),
                };
                out.insert(upper, v);
            }
            Some(out)
        }
        Some(_) => return Err(bad_envelope("'parameters' must be an object or null")),
    };
    Ok(EnvelopeAddress { email, parameters })
}

/// The client's envelope, if it sent one.
fn given_envelope(obj: &Obj) -> Result<Option<(EnvelopeAddress, Vec<EnvelopeAddress>)>, SetError> {
    let m = match obj.get("envelope") {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(bad_envelope("envelope must be an object or null")),
    };
    let from = parse_address(
        m.get("mailFrom")
            .ok_or_else(|| bad_envelope("envelope needs 'mailFrom'"))?,
        &MAIL_PARAMS,
    )?;
    let Some(Value::Array(list)) = m.get("rcptTo") else {
        return Err(bad_envelope("envelope needs 'rcptTo', an array"));
    };
    let rcpts = list
        .iter()
        .map(|v| parse_address(v, &RCPT_PARAMS))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some((from, rcpts)))
}

/// An address SMTP can send to: `local@domain` with a dotted (or literal) domain.
pub fn valid_recipient(a: &str) -> bool {
    let Some((local, domain)) = a.rsplit_once('@') else {
        return false;
    };
    let clean = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| !c.is_control() && !c.is_whitespace() && !"<>()[],;:\\\"".contains(c))
    };
    let domain_ok = if domain.starts_with('[') && domain.ends_with(']') {
        domain.len() > 2
    } else {
        domain.split('.').count() >= 2
            && domain.split('.').all(|l| {
                !l.is_empty()
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
    };
    a.len() <= 254 && local.len() <= 64 && (clean(local) || local.starts_with('"')) && domain_ok
}

/// RFC 4865: HOLDFOR=seconds or HOLDUNTIL=date-time; the release time, or `now`.
fn release_time(from: &EnvelopeAddress, now: i64, max_delay: u64) -> Result<i64, SetError> {
    let Some(p) = &from.parameters else {
        return Ok(now);
    };
    let at = match (p.get("HOLDFOR"), p.get("HOLDUNTIL")) {
        (None, None) => return Ok(now),
        (Some(_), Some(_)) => return Err(bad_envelope("HOLDFOR and HOLDUNTIL exclude each other")),
        (Some(v), None) => {
            let secs: i64 = v
                .as_deref()
                .and_then(|s| s.parse().ok())
                .filter(|s: &i64| *s >= 0)
                .ok_or_else(|| bad_envelope("HOLDFOR must be a number of seconds"))?;
            now.saturating_add(secs)
        }
        (None, Some(v)) => v
            .as_deref()
            .and_then(crate::date::parse_rfc3339)
            .ok_or_else(|| bad_envelope("HOLDUNTIL must be a date-time (RFC 3339)"))?,
    };
    if max_delay == 0 {
        return Err(bad_envelope("delayed sending is turned off on this server"));
    }
    if at.saturating_sub(now) > i64::try_from(max_delay).unwrap_or(i64::MAX) {
        return Err(bad_envelope(format!(
            "the send time is more than maxDelayedSend ({max_delay} s) ahead"
        )));
    }
    Ok(at.max(now))
}

fn addresses(list: &Option<Vec<EmailAddress>>) -> Vec<String> {
    list.iter()
        .flatten()
        .map(|a| a.email.trim().to_string())
        .filter(|e| !e.is_empty())
        .collect()
}

/// Is `email` the Identity's address (or covered by a `*@domain` identity)?
fn identity_allows(identity_email: &str, email: &str) -> bool {
    let (i, e) = (identity_email.to_lowercase(), email.to_lowercase());
    match i.strip_prefix("*@") {
        Some(domain) => e.rsplit_once('@').is_some_and(|(_, d)| d == domain),
        None => i == e,
    }
}

fn id_prop<'a>(obj: &'a Obj, prop: &str) -> Result<&'a str, SetError> {
    obj.get(prop)
        .and_then(Value::as_str)
        .ok_or_else(|| SetError::invalid_properties(&[prop], format!("{prop} is required")))
}

/// Runs every check of one create (`resolve` maps `#creationId`s of earlier calls).
pub async fn check(
    store: &Store,
    acct: AccountId,
    obj: &Obj,
    resolve: impl Fn(&str) -> String,
    limits: SendLimits,
    now: i64,
) -> Result<Checked, SetError> {
    crate::jmap::set::only_props(obj, &["identityId", "emailId", "envelope", "undoStatus"])?;
    match obj.get("undoStatus") {
        None | Some(Value::Null) => {}
        Some(v) if v == "pending" => {}
        Some(_) => {
            return Err(SetError::invalid_properties(
                &["undoStatus"],
                "a new submission is always pending",
            ));
        }
    }
    let email_wire = resolve(id_prop(obj, "emailId")?);
    let identity_wire = resolve(id_prop(obj, "identityId")?);
    let email_n = IdKind::Email.decode(&email_wire);
    let identity_n = IdKind::Identity.decode(&identity_wire);
    let given = given_envelope(obj)?;
    let (state, meta, identity, raw) = store
        .read(move |r| {
            let state = match email_n {
                Some(n) => r.email_state(acct, n)?,
                None => None,
            };
            let meta = match (&state, email_n) {
                (Some(_), Some(n)) => r.email_meta(acct, n)?,
                _ => None,
            };
            let raw = match &state {
                Some(s) => r.blob(acct, &s.blob)?,
                None => None,
            };
            let identity = r
                .identities(acct)?
                .into_iter()
                .find(|i| Some(i.id) == identity_n);
            Ok((state, meta, identity, raw))
        })
        .await
        .map_err(|e| SetError::new("serverFail", e.to_string()))?;
    let (Some(state), Some(meta), Some(raw)) = (state, meta, raw) else {
        return Err(SetError::invalid_properties(
            &["emailId"],
            format!("no email {email_wire}"),
        ));
    };
    let Some(identity) = identity else {
        return Err(SetError::invalid_properties(
            &["identityId"],
            format!("no identity {identity_wire}"),
        ));
    };
    let from_headers = addresses(&meta.from);
    if from_headers.is_empty() {
        return Err(
            SetError::new("invalidEmail", "the email has no From: address")
                .with("properties", json!(["from"])),
        );
    }
    let derived = given.is_none();
    let (mail_from, rcpt_to) = match given {
        Some(e) => e,
        None => {
            let (field, list) = match addresses(&meta.sender) {
                s if !s.is_empty() => ("sender", s),
                _ => ("from", from_headers.clone()),
            };
            let header = if field == "sender" { "Sender" } else { "From" };
            if list.len() > 1 || headers::count(&raw, header) > 1 {
                return Err(SetError::new(
                    "invalidEmail",
                    format!("more than one {header} address: give an envelope"),
                )
                .with("properties", json!([field])));
            }
            let first = list.into_iter().next().unwrap_or_default();
            let email = if identity_allows(&identity.email, &first) {
                first
            } else {
                identity.email.clone()
            };
            let mut seen = HashSet::new();
            let rcpts = [&meta.to, &meta.cc, &meta.bcc]
                .into_iter()
                .flat_map(addresses)
                .filter(|a| seen.insert(a.to_lowercase()))
                .map(|email| EnvelopeAddress {
                    email,
                    parameters: None,
                })
                .collect();
            (
                EnvelopeAddress {
                    email,
                    parameters: None,
                },
                rcpts,
            )
        }
    };
    if raw.len() > limits.max_size
        || mail_from
            .parameters
            .as_ref()
            .and_then(|p| p.get("SIZE").cloned().flatten())
            .and_then(|s| s.parse::<usize>().ok())
            .is_some_and(|s| s > limits.max_size)
    {
        return Err(SetError::new(
            "tooLarge",
            format!("messages may be at most {} octets", limits.max_size),
        )
        .with("maxSize", json!(limits.max_size)));
    }
    if rcpt_to.is_empty() {
        return Err(SetError::new(
            "noRecipients",
            "the envelope has no recipients",
        ));
    }
    if rcpt_to.len() > limits.max_recipients {
        return Err(SetError::new(
            "tooManyRecipients",
            format!("at most {} recipients", limits.max_recipients),
        )
        .with("maxRecipients", json!(limits.max_recipients)));
    }
    let invalid: Vec<&str> = rcpt_to
        .iter()
        .map(|r| r.email.as_str())
        .filter(|e| !valid_recipient(e))
        .collect();
    if !invalid.is_empty() {
        return Err(SetError::new(
            "invalidRecipients",
            format!("not addresses mail can be sent to: {}", invalid.join(", ")),
        )
        .with("invalidRecipients", json!(invalid)));
    }
    let send_at = release_time(&mail_from, now, limits.max_delay)?;
    let check_from = mail_from.email.clone();
    let senders = headers::senders(&raw);
    let (from_ok, foreign) = store
        .read(move |r| {
            let from_ok = identity::owns(r, acct, &check_from)? && !check_from.starts_with("*@");
            Ok((from_ok, headers::foreign_sender(r, acct, &senders)?))
        })
        .await
        .map_err(|e| SetError::new("serverFail", e.to_string()))?;
    if !from_ok {
        return Err(SetError::new(
            "forbiddenMailFrom",
            format!("{} is not one of your addresses", mail_from.email),
        ));
    }
    // RFC 8621 §7.5 forbiddenFrom covers the Sender: field too (RFC 5322 §3.6.2: it names
    // who sent the message, and the signature we add vouches for it).
    if let Some((field, address)) = foreign {
        let what = match address {
            Some(a) => format!("the {field}: header ({a}) must be one of your addresses"),
            None => format!("the {field}: header has no address that can be checked"),
        };
        return Err(SetError::new("forbiddenFrom", what)
            .with("properties", json!([field.to_ascii_lowercase()])));
    }
    Ok(Checked {
        identity_id: IdKind::Identity.encode(identity.id),
        email_id: email_n.unwrap_or_default(),
        thread_id: state.thread_id,
        mail_from,
        rcpt_to,
        derived,
        send_at,
        bytes: Arc::new(headers::strip_bcc(&raw)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients() {
        for ok in [
            "a@b.org",
            "first.last+tag@sub.example.co",
            "x@[192.0.2.1]",
            "jörg@bücher.de",
        ] {
            assert!(valid_recipient(ok), "{ok}");
        }
        for bad in [
            "",
            "nobody",
            "a@b",
            "a b@c.org",
            "@c.org",
            "a@-c.org",
            "a@c..org",
            "<a@b.org>",
        ] {
            assert!(!valid_recipient(bad), "{bad}");
        }
    }

    #[test]
    fn hold_parameters() {
        let a = |k: &str, v: &str| EnvelopeAddress {
            email: "a@b.org".into(),
            parameters: Some(BTreeMap::from([(k.to_string(), Some(v.to_string()))])),
        };
        assert_eq!(
            release_time(&a("HOLDFOR", "60"), 1000, 3600).ok(),
            Some(1060)
        );
        assert!(release_time(&a("HOLDFOR", "7200"), 1000, 3600).is_err());
        assert!(release_time(&a("HOLDFOR", "-1"), 1000, 3600).is_err());
        assert!(release_time(&a("HOLDFOR", "60"), 1000, 0).is_err());
        assert_eq!(
            release_time(&a("HOLDUNTIL", "1970-01-01T00:20:00Z"), 1000, 3600).ok(),
            Some(1200)
        );
        assert!(identity_allows("*@x.org", "Me@X.org"));
        assert!(!identity_allows("me@x.org", "you@x.org"));
    }
}
