//! One certificate order (RFC 8555 §7.4): account, order, a challenge per name, finalize with
//! our own CSR, download, keep the files. Every error comes back in plain words for the admin
//! page (`plain_problem`), because "urn:ietf:params:acme:error:connection" tells a family admin
//! nothing while "the CA could not connect to mail.example.com" says what to fix.

use super::AcmeConfig;
use super::challenges::Challenges;
use super::client::Client;
use super::files;
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount,
    NewOrder, OrderStatus, Problem,
};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// How long an order may take to be validated or to produce its certificate.
const ORDER_DEADLINE: Duration = Duration::from_secs(180);

/// What an order produced: PEM chain and key, already written to `data_dir/acme/`.
pub struct Issued {
    pub cert_pem: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredAccount {
    directory: String,
    credentials: AccountCredentials,
}

/// Loads the account for this directory, or registers one (RFC 8555 §7.3) and keeps it.
async fn account(cfg: &AcmeConfig, client: &Client, data_dir: &Path) -> Result<Account, String> {
    let path = files::account_path(data_dir);
    if let Ok(bytes) = std::fs::read(&path)
        && let Ok(stored) = serde_json::from_slice::<StoredAccount>(&bytes)
        && stored.directory == cfg.directory
    {
        return Account::builder_with_http(Box::new(client.clone()))
            .from_credentials(stored.credentials)
            .await
            .map_err(|e| plain_error(&cfg.directory, "", e));
    }
    let contact: Vec<String> = cfg
        .contact
        .iter()
        .map(|c| format!("mailto:{}", c.trim_start_matches("mailto:")))
        .collect();
    let contact: Vec<&str> = contact.iter().map(String::as_str).collect();
    let (account, credentials) = Account::builder_with_http(Box::new(client.clone()))
        .create(
            &NewAccount {
                contact: &contact,
                terms_of_service_agreed: true,
                only_return_existing: false,
            },
            cfg.directory.clone(),
            None,
        )
        .await
        .map_err(|e| plain_error(&cfg.directory, "", e))?;
    let stored = StoredAccount {
        directory: cfg.directory.clone(),
        credentials,
    };
    let text = serde_json::to_vec_pretty(&stored).map_err(|e| e.to_string())?;
    files::write_atomic(&path, &text)?;
    log::info!("acme: registered an account with {}", cfg.directory);
    Ok(account)
}

/// Runs one order for `domains` to the end. The challenge answers are removed whatever happens.
pub async fn issue(
    cfg: &AcmeConfig,
    client: &Client,
    data_dir: &Path,
    challenges: &Arc<Challenges>,
    domains: &[String],
) -> Result<Issued, String> {
    files::ensure_dir(data_dir)?;
    let result = run_order(cfg, client, data_dir, challenges, domains).await;
    challenges.clear();
    result
}

async fn run_order(
    cfg: &AcmeConfig,
    client: &Client,
    data_dir: &Path,
    challenges: &Arc<Challenges>,
    domains: &[String],
) -> Result<Issued, String> {
    let account = account(cfg, client, data_dir).await?;
    let ids: Vec<Identifier> = domains.iter().map(|d| Identifier::Dns(d.clone())).collect();
    let mut order = account
        .new_order(&NewOrder::new(&ids))
        .await
        .map_err(|e| plain_error(&cfg.directory, "", e))?;
    let kind = cfg.challenge_type();
    // Put every answer in place first, then tell the CA; RFC 8555 §7.5.1.
    let mut ready = Vec::new();
    {
        let mut authorizations = order.authorizations();
        while let Some(authz) = authorizations.next().await {
            let mut authz = authz.map_err(|e| plain_error(&cfg.directory, "", e))?;
            if authz.status == AuthorizationStatus::Valid {
                continue;
            }
            let name = authz.identifier().to_string();
            let Some(mut challenge) = authz.challenge(kind.clone()) else {
                return Err(format!(
                    "the CA offers no {} challenge for {name}; set [acme] challenge to another type",
                    cfg.challenge
                ));
            };
            let key_auth = challenge.key_authorization();
            match kind {
                ChallengeType::Http01 => {
                    challenges.add_http(&challenge.token, key_auth.as_str())?
                }
                _ => challenges.add_alpn(&name, key_auth.as_str())?,
            }
            challenge
                .set_ready()
                .await
                .map_err(|e| plain_error(&cfg.directory, &name, e))?;
            ready.push(name);
        }
    }
    log::info!(
        "acme: order for {} placed, {} challenge(s) answered by {}",
        domains.join(", "),
        ready.len(),
        cfg.challenge
    );
    // Poll the order until the CA has validated every name (RFC 8555 §7.5.1, §7.1.6).
    let mut poller = Poller::new();
    let status = loop {
        let st = order
            .refresh()
            .await
            .map_err(|e| plain_error(&cfg.directory, "", e))?;
        if st.status != OrderStatus::Pending {
            break st.status;
        }
        poller.wait().await?;
    };
    if status == OrderStatus::Invalid {
        return Err(why_invalid(&mut order, &cfg.directory).await);
    }
    // Our own key and CSR (ECDSA P-256), so the key never leaves this machine.
    let key = rcgen::KeyPair::generate().map_err(|e| format!("key generation: {e}"))?;
    let mut params = rcgen::CertificateParams::new(domains.to_vec())
        .map_err(|e| format!("certificate names: {e}"))?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    let csr = params
        .serialize_request(&key)
        .map_err(|e| format!("certificate request: {e}"))?;
    if order.state().status == OrderStatus::Ready {
        order
            .finalize_csr(csr.der())
            .await
            .map_err(|e| plain_error(&cfg.directory, "", e))?;
    }
    let mut poller = Poller::new();
    let cert_pem = loop {
        if let Some(pem) = order
            .certificate()
            .await
            .map_err(|e| plain_error(&cfg.directory, "", e))?
        {
            break pem;
        }
        poller.wait().await?;
    };
    // Check before keeping: it parses and matches the key (tls::server_config's check).
    let key_pem = key.serialize_pem();
    let (certs, key_der) = crate::tls::parse_pem(cert_pem.as_bytes(), key_pem.as_bytes())?;
    crate::tls::server_config(certs, key_der)?;
    files::write_atomic(
        &files::key_path(data_dir).with_extension("new"),
        key_pem.as_bytes(),
    )?;
    files::write_atomic(&files::cert_path(data_dir), cert_pem.as_bytes())?;
    std::fs::rename(
        files::key_path(data_dir).with_extension("new"),
        files::key_path(data_dir),
    )
    .map_err(|e| format!("cannot write the key: {e}"))?;
    Ok(Issued { cert_pem })
}

/// Growing pauses (0.5 s .. 5 s) between polls, until the order deadline.
struct Poller {
    start: std::time::Instant,
    pause: Duration,
}

impl Poller {
    fn new() -> Poller {
        Poller {
            start: std::time::Instant::now(),
            pause: Duration::from_millis(500),
        }
    }

