//! The one integration-test binary (issue #21): every test drives the real `mailnook` binary
//! over real sockets (see `common`). One crate instead of one per file: the helpers compile once
//! and the suite links once. Modules are named `<area>_<topic>`; helpers end in `_support`/`common`.

// Shared harness and helpers.
mod admin_support;
mod browser_support;
mod common;
mod core_common;
// The Dovecot launcher `make bench` uses too.
#[path = "../../src/bin/mailnook-bench/dovecot.rs"]
mod dovecot_support;
mod mail_support;
mod search_util;
mod send_support;
mod smtp_support;

// Tests, by area.
mod acme_pebble;
mod admin_api;
mod admin_browser;
mod admin_tls;
mod auth_app_passwords;
mod auth_bearer;
mod auth_oauth;
mod core_blobs;
mod core_changes;
mod core_fuzz;
mod core_push;
mod core_push_guard;
mod core_push_memory;
mod core_push_subscription;
mod core_query;
mod core_requests;
mod dns_check;
mod first_start;
mod http_autoconfig;
mod http_edge;
mod http_mta_sts;
mod jmap_defaults;
mod jmap_websocket;
mod junk_filter;
mod login_limiter;
mod mail_email_get;
mod mail_email_set;
mod mail_figures;
mod mail_goldens;
mod mail_identity_vacation;
mod mail_mailboxes;
mod mail_query_totals;
mod mail_real_world;
mod mail_threads;
mod mime_figures;
mod mime_fuzz;
mod mime_limits;
mod outbound_mta_sts;
mod perf_idle;
mod quota_send;
mod quota_storage;
mod readme;
mod search_after_write;
mod search_repair;
mod search_text;
mod send_direct_mx;
mod send_jmap;
mod send_outgoing;
mod send_remote_jmap;
mod send_smarthost;
mod send_vacation;
mod share_copy;
mod share_mailboxes;
mod share_principals;
mod share_websocket;
mod sieve_delivery;
mod sieve_managesieve;
mod skeleton;
mod smtp_addresses;
mod smtp_auth;
mod smtp_bad_input;
mod smtp_crash;
mod smtp_figures;
mod smtp_fuzz;
mod smtp_limits;
mod smtp_ports;
mod smtp_transcript;
mod store_backup;
mod store_disk_full;
mod store_errors;
mod store_schema;
mod transfer_files;
mod transfer_imap;
mod webmail;
mod webmail_browser;
