//! The webmail's files (issue #14), embedded in the binary: plain HTML, CSS and JavaScript
//! modules under `assets/webmail/`, no build step. They are served under a versioned path
//! (`/webmail/v/<version>/<file>`, the version a hash of all of them) so browsers may cache
//! them for a year and modules import each other by relative name; gzip copies are made once,
//! on first use, for clients that accept them.

use flate2::Compression;
use flate2::write::GzEncoder;
use std::collections::HashMap;
use std::io::Write;
use std::sync::OnceLock;

pub struct Asset {
    pub name: &'static str,
    pub body: &'static [u8],
    pub ctype: &'static str,
}

macro_rules! asset {
    ($name:literal, $ctype:expr) => {
        Asset {
            name: $name,
            body: include_bytes!(concat!("../../assets/webmail/", $name)),
            ctype: $ctype,
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of the webmail. The templates (`shell.html`, `login.html`) are filled in by
/// `webmail.rs` and never served as they are.
pub const ASSETS: &[Asset] = &[
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("app.js", JS),
    asset!("jmap.js", JS),
    asset!("state.js", JS),
    asset!("actions.js", JS),
    asset!("ui.js", JS),
    asset!("mailboxes.js", JS),
    asset!("list.js", JS),
    asset!("reader.js", JS),
    asset!("sanitize.js", JS),
    asset!("compose.js", JS),
    asset!("search.js", JS),
    asset!("settings.js", JS),
    asset!("icon.svg", "image/svg+xml"),
    asset!("sw.js", JS),
    asset!("manifest.webmanifest", "application/manifest+json"),
];

pub const SHELL: &str = include_str!("../../assets/webmail/shell.html");
pub const LOGIN: &str = include_str!("../../assets/webmail/login.html");

pub fn get(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

/// A hash of every asset: changes whenever any file does, so a cached copy is never stale.
pub fn version() -> &'static str {
    static V: OnceLock<String> = OnceLock::new();
    V.get_or_init(|| {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        for a in ASSETS {
            ctx.update(a.name.as_bytes());
            ctx.update(a.body);
        }
        ctx.update(SHELL.as_bytes());
        ctx.finish().as_ref()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    })
}

/// The gzip copy of an asset (RFC 9110 §8.4.1.3), made once.
pub fn gzipped(name: &str) -> Option<&'static [u8]> {
    static GZ: OnceLock<HashMap<&'static str, Vec<u8>>> = OnceLock::new();
    let map = GZ.get_or_init(|| {
        ASSETS
            .iter()
            .filter_map(|a| {
                let mut enc = GzEncoder::new(Vec::new(), Compression::best());
                enc.write_all(a.body).ok()?;
                Some((a.name, enc.finish().ok()?))
            })
            .collect()
    });
    map.get(name).map(Vec::as_slice)
}

/// Total bytes of the webmail as served uncompressed and gzipped (the budget).
pub fn sizes() -> (usize, usize) {
    let plain = ASSETS.iter().map(|a| a.body.len()).sum::<usize>() + SHELL.len();
    let gz = ASSETS
        .iter()
        .filter_map(|a| gzipped(a.name))
        .map(<[u8]>::len)
        .sum();
    (plain, gz)
}
