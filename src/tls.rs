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

/// Where the live certificate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Made by rcgen on first start (self-signed).
    Generated,
    /// `tls_cert`/`tls_key` in the config file.
    Config,
    /// Installed at run time from the admin page (recorded in the data directory).
    Installed,
    /// Obtained from an ACME CA (`src/acme/`), kept in `data_dir/acme/`.
    Acme,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Generated => "generated",
            Source::Config => "config",
            Source::Installed => "installed",
            Source::Acme => "acme",
        }
    }
}

/// What the admin page and the start-up banner show about the live certificate.
pub struct TlsInfo {
    /// SHA-256 of the leaf certificate (DER), as colon-separated hex.
    pub fingerprint: String,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    pub generated: bool,
    pub source: Source,
    /// Subject and issuer distinguished names, RFC 4514 text.
    pub subject: String,
    pub issuer: String,
    /// Subject alternative names (DNS names and IP addresses), RFC 5280 §4.2.1.6.
    pub names: Vec<String>,
    /// Validity (seconds since the epoch), RFC 5280 §4.1.2.5.
    pub not_before: i64,
    pub not_after: i64,
}

/// The record of a certificate installed at run time: which files to load on the next start.
const INSTALLED_RECORD: &str = "tls-installed.json";
const INSTALLED_CERT: &str = "tls-installed-cert.pem";
const INSTALLED_KEY: &str = "tls-installed-key.pem";

#[derive(serde::Serialize, serde::Deserialize)]
struct InstalledRecord {
    cert: PathBuf,
    key: PathBuf,
}

/// The live TLS configuration; replaceable at run time (a new certificate without restart).
#[derive(Clone)]
pub struct Tls {
    current: Arc<RwLock<Arc<ServerConfig>>>,
    info: Arc<RwLock<Arc<TlsInfo>>>,
    /// Open ACME challenges answered by the certificate resolver (TLS-ALPN-01, RFC 8737) and
    /// the port-80 listener (HTTP-01); see `acme/challenges.rs`.
    challenges: Arc<crate::acme::challenges::Challenges>,
}

impl Tls {
    /// Loads, in this order of precedence: the pair named in the config file, a pair installed
    /// from the admin page (recorded in `data_dir`), or the generated pair from `data_dir`,
    /// generating it first if it does not exist yet.
    pub fn load(
        data_dir: &Path,
        hostname: &str,
        cert: Option<&Path>,
        key: Option<&Path>,
    ) -> Result<Tls, String> {
        if let (Some(c), Some(k)) = (cert, key) {
            return Tls::from_files(c, k, Source::Config);
        }
        // An installed pair that went missing (a moved certbot directory) must not keep the
        // server, and so the admin page to fix it, from starting: fall back loudly.
        match read_record(data_dir).and_then(|r| match r {
            Some(r) => Tls::from_files(&r.cert, &r.key, Source::Installed).map(Some),
            None => Ok(None),
        }) {
            Ok(Some(tls)) => return Ok(tls),
            Ok(None) => {}
            Err(e) => log::error!(
                "tls: the installed certificate cannot be used ({e}); using the generated one"
            ),
        }
        let c = data_dir.join("tls-cert.pem");
        let k = data_dir.join("tls-key.pem");
        if !c.exists() || !k.exists() {
            generate(hostname, &c, &k)?;
        }
        Tls::from_files(&c, &k, Source::Generated)
    }

    fn from_files(cert_path: &Path, key_path: &Path, source: Source) -> Result<Tls, String> {
        let challenges = Arc::default();
        let (config, info) = build(cert_path, key_path, source, &challenges)?;
        Ok(Tls {
            current: Arc::new(RwLock::new(config)),
            info: Arc::new(RwLock::new(Arc::new(info))),
            challenges,
        })
    }

    pub fn challenges(&self) -> Arc<crate::acme::challenges::Challenges> {
        self.challenges.clone()
    }

    /// Switches to a certificate obtained by ACME (`acme/issue.rs`), like a manual install:
    /// every new HTTPS connection and STARTTLS takes it at once.
    pub fn use_acme(&self, cert_path: &Path, key_path: &Path) -> Result<Arc<TlsInfo>, String> {
        self.switch(cert_path, key_path, Source::Acme)
    }

