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
        Ok(Fetcher {
            tls: crate::https_client::connector((*roots).clone())?,
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
        let authority = if self.port == 443 {
            host.clone()
        } else {
            format!("{host}:{}", self.port)
        };
        let req = http::Request::get("/.well-known/mta-sts.txt")
            .header(http::header::HOST, authority)
            .header(
                http::header::USER_AGENT,
                concat!("mailnook/", env!("CARGO_PKG_VERSION")),
            )
            .body(http_body_util::Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        let (rsp, body) =
            crate::https_client::send(&self.tls, tcp, &host, &host, req, MAX_BODY).await?;
        if rsp.status != http::StatusCode::OK {
            // §3.3: "HTTP 3xx redirects MUST NOT be followed"; anything but 200 is no policy.
            return Err(format!("{host} answered HTTP {}", rsp.status.as_u16()));
        }
        let ctype = rsp
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !ctype.starts_with("text/plain") {
            return Err(format!(
                "{host} served the policy as {ctype:?}, not text/plain"
            ));
        }
        String::from_utf8(body.to_vec()).map_err(|_| format!("{host}: the policy is not UTF-8"))
    }
}