    async fn wait(&mut self) -> Result<(), String> {
        if self.start.elapsed() > ORDER_DEADLINE {
            return Err("the CA did not finish the order within 3 minutes; will try again".into());
        }
        smol::Timer::after(self.pause).await;
        self.pause = (self.pause * 2).min(Duration::from_secs(5));
        Ok(())
    }
}

/// The failed challenges of an invalid order, each in plain words.
async fn why_invalid(order: &mut instant_acme::Order, directory: &str) -> String {
    let mut reasons = Vec::new();
    let order_error = order.state().error.as_ref().map(|p| plain_problem(p, ""));
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        let Ok(authz) = authz else { continue };
        let name = authz.identifier().to_string();
        for c in &authz.challenges {
            if let Some(p) = &c.error {
                let r = plain_problem(p, &name);
                if !reasons.contains(&r) {
                    reasons.push(r);
                }
            }
        }
    }
    // The order's own error only when no challenge says more (it repeats them, without names).
    if reasons.is_empty()
        && let Some(r) = order_error
    {
        reasons.push(r);
    }
    if reasons.is_empty() {
        reasons.push(format!("{directory} refused the order without saying why"));
    }
    reasons.join("; ")
}

fn plain_error(directory: &str, name: &str, e: instant_acme::Error) -> String {
    match e {
        instant_acme::Error::Api(p) => plain_problem(&p, name),
        instant_acme::Error::Other(e) => format!("cannot talk to the CA at {directory}: {e}"),
        other => format!("ACME with {directory} failed: {other}"),
    }
}

