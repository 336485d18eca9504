//! Reading and writing Maildir trees: Maildir++ (Dovecot's and Courier's default: the inbox at
//! the root, other folders as `.Parent.Child` directories with names in modified UTF-7) and
//! Dovecot's `LAYOUT=fs` (folders as nested directories). A file's `:2,` info gives its flags
//! (lower-case letters through the folder's `dovecot-keywords`), its mtime the received date,
//! and a file in `new/` is unseen. Files in `tmp/` are being delivered and are skipped.

use super::flags;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Deepest folder nesting followed (a loop of symlinks must end).
const MAX_DEPTH: usize = 32;

/// One folder of a Maildir tree: its path of names (empty: the inbox) and directory.
#[derive(Debug, Clone)]
pub struct Folder {
    pub path: Vec<String>,
    pub dir: PathBuf,
}

fn is_maildir(dir: &Path) -> bool {
    dir.join("cur").is_dir() || dir.join("new").is_dir()
}

/// Every folder under `root`, in name order.
pub fn folders(root: &Path) -> Result<Vec<Folder>, String> {
    let mut out = Vec::new();
    if is_maildir(root) {
        out.push(Folder {
            path: Vec::new(),
            dir: root.to_path_buf(),
        });
    }
    nested(root, &mut Vec::new(), &mut out, 0)?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    if out.is_empty() {
        return Err(format!(
            "{} is not a Maildir (no cur/ or new/ in it or below)",
            root.display()
        ));
    }
    Ok(out)
}

fn nested(
    dir: &Path,
    at: &mut Vec<String>,
    out: &mut Vec<Folder>,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut names: Vec<(String, PathBuf)> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    names.sort();
    for (name, path) in names {
        if matches!(name.as_str(), "cur" | "new" | "tmp") {
            continue;
        }
        if let Some(plus) = name.strip_prefix('.') {
            // Maildir++: `.A.B` at the root only.
            if depth == 0 && !plus.is_empty() && is_maildir(&path) {
                let segs = plus
                    .split('.')
                    .map(|s| super::utf7::decode(s).unwrap_or_else(|| s.to_string()))
                    .collect();
                out.push(Folder {
                    path: segs,
                    dir: path,
                });
            }
            continue;
        }
        let seg = super::utf7::decode(&name).unwrap_or_else(|| name.clone());
        at.push(seg);
        if is_maildir(&path) {
            out.push(Folder {
                path: at.clone(),
                dir: path.clone(),
            });
        }
        nested(&path, at, out, depth + 1)?;
        at.pop();
    }
    Ok(())
}

/// Dovecot's per-folder keyword names: `dovecot-keywords` lines `N name`, N = letter index.
pub fn custom_keywords(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let Ok(text) = std::fs::read_to_string(dir.join("dovecot-keywords")) else {
        return out;
    };
    for line in text.lines() {
        if let Some((n, name)) = line.split_once(' ')
            && let Ok(i) = n.parse::<usize>()
            && i < 26
        {
            if out.len() <= i {
                out.resize(i + 1, String::new());
            }
            out[i] = name.trim().to_string();
        }
    }
    out
}

/// One message file: where it is, its keywords and received time.
#[derive(Debug, Clone)]
pub struct Entry {
    pub file: PathBuf,
    pub keywords: BTreeSet<String>,
    pub received_at: Option<i64>,
}

/// The messages of a folder (cur/ then new/), in file name order.
pub fn entries(folder: &Folder) -> Vec<Entry> {
    let custom = custom_keywords(&folder.dir);
    let mut out = Vec::new();
    for sub in ["cur", "new"] {
        let Ok(rd) = std::fs::read_dir(folder.dir.join(sub)) else {
            continue;
        };
        let mut files: Vec<PathBuf> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for file in files {
            let name = file
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            if name.starts_with('.') {
                continue;
            }
            let keywords = if sub == "cur" {
                flags::from_maildir_info(&name, &custom)
            } else {
                BTreeSet::new()
            };
            let received_at = std::fs::metadata(&file)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs() as i64);
            out.push(Entry {
                file,
                keywords,
                received_at,
            });
        }
    }
    out
}

/// Writes Maildir++ folders: the directory of a mailbox path (created with cur/new/tmp).
pub fn folder_dir(root: &Path, path: &[String]) -> Result<PathBuf, String> {
    let dir = if path.is_empty() {
        root.to_path_buf()
    } else {
        let segs: Vec<String> = path
            .iter()
            .map(|s| super::utf7::encode(s, &['.', '/']))
            .collect();
        root.join(format!(".{}", segs.join(".")))
    };
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.join(sub)).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    Ok(dir)
}

/// Writes one message into `dir/cur` with its flags and mtime.
pub fn write_message(
    dir: &Path,
    unique: &str,
    raw: &[u8],
    keywords: &BTreeSet<String>,
    received_at: i64,
    custom: &mut Vec<String>,
) -> Result<(), String> {
    let info = flags::to_maildir_info(keywords, custom);
    let file = dir.join("cur").join(format!("{unique}{info}"));
    std::fs::write(&file, raw).map_err(|e| format!("{}: {e}", file.display()))?;
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(received_at.max(0) as u64);
    std::fs::File::options()
        .write(true)
        .open(&file)
        .and_then(|f| f.set_modified(t))
        .map_err(|e| format!("{}: {e}", file.display()))
}

/// Writes the folder's `dovecot-keywords` file.
pub fn write_custom_keywords(dir: &Path, custom: &[String]) -> Result<(), String> {
    if custom.is_empty() {
        return Ok(());
    }
    let text: String = custom
        .iter()
        .enumerate()
        .map(|(i, k)| format!("{i} {k}\n"))
        .collect();
    std::fs::write(dir.join("dovecot-keywords"), text).map_err(|e| e.to_string())
}
