//! Account administration: the one implementation behind `mailnook user ...`, the control
//! socket and (later) the admin page, so every path behaves the same.

use crate::store::model::{Account, AccountId};
use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};

/// A request to change accounts. Passwords travel as argon2 hashes, never in clear.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Command {
    Add {
        address: String,
        password_hash: String,
        admin: bool,
    },
    List,
    Passwd {
        address: String,
        password_hash: String,
    },
    Del {
        address: String,
    },
    /// Receive mail for a domain (`mailnook domain add`).
    DomainAdd {
        domain: String,
    },
    DomainDel {
        domain: String,
    },
    DomainList,
    /// Deliver `address` (or `@domain`, the catch-all) to these accounts' addresses.
    AliasAdd {
        address: String,
        targets: Vec<String>,
    },
    /// Remove one target, or the whole alias when `target` is None.
    AliasDel {
        address: String,
        target: Option<String>,
    },
    AliasList,
    /// Store an app password for the account (`app_passwords.rs`); the caller drew it with
    /// `app_passwords::generate` and shows it once: only its id and hash travel.
    AppPasswordAdd {
        address: String,
        name: String,
        id: String,
        password_hash: String,
    },
    AppPasswordList {
        address: String,
    },
    /// Revoke by id or by name.
    AppPasswordDel {
        address: String,
        which: String,
    },
    /// Store a Bearer token for the account (a personal access token for scripts,
    /// `tokens.rs`); the caller drew it and shows it once: only its SHA-256 travels.
    TokenAdd {
        address: String,
        token_hash: String,
        ttl_secs: i64,
    },
    /// Register an OAuth 2.0 client (`oauth/clients.rs`); its id is drawn by the server.
    OauthClientAdd {
        name: String,
        redirect_uris: Vec<String>,
    },
    OauthClientList,
    /// Remove a client (by id or name) and every token issued to it.
    OauthClientDel {
        which: String,
    },
    /// The DNS records for a mail domain (DKIM keys made on first use); `hostname` is the
    /// server's name as the CLI's config gives it (the MX target), `smarthost` the relay it
    /// names (the SPF record follows the route, `outbound/spf.rs`).
    Dns {
        domain: String,
        hostname: String,
        #[serde(default)]
        smarthost: Option<String>,
    },
    /// The junk filter's per-account commands (`mailnook junk`, `junk/admin.rs`).
    Junk {
        junk: crate::junk::admin::JunkCommand,
    },
    /// Quotas (`mailnook quota`, `quota/admin.rs`).
    Quota {
        quota: crate::quota::admin::QuotaCommand,
    },
    /// Sharing: mailbox grants and shared-account members (`mailnook share`, `share_admin.rs`).
    Share {
        share: crate::share_admin::ShareCommand,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DomainSummary {
    pub domain: String,
    pub added_at: i64,
    /// Account addresses in the domain.
    pub accounts: usize,
    /// Where the catch-all (`@domain`) delivers, if there is one.
    pub catch_all: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AliasSummary {
    pub address: String,
    /// The accounts (by address) that receive a copy.
    pub targets: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccountSummary {
    pub id: AccountId,
    pub address: String,
    pub admin: bool,
    pub emails: u64,
    pub aliases: Vec<String>,
    /// Sum of the sizes of the account's messages, in octets.
    #[serde(default)]
    pub storage_bytes: u64,
    /// receivedAt of the newest message (seconds since the epoch), if any.
    #[serde(default)]
    pub last_delivery: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Done(String),
    Accounts(Vec<AccountSummary>),
    Domains(Vec<DomainSummary>),
    Aliases(Vec<AliasSummary>),
    AppPasswords(Vec<crate::app_passwords::Summary>),
    Error(String),
}

pub async fn run(store: &Store, cmd: Command) -> Outcome {
    match execute(store, cmd).await {
        Ok(o) => o,
        Err(e) => Outcome::Error(e.to_string()),
    }
}

async fn execute(store: &Store, cmd: Command) -> Result<Outcome, StoreError> {
    match cmd {
        Command::Add {
            address,
            password_hash,
            admin,
        } => {
            let address = check_address(&address).map_err(StoreError::Invalid)?;
            let now = crate::date::now();
            let a: Account = store
                .write(move |w| w.create_account(&address, &password_hash, admin, now))
                .await?;
            log::info!(
                "account {} created{}",
                a.name,
                if admin { " (admin)" } else { "" }
            );
            Ok(Outcome::Done(format!("created {}", a.name)))
        }
        Command::List => {
            let list = store
                .read(|r| {
                    let mut out = Vec::new();
                    for a in r.accounts()? {
                        let aliases = r
                            .addresses_of(a.id)?
                            .into_iter()
                            .filter(|x| *x != a.name)
                            .collect();
                        let usage = r.usage(a.id)?;
                        out.push(AccountSummary {
                            id: a.id,
                            emails: usage.emails,
                            address: a.name,
                            admin: a.admin,
                            aliases,
                            storage_bytes: usage.bytes,
                            last_delivery: usage.last_received,
                        });
                    }
                    Ok(out)
                })
                .await?;
            Ok(Outcome::Accounts(list))
        }
        Command::Passwd {
            address,
            password_hash,
        } => {
            let id = find(store, &address).await?;
            store
                .write(move |w| w.set_password(id, &password_hash))
                .await?;
            log::info!("password changed for {address}");
            Ok(Outcome::Done(format!(
                "password changed for {}",
                address.to_lowercase()
            )))
        }
        Command::Dns {
            domain,
            hostname,
            smarthost,
        } => {
            let keys = crate::outbound::dkim::keys(store, &domain).await?;
            let spf = crate::outbound::spf::advice(&crate::outbound::OutboundConfig {
                smarthost,
                ..Default::default()
            });
            Ok(Outcome::Done(crate::outbound::dkim::dns_records(
                &domain.to_ascii_lowercase(),
                &hostname,
                &spf,
                &keys,
            )))
        }
        Command::AppPasswordAdd {
            address,
            name,
            id,
            password_hash,
        } => {
            let acct = find(store, &address).await?;
            let p = crate::app_passwords::add(store, acct, &name, id, password_hash).await?;
            log::info!("app password {} ({:?}) added for {address}", p.id, p.name);
            Ok(Outcome::AppPasswords(vec![p]))
        }
        Command::AppPasswordList { address } => {
            let acct = find(store, &address).await?;
            Ok(Outcome::AppPasswords(
                crate::app_passwords::list(store, acct).await?,
            ))
        }
        Command::AppPasswordDel { address, which } => {
            let acct = find(store, &address).await?;
            let p = crate::app_passwords::del(store, acct, &which).await?;
            log::info!("app password {} ({:?}) revoked for {address}", p.id, p.name);
            Ok(Outcome::Done(format!(
                "revoked app password {} ({})",
                p.id, p.name
            )))
        }
        Command::TokenAdd {
            address,
            token_hash,
            ttl_secs,
        } => {
            let name = address.clone();
            let a = store
                .read(move |r| r.account_by_name(&name))
                .await?
                .ok_or_else(|| StoreError::Invalid(format!("no account {address}")))?;
            if token_hash.len() != 64 || ttl_secs <= 0 {
                return Err(StoreError::Invalid("bad token request".into()));
            }
            let family = token_hash[..16].to_string();
            crate::tokens::put(
                store,
                &a,
                &token_hash,
                crate::store::TokenKind::Access,
                "cli",
                &family,
                ttl_secs,
            )
            .await?;
            log::info!("token {family}… added for {}", a.name);
            Ok(Outcome::Done(format!(
                "token for {} valid until {}",
                a.name,
                crate::date::rfc3339(crate::date::now().saturating_add(ttl_secs))
            )))
        }
        Command::OauthClientAdd {
            name,
            redirect_uris,
        } => {
            let c = crate::oauth::clients::add(store, &name, &redirect_uris).await?;
            log::info!("oauth: client {} ({}) registered", c.id, c.name);
            Ok(Outcome::Done(crate::oauth::clients::describe(&c)))
        }
        Command::OauthClientList => {
            let all = crate::oauth::clients::list(store).await?;
            let lines: Vec<String> = all.iter().map(crate::oauth::clients::describe).collect();
            Ok(Outcome::Done(lines.join("\n")))
        }
        Command::OauthClientDel { which } => {
            let c = crate::oauth::clients::del(store, &which).await?;
            log::info!("oauth: client {} ({}) removed", c.id, c.name);
            Ok(Outcome::Done(format!(
                "removed OAuth client {} ({}) and its tokens",
                c.id, c.name
            )))
        }
        cmd @ (Command::DomainAdd { .. }
        | Command::DomainDel { .. }
        | Command::DomainList
        | Command::AliasAdd { .. }
        | Command::AliasDel { .. }
        | Command::AliasList) => domain_command(store, cmd).await,
        Command::Junk { junk } => crate::junk::admin::run(store, junk).await,
        Command::Quota { quota } => crate::quota::admin::run(store, quota).await,
        Command::Share { share } => crate::share_admin::run(store, share).await,
        Command::Del { address } => {
            let id = find(store, &address).await?;
            store.write(move |w| w.delete_account(id)).await?;
            log::info!("account {address} deleted");
            Ok(Outcome::Done(format!("deleted {}", address.to_lowercase())))
        }
    }
}

async fn domain_command(store: &Store, cmd: Command) -> Result<Outcome, StoreError> {
    match cmd {
        Command::DomainAdd { domain } => {
            let now = crate::date::now();
            let d = store.write(move |w| w.add_domain(&domain, now)).await?;
            log::info!("domain {d} added");
            Ok(Outcome::Done(format!("added domain {d}")))
        }
        Command::DomainDel { domain } => {
            let d = store.write(move |w| w.del_domain(&domain)).await?;
            log::info!("domain {d} removed");
            Ok(Outcome::Done(format!("removed domain {d}")))
        }
        Command::DomainList => {
            let list = store
                .read(|r| {
                    let accounts = r.accounts()?;
                    let mut out = Vec::new();
                    for (domain, added_at) in r.domains()? {
                        let suffix = format!("@{domain}");
                        let catch_all = r
                            .alias(&suffix)?
                            .unwrap_or_default()
                            .into_iter()
                            .filter_map(|id| accounts.iter().find(|a| a.id == id))
                            .map(|a| a.name.clone())
                            .collect();
                        out.push(DomainSummary {
                            accounts: accounts
                                .iter()
                                .filter(|a| a.name.ends_with(&suffix))
                                .count(),
                            domain,
                            added_at,
                            catch_all,
                        });
                    }
                    Ok(out)
                })
                .await?;
            Ok(Outcome::Domains(list))
        }
        Command::AliasAdd { address, targets } => {
            not_srs(&address).map_err(|why| {
                StoreError::Invalid(format!("{}: {why}", crate::wire::printable(&address)))
            })?;
            let mut ids = Vec::new();
            for t in &targets {
                ids.push(find(store, t).await?);
            }
            let a = store.write(move |w| w.add_alias(&address, &ids)).await?;
            let targets: Vec<String> = targets.iter().map(|t| t.to_lowercase()).collect();
            log::info!("alias {a} -> {}", targets.join(", "));
            Ok(Outcome::Done(format!("{a} -> {}", targets.join(", "))))
        }
        Command::AliasDel { address, target } => {
            let id = match &target {
                Some(t) => Some(find(store, t).await?),
                None => None,
            };
            let a = store.write(move |w| w.del_alias(&address, id)).await?;
            log::info!(
                "alias {a} removed{}",
                target
                    .as_deref()
                    .map(|t| format!(" for {t}"))
                    .unwrap_or_default()
            );
            Ok(Outcome::Done(match target {
                Some(t) => format!("{a} no longer delivers to {}", t.to_lowercase()),
                None => format!("removed alias {a}"),
            }))
        }
        Command::AliasList => {
            let list = store
                .read(|r| {
                    let accounts = r.accounts()?;
                    let mut out = Vec::new();
                    for (address, ids) in r.aliases()? {
                        let targets = ids
                            .into_iter()
                            .filter_map(|id| accounts.iter().find(|a| a.id == id))
                            .map(|a| a.name.clone())
                            .collect();
                        out.push(AliasSummary { address, targets });
                    }
                    Ok(out)
                })
                .await?;
            Ok(Outcome::Aliases(list))
        }
        other => Err(StoreError::Invalid(format!(
            "not a domain/alias command: {other:?}"
        ))),
    }
}

async fn find(store: &Store, address: &str) -> Result<AccountId, StoreError> {
    let name = address.to_string();
    store
        .read(move |r| r.account_by_name(&name))
        .await?
        .map(|a| a.id)
        .ok_or_else(|| StoreError::Invalid(format!("no account {address}")))
}

/// On first start: an admin account with a generated password, printed once.
pub async fn ensure_admin(
    store: &Store,
    hostname: &str,
) -> Result<Option<(String, String)>, StoreError> {
    let any = store
        .read(|r| Ok(r.accounts()?.iter().any(|a| a.admin)))
        .await?;
    if any {
        return Ok(None);
    }
    let domain = if hostname.contains('.') {
        hostname.to_string()
    } else {
        format!("{hostname}.localdomain")
    };
    let address = format!("admin@{domain}");
    let password = crate::password::generate();
    let hash = crate::pool::unblock({
        let p = password.clone();
        move || crate::password::hash(&p)
    })
    .await
    .map_err(StoreError::Invalid)?;
    let now = crate::date::now();
    let addr = address.clone();
    store
        .write(move |w| w.create_account(&addr, &hash, true, now))
        .await?;
    Ok(Some((address, password)))
}

/// The address rules for a new account (RFC 5321 §4.1.2 mailbox, §4.5.3.1 lengths): one `@`,
/// a non-empty local part of at most 64 octets, a domain of dot-separated labels, no spaces or
/// control characters, at most 254 octets in all. Returns the lower-cased address.
pub fn check_address(address: &str) -> Result<String, String> {
    let a = address.trim().to_lowercase();
    let bad = |why: &str| {
        Err(format!(
            "'{}' is not a valid address: {why}",
            a.escape_debug()
        ))
    };
    if a.len() > 254 {
        return bad("longer than 254 characters");
    }
    let Some((local, domain)) = a.rsplit_once('@') else {
        return bad("no @");
    };
    if local.is_empty() || local.len() > 64 {
        return bad("the part before @ must have 1 to 64 characters");
    }
    if local.contains('@') {
        return bad("more than one @");
    }
    if let Err(why) = not_srs(local) {
        return bad(why);
    }
    if a.chars()
        .any(|c| c.is_whitespace() || c.is_control() || "<>()[]\\,;:\"".contains(c))
    {
        return bad("spaces, control characters and <>()[]\\,;:\" are not allowed");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if domain.is_empty()
        || labels.iter().any(|l| {
            l.is_empty()
                || l.len() > 63
                || l.starts_with('-')
                || l.ends_with('-')
                || !l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
    {
        return bad("the domain must be labels of letters, digits and '-' separated by dots");
    }
    Ok(a)
}

/// Mail to SRS0=/SRS1= names is taken as bounces of redirected mail before any address
/// lookup (`smtp/cmd/rcpt_srs.rs`): an account or alias by such a name would get none of it.
fn not_srs(address: &str) -> Result<(), &'static str> {
    if crate::outbound::srs::looks_like(address) {
        Err("names starting with SRS0= or SRS1= are kept for bounces of redirected mail")
    } else {
        Ok(())
    }
}

/// The password rules for passwords typed into the admin page or its API: 8 to 1024 bytes, no
/// control characters. (The CLI is run by the machine's owner and accepts any non-empty one.)
pub fn check_password(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < 8 {
        return Err("the password must have at least 8 characters".into());
    }
    if password.len() > 1024 {
        return Err("the password must have at most 1024 bytes".into());
    }
    if password.chars().any(char::is_control) {
        return Err("the password must not contain control characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_address;

    #[test]
    fn srs_names_are_kept_for_bounces() {
        assert!(check_address("SRS0=abc=de=x.example=y@example.org").is_err());
        assert!(check_address("srs1=q@example.org").is_err());
        assert_eq!(
            check_address("Srs@Example.org").as_deref(),
            Ok("srs@example.org")
        );
    }
}
