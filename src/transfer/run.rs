//! The import and export commands: sources read into [`Item`]s for the one import loop, and an
//! account written out as Maildir++ or mbox files.

use super::import::{Importer, Item, Summary};
use super::{maildir, mbox};
use crate::store::model::Mailbox;
use crate::store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Maildir,
    Mbox,
}

/// Called with the running summary about once a second (progress bar / log).
pub type Progress<'a> = &'a mut (dyn FnMut(&Summary) + Send);

fn tick(imp: &Importer, last: &mut std::time::Instant, progress: &mut Progress<'_>) {
    if last.elapsed().as_millis() >= 1000 {
        *last = std::time::Instant::now();
        progress(&imp.summary);
    }
}

pub async fn import(
    store: &Store,
    account: &str,
    format: Format,
    path: &Path,
    mailbox: Option<&str>,
    mut progress: Progress<'_>,
) -> Result<Summary, String> {
    let mut imp = Importer::new(store, account).await?;
    let mut last = std::time::Instant::now();
    let forced: Option<Vec<String>> = mailbox.map(|m| m.split('/').map(str::to_string).collect());
    match format {
        Format::Maildir => {
            for folder in maildir::folders(path)? {
                let target = forced.clone().unwrap_or_else(|| folder.path.clone());
                for e in maildir::entries(&folder) {
                    let origin = e.file.display().to_string();
                    match std::fs::read(&e.file) {
                        Ok(raw) => {
                            imp.add(Item {
                                raw,
                                folders: if target.is_empty() {
                                    vec![]
                                } else {
                                    vec![target.clone()]
                                },
                                keywords: e.keywords,
                                received_at: e.received_at,
                                origin,
                            })
                            .await
                        }
                        Err(err) => imp.summary.fail(format!("{origin}: {err}")),
                    }
                    tick(&imp, &mut last, &mut progress);
                }
            }
        }
        Format::Mbox => {
            for (file, folder) in mbox_files(path)? {
                let target = forced.clone().or(folder);
                let f =
                    std::fs::File::open(&file).map_err(|e| format!("{}: {e}", file.display()))?;
                for m in mbox::Reader::new(std::io::BufReader::new(f)) {
                    let m = match m {
                        Ok(m) => m,
                        Err(e) => {
                            imp.summary.fail(format!("{}: {e}", file.display()));
                            continue;
                        }
                    };
                    let origin = format!("{} message {}", file.display(), m.number);
                    let mut keywords = m.keywords;
                    let folders = match (&target, &m.labels) {
                        (Some(t), _) => vec![t.clone()],
                        (None, Some(labels)) => {
                            let (paths, kw, unread) = super::flags::gmail_labels(labels);
                            keywords.extend(kw);
                            if !unread {
                                keywords.insert("$seen".into());
                            }
                            paths
                        }
                        (None, None) => vec![],
                    };
                    imp.add(Item {
                        raw: m.raw,
                        folders,
                        keywords,
                        received_at: m.received_at,
                        origin,
                    })
                    .await;
                    tick(&imp, &mut last, &mut progress);
                }
            }
        }
    }
    imp.flush().await;
    progress(&imp.summary);
    Ok(imp.summary)
}

/// An mbox file (its folder: None, the caller's choice), or every `*.mbox` below a directory
/// (its folder: the relative path without `.mbox`, as `export --format mbox` writes).
/// An mbox file and the mailbox path it stands for (None: the caller's choice).
type MboxFile = (PathBuf, Option<Vec<String>>);

fn mbox_files(path: &Path) -> Result<Vec<MboxFile>, String> {
    if path.is_file() {
        return Ok(vec![(path.to_path_buf(), None)]);
    }
    let mut out = Vec::new();
    let mut stack = vec![(path.to_path_buf(), Vec::<String>::new(), 0)];
    while let Some((dir, at, depth)) = stack.pop() {
        let rd = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for e in rd.filter_map(|e| e.ok()) {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() && depth < 32 {
                let mut next = at.clone();
                next.push(name);
                stack.push((p, next, depth + 1));
            } else if let Some(stem) = name.strip_suffix(".mbox") {
                let mut f = at.clone();
                f.push(stem.to_string());
                out.push((p, Some(f)));
            }
        }
    }
    out.sort();
    if out.is_empty() {
        return Err(format!("no .mbox files in {}", path.display()));
    }
    Ok(out)
}

