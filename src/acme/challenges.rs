//! The answers to ACME challenges while an order is open, shared by the issuer (which puts them
//! here) and the listeners that give them out:
//!
//! - TLS-ALPN-01 (RFC 8737 §3): a validator connects to the HTTPS port offering only the ALPN
//!   protocol `acme-tls/1` with the name being validated as SNI; it must get a self-signed
//!   certificate for that name carrying the critical `id-pe-acmeIdentifier` extension with the
//!   SHA-256 of the key authorization. [`Resolver`] is the rustls certificate resolver of every
//!   TLS listener: such a hello gets the challenge certificate, anything else the live one.
//!   The HTTPS connection layer closes an `acme-tls/1` connection right after the handshake
//!   (RFC 8737 §4: no application data).
//! - HTTP-01 (RFC 8555 §8.3): `GET /.well-known/acme-challenge/TOKEN` on port 80 answers the key
//!   authorization (`http/plain.rs`).
//!
//! Entries live only while the order is being validated; the issuer removes them after.

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The ALPN protocol name of TLS-ALPN-01 (RFC 8737 §6.2).
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// At most this many challenges at once (one order covers a handful of names); a bound on what
/// a misbehaving CA could make us hold.
const MAX_ENTRIES: usize = 100;

#[derive(Default, Debug)]
pub struct Challenges {
    /// HTTP-01: token -> key authorization.
    http: RwLock<HashMap<String, String>>,
    /// TLS-ALPN-01: lower-case domain -> challenge certificate.
    alpn: RwLock<HashMap<String, Arc<CertifiedKey>>>,
}

impl Challenges {
    pub fn add_http(&self, token: &str, key_authorization: &str) -> Result<(), String> {
        let mut m = self.http.write().map_err(|_| "challenge table poisoned")?;
        if m.len() >= MAX_ENTRIES {
            return Err("too many open challenges".into());
        }
        m.insert(token.to_string(), key_authorization.to_string());
        Ok(())
    }

    pub fn http(&self, token: &str) -> Option<String> {
        self.http.read().ok()?.get(token).cloned()
    }

    /// Makes and holds the TLS-ALPN-01 certificate for `domain` (RFC 8737 §3).
    pub fn add_alpn(&self, domain: &str, key_authorization: &str) -> Result<(), String> {
        let cert = challenge_cert(domain, key_authorization)?;
        let mut m = self.alpn.write().map_err(|_| "challenge table poisoned")?;
        if m.len() >= MAX_ENTRIES {
            return Err("too many open challenges".into());
        }
        m.insert(domain.to_ascii_lowercase(), Arc::new(cert));
        Ok(())
    }

    fn alpn(&self, domain: &str) -> Option<Arc<CertifiedKey>> {
        self.alpn
            .read()
            .ok()?
            .get(&domain.to_ascii_lowercase())
            .cloned()
    }

    /// Forgets every entry (the order is over, whatever its outcome).
    pub fn clear(&self) {
        if let Ok(mut m) = self.http.write() {
            m.clear();
        }
        if let Ok(mut m) = self.alpn.write() {
            m.clear();
        }
    }
}

/// A self-signed certificate for `domain` only, with the acmeIdentifier extension holding
/// SHA-256(key authorization), marked critical (RFC 8737 §3).
fn challenge_cert(domain: &str, key_authorization: &str) -> Result<CertifiedKey, String> {
    let digest = ring::digest::digest(&ring::digest::SHA256, key_authorization.as_bytes());
    let mut params = rcgen::CertificateParams::new(vec![domain.to_string()])
        .map_err(|e| format!("challenge certificate for {domain}: {e}"))?;
    params
        .custom_extensions
        .push(rcgen::CustomExtension::new_acme_identifier(digest.as_ref()));
    let key = rcgen::KeyPair::generate().map_err(|e| format!("key generation: {e}"))?;
    let cert = params
        .self_signed(&key)
        .map_err(|e| format!("challenge certificate: {e}"))?;
    let der = CertificateDer::from(cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    // Not `CertifiedKey::from_der`: its key check parses the certificate with webpki, which
    // (rightly, for a real certificate) refuses the critical acmeIdentifier extension.
    let provider = rustls::crypto::ring::default_provider();
    let signer = provider
        .key_provider
        .load_private_key(key)
        .map_err(|e| e.to_string())?;
    Ok(CertifiedKey::new(vec![der], signer))
}

/// The certificate resolver of the TLS listeners: the live certificate, or a TLS-ALPN-01
/// challenge certificate for a hello that offers `acme-tls/1`.
#[derive(Debug)]
pub struct Resolver {
    pub live: Arc<CertifiedKey>,
    pub challenges: Arc<Challenges>,
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let acme = hello
            .alpn()
            .map(|mut protocols| protocols.any(|p| p == ACME_TLS_ALPN))
            .unwrap_or(false);
        if !acme {
            return Some(self.live.clone());
        }
        // RFC 8737 §3: a validation hello carries the name in SNI; no entry -> no certificate,
        // so the handshake fails as the CA expects for a name we are not validating.
        hello.server_name().and_then(|n| self.challenges.alpn(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_challenge_certificate_is_made_and_found_by_name() {
        let c = Challenges::default();
        c.add_alpn("Mail.Example.org", "token.thumbprint").unwrap();
        assert!(c.alpn("mail.example.org").is_some());
        assert!(c.alpn("other.example.org").is_none());
        c.clear();
        assert!(c.alpn("mail.example.org").is_none());
    }
}
