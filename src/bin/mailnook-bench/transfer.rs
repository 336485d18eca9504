//! Moving-in and backup figures (issue #18): `mailnook import imap` from a real Dovecot and
//! `mailnook import maildir` of the same bench corpus into a running server, and
//! `mailnook backup` of the bench store. BENCH_IMPORT (default 5000) sets the corpus size;
//! `BENCH_IMPORT_ONLY=1 make bench` prints only the import figures.

use crate::corpus::Corpus;
use crate::dovecot::{self, Dovecot};
use crate::server;
use crate::stats::{Row, dir_size};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The accounts the two imports fill.
const IMAP_USER: &str = "imap@example.org";
const MAILDIR_USER: &str = "maildir@example.org";

/// Runs the CLI against `data` with `stdin`; its wall time, or its error output.
fn cli(data: &Path, args: &[&str], stdin: &str) -> Result<(Duration, String), String> {
    use std::io::Write;
    let t = Instant::now();
    let mut c = Command::new(server::binary())
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    c.stdin
        .take()
        .ok_or("stdin")?
        .write_all(stdin.as_bytes())
        .map_err(|e| e.to_string())?;
    let out = c.wait_with_output().map_err(|e| e.to_string())?;
    let elapsed = t.elapsed();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        return Err(format!(
            "{args:?}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok((elapsed, text))
}

fn rate_row(figure: &str, n: usize, bytes: u64, t: Duration, how: String) -> Row {
    let s = t.as_secs_f64().max(0.001);
    Row {
        figure: figure.into(),
        value: format!(
            "{:.0} msg/s, {:.1} MB/s",
            n as f64 / s,
            bytes as f64 / 1e6 / s
        ),
        target: "-".into(),
        how,
    }
}

/// The import figures, in `tmp` (a Dovecot, a Maildir and a server of their own).
pub fn import_figures(rows: &mut Vec<Row>, tmp: &Path, n: usize) -> Result<(), String> {
    if n == 0 {
        // BENCH_IMPORT=0: no import rows rather than rows of "0 msg/s".
        return Ok(());
    }
    eprintln!("bench: import figures with {n} messages (Dovecot and Maildir) ...");
    let d = Dovecot::start(&tmp.join("dovecot"))?;
    let mut imap = d.client()?;
    let maildir = tmp.join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).map_err(|e| e.to_string())?;
    }
    let mut corpus = Corpus::new(42, dovecot::USER);
    let mut bytes = 0u64;
    for i in 0..n {
        let m = corpus.next(None);
        bytes += m.bytes.len() as u64;
        let (flags, info) = if i % 3 == 0 {
            ("", "")
        } else {
            ("\\Seen", "S")
        };
        imap.append("INBOX", flags, "01-Feb-2024 10:00:00 +0000", &m.bytes)?;
        std::fs::write(
            maildir
                .join("cur")
                .join(format!("{}.M{i}.bench:2,{info}", 1_700_000_000 + i)),
            &m.bytes,
        )
        .map_err(|e| e.to_string())?;
    }
    drop(imap);

    let data = tmp.join("import-data");
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    let srv = server::Server::start(&data)?;
    server::add_user(&data, IMAP_USER, "bench password")?;
    server::add_user(&data, MAILDIR_USER, "bench password")?;
    let ca = d.ca_file.to_string_lossy().to_string();
    let url = d.imaps_url();
    let (t, text) = cli(
        &data,
        &[
            "import",
            "imap",
            "--account",
            IMAP_USER,
            "--from",
            &url,
            "--password-stdin",
            "--ca-file",
            &ca,
        ],
        &format!("{}\n", dovecot::PASSWORD),
    )?;
    if !text.contains(&format!("{n} new")) {
        return Err(format!("IMAP import: {text}"));
    }
    rows.push(rate_row(
        "import imap (Dovecot)",
        n,
        bytes,
        t,
        format!(
            "{n} bench messages ({:.0} MB) over imaps on loopback into the running server, CLI wall time",
            bytes as f64 / 1e6
        ),
    ));
    let m = maildir.to_string_lossy().to_string();
    let (t, text) = cli(
        &data,
        &["import", "maildir", &m, "--account", MAILDIR_USER],
        "",
    )?;
    if !text.contains(&format!("{n} new")) {
        return Err(format!("Maildir import: {text}"));
    }
    rows.push(rate_row(
        "import maildir",
        n,
        bytes,
        t,
        format!("the same {n} messages as Maildir files into the running server, CLI wall time"),
    ));
    let mut row = backup_figure(&data, &tmp.join("import-backup"), 2 * n)?;
    row.figure = "backup (import store)".into();
    rows.push(row);
    srv.stop();
    Ok(())
}

/// `mailnook backup` of the running bench store: time and size.
pub fn backup_figure(data: &Path, dest: &Path, messages: usize) -> Result<Row, String> {
    let d = dest.to_string_lossy().to_string();
    let (t, _) = cli(data, &["backup", &d], "")?;
    let db = std::fs::metadata(data.join("mailnook.redb"))
        .map(|m| m.len())
        .unwrap_or(0);
    let size = dir_size(dest);
    let _ = std::fs::remove_dir_all(dest);
    Ok(Row {
        figure: "backup".into(),
        value: format!("{:.1} s, {:.0} MB", t.as_secs_f64(), size as f64 / 1e6),
        target: "-".into(),
        how: format!(
            "mailnook backup while the server runs, {messages} msgs (database {:.0} MB)",
            db as f64 / 1e6
        ),
    })
}
