//! The webmail's figures (issue #14): headless Chromium on loopback, driven by
//! tests/browser/webmail_bench.mjs, against the bench's filled store. Needs Debian's chromium
//! and node with tests/browser's playwright-core (`make test-deps` installs them); without them
//! the rows say so instead of a number.

use crate::stats::Row;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

pub fn figures(base_url: &str, user: &str, pass: &str, stored: usize) -> Vec<Row> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let out = Command::new("node")
        .arg("webmail_bench.mjs")
        .current_dir(&dir)
        .env("MAILNOOK_URL", base_url)
        .env("MAILNOOK_USER", user)
        .env("MAILNOOK_PASSWORD", pass)
        .output();
    let v: Option<Value> = match &out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .lines()
            .last()
            .and_then(|l| serde_json::from_str(l).ok()),
        Ok(o) => {
            eprintln!(
                "bench: webmail figures failed: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            None
        }
        Err(e) => {
            eprintln!("bench: cannot run node for the webmail figures: {e}");
            None
        }
    };
    let how = format!("headless Chromium on loopback, {stored} messages stored");
    let Some(v) = v else {
        let na = "n/a (needs chromium + node: make test-deps)".to_string();
        return vec![Row {
            figure: "webmail".into(),
            value: na,
            target: "-".into(),
            how,
        }];
    };
    let p = |k: &str| format!("p50 {} ms p99 {} ms", v[k]["p50"], v[k]["p99"]);
    vec![
        Row {
            figure: "webmail sign-in -> list".into(),
            value: p("signIn"),
            target: "p50 <= 300 ms".into(),
            how: format!("click Sign in -> first page of conversations drawn, cold cache, {how}"),
        },
        Row {
            figure: "webmail open conversation".into(),
            value: p("open"),
            target: "p50 <= 150 ms".into(),
            how: format!("click a row -> its text shown, {how}"),
        },
        Row {
            figure: "webmail cold load".into(),
            value: format!(
                "{:.0} KB transferred",
                v["coldBytes"].as_f64().unwrap_or(0.0) / 1024.0
            ),
            target: "<= 150 KB".into(),
            how: "sign-in page, app and first page of mail, gzip, headers included".into(),
        },
    ]
}
