//! Fetching a remote domain's MTA-STS policy (RFC 8461 §3.3): `GET
//! https://mta-sts.<domain>/.well-known/mta-sts.txt` with the certificate checked against the
//! Mozilla roots (plus `[mta_sts] ca_file`) for the name `mta-sts.<domain>`.
//!
//! The host is named by a remote party, so the connection goes through the SSRF gate
//! (`net_guard`: resolved once, public addresses only, connected to the checked address). §3.3:
//! no redirects (a 3xx is a failed fetch), only 200 with `text/plain` counts, the body is
//! bounded (`mta_sts::policy::MAX_BODY`) and the whole exchange by `[fetch] timeout_secs`.

use crate::mta_sts::policy::MAX_BODY;
use crate::net_guard::NetGuard;
use bytes::Bytes;
use futures_lite::FutureExt;
use http_body_util::BodyExt;
use std::sync::Arc;

pub struct Fetcher {
    tls: futures_rustls::TlsConnector,
    guard: Arc<NetGuard>,
    port: u16,
}

impl Fetcher {
    pub fn new(
        roots: Arc<rustls::RootCertStore>,
        guard: Arc<NetGuard>,
        port: u16,
    ) -> Result<Fetcher, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Fetcher {
            tls: futures_rustls::TlsConnector::from(Arc::new(config)),
            guard,
            port,
        })
    }

    /// The policy body of `domain`, or why it could not be had.
    pub async fn fetch(&self, domain: &str) -> Result<String, String> {
        let limit = self.guard.timeout;
        let timeout = async {
            smol::Timer::after(limit).await;
            Err(format!("no answer within {} s", limit.as_secs()))
        };
        self.exchange(domain).or(timeout).await
    }

    async fn exchange(&self, domain: &str) -> Result<String, String> {
        let host = format!("mta-sts.{}", domain.trim_end_matches('.'));
        let target = self
            .guard
            .check_host(&url::Host::Domain(host.as_str()), self.port)
            .await
            .map_err(|e| e.to_string())?;
        let tcp = self.guard.connect(&target).await?;
        let name = rustls::pki_types::ServerName::try_from(host.clone())
            .map_err(|e| format!("{host}: {e}"))?;
        let tls = self
            .tls
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS with {host}: {e}"))?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(smol_hyper::rt::FuturesIo::new(tls))
                .await
                .map_err(|e| format!("{host}: {e}"))?;
        let driver = smol::spawn(async move {
            let _ = conn.await;
        });
        let authority = if self.port == 443 {
            host.clone()
        } else {
            format!("{host}:{}", self.port)
        };
        let req = http::Request::get("/.well-known/mta-sts.txt")
            .header(http::header::HOST, authority)
            .header(http::header::CONNECTION, "close")
            .header(
                http::header::USER_AGENT,
                concat!("mailnook/", env!("CARGO_PKG_VERSION")),
            )
            .body(http_body_util::Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        let rsp = sender
            .send_request(req)
            .await
            .map_err(|e| format!("{host}: {e}"))?;
        let status = rsp.status();
        if status != http::StatusCode::OK {
            // §3.3: "HTTP 3xx redirects MUST NOT be followed"; anything but 200 is no policy.
            drop(driver);
            return Err(format!("{host} answered HTTP {}", status.as_u16()));
        }
        let ctype = rsp
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !ctype.starts_with("text/plain") {
            drop(driver);
            return Err(format!(
                "{host} served the policy as {ctype:?}, not text/plain"
            ));
        }
        let body = http_body_util::Limited::new(rsp.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| format!("{host}: {e}"))?
            .to_bytes();
        drop(driver);
        String::from_utf8(body.to_vec()).map_err(|_| format!("{host}: the policy is not UTF-8"))
    }
}
