//! mailnook: a small self-hosted JMAP mail server. This file only parses the command line.

use clap::{Parser, Subcommand};
use mailnook::accounts::{Command, Outcome};
use mailnook::config::Config;
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mailnook",
    version,
    about = "A small self-hosted JMAP mail server: SMTP in, JMAP out."
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Args, Clone)]
struct Common {
    /// Data directory (database, certificate, index). Default: ./mailnook-data
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// A TOML config file; flags override it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the server.
    Serve {
        #[command(flatten)]
        common: Common,
        /// The server's host name (SMTP greeting, certificate).
        #[arg(long)]
        hostname: Option<String>,
        /// SMTP listen address, e.g. 0.0.0.0:25. Default 127.0.0.1:2525
        #[arg(long)]
        smtp_listen: Option<SocketAddr>,
        /// HTTPS listen address. Default 127.0.0.1:8443
        #[arg(long)]
        https_listen: Option<SocketAddr>,
        /// Sender authentication (SPF, DKIM, ARC, DMARC): on or off. Default on.
        #[arg(
            long,
            value_name = "on|off",
            hide_possible_values = true,
            value_parser = clap::builder::BoolishValueParser::new(),
            overrides_with = "sender_auth"
        )]
        sender_auth: Option<bool>,
        /// DNS server for sender authentication (ip:port). Default: the system's.
        #[arg(long)]
        dns_resolver: Option<SocketAddr>,
        /// SMTP submission listen address (mail clients), e.g. 0.0.0.0:587. Default 127.0.0.1:5587
        #[arg(long)]
        submission_listen: Option<SocketAddr>,
        /// ManageSieve listen address (filter editors), e.g. 0.0.0.0:4190. Default 127.0.0.1:4190
        #[arg(long)]
        managesieve_listen: Option<SocketAddr>,
        /// An address block (CIDR) the server may contact for users although it is not public
        /// internet, e.g. a push relay on the LAN; repeatable, added to `[fetch] allow_private`.
        #[arg(long, value_name = "CIDR")]
        fetch_allow_private: Vec<String>,
    },
    /// OAuth 2.0 clients: the apps that may ask a user for a token (`/oauth/authorize`).
    Oauth {
        #[command(subcommand)]
        action: OauthCmd,
    },
    /// Print the DNS records (MX, SPF, DKIM, DMARC) for a mail domain, making its DKIM keys if
    /// needed (works whether or not the server is running). `mailnook dns check [DOMAIN]`
    /// checks what is published instead.
    #[command(args_conflicts_with_subcommands = true)]
    Dns {
        #[command(subcommand)]
        action: Option<DnsCmd>,
        domain: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Rebuild the search index from the database. The server must be stopped.
    Reindex {
        #[command(flatten)]
        common: Common,
    },
    /// Manage accounts (works whether or not the server is running).
    User {
        #[command(subcommand)]
        action: UserCmd,
    },
    /// Manage the domains this server receives mail for (with or without the server running).
    Domain {
        #[command(subcommand)]
        action: DomainCmd,
    },
    /// Manage aliases: one address delivering to one or more accounts; `@domain` is the
    /// domain's catch-all (with or without the server running).
    Alias {
        #[command(subcommand)]
        action: AliasCmd,
    },
    /// Write a backup directory DEST (database as of one moment, certificate and keys) while
    /// the server runs or not; delivery goes on. See contrib/BACKUP.md.
    Backup {
        dest: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Restore a backup directory (or database file) into the data directory of a stopped
    /// server; the current files are kept aside.
    Restore {
        src: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Check a database or a backup (default: the data directory's): every table, counts
    /// against messages. Exit code 1 when a problem is found.
    Check {
        path: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Import mail into an account: a Maildir tree (Maildir++ or Dovecot LAYOUT=fs) or an mbox
    /// file (or a directory of *.mbox). Re-running adds nothing twice.
    Import {
        #[command(subcommand)]
        source: ImportCmd,
    },
    /// Export every mailbox of an account as Maildir++ or mbox files under DEST.
    Export {
        #[arg(long)]
        account: String,
        #[arg(long, value_enum)]
        format: mailnook::transfer::Format,
        dest: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Show or install the TLS certificate (a running server switches at once).
    Cert {
        #[command(subcommand)]
        action: CertCmd,
    },
    /// Sharing within a household: mailboxes and whole accounts (with or without the server
    /// running).
    Share {
        #[command(subcommand)]
        action: ShareCmd,
    },
    /// The junk filter of an account: mode, status, rebuild (with or without the server running).
    Junk {
        #[command(subcommand)]
        action: JunkCmd,
    },
    /// Storage and message quotas per account (RFC 9425), and what each account sent.
    Quota {
        #[command(subcommand)]
        action: QuotaCmd,
    },
}

#[derive(Subcommand)]
enum QuotaCmd {
    /// Usage, limits and sending counts of one account, or of every account.
    Show {
        address: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Set an account's limits. Sizes take K, M, G; "none" is no limit (no warning),
    /// "default" follows the config's [quota]. Options left out keep their value.
    Set {
        address: String,
        /// Hard storage limit (octets of mail), e.g. 5G.
        #[arg(long)]
        storage: Option<String>,
        /// Storage at which the owner gets one warning message (default: warn_percent of it).
        #[arg(long)]
        storage_warn: Option<String>,
        /// Hard limit on the number of messages.
        #[arg(long)]
        messages: Option<String>,
        /// Message count at which the owner gets one warning message.
        #[arg(long)]
        messages_warn: Option<String>,
        #[command(flatten)]
        common: Common,
    },
}

fn quota(action: QuotaCmd) -> Result<(), String> {
    use mailnook::quota::admin::QuotaCommand;
    let (common, cmd) = match action {
        QuotaCmd::Show { address, common } => (common, QuotaCommand::Show { address }),
        QuotaCmd::Set {
            address,
            storage,
            storage_warn,
            messages,
            messages_warn,
            common,
        } => (
            common,
            QuotaCommand::Set {
                address,
                storage,
                storage_warn,
                messages,
                messages_warn,
            },
        ),
    };
    print_outcome(execute(&common, Command::Quota { quota: cmd })?, None)
}

#[derive(Subcommand)]
enum ShareCmd {
    /// Share OWNER's MAILBOX (a name, a path like Family/Receipts, or a role) with GRANTEEs.
    Add {
        owner: String,
        mailbox: String,
        #[arg(required = true)]
        grantees: Vec<String>,
        /// read-only, read-write, all, or a list of: read, add, remove, seen, flag, create,
        /// rename, delete, submit.
        #[arg(long, default_value = "read-only")]
        rights: String,
        #[command(flatten)]
        common: Common,
    },
    /// Stop sharing OWNER's MAILBOX with GRANTEEs.
    Remove {
        owner: String,
        mailbox: String,
        #[arg(required = true)]
        grantees: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Shared accounts: members open ACCOUNT in full (e.g. family@), with RIGHTS.
    Account {
        #[command(subcommand)]
        action: ShareAccountCmd,
    },
    /// Who shares what (everything, or what ADDRESS gives or gets).
    List {
        address: Option<String>,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum ShareAccountCmd {
    /// Make MEMBERs of ACCOUNT; `--rights all` also lets them send from it.
    Add {
        account: String,
        #[arg(required = true)]
        members: Vec<String>,
        #[arg(long, default_value = "all")]
        rights: String,
        #[command(flatten)]
        common: Common,
    },
    /// Remove MEMBERs from ACCOUNT.
    Remove {
        account: String,
        #[arg(required = true)]
        members: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum JunkCmd {
    /// Set what the filter does: off, junk (file in Junk), reject (refuse at SMTP above the
    /// reject threshold, file below it), or default (the server's `[junk] mode`).
    Mode {
        address: String,
        mode: String,
        #[command(flatten)]
        common: Common,
    },
    /// Show trained message counts, the training queue and the model size.
    Status {
        address: String,
        #[command(flatten)]
        common: Common,
    },
    /// Forget the model and train it again from the mail: Junk and $junk as spam, $notjunk and
    /// read mail outside Junk and Trash as ham.
    Rebuild {
        address: String,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum ImportCmd {
    /// A Maildir tree: flags from the `:2,` info, dates from the files.
    Maildir {
        dir: PathBuf,
        #[arg(long)]
        account: String,
        #[command(flatten)]
        common: Common,
    },
    /// An mbox file (mboxrd or mboxo; Status/X-Status flags; Gmail Takeout labels become
    /// mailboxes unless --mailbox is given), or a directory of *.mbox files.
    Mbox {
        file: PathBuf,
        #[arg(long)]
        account: String,
        /// Put every message into this mailbox (`Parent/Child`), created if needed.
        #[arg(long)]
        mailbox: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Every folder of another IMAP server (over TLS): folders to mailboxes, flags to keywords,
    /// internal dates to receivedAt. Run it again to fetch only what is new.
    Imap {
        #[arg(long)]
        account: String,
        /// imaps://user@host[:port] (or imap://... for STARTTLS on port 143).
        #[arg(long)]
        from: String,
        /// Read the old server's password (or app password) from standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Also trust the certificates in this PEM file (a server with a private certificate).
        #[arg(long)]
        ca_file: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum CertCmd {
    /// Show the certificate in use: fingerprint, names, validity, source.
    Show {
        #[command(flatten)]
        common: Common,
    },
    /// Use a PEM certificate chain and key (absolute paths, e.g. certbot's fullchain.pem and
    /// privkey.pem); kept across restarts. The admin page can do this too.
    Install {
        #[arg(long)]
        cert: PathBuf,
        #[arg(long)]
        key: PathBuf,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum DomainCmd {
    /// Receive mail for DOMAIN (an account's domain is added automatically).
    Add {
        domain: String,
        #[command(flatten)]
        common: Common,
    },
    /// Stop receiving mail for DOMAIN (it must have no accounts or aliases left).
    Del {
        domain: String,
        #[command(flatten)]
        common: Common,
    },
    /// List local domains.
    List {
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum AliasCmd {
    /// Deliver ADDRESS (or @domain for a catch-all) to one or more account addresses.
    Add {
        address: String,
        #[arg(required = true)]
        targets: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Remove an alias, or only one of its targets.
    Del {
        address: String,
        target: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// List aliases.
    List {
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum UserCmd {
    /// Create an account. Without --password-stdin a password is generated and printed.
    Add {
        address: String,
        #[command(flatten)]
        common: Common,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Allow this account to use the admin page.
        #[arg(long)]
        admin: bool,
    },
    /// List accounts.
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Set a new password. Without --password-stdin one is generated and printed.
    Passwd {
        address: String,
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Delete an account and all its mail.
    Del {
        address: String,
        #[command(flatten)]
        common: Common,
    },
    /// App passwords: one per phone or mail app, for JMAP, the WebSocket and SMTP submission
    /// (not the admin page); shown once, revocable one by one.
    AppPassword {
        #[command(subcommand)]
        action: AppPasswordCmd,
    },
    /// Make a Bearer token (RFC 6750) for scripts and print it once. It ends when it expires,
    /// when the account's password changes, or with the account.
    Token {
        address: String,
        /// Lifetime in seconds (default 30 days).
        #[arg(long, default_value_t = mailnook::tokens::CLI_TTL_SECS)]
        ttl_secs: i64,
        #[command(flatten)]
        common: Common,
    },
}

#[derive(Subcommand)]
enum OauthCmd {
    /// Registered clients.
    Client {
        #[command(subcommand)]
        action: OauthClientCmd,
    },
}

#[derive(Subcommand)]
enum OauthClientCmd {
    /// Register a public client named NAME (shown on the consent page) and print its client_id.
    Add {
        name: String,
        /// A redirect URI: https://…, http://127.0.0.1/path (loopback, any port) or a
        /// private-use scheme like com.example.app:/cb. Repeatable.
        #[arg(long = "redirect", value_name = "URI", required = true)]
        redirect: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
    /// List clients: id, name, redirect URIs.
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Remove a client (by id or name) and every token issued to it.
    Del {
        which: String,
        #[command(flatten)]
        common: Common,
    },
}

fn oauth(action: OauthCmd) -> Result<(), String> {
    let OauthCmd::Client { action } = action;
    let (common, cmd) = match action {
        OauthClientCmd::Add {
            name,
            redirect,
            common,
        } => (
            common,
            Command::OauthClientAdd {
                name,
                redirect_uris: redirect,
            },
        ),
        OauthClientCmd::List { common } => (common, Command::OauthClientList),
        OauthClientCmd::Del { which, common } => (common, Command::OauthClientDel { which }),
    };
    print_outcome(execute(&common, cmd)?, None)
}

#[derive(Subcommand)]
enum AppPasswordCmd {
    /// Make an app password named NAME (e.g. "Anna's phone") and print it once.
    Add {
        address: String,
        name: String,
        #[command(flatten)]
        common: Common,
    },
    /// List the account's app passwords with their last use.
    List {
        address: String,
        #[command(flatten)]
        common: Common,
    },
    /// Revoke an app password, by id or name.
    Del {
        address: String,
        which: String,
        #[command(flatten)]
        common: Common,
    },
}

fn app_password(action: AppPasswordCmd) -> Result<(), String> {
    match action {
        AppPasswordCmd::Add {
            address,
            name,
            common,
        } => {
            let name = mailnook::app_passwords::check_name(&name)?;
            let fresh = mailnook::app_passwords::generate()?;
            let cmd = Command::AppPasswordAdd {
                address: address.clone(),
                name: name.clone(),
                id: fresh.id,
                password_hash: fresh.hash,
            };
            match execute(&common, cmd)? {
                Outcome::Error(e) => Err(e),
                _ => {
                    println!(
                        "app password {name:?} for {}: {}",
                        address.to_lowercase(),
                        fresh.password
                    );
                    println!("(shown once: enter it in the app now)");
                    Ok(())
                }
            }
        }
        AppPasswordCmd::List { address, common } => print_outcome(
            execute(&common, Command::AppPasswordList { address })?,
            None,
        ),
        AppPasswordCmd::Del {
            address,
            which,
            common,
        } => print_outcome(
            execute(&common, Command::AppPasswordDel { address, which })?,
            None,
        ),
    }
}

#[derive(Subcommand)]
enum DnsCmd {
    /// Resolve the published DNS records (MX, A/AAAA, SPF, DKIM, DMARC, reverse DNS, SRV,
    /// autoconfig, ...) and compare them with what mailnook needs, for every mail domain or
    /// one. Exit code 1 when something needed is missing or wrong.
    Check { domain: Option<String> },
}

/// `mailnook dns check [DOMAIN]`: in the running server when there is one (it knows its own
/// resolver and addresses), else here (the check only reads the database).
fn dns_check(domain: Option<String>, common: Common) -> Result<(), String> {
    let config = load_config(&common)?;
    let report = match mailnook::app::open_store_or_running(&config)? {
        Some(store) => {
            let r = smol::block_on(mailnook::dns_check::run(
                &config,
                &store,
                domain.as_deref(),
                None,
            ));
            store.shutdown();
            r?
        }
        None => {
            let cmd = mailnook::dns_check::DnsCheckCommand {
                dns_check: mailnook::dns_check::DnsCheckArgs { domain },
            };
            match mailnook::control::send(&config.control_socket(), &cmd)? {
                Outcome::Done(json) => serde_json::from_str::<mailnook::dns_check::Report>(&json)
                    .map_err(|e| format!("bad answer from the server: {e}"))?,
                Outcome::Error(e) => return Err(e),
                _ => return Err("unexpected answer from the server".into()),
            }
        }
    };
    print!("{}", report.text());
    if report.problems > 0 {
        return Err(format!(
            "{} DNS record{} to fix",
            report.problems,
            if report.problems == 1 { "" } else { "s" }
        ));
    }
    Ok(())
}

fn load_config(common: &Common) -> Result<Config, String> {
    let mut config = match &common.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    if let Some(d) = &common.data_dir {
        config.data_dir = d.clone();
    }
    Ok(config)
}

fn password(from_stdin: bool) -> Result<(String, bool), String> {
    if from_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("cannot read the password: {e}"))?;
        let p = s.trim_end_matches(['\r', '\n']).to_string();
        if p.is_empty() {
            return Err("the password on standard input is empty".into());
        }
        Ok((p, false))
    } else {
        Ok((mailnook::password::generate(), true))
    }
}

fn user(action: UserCmd) -> Result<(), String> {
    let (common, cmd, shown) = match action {
        UserCmd::Add {
            address,
            common,
            password_stdin,
            admin,
        } => {
            let (p, generated) = password(password_stdin)?;
            let hash = mailnook::password::hash(&p)?;
            (
                common,
                Command::Add {
                    address: address.clone(),
                    password_hash: hash,
                    admin,
                },
                generated.then_some((address, p)),
            )
        }
        UserCmd::List { common } => (common, Command::List, None),
        UserCmd::Passwd {
            address,
            common,
            password_stdin,
        } => {
            let (p, generated) = password(password_stdin)?;
            let hash = mailnook::password::hash(&p)?;
            (
                common,
                Command::Passwd {
                    address: address.clone(),
                    password_hash: hash,
                },
                generated.then_some((address, p)),
            )
        }
        UserCmd::Del { address, common } => (common, Command::Del { address }, None),
        UserCmd::AppPassword { action } => return app_password(action),
        UserCmd::Token {
            address,
            ttl_secs,
            common,
        } => {
            let token = mailnook::tokens::new_secret()?;
            let cmd = Command::TokenAdd {
                address,
                token_hash: mailnook::tokens::hash(&token),
                ttl_secs,
            };
            return match execute(&common, cmd)? {
                Outcome::Done(msg) => {
                    println!("{msg}");
                    println!("{token}");
                    Ok(())
                }
                Outcome::Error(e) => Err(e),
                _ => Err("unexpected answer".into()),
            };
        }
    };
    let outcome = execute(&common, cmd)?;
    print_outcome(outcome, shown)
}

/// Runs an admin command on the store directly, or through the control socket when a server
/// holds the database (one implementation either way: `accounts.rs`).
fn execute(common: &Common, cmd: Command) -> Result<Outcome, String> {
    let config = load_config(common)?;
    match mailnook::app::open_store_or_running(&config)? {
        Some(store) => Ok(smol::block_on(mailnook::accounts::run(&store, cmd))),
        None => mailnook::control::send(&config.control_socket(), &cmd),
    }
}

fn junk(action: JunkCmd) -> Result<(), String> {
    use mailnook::junk::admin::JunkCommand;
    let (common, cmd) = match action {
        JunkCmd::Mode {
            address,
            mode,
            common,
        } => (common, JunkCommand::Mode { address, mode }),
        JunkCmd::Status { address, common } => (common, JunkCommand::Status { address }),
        JunkCmd::Rebuild { address, common } => (common, JunkCommand::Rebuild { address }),
    };
    print_outcome(execute(&common, Command::Junk { junk: cmd })?, None)
}

fn share(action: ShareCmd) -> Result<(), String> {
    use mailnook::share_admin::ShareCommand;
    let (common, cmd) = match action {
        ShareCmd::Add {
            owner,
            mailbox,
            grantees,
            rights,
            common,
        } => (
            common,
            ShareCommand::Add {
                owner,
                mailbox,
                grantees,
                rights,
            },
        ),
        ShareCmd::Remove {
            owner,
            mailbox,
            grantees,
            common,
        } => (
            common,
            ShareCommand::Remove {
                owner,
                mailbox,
                grantees,
            },
        ),
        ShareCmd::Account {
            action:
                ShareAccountCmd::Add {
                    account,
                    members,
                    rights,
                    common,
                },
        } => (
            common,
            ShareCommand::AccountAdd {
                account,
                members,
                rights,
            },
        ),
        ShareCmd::Account {
            action:
                ShareAccountCmd::Remove {
                    account,
                    members,
                    common,
                },
        } => (common, ShareCommand::AccountRemove { account, members }),
        ShareCmd::List { address, common } => (common, ShareCommand::List { address }),
    };
    print_outcome(execute(&common, Command::Share { share: cmd })?, None)
}

fn domain(action: DomainCmd) -> Result<(), String> {
    let (common, cmd) = match action {
        DomainCmd::Add { domain, common } => (common, Command::DomainAdd { domain }),
        DomainCmd::Del { domain, common } => (common, Command::DomainDel { domain }),
        DomainCmd::List { common } => (common, Command::DomainList),
    };
    print_outcome(execute(&common, cmd)?, None)
}

fn alias(action: AliasCmd) -> Result<(), String> {
    let (common, cmd) = match action {
        AliasCmd::Add {
            address,
            targets,
            common,
        } => (common, Command::AliasAdd { address, targets }),
        AliasCmd::Del {
            address,
            target,
            common,
        } => (common, Command::AliasDel { address, target }),
        AliasCmd::List { common } => (common, Command::AliasList),
    };
    print_outcome(execute(&common, cmd)?, None)
}

/// Through the control socket when a server runs (it switches at once), else on the data
/// directory directly (the next start uses it). One implementation: `certs.rs`.
fn cert(action: CertCmd) -> Result<(), String> {
    use mailnook::certs::CertCommand;
    let (common, cmd) = match action {
        CertCmd::Show { common } => (common, CertCommand::CertShow),
        CertCmd::Install { cert, key, common } => {
            let abs = |p: PathBuf| std::path::absolute(&p).unwrap_or(p);
            (
                common,
                CertCommand::CertInstall {
                    cert_path: abs(cert),
                    key_path: abs(key),
                },
            )
        }
    };
    let config = load_config(&common)?;
    let outcome = match mailnook::app::open_store_or_running(&config)? {
        Some(store) => {
            drop(store);
            let tls = mailnook::tls::Tls::load(
                &config.data_dir,
                &config.hostname,
                config.tls_cert.as_deref(),
                config.tls_key.as_deref(),
            )?;
            mailnook::certs::run(&tls, &config.data_dir, cmd)
        }
        None => mailnook::control::send(&config.control_socket(), &cmd)?,
    };
    print_outcome(outcome, None)
}

fn print_outcome(outcome: Outcome, shown: Option<(String, String)>) -> Result<(), String> {
    match outcome {
        Outcome::Domains(list) => {
            for d in list {
                let mut line = format!("{}\t{} accounts", d.domain, d.accounts);
                if !d.catch_all.is_empty() {
                    line.push_str(&format!("\tcatch-all: {}", d.catch_all.join(", ")));
                }
                println!("{line}");
            }
            Ok(())
        }
        Outcome::AppPasswords(list) => {
            let when = |t: Option<i64>| t.map(mailnook::date::rfc3339).unwrap_or("-".into());
            for p in list {
                println!(
                    "{}\t{}\tcreated {}\tlast used {} from {}",
                    p.id,
                    p.name,
                    mailnook::date::rfc3339(p.created_at),
                    when(p.last_used),
                    p.last_ip.as_deref().unwrap_or("-")
                );
            }
            Ok(())
        }
        Outcome::Aliases(list) => {
            for a in list {
                println!("{}\t{}", a.address, a.targets.join(", "));
            }
            Ok(())
        }
        Outcome::Done(msg) => {
            println!("{msg}");
            if let Some((address, p)) = shown {
                println!("password for {address}: {p}");
            }
            Ok(())
        }
        Outcome::Accounts(list) => {
            for a in list {
                let mut line = format!("{}\t{} emails", a.address, a.emails);
                if a.admin {
                    line.push_str("\tadmin");
                }
                if !a.aliases.is_empty() {
                    line.push_str(&format!("\taliases: {}", a.aliases.join(", ")));
                }
                println!("{line}");
            }
            Ok(())
        }
        Outcome::Error(e) => Err(e),
    }
}

fn dns(domain: String, common: Common) -> Result<(), String> {
    let config = load_config(&common)?;
    let domain_of_dns = domain.clone();
    let cmd = Command::Dns {
        domain,
        hostname: config.hostname.clone(),
        smarthost: config.outbound.smarthost.clone(),
    };
    let outcome = match mailnook::app::open_store_or_running(&config)? {
        Some(store) => {
            let o = smol::block_on(mailnook::accounts::run(&store, cmd));
            store.shutdown();
            o
        }
        None => mailnook::control::send(&config.control_socket(), &cmd)?,
    };
    match outcome {
        Outcome::Done(text) => {
            print!("{text}");
            // MTA-STS and TLS reporting (RFC 8461, 8460), from this config's `[mta_sts]`.
            let d = domain_of_dns.trim_end_matches('.').to_ascii_lowercase();
            for r in mailnook::http::admin_setup::mta_sts_records(&config, &d) {
                let why = r.note.split(':').next().unwrap_or_default();
                println!("; {why}\n{}\tIN {}\t{}", r.name, r.kind, r.value);
            }
            Ok(())
        }
        Outcome::Error(e) => Err(e),
        _ => Err("unexpected answer from the server".into()),
    }
}

/// `mailnook reindex`: throws the index away and indexes every stored message again, showing
/// progress on standard error. redb allows one process per database, so a running server makes
/// this refuse (the running server repairs its own index at start anyway).
fn reindex(common: Common) -> Result<(), String> {
    use std::io::Write;
    let config = load_config(&common)?;
    if !config.db_path().exists() {
        return Err(format!(
            "no mailnook database in {}",
            config.data_dir.display()
        ));
    }
    let store = mailnook::store::Store::open(&config.db_path(), config.cache_bytes()).map_err(
        |e| match e {
            mailnook::store::StoreError::Newer(m) => m,
            mailnook::store::StoreError::Locked => format!(
                "the server is running on {} (its database is locked); stop it first, then run `mailnook reindex` again",
                config.data_dir.display()
            ),
            other => format!("cannot open {}: {other}", config.db_path().display()),
        },
    )?;
    let dir = config.index_dir();
    let opened = mailnook::index::recreate(&dir)
        .map_err(|e| format!("cannot create the index in {}: {e}", dir.display()))?;
    let started = std::time::Instant::now();
    let mut shown = std::time::Instant::now();
    let mut err = std::io::stderr();
    let mut progress = |done: u64, total: u64| {
        if done == total || shown.elapsed().as_millis() >= 100 {
            shown = std::time::Instant::now();
            let pct = (done * 100).checked_div(total).unwrap_or(100);
            let _ = write!(err, "\rindexing: {done}/{total} emails ({pct}%)");
            let _ = err.flush();
        }
    };
    let n = mailnook::index::indexer::rebuild(store, opened, &mut progress)
        .map_err(|e| format!("reindex failed: {e}"))?;
    eprintln!();
    println!(
        "indexed {n} emails into {} in {:.1} s",
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn main() -> ExitCode {
    mailnook::logging::init();
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Serve {
            common,
            hostname,
            smtp_listen,
            https_listen,
            sender_auth,
            dns_resolver,
            submission_listen,
            managesieve_listen,
            fetch_allow_private,
        } => load_config(&common).and_then(|mut c| {
            c.fetch.allow_private.extend(fetch_allow_private);
            if let Some(a) = sender_auth {
                c.sender_auth = a;
            }
            if let Some(a) = dns_resolver {
                c.dns_resolver = Some(a);
            }
            if let Some(h) = hostname {
                c.hostname = h;
            }
            if let Some(a) = smtp_listen {
                c.smtp_listen = a;
            }
            if let Some(a) = https_listen {
                c.https_listen = a;
            }
            if let Some(a) = submission_listen {
                c.submission_listen = a;
            }
            if let Some(a) = managesieve_listen {
                c.managesieve_listen = a;
            }
            mailnook::app::run(c)
        }),
        Cmd::User { action } => user(action),
        Cmd::Domain { action } => domain(action),
        Cmd::Alias { action } => alias(action),
        Cmd::Cert { action } => cert(action),
        Cmd::Junk { action } => junk(action),
        Cmd::Quota { action } => quota(action),
        Cmd::Share { action } => share(action),
        Cmd::Oauth { action } => oauth(action),
        Cmd::Dns {
            action: Some(DnsCmd::Check { domain }),
            common,
            ..
        } => dns_check(domain, common),
        Cmd::Dns {
            domain: Some(domain),
            common,
            ..
        } => dns(domain, common),
        Cmd::Dns { .. } => {
            Err("give a domain (`mailnook dns DOMAIN`) or `mailnook dns check`".into())
        }
        Cmd::Reindex { common } => reindex(common),
        Cmd::Backup { dest, common } => load_config(&common)
            .and_then(|c| mailnook::backup::cli_backup(&c, &dest))
            .map(|t| println!("{t}")),
        Cmd::Restore { src, common } => load_config(&common)
            .and_then(|c| mailnook::backup::cli_restore(&c, &src))
            .map(|t| println!("{t}")),
        Cmd::Import { source } => {
            use mailnook::backup::DataCommand;
            use mailnook::transfer::Format;
            let (common, cmd) = match source {
                ImportCmd::Maildir {
                    dir,
                    account,
                    common,
                } => (
                    common,
                    DataCommand::Import {
                        account,
                        format: Format::Maildir,
                        path: dir,
                        mailbox: None,
                    },
                ),
                ImportCmd::Mbox {
                    file,
                    account,
                    mailbox,
                    common,
                } => (
                    common,
                    DataCommand::Import {
                        account,
                        format: Format::Mbox,
                        path: file,
                        mailbox,
                    },
                ),
                ImportCmd::Imap {
                    account,
                    from,
                    password_stdin: _,
                    ca_file,
                    common,
                } => {
                    let mut password = String::new();
                    if let Err(e) = std::io::stdin().read_line(&mut password) {
                        eprintln!("mailnook: cannot read the password: {e}");
                        return ExitCode::FAILURE;
                    }
                    let password = password.trim_end_matches(['\r', '\n']).to_string();
                    (
                        common,
                        DataCommand::ImportImap(mailnook::transfer::imap::Request {
                            account,
                            from,
                            password: mailnook::transfer::imap::Secret(password),
                            ca_file,
                        }),
                    )
                }
            };
            load_config(&common)
                .and_then(|c| mailnook::backup::cli_transfer(&c, cmd))
                .map(|t| println!("{t}"))
        }
        Cmd::Export {
            account,
            format,
            dest,
            common,
        } => load_config(&common)
            .and_then(|c| {
                mailnook::backup::cli_transfer(
                    &c,
                    mailnook::backup::DataCommand::Export {
                        account,
                        format,
                        dest,
                    },
                )
            })
            .map(|t| println!("{t}")),
        Cmd::Check { path, common } => load_config(&common)
            .and_then(|c| mailnook::backup::cli_check(&c, path.as_deref()))
            .map(|t| println!("{t}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mailnook: {e}");
            ExitCode::FAILURE
        }
    }
}
