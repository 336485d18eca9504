//! Sharing rights (issue #16): what a grantee may do in a mailbox or account someone shared
//! with them. One bit per RFC 8621 §2 `myRights` property, so `myRights` is computed from the
//! grant and never stored twice (DESIGN.md "Rights, not special cases").

use std::collections::BTreeMap;

/// A set of rights (a bitmask over [`NAMES`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Rights(pub u16);

/// RFC 8621 §2 myRights, in the order of their bits.
pub const NAMES: [&str; 9] = [
    "mayReadItems",
    "mayAddItems",
    "mayRemoveItems",
    "maySetSeen",
    "maySetKeywords",
    "mayCreateChild",
    "mayRename",
    "mayDelete",
    "maySubmit",
];

/// Short words for the command line, one per bit (same order as [`NAMES`]).
pub const WORDS: [&str; 9] = [
    "read", "add", "remove", "seen", "flag", "create", "rename", "delete", "submit",
];

impl Rights {
    pub const NONE: Rights = Rights(0);
    pub const READ: Rights = Rights(1);
    pub const ADD: Rights = Rights(1 << 1);
    pub const REMOVE: Rights = Rights(1 << 2);
    pub const SEEN: Rights = Rights(1 << 3);
    pub const KEYWORDS: Rights = Rights(1 << 4);
    pub const CREATE_CHILD: Rights = Rights(1 << 5);
    pub const RENAME: Rights = Rights(1 << 6);
    pub const DELETE: Rights = Rights(1 << 7);
    pub const SUBMIT: Rights = Rights(1 << 8);
    pub const ALL: Rights = Rights((1 << 9) - 1);
    /// "read-only": read the messages, nothing else.
    pub const READ_ONLY: Rights = Rights::READ;
    /// "read-write": everything about messages (read, file in and out, flags), no changes to
    /// the mailbox itself and no sending.
    pub const READ_WRITE: Rights = Rights(1 | 1 << 1 | 1 << 2 | 1 << 3 | 1 << 4);

    pub fn has(self, r: Rights) -> bool {
        self.0 & r.0 == r.0 && r.0 != 0
    }
    pub fn is_empty(self) -> bool {
        self.0 & Rights::ALL.0 == 0
    }
    pub fn union(self, r: Rights) -> Rights {
        Rights((self.0 | r.0) & Rights::ALL.0)
    }
    /// Only write rights absent: nothing but reading (session `isReadOnly`).
    pub fn read_only(self) -> bool {
        self.0 & !Rights::READ.0 & Rights::ALL.0 == 0
    }

    /// The RFC 8621 `myRights` object.
    pub fn to_map(self) -> BTreeMap<&'static str, bool> {
        NAMES
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, self.0 & (1 << i) != 0))
            .collect()
    }

    /// From a `myRights`-shaped object (RFC 9670 `shareWith` values): unknown names or
    /// non-boolean values are an error (the caller answers invalidProperties).
    pub fn from_map<'a>(
        m: impl IntoIterator<Item = (&'a String, &'a serde_json::Value)>,
    ) -> Result<Rights, String> {
        let mut r = 0u16;
        for (k, v) in m {
            let Some(i) = NAMES.iter().position(|n| n == k) else {
                return Err(format!("unknown right '{k}'"));
            };
            match v {
                serde_json::Value::Bool(true) => r |= 1 << i,
                serde_json::Value::Bool(false) => {}
                _ => return Err(format!("right '{k}' must be true or false")),
            }
        }
        Ok(Rights(r))
    }

    /// Parses the command line's comma-separated words: the [`WORDS`], their RFC names, or
    /// `read-only`, `read-write`, `all`.
    pub fn parse_words(s: &str) -> Result<Rights, String> {
        let mut r = Rights::NONE;
        for w in s.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            let bit = match w {
                "all" | "full" => Rights::ALL,
                "read-only" | "ro" => Rights::READ_ONLY,
                "read-write" | "rw" => Rights::READ_WRITE,
                _ => match WORDS.iter().position(|x| *x == w) {
                    Some(i) => Rights(1 << i),
                    None => match NAMES.iter().position(|x| *x == w) {
                        Some(i) => Rights(1 << i),
                        None => {
                            return Err(format!(
                                "unknown right '{w}' (known: {}, read-only, read-write, all)",
                                WORDS.join(", ")
                            ));
                        }
                    },
                },
            };
            r = r.union(bit);
        }
        if r.is_empty() {
            return Err("no rights given".into());
        }
        Ok(r)
    }

    /// The command line's words for these rights.
    pub fn words(self) -> String {
        if self == Rights::ALL {
            return "all".into();
        }
        WORDS
            .iter()
            .enumerate()
            .filter(|(i, _)| self.0 & (1 << i) != 0)
            .map(|(_, w)| *w)
            .collect::<Vec<_>>()
            .join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip() {
        let r = Rights::parse_words("read,seen,flag").unwrap();
        assert!(r.has(Rights::READ) && r.has(Rights::SEEN) && !r.has(Rights::ADD));
        assert_eq!(Rights::parse_words(&r.words()).unwrap(), r);
        assert_eq!(Rights::parse_words("all").unwrap(), Rights::ALL);
        assert!(Rights::parse_words("read,fly").is_err());
        assert!(Rights::parse_words("").is_err());
        assert!(Rights::READ_ONLY.read_only());
        assert!(!Rights::READ_WRITE.read_only());
        assert_eq!(Rights::ALL.to_map().len(), 9);
    }
}
