//! mailnook as a library: the binary (`main.rs`) and the integration tests use these modules.
//! Data flows one way: smtp -> ingest -> store -> jmap -> http (DESIGN.md).

pub mod accounts;
pub mod acme;
pub mod activity;
pub mod admission;
pub mod app;
pub mod app_passwords;
pub mod backup;
pub mod backup_schedule;
pub mod certs;
pub mod config;
pub mod control;
pub mod date;
pub mod http;
pub mod index;
pub mod ingest;
pub mod jmap;
pub mod junk;
pub mod logging;
pub mod login;
pub mod managesieve;
pub mod memory;
pub mod mime;
pub mod net_guard;
pub mod oauth;
pub mod outbound;
pub mod password;
pub mod pool;
pub mod rate;
pub mod sieve;
pub mod smtp;
pub mod store;
pub mod tls;
pub mod tokens;
pub mod transfer;
pub mod wire;
