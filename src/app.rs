//! Start order: open the store -> load TLS -> bind listeners -> first-start admin -> serve.
//! A failure before serving is reported in one clear line and the process exits non-zero.

use crate::config::Config;
use crate::http;
use crate::jmap::Jmap;
use crate::smtp::{self, SmtpContext};
use crate::store::{Store, StoreError};
use crate::tls::Tls;
use std::sync::Arc;
use std::time::Instant;

pub fn open_store(config: &Config) -> Result<Store, String> {
    create_data_dir(config)?;
    Store::open(&config.db_path(), config.cache_bytes()).map_err(|e| match e {
        StoreError::Locked => format!(
            "{} is in use by another mailnook process (one server per data directory)",
            config.db_path().display()
        ),
        StoreError::Newer(m) => m,
        other => format!("cannot open {}: {other}", config.db_path().display()),
    })
}

/// For command-line tools: the store, or `None` when a running server holds it (the tool then
/// goes through the control socket). A database of a newer format is an error, never "running".
pub fn open_store_or_running(config: &Config) -> Result<Option<Store>, String> {
    if !config.db_path().exists() {
        return open_store(config).map(Some);
    }
    match Store::open(&config.db_path(), config.cache_bytes()) {
        Ok(s) => Ok(Some(s)),
        Err(StoreError::Locked) => Ok(None),
        Err(StoreError::Newer(m)) => Err(m),
        Err(other) => Err(format!(
            "cannot open {}: {other}",
            config.db_path().display()
        )),
    }
}

fn create_data_dir(config: &Config) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    if !config.data_dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&config.data_dir)
            .map_err(|e| format!("cannot create {}: {e}", config.data_dir.display()))?;
    }
    Ok(())
}

/// Opens the search index (rebuilding it if it is missing or unusable) and starts the indexer.
pub fn open_index(config: &Config, store: &Store) -> Result<crate::index::SearchIndex, String> {
    let dir = config.index_dir();
    let opened = crate::index::open(&dir)
        .map_err(|e| format!("cannot open the search index in {}: {e}", dir.display()))?;
    let batch = std::time::Duration::from_millis(config.index_batch_ms);
    crate::index::indexer::spawn(store.clone(), opened, batch)
        .map_err(|e| format!("cannot start the indexer: {e}"))
}

