//! The MTA-STS policy file (RFC 8461 §3.2): parse, render, the TXT record id, MX matching
//! (§4.1). Pure functions: no I/O.

use serde::{Deserialize, Serialize};

/// §3.2: max_age is at most 31557600 seconds (about a year).
pub const MAX_AGE_LIMIT: u64 = 31_557_600;
/// Largest policy body accepted. §3.3 lets senders bound it; real policies are a few hundred
/// bytes.
pub const MAX_BODY: usize = 64 * 1024;
/// Most `mx` lines kept from one policy.
pub const MAX_MX: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Senders must refuse delivery to an MX that fails the policy (§5).
    Enforce,
    /// Senders deliver as usual and report failures (RFC 8460).
    Testing,
    /// The domain has withdrawn its policy (§8.3).
    None,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Testing => "testing",
            Mode::None => "none",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub mode: Mode,
    /// MX patterns: host names or `*.domain` (lower-case, no trailing dot).
    pub mx: Vec<String>,
    pub max_age: u64,
}

/// A host name or a `*.` wildcard pattern (§3.2 "mx" values): LDH labels.
pub fn valid_pattern(p: &str) -> bool {
    let host = p.strip_prefix("*.").unwrap_or(p).trim_end_matches('.');
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

impl Policy {
    /// Parses a policy body (§3.2): `key: value` lines ended by CRLF or LF. `version` must be
    /// `STSv1`; `mode`, `max_age` and (unless mode is none) at least one `mx` are required. For
    /// keys other than `mx` the first occurrence counts; unknown keys are ignored (§3.2
    /// extensions).
    pub fn parse(body: &str) -> Result<Policy, String> {
        if body.len() > MAX_BODY {
            return Err(format!("the policy is larger than {MAX_BODY} bytes"));
        }
        let (mut version, mut mode, mut max_age) = (None, None, None);
        let mut mx = Vec::new();
        for line in body.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() {
                continue;
            }
            let Some((k, v)) = line.split_once(':') else {
                return Err(format!("the policy line {line:?} has no ':'"));
            };
            let (k, v) = (k.trim(), v.trim());
            match k {
                "version" if version.is_none() => version = Some(v.to_string()),
                "mode" if mode.is_none() => {
                    mode = Some(match v {
                        "enforce" => Mode::Enforce,
                        "testing" => Mode::Testing,
                        "none" => Mode::None,
                        _ => return Err(format!("unknown policy mode {v:?}")),
                    })
                }
                "max_age" if max_age.is_none() => {
                    // §3.2: up to 10 digits, at most MAX_AGE_LIMIT.
                    let n: u64 = (v.len() <= 10 && v.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| v.parse().ok())
                        .flatten()
                        .ok_or_else(|| format!("max_age {v:?} is not a number"))?;
                    max_age = Some(n.min(MAX_AGE_LIMIT));
                }
                "mx" => {
                    if !valid_pattern(v) {
                        return Err(format!("mx {v:?} is not a host name pattern"));
                    }
                    if mx.len() < MAX_MX {
                        mx.push(v.trim_end_matches('.').to_ascii_lowercase());
                    }
                }
                _ => {}
            }
        }
        if version.as_deref() != Some("STSv1") {
            return Err("the policy's version is not STSv1".into());
        }
        let mode = mode.ok_or("the policy has no mode")?;
        let max_age = max_age.ok_or("the policy has no max_age")?;
        if mx.is_empty() && mode != Mode::None {
            return Err("the policy lists no mx".into());
        }
        Ok(Policy { mode, mx, max_age })
    }

    /// The policy as served (CRLF line ends, §3.2).
    pub fn render(&self) -> String {
        let mut s = format!("version: STSv1\r\nmode: {}\r\n", self.mode.as_str());
        for m in &self.mx {
            s.push_str(&format!("mx: {m}\r\n"));
        }
        s.push_str(&format!("max_age: {}\r\n", self.max_age));
        s
    }

    /// The `id` of the `_mta-sts` TXT record (§3.1: 1-32 alphanumeric characters, changed
    /// whenever the policy changes): the first 20 hex digits of the SHA-256 of the policy
    /// text, so it changes exactly when the text does, without any stored counter.
    pub fn id(&self) -> String {
        crate::store::hex_sha256(self.render().as_bytes())[..20].to_string()
    }

    /// The `_mta-sts` TXT value (§3.1).
    pub fn txt_value(&self) -> String {
        format!("v=STSv1; id={}", self.id())
    }

    /// §4.1: does MX host `host` match one of the policy's patterns? A `*.` pattern matches
    /// exactly one more label on the left ("*.example.com" matches "mx.example.com", not
    /// "example.com" nor "a.mx.example.com"). Case-insensitive; trailing dots ignored.
    pub fn mx_matches(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.mx.iter().any(|p| match p.strip_prefix("*.") {
            Some(suffix) => host
                .split_once('.')
                .is_some_and(|(first, rest)| !first.is_empty() && rest == suffix),
            None => *p == host,
        })
    }
}

