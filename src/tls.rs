//! TLS for HTTPS and SMTP STARTTLS (DESIGN.md "TLS").
//!
//! On first start rcgen makes a self-signed certificate whose SANs are the configured hostname,
//! localhost, 127.0.0.1 and ::1; it is written to the data directory with mode 0600 and reused
//! on every later start. A configured cert/key pair replaces it. The ring provider is named
//! explicitly: rustls would refuse to guess when another crate enables a second provider.

use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

pub struct TlsInfo {
    /// SHA-256 of the leaf certificate (DER), as colon-separated hex.
    pub fingerprint: String,
    pub cert_path: PathBuf,
    pub generated: bool,
}

/// The live TLS configuration; replaceable at run time (a new certificate without restart).
#[derive(Clone)]
pub struct Tls {
    current: Arc<RwLock<Arc<ServerConfig>>>,
    info: Arc<RwLock<Arc<TlsInfo>>>,
}

impl Tls {
    /// Loads the configured pair, or the generated pair from `data_dir`, generating it first if
    /// it does not exist yet.
    pub fn load(
        data_dir: &Path,
        hostname: &str,
        cert: Option<&Path>,
        key: Option<&Path>,
    ) -> Result<Tls, String> {
        let (cert_path, key_path, generated) = match (cert, key) {
            (Some(c), Some(k)) => (c.to_path_buf(), k.to_path_buf(), false),
            _ => {
                let c = data_dir.join("tls-cert.pem");
                let k = data_dir.join("tls-key.pem");
                if !c.exists() || !k.exists() {
                    generate(hostname, &c, &k)?;
                }
                (c, k, true)
            }
        };
        let (config, fingerprint) = build(&cert_path, &key_path)?;
        let info = TlsInfo {
            fingerprint,
            cert_path,
            generated,
        };
        Ok(Tls {
            current: Arc::new(RwLock::new(config)),
            info: Arc::new(RwLock::new(Arc::new(info))),
        })
    }

    pub fn config(&self) -> Arc<ServerConfig> {
        match self.current.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    pub fn info(&self) -> Arc<TlsInfo> {
        match self.info.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Switches to another certificate; connections already open keep the old one.
    pub fn replace(&self, cert_path: &Path, key_path: &Path) -> Result<(), String> {
        let (config, fingerprint) = build(cert_path, key_path)?;
        let info = TlsInfo {
            fingerprint,
            cert_path: cert_path.to_path_buf(),
            generated: false,
        };
        if let Ok(mut c) = self.current.write() {
            *c = config;
        }
        if let Ok(mut i) = self.info.write() {
            *i = Arc::new(info);
        }
        Ok(())
    }
}

fn generate(hostname: &str, cert_path: &Path, key_path: &Path) -> Result<(), String> {
    let mut names = vec![hostname.to_string()];
    for n in ["localhost", "127.0.0.1", "::1"] {
        if !names.iter().any(|x| x == n) {
            names.push(n.to_string());
        }
    }
    let mut params =
        rcgen::CertificateParams::new(names).map_err(|e| format!("certificate names: {e}"))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, hostname);
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "mailnook (self-signed)");
    let key = rcgen::KeyPair::generate().map_err(|e| format!("key generation: {e}"))?;
    let cert = params
        .self_signed(&key)
        .map_err(|e| format!("self-signing: {e}"))?;
    write_private(key_path, key.serialize_pem().as_bytes())?;
    write_private(cert_path, cert.pem().as_bytes())?;
    Ok(())
}

/// Writes a file readable by its owner only (the key must never be world-readable).
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub fn parse_pem(
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
    let certs: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut &cert_pem[..])
        .collect::<Result<_, _>>()
        .map_err(|e| format!("certificate PEM: {e}"))?;
    if certs.is_empty() {
        return Err("no certificate found in the PEM".into());
    }
    let key = rustls_pemfile::private_key(&mut &key_pem[..])
        .map_err(|e| format!("key PEM: {e}"))?
        .ok_or("no private key found in the PEM")?;
    Ok((certs, key))
}

fn build(cert_path: &Path, key_path: &Path) -> Result<(Arc<ServerConfig>, String), String> {
    let cert_pem = std::fs::read(cert_path)
        .map_err(|e| format!("cannot read {}: {e}", cert_path.display()))?;
    let key_pem =
        std::fs::read(key_path).map_err(|e| format!("cannot read {}: {e}", key_path.display()))?;
    let (certs, key) = parse_pem(&cert_pem, &key_pem)?;
    let config = server_config(certs.clone(), key)?;
    Ok((config, fingerprint(&certs[0])))
}

pub fn server_config(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("certificate and key do not match: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, cert.as_ref());
    d.as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}
