//! A minimal stderr logger for the `log` facade: `LEVEL target: message`, level from
//! `MAILNOOK_LOG` (error, warn, info, debug, trace; default info).

use log::{Level, LevelFilter, Log, Metadata, Record};

struct Stderr;

impl Log for Stderr {
    fn enabled(&self, m: &Metadata) -> bool {
        m.level() <= log::max_level()
            && (m.target().starts_with("mailnook") || m.level() <= Level::Warn)
    }
    fn log(&self, r: &Record) {
        if self.enabled(r.metadata()) {
            // Not eprintln!: it panics when stderr cannot be written (a log file on a full
            // disk), and a full disk is exactly when the server must keep running.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr().lock(),
                "{:<5} {}: {}",
                r.level(),
                r.target().trim_start_matches("mailnook::"),
                r.args()
            );
        }
    }
    fn flush(&self) {}
}

pub fn init() {
    let level = match std::env::var("MAILNOOK_LOG").unwrap_or_default().as_str() {
        "error" => LevelFilter::Error,
        "warn" => LevelFilter::Warn,
        "debug" => LevelFilter::Debug,
        "trace" => LevelFilter::Trace,
        "off" => LevelFilter::Off,
        _ => LevelFilter::Info,
    };
    if log::set_logger(&Stderr).is_ok() {
        log::set_max_level(level);
    }
}

/// A client address for a log line: `203.0.113.7`, or `unknown address` when the transport
/// gave none (never Rust's `Some(..)` debug form, which issue #22 found in the log).
pub struct Peer(pub Option<std::net::IpAddr>);

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(ip) => write!(f, "{ip}"),
            None => f.write_str("unknown address"),
        }
    }
}
