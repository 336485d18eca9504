//! The progress of an import on the command's standard error, whether the command does the
//! work itself (server stopped) or the running server does it (control socket, `control.rs`).
//!
//! While the server runs, the command's connection to the control socket carries, before the
//! usual one-line outcome, lines `{"progress": Summary}` about once a second. On a terminal the
//! command shows them as one line rewritten in place; otherwise (a log, a pipe) as plain lines,
//! at most one every [`PLAIN_EVERY`].

use super::import::Summary;
use crate::accounts::Outcome;
use crate::backup::DataCommand;
use crate::store::Store;
use futures_lite::{AsyncWrite, AsyncWriteExt};
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

pub const PLAIN_EVERY: Duration = Duration::from_secs(5);
/// A progress line longer than this is not ours (the reader's bound).
const MAX_LINE: u64 = 1 << 20;

pub struct Printer {
    tty: bool,
    shown: bool,
    last: Option<Instant>,
}

impl Default for Printer {
    fn default() -> Self {
        Self::new()
    }
}

impl Printer {
    pub fn new() -> Printer {
        Printer {
            tty: std::io::stderr().is_terminal(),
            shown: false,
            last: None,
        }
    }

    pub fn show(&mut self, s: &Summary) {
        let mut err = std::io::stderr().lock();
        if self.tty {
            // \r back to the start, ESC [ K clears the rest of the previous line.
            let _ = write!(err, "\r{}\x1b[K", s.progress_line(None));
        } else {
            if self.last.is_some_and(|t| t.elapsed() < PLAIN_EVERY) {
                return;
            }
            self.last = Some(Instant::now());
            let _ = writeln!(err, "{}", s.progress_line(None));
        }
        let _ = err.flush();
        self.shown = true;
    }

    /// Ends the updating line (the summary follows on standard output).
    pub fn finish(&mut self) {
        if self.tty && self.shown {
            eprintln!();
        }
    }
}

/// Server side: runs `cmd`, writing its progress lines to `out`, and returns its outcome (which
/// the caller writes last). A client that went away does not stop the work.
pub async fn serve<W: AsyncWrite + Unpin>(
    store: &Store,
    data_dir: &Path,
    cmd: DataCommand,
    out: &mut W,
) -> Outcome {
    // Lossy on purpose: when the client reads slowly, intermediate lines are dropped.
    let (tx, rx) = async_channel::bounded::<String>(4);
    let work = async move {
        let mut send = move |s: &Summary| {
            if let Ok(line) = serde_json::to_string(&serde_json::json!({ "progress": s })) {
                let _ = tx.try_send(line);
            }
        };
        crate::backup::run(store, data_dir, cmd, &mut send).await
    };
    let pump = async {
        let mut open = true;
        while let Ok(mut line) = rx.recv().await {
            line.push('\n');
            if open {
                open = out.write_all(line.as_bytes()).await.is_ok();
            }
        }
    };
    futures_lite::future::zip(work, pump).await.0
}

/// CLI side: sends `cmd` to the running server, shows its progress, returns its outcome.
pub fn send(path: &Path, cmd: &DataCommand, printer: &mut Printer) -> Result<Outcome, String> {
    let mut s = std::os::unix::net::UnixStream::connect(path).map_err(|e| {
        format!(
            "the database is in use, but the server's control socket {} does not answer: {e}",
            path.display()
        )
    })?;
    let mut text = serde_json::to_string(cmd).map_err(|e| e.to_string())?;
    text.push('\n');
    s.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    let mut reader = std::io::BufReader::new(s);
    loop {
        let mut line = String::new();
        let n = std::io::Read::take(&mut reader, MAX_LINE)
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the server closed the control connection without an answer".into());
        }
        let v: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| format!("bad answer from the server: {e}"))?;
        if let Some(p) = v.get("progress") {
            if let Ok(summary) = serde_json::from_value::<Summary>(p.clone()) {
                printer.show(&summary);
            }
            continue;
        }
        return serde_json::from_value(v).map_err(|e| format!("bad answer from the server: {e}"));
    }
}