/// Writes every mailbox of `account` under the new directory `dest`; returns a summary line.
pub async fn export(
    store: &Store,
    account: &str,
    format: Format,
    dest: &Path,
) -> Result<String, String> {
    if dest.exists() {
        return Err(format!("{} exists; give a new directory", dest.display()));
    }
    let name = account.trim().to_lowercase();
    let (mailboxes, emails) = store
        .read(move |r| {
            let a = r.account_by_name(&name)?.ok_or(StoreError::NotFound)?;
            let mut emails = Vec::new();
            for (_, id) in r.all_emails(a.id)? {
                if let Some(st) = r.email_state(a.id, id)? {
                    let raw = r.blob(a.id, &st.blob)?.unwrap_or_default();
                    emails.push((id, st, raw));
                }
            }
            Ok((r.mailboxes(a.id)?, emails))
        })
        .await
        .map_err(|e| match e {
            StoreError::NotFound => format!("no account {account}"),
            e => e.to_string(),
        })?;
    let paths = mailbox_paths(&mailboxes);
    std::fs::create_dir_all(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    let mut written = 0u64;
    let mut files: HashMap<u32, (PathBuf, Vec<String>)> = HashMap::new();
    let mut mbox_out: HashMap<u32, std::io::BufWriter<std::fs::File>> = HashMap::new();
    for (id, st, raw) in &emails {
        let keywords: BTreeSet<String> = st.keywords.keys().cloned().collect();
        for m in &st.mailbox_ids {
            let Some(path) = paths.get(m) else { continue };
            match format {
                Format::Maildir => {
                    let (dir, custom) = match files.entry(*m) {
                        Entry::Occupied(o) => o.into_mut(),
                        Entry::Vacant(v) => {
                            // The inbox is the Maildir++ root.
                            let at: &[String] = if path == &["INBOX"] { &[] } else { path };
                            v.insert((maildir::folder_dir(dest, at)?, Vec::new()))
                        }
                    };
                    let unique = format!("{}.M{id}.mailnook", st.received_at);
                    maildir::write_message(dir, &unique, raw, &keywords, st.received_at, custom)?;
                }
                Format::Mbox => {
                    let out = match mbox_out.entry(*m) {
                        Entry::Occupied(o) => o.into_mut(),
                        Entry::Vacant(v) => {
                            let mut file = dest.to_path_buf();
                            for (i, seg) in path.iter().enumerate() {
                                let seg = seg.replace('/', "_");
                                if i + 1 == path.len() {
                                    file.push(format!("{seg}.mbox"));
                                } else {
                                    file.push(seg);
                                }
                            }
                            if let Some(parent) = file.parent() {
                                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
                            }
                            let f = std::fs::File::create(&file)
                                .map_err(|e| format!("{}: {e}", file.display()))?;
                            v.insert(std::io::BufWriter::new(f))
                        }
                    };
                    mbox::write_message(out, raw, &keywords, st.received_at)
                        .map_err(|e| e.to_string())?;
                }
            }
            written += 1;
        }
    }
    for (dir, custom) in files.values() {
        maildir::write_custom_keywords(dir, custom)?;
    }
    for (_, mut out) in mbox_out {
        use std::io::Write;
        out.flush().map_err(|e| e.to_string())?;
    }
    Ok(format!(
        "exported {} emails ({written} files in {} mailboxes) to {}",
        emails.len(),
        paths.len(),
        dest.display()
    ))
}

/// Mailbox id -> path of names; the inbox is the empty path (the Maildir++ root); for mbox the
/// inbox is written as `INBOX.mbox`.
fn mailbox_paths(mailboxes: &[Mailbox]) -> HashMap<u32, Vec<String>> {
    let by_id: HashMap<u32, &Mailbox> = mailboxes.iter().map(|m| (m.id, m)).collect();
    let mut out = HashMap::new();
    for m in mailboxes {
        if m.role.as_deref() == Some("inbox") && m.parent_id.is_none() {
            out.insert(m.id, vec!["INBOX".to_string()]);
            continue;
        }
        let mut path = vec![m.name.clone()];
        let mut cur = m.parent_id;
        let mut guard = 0;
        while let (Some(p), true) = (cur, guard < 64) {
            let Some(pm) = by_id.get(&p) else { break };
            path.insert(0, pm.name.clone());
            cur = pm.parent_id;
            guard += 1;
        }
        out.insert(m.id, path);
    }
    out
}