    pub fn config(&self) -> Arc<ServerConfig> {
        match self.current.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// The configuration for the mail protocols' STARTTLS (SMTP, submission, ManageSieve):
    /// the same certificate without the HTTPS listener's ALPN names. With `http/1.1` and
    /// `acme-tls/1` offered, rustls refuses a mail client that offers some other ALPN name
    /// (e.g. "smtp" or "managesieve") with no_application_protocol (RFC 7301 §3.2 lets a
    /// server without ALPN ignore the extension instead).
    pub fn mail_config(&self) -> Arc<ServerConfig> {
        let mut c = (*self.config()).clone();
        c.alpn_protocols.clear();
        Arc::new(c)
    }

    pub fn info(&self) -> Arc<TlsInfo> {
        match self.info.read() {
            Ok(c) => c.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Switches to another certificate; connections already open keep the old one. Every new
    /// HTTPS connection and every SMTP STARTTLS takes `config()` afresh, so this needs no restart.
    pub fn replace(&self, cert_path: &Path, key_path: &Path) -> Result<(), String> {
        self.switch(cert_path, key_path, Source::Config).map(|_| ())
    }

    fn switch(
        &self,
        cert_path: &Path,
        key_path: &Path,
        source: Source,
    ) -> Result<Arc<TlsInfo>, String> {
        let (config, info) = build(cert_path, key_path, source, &self.challenges)?;
        let info = Arc::new(info);
        if let Ok(mut c) = self.current.write() {
            *c = config;
        }
        if let Ok(mut i) = self.info.write() {
            *i = info.clone();
        }
        Ok(info)
    }

    /// Installs a certificate chain and key given as PEM text: checks them (they parse, the key
    /// matches, the certificate is valid now), copies them into `data_dir` (mode 0600), switches
    /// to them and records them so the next start uses them too. Nothing changes on error.
    pub fn install_pem(
        &self,
        data_dir: &Path,
        cert_pem: &[u8],
        key_pem: &[u8],
    ) -> Result<Arc<TlsInfo>, String> {
        check(cert_pem, key_pem)?;
        let (c, k) = (data_dir.join(INSTALLED_CERT), data_dir.join(INSTALLED_KEY));
        write_private(&c, cert_pem)?;
        write_private(&k, key_pem)?;
        self.install_paths(data_dir, &c, &k)
    }

    /// Installs a certificate chain and key that stay where they are (e.g. a certbot
    /// `fullchain.pem` and `privkey.pem`): checked as in [`Tls::install_pem`], then recorded by
    /// path, so a renewed pair at the same paths is picked up by the next install or start.
    pub fn install_paths(
        &self,
        data_dir: &Path,
        cert_path: &Path,
        key_path: &Path,
    ) -> Result<Arc<TlsInfo>, String> {
        if !cert_path.is_absolute() || !key_path.is_absolute() {
            return Err("certificate and key paths must be absolute".into());
        }
        let cert_pem = std::fs::read(cert_path)
            .map_err(|e| format!("cannot read {}: {e}", cert_path.display()))?;
        let key_pem = std::fs::read(key_path)
            .map_err(|e| format!("cannot read {}: {e}", key_path.display()))?;
        check(&cert_pem, &key_pem)?;
        let record = InstalledRecord {
            cert: cert_path.to_path_buf(),
            key: key_path.to_path_buf(),
        };
        let text = serde_json::to_vec_pretty(&record).map_err(|e| e.to_string())?;
        let info = self.switch(cert_path, key_path, Source::Installed)?;
        write_private(&data_dir.join(INSTALLED_RECORD), &text)?;
        Ok(info)
    }
}

fn read_record(data_dir: &Path) -> Result<Option<InstalledRecord>, String> {
    let p = data_dir.join(INSTALLED_RECORD);
    match std::fs::read(&p) {
        Ok(b) => serde_json::from_slice(&b).map(Some).map_err(|e| {
            format!(
                "{}: {e} (delete it to go back to the generated certificate)",
                p.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", p.display())),
    }
}

/// Everything an install checks before touching anything: the PEM parses, the key matches the
/// certificate, and the leaf certificate is valid right now.
fn check(cert_pem: &[u8], key_pem: &[u8]) -> Result<(), String> {
    let (certs, key) = parse_pem(cert_pem, key_pem)?;
    let info = describe(&certs[0])?;
    let now = crate::date::now();
    if info.not_after < now {
        return Err(format!(
            "the certificate expired on {}",
            crate::date::rfc3339(info.not_after)
        ));
    }
    if info.not_before > now {
        return Err(format!(
            "the certificate is not valid before {}",
            crate::date::rfc3339(info.not_before)
        ));
    }
    server_config(certs, key).map(|_| ())
}

/// The parts of a leaf certificate the admin page shows.
pub struct CertFacts {
    pub subject: String,
    pub issuer: String,
    pub names: Vec<String>,
    pub not_before: i64,
    pub not_after: i64,
}

pub fn describe(cert: &CertificateDer<'_>) -> Result<CertFacts, String> {
    use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
    let (_, x) = X509Certificate::from_der(cert.as_ref())
        .map_err(|e| format!("the certificate cannot be parsed: {e}"))?;
    let mut names = Vec::new();
    if let Ok(Some(san)) = x.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(d) => names.push((*d).to_string()),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => names.push(
                        std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*b).unwrap_or_default())
                            .to_string(),
                    ),
                    16 => names.push(
                        std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*b).unwrap_or_default())
                            .to_string(),
                    ),
                    _ => {}
                },
                _ => {}
            }
        }
    }
    Ok(CertFacts {
        subject: x.subject().to_string(),
        issuer: x.issuer().to_string(),
        names,
        not_before: x.validity().not_before.timestamp(),
        not_after: x.validity().not_after.timestamp(),
    })
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

