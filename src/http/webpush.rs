//! Message encryption for Web Push (RFC 8291) with the aes128gcm content coding (RFC 8188),
//! used when a PushSubscription has `keys` (RFC 8620 §7.2: the server MUST encrypt then).
//!
//! Per message: a fresh ECDH P-256 key pair (the "application server" key) and a random salt;
//! the shared secret and the client's auth secret give the content key and nonce through
//! HKDF-SHA-256; the body is one record: header (salt, record size, the server public key),
//! then AES-128-GCM of the plaintext followed by the 0x02 last-record delimiter.

use ring::{aead, agreement, hkdf, rand};

struct Len(usize);

impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

fn hkdf(salt: &[u8], ikm: &[u8], info: &[&[u8]], len: usize) -> Result<Vec<u8>, String> {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, salt).extract(ikm);
    let okm = prk.expand(info, Len(len)).map_err(|_| "hkdf expand")?;
    let mut out = vec![0; len];
    okm.fill(&mut out).map_err(|_| "hkdf fill")?;
    Ok(out)
}

/// Content key and nonce from the ECDH secret (RFC 8291 §3.3-3.4, RFC 8188 §2.2-2.3).
fn key_and_nonce(
    ecdh: &[u8],
    auth: &[u8],
    ua_public: &[u8],
    as_public: &[u8],
    salt: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), String> {
    let ikm = hkdf(auth, ecdh, &[b"WebPush: info\0", ua_public, as_public], 32)?;
    let cek = hkdf(salt, &ikm, &[b"Content-Encoding: aes128gcm\0"], 16)?;
    let nonce = hkdf(salt, &ikm, &[b"Content-Encoding: nonce\0"], 12)?;
    Ok((cek, nonce))
}

/// Encrypts `plaintext` for the client keys `p256dh` (65-byte point) and `auth` (16 bytes).
pub fn encrypt(plaintext: &[u8], p256dh: &[u8], auth: &[u8]) -> Result<Vec<u8>, String> {
    let rng = rand::SystemRandom::new();
    let private = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng)
        .map_err(|_| "key generation failed")?;
    let as_public = private.compute_public_key().map_err(|_| "public key")?;
    let as_public = as_public.as_ref().to_vec();
    let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, p256dh);
    let ecdh = agreement::agree_ephemeral(private, &peer, |s| s.to_vec())
        .map_err(|_| "the subscription's p256dh key is not a valid P-256 point")?;
    let mut salt = [0u8; 16];
    rand::SecureRandom::fill(&rng, &mut salt).map_err(|_| "no randomness")?;
    let (cek, nonce) = key_and_nonce(&ecdh, auth, p256dh, &as_public, &salt)?;
    let key = aead::LessSafeKey::new(
        aead::UnboundKey::new(&aead::AES_128_GCM, &cek).map_err(|_| "content key")?,
    );
    let mut record = Vec::with_capacity(plaintext.len() + 17);
    record.extend_from_slice(plaintext);
    record.push(2);
    let nonce = aead::Nonce::try_assume_unique_for_key(&nonce).map_err(|_| "nonce")?;
    key.seal_in_place_append_tag(nonce, aead::Aad::empty(), &mut record)
        .map_err(|_| "encryption failed")?;
    let rs = u32::try_from(record.len().max(4096)).map_err(|_| "message too large")?;
    let mut out = Vec::with_capacity(16 + 4 + 1 + as_public.len() + record.len());
    out.extend_from_slice(&salt);
    out.extend_from_slice(&rs.to_be_bytes());
    out.push(as_public.len() as u8);
    out.extend_from_slice(&as_public);
    out.extend_from_slice(&record);
    Ok(out)
}

/// The user agent's side, for tests: decrypts a body made by [`encrypt`].
pub fn decrypt(
    body: &[u8],
    ua_private: agreement::EphemeralPrivateKey,
    ua_public: &[u8],
    auth: &[u8],
) -> Result<Vec<u8>, String> {
    let salt = body.get(..16).ok_or("short body")?;
    let idlen = *body.get(20).ok_or("short body")? as usize;
    let as_public = body.get(21..21 + idlen).ok_or("short body")?;
    let mut record = body.get(21 + idlen..).ok_or("short body")?.to_vec();
    let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, as_public);
    let ecdh = agreement::agree_ephemeral(ua_private, &peer, |s| s.to_vec()).map_err(|_| "ecdh")?;
    let (cek, nonce) = key_and_nonce(&ecdh, auth, ua_public, as_public, salt)?;
    let key = aead::LessSafeKey::new(
        aead::UnboundKey::new(&aead::AES_128_GCM, &cek).map_err(|_| "content key")?,
    );
    let nonce = aead::Nonce::try_assume_unique_for_key(&nonce).map_err(|_| "nonce")?;
    let plain = key
        .open_in_place(nonce, aead::Aad::empty(), &mut record)
        .map_err(|_| "decryption failed")?;
    match plain.split_last() {
        Some((2, rest)) => Ok(rest.to_vec()),
        _ => Err("no last-record delimiter".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let rng = rand::SystemRandom::new();
        let ua = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &rng).unwrap();
        let ua_public = ua.compute_public_key().unwrap().as_ref().to_vec();
        let auth = [7u8; 16];
        let body = encrypt(b"{\"@type\":\"StateChange\"}", &ua_public, &auth).unwrap();
        assert_eq!(&body[16..20], &4096u32.to_be_bytes());
        assert_eq!(body[20], 65);
        assert_eq!(
            decrypt(&body, ua, &ua_public, &auth).unwrap(),
            b"{\"@type\":\"StateChange\"}"
        );
        assert!(
            encrypt(b"x", &[4u8; 65], &auth).is_err(),
            "not a curve point"
        );
    }
}
