//! VAPID (RFC 8292): the server's own identity towards browser push services, so the webmail
//! can ask a browser for a push subscription (its `applicationServerKey` is our public key)
//! and every push we send carries `Authorization: vapid t=<JWT>, k=<key>` (§3). The P-256 key
//! is made once and kept in the data dir (`vapid-key.p8`, mode 0600); tokens are ES256 JWTs
//! (RFC 7515/7519) for the push service's origin, valid 12 hours (§2: at most 24).

use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use std::path::Path;

const FILE: &str = "vapid-key.p8";
const VALID_SECS: u64 = 12 * 3600;

pub struct Vapid {
    key: EcdsaKeyPair,
    rng: SystemRandom,
    /// "mailto:postmaster@<hostname>": who the push service can write to (§2.1).
    subject: String,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl Vapid {
    /// Loads the key from the data dir, or makes and saves one.
    pub fn load_or_create(data_dir: &Path, hostname: &str) -> Result<Vapid, String> {
        let path = data_dir.join(FILE);
        let rng = SystemRandom::new();
        let pkcs8 = match std::fs::read(&path) {
            Ok(b) => b,
            Err(_) => {
                let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(|_| "cannot generate the VAPID key")?;
                write_private(&path, doc.as_ref())?;
                doc.as_ref().to_vec()
            }
        };
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &rng)
            .map_err(|e| format!("{}: not a P-256 key: {e}", path.display()))?;
        Ok(Vapid {
            key,
            rng,
            subject: format!("mailto:postmaster@{hostname}"),
        })
    }

    /// The uncompressed public key, base64url: the browser's `applicationServerKey`.
    pub fn public_key(&self) -> String {
        b64(self.key.public_key().as_ref())
    }

    /// The `Authorization` header value for a push to `url` (RFC 8292 §3).
    pub fn authorization(&self, url: &str, now: u64) -> Option<String> {
        let u = url::Url::parse(url).ok()?;
        let aud = u.origin().ascii_serialization();
        let head = b64(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({"aud": aud, "exp": now + VALID_SECS, "sub": self.subject});
        let signing_input = format!("{head}.{}", b64(claims.to_string().as_bytes()));
        let sig = self.key.sign(&self.rng, signing_input.as_bytes()).ok()?;
        Some(format!(
            "vapid t={signing_input}.{}, k={}",
            b64(sig.as_ref()),
            self.public_key()
        ))
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

    #[test]
    fn tokens_verify_with_the_published_key_and_name_the_origin() {
        let dir = tempfile::tempdir().unwrap();
        let v = Vapid::load_or_create(dir.path(), "mail.example.org").unwrap();
        let again = Vapid::load_or_create(dir.path(), "mail.example.org").unwrap();
        assert_eq!(v.public_key(), again.public_key(), "the key is kept");
        let h = v
            .authorization("https://push.example.net:8443/p/abc", 1000)
            .unwrap();
        let t = h
            .strip_prefix("vapid t=")
            .unwrap()
            .split(", k=")
            .next()
            .unwrap();
        let (input, sig) = t.rsplit_once('.').unwrap();
        let dec = |s: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(s)
                .unwrap()
        };
        let pk = dec(&v.public_key());
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &pk)
            .verify(input.as_bytes(), &dec(sig))
            .expect("signature verifies");
        let claims: serde_json::Value =
            serde_json::from_slice(&dec(input.split('.').nth(1).unwrap())).unwrap();
        assert_eq!(claims["aud"], "https://push.example.net:8443");
        assert_eq!(claims["exp"], 1000 + VALID_SECS);
        assert_eq!(claims["sub"], "mailto:postmaster@mail.example.org");
    }
}
