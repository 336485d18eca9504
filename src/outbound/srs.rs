//! The Sender Rewriting Scheme (SRS, Shevek's "Sender Rewriting Scheme" paper, as libsrs2 and
//! postsrsd do it) for mail a Sieve `redirect` sends on (RFC 5228 §4.2 keeps the original
//! envelope sender). Without it the next hop checks the original sender's SPF (RFC 7208)
//! against our address, fails it, and may refuse or junk the message.
//!
//! - **Forward:** `user@orig.example` becomes `SRS0=HHHHHH=TT=orig.example=user@our.domain`:
//!   TT is the day (mod 1024, two base32 letters) and HHHHHH an HMAC-SHA256 over TT, the
//!   domain and the user, keyed by the server's SRS secret. A sender that already is an SRS0
//!   address of another forwarder becomes `SRS1=HHHHHH=fwd.example==HHH=TT=orig=user@our`
//!   (the first forwarder stays the one to return to); an SRS1 address keeps its first hop.
//! - **Reverse:** a bounce to such an address (port 25, null sender only) is checked (hash,
//!   at most [`MAX_AGE_DAYS`] old) and forwarded to the address it stands for, so the
//!   original sender learns of the failure; anything else to it is refused. Without the
//!   hash, our domain would relay for anyone who can guess the format.
//!
//! Letters are lower-case base32 and compared case-insensitively: some MTAs change the case
//! of local parts.

/// The secret's name in the store (`store/redb/secrets.rs`).
pub const KEY_NAME: &str = "srs";
/// A bounce may come this many days after the message was redirected (postsrsd's default).
pub const MAX_AGE_DAYS: u64 = 21;
/// The largest bounce passed on to a sender (Postfix bounces at most 50 kB of the original
/// by default): a valid SRS address must not carry arbitrary mail for three weeks.
pub const MAX_BOUNCE: usize = 256 * 1024;
/// Letters of the hash: 30 bits.
const HASH_LEN: usize = 6;
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SrsError {
    /// Not an SRS0/SRS1 address at all.
    NotSrs,
    /// The address does not parse as SRS.
    Malformed,
    /// The hash does not match: not made by us (or changed on the way).
    BadHash,
    /// Older than [`MAX_AGE_DAYS`].
    Expired,
}

impl std::fmt::Display for SrsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SrsError::NotSrs => "not an SRS address",
            SrsError::Malformed => "malformed SRS address",
            SrsError::BadHash => "SRS address not made here",
            SrsError::Expired => "SRS address expired",
        })
    }
}

/// Whether the local part of `address` is in SRS form (before any check of its hash).
pub fn looks_like(address: &str) -> bool {
    let local = address.rsplit_once('@').map_or(address, |(l, _)| l);
    let p = local.get(..5).unwrap_or_default();
    p.eq_ignore_ascii_case("srs0=") || p.eq_ignore_ascii_case("srs1=")
}

fn hash(key: &[u8], parts: &[&str]) -> String {
    let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    let mut ctx = ring::hmac::Context::with_key(&k);
    for p in parts {
        ctx.update(p.to_ascii_lowercase().as_bytes());
        // A separator no domain or local part of ours contains, so ("ab","c") != ("a","bc").
        ctx.update(&[0]);
    }
    let tag = ctx.sign();
    // 6 letters of 5 bits from the first 4 bytes (30 of their 32 bits).
    let bits = tag
        .as_ref()
        .iter()
        .take(4)
        .fold(0u32, |a, &b| (a << 8) | u32::from(b));
    (0..HASH_LEN)
        .map(|i| BASE32[((bits >> (27 - 5 * i)) & 31) as usize] as char)
        .collect()
}

fn stamp(day: u64) -> String {
    let t = (day % 1024) as usize;
    [BASE32[t >> 5] as char, BASE32[t & 31] as char]
        .iter()
        .collect()
}

fn unstamp(tt: &str) -> Option<u64> {
    let mut v = 0u64;
    let bytes = tt.as_bytes();
    if bytes.len() != 2 {
        return None;
    }
    for &c in bytes {
        let i = BASE32.iter().position(|&b| b == c.to_ascii_lowercase())?;
        v = (v << 5) | i as u64;
    }
    Some(v)
}

/// Equal in constant time for equal lengths (the hash is a secret's output).
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| {
            d | (x.to_ascii_lowercase() ^ y.to_ascii_lowercase())
        }) == 0
}

/// The envelope sender a redirect from `domain` (ours) uses for the original `sender` on
/// `day` (days since the epoch). The null sender and our own domain's senders stay as they
/// are; so does a sender without a domain.
pub fn forward(key: &[u8], sender: &str, domain: &str, day: u64) -> String {
    let Some((local, from_domain)) = sender.rsplit_once('@') else {
        return sender.to_string();
    };
    if from_domain.eq_ignore_ascii_case(domain) {
        return sender.to_string();
    }
    let prefix = local.get(..5).unwrap_or_default();
    if prefix.eq_ignore_ascii_case("srs0=") {
        // SRS0=rest@fwd -> SRS1=H=fwd==rest@ours ("=" + rest is what the hash covers).
        let rest = &local[4..];
        let h = hash(key, &[from_domain, rest]);
        return format!("SRS1={h}={from_domain}={rest}@{domain}");
    }
    if prefix.eq_ignore_ascii_case("srs1=")
        && let Some((_, tail)) = local[5..].split_once('=')
        && let Some((first_hop, rest)) = tail.split_once('=')
    {
        // SRS1=H=first==rest@fwd -> SRS1=H'=first==rest@ours: the first hop stays (`rest`
        // still starts with its "=").
        let h = hash(key, &[first_hop, rest]);
        return format!("SRS1={h}={first_hop}={rest}@{domain}");
    }
    let tt = stamp(day);
    let h = hash(key, &[&tt, from_domain, local]);
    format!("SRS0={h}={tt}={from_domain}={local}@{domain}")
}

