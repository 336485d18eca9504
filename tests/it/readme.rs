//! README.md is a promise to a new user: its commands must work as written (issue #22 found an
//! example that mailed a user who did not exist and one that signed in as the wrong admin).
//! This test runs the shell blocks of "Try it" and "Sending mail" word for word against a real
//! server, started the way `make run` does it (data in `./mailnook-data`, the binary at
//! `./target/release/mailnook`), changing nothing but the two port numbers.
//!
//! It needs curl, python3 and swaks (tests/setup/deps.sh installs them); a missing one fails.

use crate::common;

use common::Server;
use std::path::Path;
use std::process::Command;

/// The ```sh blocks of the README section that starts with `## {title}`.
fn shell_blocks(readme: &str, title: &str) -> Vec<String> {
    let start = readme
        .find(&format!("\n## {title}"))
        .unwrap_or_else(|| panic!("README has no section {title:?}"));
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map(|i| i + 3).unwrap_or(rest.len());
    let section = &rest[..end];
    let mut blocks = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "```sh" {
            let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != "```").collect();
            blocks.push(body.join("\n"));
        }
    }
    assert!(
        !blocks.is_empty(),
        "README section {title:?} has no sh block"
    );
    blocks
}

/// What identifies a printed line: its first 12 characters, up to the first digit (ports,
/// times and passwords differ from README's sample).
fn line_prefix(line: &str) -> String {
    line.chars()
        .take(12)
        .take_while(|c| !c.is_ascii_digit())
        .collect()
}

fn need(tool: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "README test needs `{tool}`: run ./tests/setup/deps.sh (make test does)"
    );
}

/// Runs one README block in `cwd` with bash, the default ports swapped for the test server's.
fn run_block(block: &str, cwd: &Path, server: &Server) -> String {
    let script = block
        .replace("127.0.0.1:2525", &server.smtp.to_string())
        .replace("127.0.0.1:8443", &server.https.to_string())
        .replace(
            "'127.0.0.1', 2525",
            &format!("'127.0.0.1', {}", server.smtp.port()),
        );
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(cwd)
        .output()
        .expect("run bash");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "README block failed ({}):\n{script}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn readme_try_it_and_sending_mail_work_as_written() {
    for tool in ["curl", "python3", "swaks"] {
        need(tool);
    }
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md");
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path();
    // `make run` keeps its data in ./mailnook-data and the README calls the binary by the path
    // cargo builds it at; give the test binary that path.
    std::fs::create_dir_all(cwd.join("target/release")).expect("target dir");
    std::os::unix::fs::symlink(common::bin(), cwd.join("target/release/mailnook"))
        .expect("symlink binary");
    let server = Server::start_in(&cwd.join("mailnook-data"), &[]);

    // First start prints what README says it prints, in that order.
    let sample_start = readme.find("Created admin account").expect("sample output");
    let sample: Vec<&str> = readme[sample_start..]
        .lines()
        .take_while(|l| !l.starts_with("```"))
        .collect();
    let mut at = 0;
    for line in &sample {
        let prefix = line_prefix(line);
        let found = server.stdout[at..]
            .iter()
            .position(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| {
                panic!(
                    "README's first-start line {line:?} is not printed (in order); the server printed {:?}",
                    server.stdout
                )
            });
        at += found + 1;
    }

    for printed in &server.stdout {
        let prefix = line_prefix(printed);
        assert!(
            sample.iter().any(|l| l.starts_with(&prefix)),
            "the server prints {printed:?} at first start, README's sample leaves it out"
        );
    }

    // "Try it": create alice, send her a message (swaks and Python), read it back with curl.
    let outputs: Vec<String> = shell_blocks(&readme, "Try it")
        .iter()
        .map(|b| run_block(b, cwd, &server))
        .collect();
    let last = outputs.last().expect("a block ran");
    let reply: serde_json::Value = serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("the last Try-it block did not print JSON ({e}): {last}"));
    let list = &reply["methodResponses"][1][1]["list"];
    let subjects: Vec<&str> = list
        .as_array()
        .unwrap_or_else(|| panic!("no Email/get list in {reply}"))
        .iter()
        .filter_map(|e| e["subject"].as_str())
        .collect();
    assert!(
        subjects.len() >= 2 && subjects.iter().all(|s| *s == "Hello"),
        "alice should have the two messages README sent (swaks and Python): {reply}"
    );

    // "Sending mail": create bob, alice drafts and sends; bob has it.
    let outputs: Vec<String> = shell_blocks(&readme, "Sending mail")
        .iter()
        .filter(|b| !b.contains("[outbound]"))
        .map(|b| run_block(b, cwd, &server))
        .collect();
    let sent = outputs.last().expect("send block ran");
    let sent: serde_json::Value = serde_json::from_str(sent).expect("send printed JSON");
    let calls = sent["methodResponses"].as_array().expect("methodResponses");
    assert!(
        calls
            .iter()
            .any(|c| c[0] == "EmailSubmission/set" && c[1]["created"]["send"].is_object())
            && calls
                .iter()
                .all(|c| c[1]["notCreated"].is_null() && c[1]["notUpdated"].is_null()),
        "the README send did not go through: {sent}"
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let bob_has_it = rt.block_on(async {
        let bob = server.account_id("bob@example.org", "another secret").await;
        for _ in 0..100 {
            let got = server
                .call(
                    "bob@example.org",
                    "another secret",
                    serde_json::json!([["Email/query", {"accountId": bob}, "q"],
                        ["Email/get", {"accountId": bob, "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
                            "properties": ["subject"]}, "g"]]),
                )
                .await;
            if got[1][1]["list"]
                .as_array()
                .is_some_and(|l| l.iter().any(|e| e["subject"] == "Dinner tonight?"))
            {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        false
    });
    assert!(bob_has_it, "bob never received README's dinner message");
}
