//! A minimal blocking HTTPS/1.1 client with keep-alive, trusting the server's own certificate
//! file (no "accept anything" shortcut): enough to drive JMAP from the bench.

use base64::Engine;
use rustls::pki_types::ServerName;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;

type Tls = rustls::StreamOwned<rustls::ClientConnection, TcpStream>;

pub struct Https {
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    auth: String,
    conn: Option<BufReader<Tls>>,
}

pub fn client_config(cert_pem: &Path) -> Result<Arc<rustls::ClientConfig>, String> {
    let pem = std::fs::read(cert_pem).map_err(|e| format!("{}: {e}", cert_pem.display()))?;
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut &pem[..]) {
        roots
            .add(c.map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

impl Https {
    pub fn new(
        addr: SocketAddr,
        config: Arc<rustls::ClientConfig>,
        user: &str,
        pass: &str,
    ) -> Https {
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        Https {
            addr,
            config,
            auth: format!("Basic {auth}"),
            conn: None,
        }
    }

    /// Opens a TLS connection (used directly for idle push connections).
    pub fn open(&self) -> Result<Tls, String> {
        let tcp = TcpStream::connect(self.addr).map_err(|e| e.to_string())?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
        let conn =
            rustls::ClientConnection::new(self.config.clone(), name).map_err(|e| e.to_string())?;
        Ok(rustls::StreamOwned::new(conn, tcp))
    }

    pub fn auth_header(&self) -> &str {
        &self.auth
    }

    /// Sends one request and returns (status, body). Reconnects once if the kept-alive
    /// connection was closed.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), String> {
        for attempt in 0..2 {
            if self.conn.is_none() {
                self.conn = Some(BufReader::new(self.open()?));
            }
            match self.try_request(method, path, body) {
                Ok(r) => return Ok(r),
                Err(e) if attempt == 0 => {
                    self.conn = None;
                    let _ = e;
                }
                Err(e) => return Err(e),
            }
        }
        Err("unreachable".into())
    }

    fn try_request(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>), String> {
        let conn = self.conn.as_mut().ok_or("no connection")?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            self.auth,
            body.len()
        );
        let s = conn.get_mut();
        s.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
        s.write_all(body).map_err(|e| e.to_string())?;
        s.flush().map_err(|e| e.to_string())?;
        let mut status_line = String::new();
        if conn
            .read_line(&mut status_line)
            .map_err(|e| e.to_string())?
            == 0
        {
            return Err("closed".into());
        }
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or("bad status line")?;
        let mut len = None;
        let mut chunked = false;
        loop {
            let mut h = String::new();
            conn.read_line(&mut h).map_err(|e| e.to_string())?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse::<usize>().ok();
                }
                if k.eq_ignore_ascii_case("transfer-encoding")
                    && v.to_ascii_lowercase().contains("chunked")
                {
                    chunked = true;
                }
            }
        }
        let mut out = Vec::new();
        if chunked {
            loop {
                let mut size = String::new();
                conn.read_line(&mut size).map_err(|e| e.to_string())?;
                let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                    .map_err(|e| e.to_string())?;
                let mut chunk = vec![0u8; n + 2];
                conn.read_exact(&mut chunk).map_err(|e| e.to_string())?;
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&chunk[..n]);
            }
        } else if let Some(n) = len {
            out.resize(n, 0);
            conn.read_exact(&mut out).map_err(|e| e.to_string())?;
        }
        Ok((status, out))
    }

    /// POSTs a JMAP request and returns the parsed response.
    pub fn jmap(&mut self, body: &serde_json::Value) -> Result<serde_json::Value, String> {
        let (status, bytes) = self.request("POST", "/jmap/api", body.to_string().as_bytes())?;
        if status != 200 {
            return Err(format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&bytes)
            ));
        }
        serde_json::from_slice(&bytes).map_err(|e| e.to_string())
    }
}
