//! What the browser tests share: Debian's Chromium and playwright-core (tests/browser), found
//! or installed, or a LOUD failure saying how to install them (never a silent skip).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn loud_failure(why: &str) -> ! {
    panic!(
        "\n\n========== BROWSER TEST CANNOT RUN ==========\n{why}\n\
         Install what it needs with:\n  apt-get update && apt-get install -y chromium nodejs npm\n  \
         (cd tests/browser && npm ci)\n(`make test` does this through tests/setup/deps.sh.)\n\
         ===================================================\n"
    );
}

pub fn chromium() -> PathBuf {
    let p = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if !p.exists() {
        loud_failure(&format!("{} does not exist.", p.display()));
    }
    p
}

pub fn ensure_playwright(dir: &Path) {
    if dir
        .join("node_modules/playwright-core/package.json")
        .exists()
    {
        return;
    }
    // Not installed yet (a fresh clone): install exactly what package-lock.json pins.
    let out = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => loud_failure(&format!(
            "`npm ci` in {} failed:\n{}",
            dir.display(),
            String::from_utf8_lossy(&o.stderr)
        )),
        Err(e) => loud_failure(&format!("cannot run npm: {e}")),
    }
}

/// Chromium's path and the tests/browser directory, with node and playwright-core present.
pub fn ready() -> (PathBuf, PathBuf) {
    let browser = chromium();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    match Command::new("node").arg("--version").output() {
        Ok(o) if o.status.success() => {}
        _ => loud_failure("node is not installed."),
    }
    ensure_playwright(&dir);
    (browser, dir)
}

/// Where screenshots go: CARGO_TARGET_TMPDIR is <target>/tmp, so <target>/.
pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("target"))
}