/// The `id` of an `_mta-sts` TXT record (§3.1), or None when `txt` is not an STSv1 record.
/// `v=STSv1` must come first; fields are `;`-separated `key=value` pairs.
pub fn txt_id(txt: &str) -> Option<String> {
    let mut fields = txt.split(';').map(str::trim).filter(|f| !f.is_empty());
    let v = fields.next()?;
    if v.replace(' ', "") != "v=STSv1" {
        return None;
    }
    let id = fields.find_map(|f| {
        let (k, v) = f.split_once('=')?;
        (k.trim() == "id").then(|| v.trim().to_string())
    })?;
    (!id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_rfc_example_and_round_trips() {
        // RFC 8461 §3.2 example.
        let p = Policy::parse(
            "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\n\
             mx: backupmx.example.com\nmax_age: 604800\n",
        )
        .unwrap();
        assert_eq!(p.mode, Mode::Enforce);
        assert_eq!(p.mx.len(), 3);
        assert_eq!(p.max_age, 604_800);
        assert_eq!(Policy::parse(&p.render()).unwrap(), p);
        assert!(p.mx_matches("MAIL.example.com."));
        assert!(p.mx_matches("mx1.example.net"));
        assert!(!p.mx_matches("example.net"));
        assert!(!p.mx_matches("a.b.example.net"));
        assert!(!p.mx_matches("evil.example.org"));
    }

    #[test]
    fn refuses_broken_policies() {
        for bad in [
            "",
            "version: STSv2\nmode: enforce\nmx: a.b\nmax_age: 1\n",
            "version: STSv1\nmode: sometimes\nmx: a.b\nmax_age: 1\n",
            "version: STSv1\nmode: enforce\nmax_age: 1\n",
            "version: STSv1\nmode: enforce\nmx: a.b\n",
            "version: STSv1\nmode: enforce\nmx: a.b\nmax_age: 99999999999\n",
            "version: STSv1\nmode: enforce\nmx: a b\nmax_age: 1\n",
            "<html>",
        ] {
            assert!(Policy::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Policy::parse("version: STSv1\nmode: none\nmax_age: 86400\n")
                .unwrap()
                .mode,
            Mode::None
        );
    }

    #[test]
    fn the_id_follows_the_text_and_txt_records_parse() {
        let a = Policy {
            mode: Mode::Testing,
            mx: vec!["mail.example.org".into()],
            max_age: 604_800,
        };
        let mut b = a.clone();
        b.mode = Mode::Enforce;
        assert_ne!(a.id(), b.id());
        assert_eq!(a.id(), a.clone().id());
        assert_eq!(txt_id(&a.txt_value()), Some(a.id()));
        assert_eq!(
            txt_id("v=STSv1; id=20160831085700Z;"),
            Some("20160831085700Z".into())
        );
        assert_eq!(txt_id("v=spf1 -all"), None);
        assert_eq!(txt_id("v=STSv1; id=not-alnum"), None);
        assert_eq!(txt_id("id=abc; v=STSv1"), None);
    }
}
