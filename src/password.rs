//! Password hashing with argon2id.
//!
//! Parameters: m = 7 MiB, t = 5, p = 1, one of the OWASP-recommended argon2id settings. The
//! default 19 MiB costs that much resident memory per concurrent verification, which a 1 GB
//! Pi feels; callers cache successful checks so a JMAP client does not pay this per request.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

fn hasher() -> Argon2<'static> {
    let params = Params::new(7 * 1024, 5, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
        .map_err(|_| "no randomness".to_string())?;
    hasher()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub fn verify(password: &str, phc: &str) -> bool {
    // The parameters come from the stored PHC string, so older hashes keep verifying.
    hasher().verify_password(password.as_bytes(), phc).is_ok()
}

/// The most argon2 memory a stored hash may ask for (64 MiB, more than any OWASP setting), so
/// a damaged or hostile hash string cannot make a check allocate without bound.
const MAX_BLOCKS: usize = 64 * 1024;

/// [`verify`] with caller-owned argon2 memory, reused from check to check. The login door keeps
/// one such buffer per hash slot, so the allocator never sees a stream of 7 MiB allocations on
/// changing threads (glibc kept one per thread arena: ~115 MB after a burst of guesses).
pub fn verify_with(password: &str, phc: &str, memory: &mut Vec<argon2::Block>) -> bool {
    use argon2::password_hash::phc::{Output, PasswordHash};
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(hash.algorithm.as_str()),
        Params::try_from(&hash),
    ) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from) {
        None => Version::V0x13,
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let blocks = params.block_count();
    if blocks > MAX_BLOCKS {
        return false;
    }
    if memory.len() < blocks {
        memory.resize(blocks, argon2::Block::default());
    }
    let mut out = [0u8; Output::MAX_LENGTH];
    let Some(out) = out.get_mut(..expected.len()) else {
        return false;
    };
    let ok = Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password.as_bytes(), salt, out, &mut memory[..blocks])
        .is_ok();
    // Output's equality is constant-time.
    ok && Output::new(out).is_ok_and(|o| &o == expected)
}

/// A random password for generated accounts: 20 characters from an unambiguous alphabet.
pub fn generate() -> String {
    const ALPHA: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
    bytes
        .iter()
        .map(|b| ALPHA[*b as usize % ALPHA.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn round_trip() {
        let h = super::hash("secret").unwrap();
        assert!(super::verify("secret", &h));
        assert!(!super::verify("Secret", &h));
        assert!(!super::verify("secret", "garbage"));
    }

    #[test]
    fn verify_with_reused_memory_agrees() {
        let mut memory = Vec::new();
        let h = super::hash("secret").unwrap();
        assert!(super::verify_with("secret", &h, &mut memory));
        assert_eq!(memory.len(), 7 * 1024);
        assert!(!super::verify_with("Secret", &h, &mut memory));
        assert!(!super::verify_with("secret", "garbage", &mut memory));
        // A hash with the crate's default parameters (19 MiB) verifies too: memory grows.
        use argon2::password_hash::PasswordHasher;
        let default = argon2::Argon2::default()
            .hash_password_with_salt(b"other", b"0123456789abcdef")
            .unwrap()
            .to_string();
        assert!(super::verify_with("other", &default, &mut memory));
        assert!(!super::verify_with("secret", &default, &mut memory));
        // An absurd memory cost is refused, not allocated.
        let huge = default.replace("m=19456", "m=4000000");
        assert!(!super::verify_with("other", &huge, &mut memory));
    }
}
