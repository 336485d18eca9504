//! App passwords (issue #15): one per device or app, named by the holder ("Anna's phone"),
//! shown once, revocable one by one, listed with when and from where each was last used.
//!
//! **Where they work.** Mail clients only: JMAP over HTTP Basic, the JMAP WebSocket and SMTP
//! AUTH on the submission port. Not the admin page and not for changing the account password
//! (the login door's `Scope::Account`, `src/login.rs`): a phone that leaks its app password
//! gives away mail, not the account. They survive a change of the account password (that is
//! what they are for: changing it does not break every phone) and die with the account.
//!
//! **Shape.** Five groups of four characters from a 32-symbol alphabet without look-alikes
//! (`abcd-efgh-jkmn-pqrs-tuvw`): 100 bits. The first group is the *selector*, unique within the
//! account and stored in clear as the app password's id, so a login hashes against exactly one
//! stored hash (never one per app password); the other 80 random bits are the secret. The
//! canonical string (with dashes) is hashed with the project's argon2id parameters
//! (`password.rs`), so a stolen database gives nothing away. Typed without dashes, or with
//! spaces, it is the same password. A main password that happens to have this shape *and*
//! start with an existing selector is checked as that app password only (odds ~ n / 2^20).
//!
//! **One implementation.** The CLI (`mailnook user app-password add|list|del`), the control
//! socket and the admin API all run `accounts::Command::AppPassword*`, which land here.

use crate::store::model::AccountId;
use crate::store::{AppPassword, Store, StoreError};
use serde::{Deserialize, Serialize};

/// Lower-case letters and digits without i, l, o and 1: easy to read off a screen and to type
/// on a phone. 32 symbols, 5 bits each.
const ALPHABET: &[u8; 32] = b"abcdefghjkmnpqrstuvwxyz023456789";
const GROUPS: usize = 5;
const GROUP: usize = 4;

/// The longest name a holder may give (characters).
pub const MAX_NAME: usize = 64;

/// A freshly made app password: `password` is shown once and never stored.
pub struct Fresh {
    pub password: String,
    pub id: String,
    pub hash: String,
}

/// Draws a new app password and hashes it (argon2: run off the executor threads).
pub fn generate() -> Result<Fresh, String> {
    let mut bytes = [0u8; GROUPS * GROUP];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| "no randomness".to_string())?;
    // 256 is a multiple of 32: taking each byte modulo 32 is unbiased.
    let chars: Vec<u8> = bytes.iter().map(|b| ALPHABET[*b as usize % 32]).collect();
    let password = canonical(&chars);
    let hash = crate::password::hash(&password)?;
    Ok(Fresh {
        id: password[..GROUP].to_string(),
        password,
        hash,
    })
}