fn build(
    cert_path: &Path,
    key_path: &Path,
    source: Source,
    challenges: &Arc<crate::acme::challenges::Challenges>,
) -> Result<(Arc<ServerConfig>, TlsInfo), String> {
    let cert_pem = std::fs::read(cert_path)
        .map_err(|e| format!("cannot read {}: {e}", cert_path.display()))?;
    let key_pem =
        std::fs::read(key_path).map_err(|e| format!("cannot read {}: {e}", key_path.display()))?;
    let (certs, key) = parse_pem(&cert_pem, &key_pem)?;
    let facts = describe(&certs[0])?;
    let fingerprint = fingerprint(&certs[0]);
    let config = server_config_with(certs, key, challenges)?;
    let info = TlsInfo {
        fingerprint,
        cert_path: cert_path.to_path_buf(),
        key_path: key_path.to_path_buf(),
        generated: source == Source::Generated,
        source,
        subject: facts.subject,
        issuer: facts.issuer,
        names: facts.names,
        not_before: facts.not_before,
        not_after: facts.not_after,
    };
    Ok((config, info))
}

/// The rustls configuration of every TLS listener. The certificate is served through
/// `acme::challenges::Resolver`, which answers TLS-ALPN-01 validation hellos (RFC 8737) with the
/// open challenge's certificate and everything else with `certs`.
pub fn server_config(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, String> {
    server_config_with(certs, key, &Arc::default())
}

/// [`server_config`] answering the ACME challenges in `challenges`.
pub fn server_config_with(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    challenges: &Arc<crate::acme::challenges::Challenges>,
) -> Result<Arc<ServerConfig>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let live = rustls::sign::CertifiedKey::from_der(certs, key, &provider)
        .map_err(|e| format!("certificate and key do not match: {e}"))?;
    let resolver = crate::acme::challenges::Resolver {
        live: Arc::new(live),
        challenges: challenges.clone(),
    };
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(resolver));
    // Both HTTP/1 names (IANA ALPN registry): an HTTP/1.0 client that offers only
    // "http/1.0" (curl --http1.0) is otherwise refused in the handshake (no_application_protocol).
    // `acme-tls/1` last: chosen only when a validator offers it alone (RFC 8737 §6.2).
    config.alpn_protocols = vec![
        b"http/1.1".to_vec(),
        b"http/1.0".to_vec(),
        crate::acme::challenges::ACME_TLS_ALPN.to_vec(),
    ];
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
