//! TLS client settings for outbound SMTP (ring provider, like everything else, DESIGN.md).
//!
//! - `verified`: the web PKI roots plus an optional PEM file of extra certificates (a private
//!   relay's own certificate). Used for a smarthost, where we send credentials.
//! - `opportunistic`: encrypts without checking the certificate, for delivery to MX hosts
//!   (RFC 7435: opportunistic security beats plain text; most MX certificates would not verify
//!   against the name we looked up anyway, RFC 7672 §1.3).
//! - `recording`: for MX delivery when the certificate's verdict matters: MTA-STS (RFC 8461
//!   §4.2) refuses a bad certificate in enforce mode, and every mode notes what it found for
//!   TLS reporting (RFC 8460).

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::path::Path;
use std::sync::{Arc, Mutex};

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

pub fn verified(extra_ca: Option<&Path>) -> Result<Arc<ClientConfig>, String> {
    let roots = roots(extra_ca)?;
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The Mozilla roots plus the certificates of a PEM file.
pub fn roots(extra_ca: Option<&Path>) -> Result<Arc<rustls::RootCertStore>, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = extra_ca {
        let pem =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut n = 0;
        for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
            let cert = cert.map_err(|e| format!("{}: {e}", path.display()))?;
            roots
                .add(cert)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            n += 1;
        }
        if n == 0 {
            return Err(format!("{}: no certificate found", path.display()));
        }
    }
    Ok(Arc::new(roots))
}

/// The web PKI check of MX certificates under MTA-STS (RFC 8461 §4.2): chain to a trusted
/// root, valid now, the MX host's name on it (RFC 6125).
pub fn webpki(roots: Arc<rustls::RootCertStore>) -> Result<Arc<WebPkiServerVerifier>, String> {
    WebPkiServerVerifier::builder_with_provider(roots, provider())
        .build()
        .map_err(|e| e.to_string())
}

/// What certificate checking found on one connection (for TLS reporting, RFC 8460): unset
/// when no TLS handshake got that far, else Ok or the RFC 8460 §4.3 failure type and detail.
#[derive(Debug, Default)]
pub struct Seen(Mutex<Option<Result<(), (&'static str, String)>>>);

impl Seen {
    pub fn get(&self) -> Option<Result<(), (&'static str, String)>> {
        self.0.lock().ok().and_then(|g| g.clone())
    }
}

/// A client config for one MX connection that checks the certificate with `verifier` and
/// notes the result in `seen`. With `enforce` (an MTA-STS policy in enforce mode) a failed
/// check fails the handshake; otherwise the session goes on encrypted as before (RFC 7435
/// opportunistic TLS, MTA-STS testing mode) and the failure is only reported. Handshake
/// signatures are checked either way.
pub fn recording(
    verifier: Arc<WebPkiServerVerifier>,
    seen: Arc<Seen>,
    enforce: bool,
) -> Result<Arc<ClientConfig>, String> {
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Recording {
            inner: verifier,
            seen,
            enforce,
        }))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// RFC 8460 §4.3.1 result type of a certificate error.
fn failure_type(e: &rustls::Error) -> &'static str {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::NotValidForName | C::NotValidForNameContext { .. } => "certificate-host-mismatch",
            C::Expired
            | C::ExpiredContext { .. }
            | C::NotValidYet
            | C::NotValidYetContext { .. } => "certificate-expired",
            C::UnknownIssuer | C::BadSignature | C::Revoked => "certificate-not-trusted",
            _ => "validation-failure",
        },
        _ => "validation-failure",
    }
}

#[derive(Debug)]
struct Recording {
    inner: Arc<WebPkiServerVerifier>,
    seen: Arc<Seen>,
    enforce: bool,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let r = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        if let Ok(mut g) = self.seen.0.lock() {
            *g = Some(match &r {
                Ok(_) => Ok(()),
                Err(e) => Err((failure_type(e), e.to_string())),
            });
        }
        match r {
            Err(e) if self.enforce => Err(e),
            _ => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

pub fn opportunistic() -> Result<Arc<ClientConfig>, String> {
    let p = provider();
    let config = ClientConfig::builder_with_provider(p.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCert(p)))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Accepts any certificate but still checks the handshake signatures, so the session is
/// encrypted to whoever holds the key the server presented.
#[derive(Debug)]
struct AnyCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
