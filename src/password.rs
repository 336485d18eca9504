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
}