/// RFC 8555 §6.7 problem types as an admin would want to read them; the CA's own detail follows.
pub fn plain_problem(p: &Problem, name: &str) -> String {
    let kind = p
        .r#type
        .as_deref()
        .and_then(|t| t.strip_prefix("urn:ietf:params:acme:error:"))
        .unwrap_or("");
    let detail = p.detail.as_deref().unwrap_or("no detail given");
    let subject = if name.is_empty() {
        "a name".to_string()
    } else {
        name.to_string()
    };
    // Some CAs (Pebble) file a refused connection under `unauthorized`: the detail decides.
    let refused = detail.to_ascii_lowercase().contains("connect");
    let what = match kind {
        _ if (refused && !name.is_empty()) || kind == "connection" => format!(
            "the CA could not connect to {subject} to check it: is its DNS record pointing at \
             this server, and is port 443 (TLS-ALPN-01) or 80 (HTTP-01) open to the internet? \
             `mailnook dns check` shows what DNS says"
        ),
        "unauthorized" | "incorrectResponse" => format!(
            "the CA reached {subject} but got the wrong answer: another server may be answering \
             for this name"
        ),
        "dns" => format!(
            "the CA could not look up {subject} in DNS: publish its A/AAAA record \
             (`mailnook dns check` shows what is missing)"
        ),
        "caa" => format!("a CAA record of {subject} forbids this CA"),
        "rateLimited" => "the CA's rate limit was reached; mailnook will try again later".into(),
        "rejectedIdentifier" | "malformed" if !name.is_empty() => {
            format!("the CA will not issue for {subject}")
        }
        "tls" => format!("the TLS connection the CA made to {subject} failed"),
        "accountDoesNotExist" | "unauthorizedAccount" => {
            "the CA no longer knows our account; delete acme/account.json in the data directory"
                .into()
        }
        _ => format!(
            "the CA refused ({})",
            if kind.is_empty() { "error" } else { kind }
        ),
    };
    format!("{what} (CA said: {detail})")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(kind: &str, detail: &str) -> Problem {
        serde_json::from_value(serde_json::json!({
            "type": format!("urn:ietf:params:acme:error:{kind}"),
            "detail": detail,
        }))
        .unwrap()
    }

    #[test]
    fn problems_read_as_plain_words() {
        let p = plain_problem(&problem("connection", "timeout"), "a.test");
        assert!(p.starts_with("the CA could not connect to a.test"), "{p}");
        let p = plain_problem(
            &problem("unauthorized", "Failed to connect to 127.0.0.2:443"),
            "a.test",
        );
        assert!(p.starts_with("the CA could not connect to a.test"), "{p}");
        let p = plain_problem(
            &problem("unauthorized", "wrong key authorization"),
            "a.test",
        );
        assert!(p.contains("got the wrong answer"), "{p}");
        let p = plain_problem(&problem("dns", "NXDOMAIN"), "a.test");
        assert!(p.contains("could not look up a.test"), "{p}");
        assert!(p.ends_with("(CA said: NXDOMAIN)"), "{p}");
    }
}