fn canonical(chars: &[u8]) -> String {
    chars
        .chunks(GROUP)
        .map(|g| String::from_utf8_lossy(g).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// If `pass` has the shape of an app password: its selector (id) and canonical form (what was
/// hashed). Anything else is an ordinary password.
pub fn parse(pass: &str) -> Option<(String, String)> {
    if pass.len() > 64 {
        return None;
    }
    let chars: Vec<u8> = pass.bytes().filter(|b| *b != b'-' && *b != b' ').collect();
    if chars.len() != GROUPS * GROUP || !chars.iter().all(|c| ALPHABET.contains(c)) {
        return None;
    }
    let c = canonical(&chars);
    Some((c[..GROUP].to_string(), c))
}

/// The name rules: 1 to [`MAX_NAME`] characters, no control characters, trimmed.
pub fn check_name(name: &str) -> Result<String, String> {
    let n = name.trim();
    if n.is_empty() {
        return Err("an app password needs a name, e.g. \"Anna's phone\"".into());
    }
    if n.chars().count() > MAX_NAME {
        return Err(format!("the name must have at most {MAX_NAME} characters"));
    }
    if n.chars().any(char::is_control) {
        return Err("the name must not contain control characters".into());
    }
    Ok(n.to_string())
}

/// What `list` shows: everything but the hash.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub last_used: Option<i64>,
    pub last_ip: Option<String>,
}

impl From<AppPassword> for Summary {
    fn from(p: AppPassword) -> Summary {
        Summary {
            id: p.id,
            name: p.name,
            created_at: p.created_at,
            last_used: p.last_used,
            last_ip: p.last_ip,
        }
    }
}

/// Stores an app password made by [`generate`] under `acct`.
pub async fn add(
    store: &Store,
    acct: AccountId,
    name: &str,
    id: String,
    hash: String,
) -> Result<Summary, StoreError> {
    let name = check_name(name).map_err(StoreError::Invalid)?;
    if id.len() != GROUP || !id.bytes().all(|c| ALPHABET.contains(&c)) {
        return Err(StoreError::Invalid("not an app password id".into()));
    }
    let p = AppPassword {
        id,
        name,
        hash,
        created_at: crate::date::now(),
        last_used: None,
        last_ip: None,
    };
    let row = p.clone();
    store
        .write(move |w| w.add_app_password(acct, &row))
        .await
        .map_err(|e| match e {
            StoreError::Conflict(m) if m.contains("id in use") => StoreError::Conflict(
                "the drawn app password collided with an existing one; run the command again"
                    .into(),
            ),
            other => other,
        })?;
    Ok(p.into())
}

pub async fn list(store: &Store, acct: AccountId) -> Result<Vec<Summary>, StoreError> {
    let list = store.read(move |r| r.app_passwords(acct)).await?;
    Ok(list.into_iter().map(Summary::from).collect())
}

/// Revokes the app password with this id, or else the one with this name (exactly one).
/// Returns the revoked one.
pub async fn del(store: &Store, acct: AccountId, which: &str) -> Result<Summary, StoreError> {
    let all = list(store, acct).await?;
    let w = which.trim();
    let hit = match all.iter().find(|p| p.id == w) {
        Some(p) => p.clone(),
        None => {
            let named: Vec<&Summary> = all.iter().filter(|p| p.name == w).collect();
            match named.as_slice() {
                [one] => (*one).clone(),
                [] => {
                    return Err(StoreError::Invalid(format!(
                        "no app password {w:?} (give its id or name)"
                    )));
                }
                _ => {
                    return Err(StoreError::Invalid(format!(
                        "several app passwords are named {w:?}; give the id"
                    )));
                }
            }
        }
    };
    let id = hit.id.clone();
    store
        .write(move |w| w.remove_app_password(acct, &id))
        .await?;
    Ok(hit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_parse_back_in_any_typing() {
        let f = generate().unwrap();
        assert_eq!(f.password.len(), 24);
        assert_eq!(&f.password[..4], f.id);
        let (id, canon) = parse(&f.password).unwrap();
        assert_eq!(
            (id.as_str(), canon.as_str()),
            (f.id.as_str(), f.password.as_str())
        );
        let bare: String = f.password.replace('-', "");
        assert_eq!(parse(&bare).unwrap().1, f.password);
        let spaced = f.password.replace('-', " ");
        assert_eq!(parse(&spaced).unwrap().1, f.password);
        assert!(crate::password::verify(&canon, &f.hash));
    }

    #[test]
    fn ordinary_passwords_are_not_app_passwords() {
        for p in [
            "",
            "secret",
            "abcd-efgh-jkmn-pqrs-tuv",   // too short
            "abcd-efgh-jkmn-pqrs-tuvwx", // too long
            "abcd-efgh-jkmn-pqrs-tuvl",  // l is not in the alphabet
            "ABCD-EFGH-JKMN-PQRS-TUVW",  // upper case
        ] {
            assert!(parse(p).is_none(), "{p}");
        }
        assert!(parse("abcd-efgh-jkmn-pqrs-tuvw").is_some());
    }

    #[test]
    fn names() {
        assert_eq!(check_name("  Anna's phone ").unwrap(), "Anna's phone");
        assert!(check_name("").is_err());
        assert!(check_name("a\nb").is_err());
        assert!(check_name(&"x".repeat(65)).is_err());
    }
}
