//! PKCE (RFC 7636): the app sends `BASE64URL(SHA256(verifier))` with the authorization request
//! and the verifier with the code; only the app that made the request knows the verifier.

use base64::Engine;

/// Whether `c` can be an S256 challenge: 32 bytes in base64url without padding (§4.2).
pub fn valid_challenge(c: &str) -> bool {
    c.len() == 43
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `v` is a well-formed verifier: 43 to 128 unreserved characters (§4.1).
pub fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// The S256 challenge of a verifier (§4.2).
pub fn challenge(verifier: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d.as_ref())
}

/// Checks a verifier against the challenge of the request (§4.6), in constant time.
pub fn verify(verifier: &str, challenge_sent: &str) -> bool {
    let c = challenge(verifier);
    valid_verifier(verifier)
        && c.len() == challenge_sent.len()
        && c.bytes()
            .zip(challenge_sent.bytes())
            .fold(0u8, |d, (x, y)| d | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    /// The expected challenge was computed with Python's hashlib and base64 (urlsafe, no
    /// padding).
    #[test]
    fn s256_matches_an_independent_implementation() {
        let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFw6wRk";
        assert_eq!(
            super::challenge(v),
            "3oTST4kjM2K8PYLVHJ6txNsIZeAxO0N1Hhx9s-fh7ZY"
        );
        assert!(super::verify(
            v,
            "3oTST4kjM2K8PYLVHJ6txNsIZeAxO0N1Hhx9s-fh7ZY"
        ));
        assert!(!super::verify(
            &v[1..],
            "3oTST4kjM2K8PYLVHJ6txNsIZeAxO0N1Hhx9s-fh7ZY"
        ));
        assert!(super::valid_challenge(
            "3oTST4kjM2K8PYLVHJ6txNsIZeAxO0N1Hhx9s-fh7ZY"
        ));
        assert!(!super::valid_challenge(v.trim_end_matches('k')));
        assert!(!super::valid_verifier("short"));
    }
}