pub fn run(config: Config) -> Result<(), String> {
    let started = Instant::now();
    // Hand memory freed after a burst back to the OS (memory.rs, issue 13).
    crate::memory::tune();
    crate::memory::spawn_trimmer();
    config.validate()?;
    let config = Arc::new(config);
    let store = open_store(&config)?;
    let index = open_index(&config, &store)?;
    let tls = Tls::load(
        &config.data_dir,
        &config.hostname,
        config.tls_cert.as_deref(),
        config.tls_key.as_deref(),
    )?;
    // ACME (src/acme/): serve the certificate obtained before, if any; the renewer starts below.
    let acme = config.acme.enabled();
    let acme_client = match &acme {
        Some(a) => {
            crate::acme::renew::load_existing(&config.data_dir, &tls);
            Some(crate::acme::client::Client::new(a.ca_file.as_deref())?)
        }
        None => None,
    };
    // The one gate for connections to places users choose (net_guard.rs): push URLs now.
    let net_guard = Arc::new(crate::net_guard::NetGuard::new(&config)?);
    // Web Push identity (RFC 8292) for the webmail's notifications: a server without it still
    // pushes to JMAP clients, so a failure is logged, not fatal.
    let vapid = match http::vapid::Vapid::load_or_create(&config.data_dir, &config.hostname) {
        Ok(v) => Some(Arc::new(v)),
        Err(e) => {
            log::warn!("web push: no VAPID key: {e}");
            None
        }
    };
    let mut push_client =
        http::push_client::PushClient::new(config.push_ca_file.as_deref(), net_guard.clone())?;
    push_client.vapid = vapid.clone();
    let push_client = Arc::new(push_client);
    // Sender authentication (ingest/auth.rs). A resolver that cannot be set up is reported
    // and mail is received without it, rather than refusing to start.
    let sender_auth = if config.sender_auth {
        match crate::ingest::auth::Authenticator::new(&config) {
            Ok(a) => Some(a),
            Err(e) => {
                log::error!("sender authentication is off: {e}");
                None
            }
        }
    } else {
        None
    };
    smol::block_on(async move {
        let smtp_listener = smol::net::TcpListener::bind(config.smtp_listen)
            .await
            .map_err(|e| format!("cannot listen for SMTP on {}: {e}", config.smtp_listen))?;
        let https_listener = smol::net::TcpListener::bind(config.https_listen)
            .await
            .map_err(|e| format!("cannot listen for HTTPS on {}: {e}", config.https_listen))?;
        let submission_listener = smol::net::TcpListener::bind(config.submission_listen)
            .await
            .map_err(|e| {
                format!(
                    "cannot listen for SMTP submission on {}: {e}",
                    config.submission_listen
                )
            })?;
        let managesieve_listener = smol::net::TcpListener::bind(config.managesieve_listen)
            .await
            .map_err(|e| {
                format!(
                    "cannot listen for ManageSieve on {}: {e}",
                    config.managesieve_listen
                )
            })?;
        let http_listener = match config.http_listen {
            Some(a) => Some(
                smol::net::TcpListener::bind(a)
                    .await
                    .map_err(|e| format!("cannot listen for HTTP on {a}: {e}"))?,
            ),
            None => None,
        };
        let outbound =
            crate::outbound::Outbound::new(store.clone(), config.clone(), net_guard.clone())?;
        let control = crate::control::bind(&config.control_socket())
            .map_err(|e| format!("cannot create {}: {e}", config.control_socket().display()))?;
        // Every listener is bound before anything is created: a busy port must not leave an
        // admin account whose one-time password scrolled past before the exit (issue #22).
        if let Some((address, password)) = crate::accounts::ensure_admin(&store, &config.hostname)
            .await
            .map_err(|e| format!("cannot create the admin account: {e}"))?
        {
            println!("Created admin account {address} with password: {password}");
            println!("(shown once; change it with `mailnook user passwd {address}`)");
        }
        let smtp_addr = smtp_listener.local_addr().map_err(|e| e.to_string())?;
        let https_addr = https_listener.local_addr().map_err(|e| e.to_string())?;
        let submission_addr = submission_listener
            .local_addr()
            .map_err(|e| e.to_string())?;

        let jmap = Arc::new(Jmap {
            store: store.clone(),
            index,
            limits: config.limits.clone(),
            outbound: Some(outbound.clone()),
            net_guard,
        });
        let activity = Arc::new(crate::activity::Activity::new());
        // One login door for HTTP Basic, the admin sign-in and SMTP AUTH (src/login.rs).
        let login = Arc::new(crate::login::Login::default());
        let state = http::State {
            requests: Arc::new(smol::lock::Semaphore::new(
                jmap.limits.max_concurrent_requests,
            )),
            jmap,
            config: config.clone(),
            auth: Arc::new(http::auth::Authenticator::new(login.clone())),
            tls: tls.clone(),
            started,
            activity: activity.clone(),
            admin_sessions: Arc::default(),
            web_sessions: Arc::new(crate::http::webmail_session::sessions()),
            vapid: vapid.clone(),
            bodies: Arc::default(),
            submission_port: submission_addr.port(),
        };
        let smtp_auth_state = sender_auth.is_some();
        let mut smtp_ctx = SmtpContext::new(
            store.clone(),
            config.clone(),
            tls.clone(),
            activity,
            sender_auth,
        );
        smtp_ctx.outbound = Some(outbound.clone());
        smtp_ctx.login = login.clone();
        let managesieve_addr = managesieve_listener
            .local_addr()
            .map_err(|e| e.to_string())?;
        let managesieve_task = smol::spawn(crate::managesieve::serve(
            managesieve_listener,
            crate::managesieve::Ctx {
                store: store.clone(),
                tls: tls.clone(),
                login,
                hostname: config.hostname.clone(),
            },
        ));

        println!(
            "mailnook {} data in {}",
            env!("CARGO_PKG_VERSION"),
            config.data_dir.display()
        );
        println!("SMTP  listening on {smtp_addr}");
        println!("SUBMISSION listening on {submission_addr} (STARTTLS, then AUTH)");
        println!("MANAGESIEVE listening on {managesieve_addr} (STARTTLS, then AUTHENTICATE PLAIN)");
        println!(
            "HTTPS listening on https://{https_addr}/ (JMAP session: https://{https_addr}/.well-known/jmap)"
        );
        println!(
            "TLS certificate {} SHA-256 {}",
            tls.info().cert_path.display(),
            tls.info().fingerprint
        );
        println!(
            "Sender authentication {}",
            match (&smtp_auth_state, config.dns_resolver) {
                (false, _) => "off".to_string(),
                (true, Some(r)) => format!("on (DNS {r})"),
                (true, None) => "on (system DNS)".to_string(),
            }
        );
        // The port-80 listener: ACME HTTP-01 answers, else a redirect to HTTPS (http/plain.rs).
        let http_plain_task = match http_listener {
            Some(l) => {
                let addr = l.local_addr().map_err(|e| e.to_string())?;
                println!("HTTP  listening on {addr} (redirects to HTTPS; ACME HTTP-01)");
                Some(smol::spawn(http::plain::serve(
                    l,
                    tls.challenges(),
                    https_addr.port(),
                    config.http_max_connections,
                    config.http_max_connections_per_ip,
                )))
            }
            None => None,
        };
        let acme_task = match (acme, acme_client) {
            (Some(cfg), Some(client)) => {
                println!("ACME  on: {} ({})", cfg.directory, cfg.challenge);
                Some(smol::spawn(
                    crate::acme::renew::Renewer {
                        cfg,
                        client,
                        data_dir: config.data_dir.clone(),
                        hostname: config.hostname.clone(),
                        tls: tls.clone(),
                        store: store.clone(),
                    }
                    .run(),
                ))
            }
            _ => None,
        };
        println!("ready in {} ms", started.elapsed().as_millis());

        let submission_task = smol::spawn(smtp::submission::serve(
            submission_listener,
            smtp_ctx.clone(),
            outbound.clone(),
        ));
        let outbound_task = smol::spawn(outbound.run());
        let smtp_task = smol::spawn(smtp::serve(smtp_listener, smtp_ctx));
        let sweep_task = smol::spawn(crate::jmap::upload::sweep_forever(
            store.clone(),
            config.changelog_keep,
        ));
        let push_task = smol::spawn(http::pusher::run(
            store.clone(),
            push_client,
            config.fetch.pushes_per_minute,
        ));
        let control_task = smol::spawn(crate::control::serve(
            control,
            store.clone(),
            tls.clone(),
            config.data_dir.clone(),
            config.clone(),
        ));
        let http_task = smol::spawn(http::serve(https_listener, state));
        let junk_task = smol::spawn(crate::junk::training::run(
            store.clone(),
            config.junk.clone(),
        ));
        let quota_task = crate::quota::start(&store, &config.quota, &config.hostname).await?;
        let backup_task = smol::spawn(crate::backup_schedule::run(
            store.clone(),
            config.data_dir.clone(),
            config.backup.clone(),
        ));
        let signal = wait_for_signal().await;
        // Stop accepting first, then close the store: every 250 already sent is on disk
        // (each was acknowledged only after its commit), so nothing acknowledged is lost.
        log::info!("{signal}: shutting down");
        drop((smtp_task, control_task, sweep_task, push_task, http_task));
        drop((
            submission_task,
            outbound_task,
            managesieve_task,
            junk_task,
            backup_task,
            http_plain_task,
            acme_task,
            quota_task,
        ));
        let s = store.clone();
        crate::pool::unblock(move || s.shutdown()).await;
        let _ = std::fs::remove_file(config.control_socket());
        log::info!("stopped cleanly");
        Ok(())
    })
}

/// Waits for SIGTERM or SIGINT (systemd stop, Ctrl-C) and names it.
async fn wait_for_signal() -> &'static str {
    use async_signal::{Signal, Signals};
    use futures_lite::StreamExt;
    match Signals::new([Signal::Term, Signal::Int]) {
        Ok(mut signals) => match signals.next().await {
            Some(Ok(Signal::Int)) => "SIGINT",
            _ => "SIGTERM",
        },
        Err(e) => {
            log::warn!("cannot watch signals ({e}); stop with SIGKILL");
            futures_lite::future::pending().await
        }
    }
}