/// The address a bounce to the SRS `address` goes to, if we made it within
/// [`MAX_AGE_DAYS`] of `day`.
pub fn reverse(key: &[u8], address: &str, day: u64) -> Result<String, SrsError> {
    if !looks_like(address) {
        return Err(SrsError::NotSrs);
    }
    let local = address.rsplit_once('@').map_or(address, |(l, _)| l);
    let srs1 = local[..5].eq_ignore_ascii_case("srs1=");
    let body = &local[5..];
    if srs1 {
        // H=first==rest -> SRS0rest@first, where rest starts with "=".
        let (h, tail) = body.split_once('=').ok_or(SrsError::Malformed)?;
        let (first_hop, rest) = tail.split_once('=').ok_or(SrsError::Malformed)?;
        if first_hop.is_empty() || !rest.starts_with('=') || rest.len() < 2 {
            return Err(SrsError::Malformed);
        }
        if !same(h, &hash(key, &[first_hop, rest])) {
            return Err(SrsError::BadHash);
        }
        return Ok(format!("SRS0{rest}@{first_hop}"));
    }
    let mut it = body.splitn(4, '=');
    let (Some(h), Some(tt), Some(domain), Some(user)) =
        (it.next(), it.next(), it.next(), it.next())
    else {
        return Err(SrsError::Malformed);
    };
    if domain.is_empty() || user.is_empty() {
        return Err(SrsError::Malformed);
    }
    let then = unstamp(tt).ok_or(SrsError::Malformed)?;
    if !same(h, &hash(key, &[tt, domain, user])) {
        return Err(SrsError::BadHash);
    }
    // Days wrap at 1024: the age is today's stamp minus the address's, modulo 1024.
    let age = (day % 1024 + 1024 - then) % 1024;
    if age > MAX_AGE_DAYS {
        return Err(SrsError::Expired);
    }
    Ok(format!("{user}@{domain}"))
}

/// The server's SRS key if it was ever made. None: this server never rewrote a sender, so
/// no SRS address is its own (checking one needs no key to be made).
pub async fn stored_key(store: &crate::store::Store) -> crate::store::Result<Option<Vec<u8>>> {
    store.read(|r| r.secret(KEY_NAME)).await
}

/// The server's SRS key, made (32 random bytes) and stored on first use.
pub async fn key(store: &crate::store::Store) -> crate::store::Result<Vec<u8>> {
    if let Some(k) = stored_key(store).await? {
        return Ok(k);
    }
    let mut fresh = vec![0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut fresh)
        .map_err(|_| crate::store::StoreError::Invalid("no randomness".into()))?;
    store
        .write(move |w| w.secret_once(KEY_NAME, || fresh.clone()))
        .await
}

/// Today, in days since the epoch (the SRS time stamp's unit).
pub fn today() -> u64 {
    u64::try_from(crate::date::now()).unwrap_or(0) / 86_400
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn round_trip_and_refusals() {
        let day = 20_000;
        let f = forward(K, "Carol@Remote.Example", "example.org", day);
        assert!(
            f.starts_with("SRS0=") && f.ends_with("=Remote.Example=Carol@example.org"),
            "{f}"
        );
        assert_eq!(reverse(K, &f, day).as_deref(), Ok("Carol@Remote.Example"));
        // Case changed on the way is fine; a bounce three weeks later still is.
        assert_eq!(
            reverse(K, &f.to_ascii_uppercase(), day + MAX_AGE_DAYS).as_deref(),
            Ok("CAROL@REMOTE.EXAMPLE")
        );
        assert_eq!(
            reverse(K, &f, day + MAX_AGE_DAYS + 1),
            Err(SrsError::Expired)
        );
        // Another key, a changed user, a forged form: refused.
        assert_eq!(reverse(b"other key", &f, day), Err(SrsError::BadHash));
        let forged = f.replace("=Carol@", "=mallory@");
        assert_eq!(reverse(K, &forged, day), Err(SrsError::BadHash));
        for bad in [
            "SRS0=abc@example.org",
            "SRS0==aa=b=c@x",
            "SRS1=x=y@z",
            "srs0=",
        ] {
            assert!(reverse(K, bad, day).is_err(), "{bad}");
        }
        assert_eq!(reverse(K, "carol@example.org", day), Err(SrsError::NotSrs));
        // Wrapping past day 1023 of the stamp.
        let w = forward(K, "a@b.example", "example.org", 1023);
        assert!(reverse(K, &w, 1024 + 5).is_ok());
    }

    #[test]
    fn not_rewritten() {
        assert_eq!(forward(K, "", "example.org", 1), "");
        assert_eq!(
            forward(K, "bob@example.org", "example.org", 1),
            "bob@example.org"
        );
        assert_eq!(forward(K, "postmaster", "example.org", 1), "postmaster");
    }

    #[test]
    fn second_forwarder_keeps_the_first_hop() {
        let first = forward(b"their key", "carol@remote.example", "fwd.example", 7);
        let ours = forward(K, &first, "example.org", 7);
        assert!(
            ours.starts_with("SRS1=") && ours.contains("=fwd.example=="),
            "{ours}"
        );
        // Reversed, it returns to the first forwarder's SRS0 address, which only it checks.
        assert_eq!(reverse(K, &ours, 7).as_deref(), Ok(first.as_str()));
        // And a third forwarder keeps the first hop too.
        let third = forward(K, &ours, "example.net", 7);
        assert!(third.contains("=fwd.example=="), "{third}");
        assert_eq!(reverse(K, &third, 7).as_deref(), Ok(first.as_str()));
    }
}
