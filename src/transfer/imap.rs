//! `mailnook import imap`: every folder of another IMAP server into an account, through the one
//! import loop (`import.rs`: ingest, threads, counts, index, change log; no duplicates).
//!
//! - **Folders.** `LIST "" "*"`; names split at the server's hierarchy delimiter and decoded
//!   from modified UTF-7 (RFC 3501 §5.1.3). `INBOX` is the inbox; a leading `INBOX` level
//!   (Courier/Cyrus `INBOX.` namespaces) is dropped. A folder's RFC 6154 special-use attribute
//!   (`\Sent`, `\Drafts`, `\Junk`, `\Trash`, `\Archive`) sends it to the account's mailbox with
//!   that role; otherwise common names do (`flags::role_by_name`). `\Noselect` and
//!   `\NonExistent` names hold no mail and are skipped.
//! - **`\All`** (Gmail's "All Mail", RFC 6154 §2) and **`\Flagged`** are views of mail that is
//!   mostly in other folders too: they are read last, and a message already imported from another folder is left
//!   where it is; what only it holds goes to the Archive.
//! - **Flags** become keywords (RFC 8621 §4.1.1: `\Seen` -> `$seen`, ...; `\Deleted` and
//!   `\Recent` have none), **INTERNALDATE** becomes receivedAt. Folders are opened with EXAMINE
//!   and bodies fetched with `BODY.PEEK[]` (RFC 9051 §6.3.3, §6.4.5), so the old server's flags
//!   stay as they were.
//! - **Resumable and incremental.** A message is named by (UIDVALIDITY, UID) (RFC 9051
//!   §2.3.1.1). After each stored batch, the highest UID done is remembered per folder
//!   (`store/redb/import_state.rs`); the next run asks only for UIDs above it, unless the
//!   folder's UIDVALIDITY changed (then it is read again and the duplicate check keeps it from
//!   doubling anything).
//! - **Bounded.** At most [`MAX_FOLDERS`] folders and [`MAX_LISTED`] messages per run (the rest
//!   is listed as a problem; the next run goes on with it); a message
//!   larger than `import::MAX_MESSAGE` is listed, not fetched (its size is asked first); bodies
//!   are fetched in batches of at most [`BATCH_MESSAGES`] / [`BATCH_BYTES`]; every exchange has
//!   a deadline (`imap_conn::TIMEOUT`).
//!
//! A first pass over all folders (EXAMINE + `UID FETCH n:* (UID RFC822.SIZE)`) counts what is
//! new, so the progress line can show an ETA.

use super::imap_conn::{self, Session, Source, timed};
use super::import::{Importer, Item, MAX_MESSAGE, Summary};
use super::run::Progress;
use super::{flags, utf7};
use async_imap::types::{Flag, NameAttribute};
use futures_lite::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::PathBuf;

pub const MAX_FOLDERS: usize = 5000;
/// Messages listed across all folders in one run (each costs a few bytes of memory).
pub const MAX_LISTED: usize = 5_000_000;
pub const BATCH_MESSAGES: usize = 100;
pub const BATCH_BYTES: u64 = 8 * 1024 * 1024;

/// What `mailnook import imap` asks for (also sent over the control socket, mode 0600).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub account: String,
    /// `imaps://user@host[:port]` or `imap://...` (STARTTLS).
    pub from: String,
    pub password: Secret,
    /// Extra trusted certificates (PEM), for a server whose certificate is private.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

/// A password that never shows in a `Debug` print or a log line.
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"(password)\"")
    }
}

struct Folder {
    /// The name as the server spells it (for EXAMINE and the remembered state).
    name: String,
    path: Vec<String>,
    role: Option<&'static str>,
    /// A view of mail held in other folders too (`\All`, `\Flagged`: RFC 6154 §2).
    view: bool,
}

struct Plan {
    folder: Folder,
    uidvalidity: u32,
    /// (UID, size) of every message to fetch, ascending.
    todo: Vec<(u32, u32)>,
}

pub async fn import(
    store: &crate::store::Store,
    req: &Request,
    progress: Progress<'_>,
) -> Result<Summary, String> {
    let src = Source::parse(&req.from)?;
    let mut imp = Importer::new(store, &req.account).await?;
    let mut session = imap_conn::connect(&src, &req.password.0, req.ca_file.as_deref()).await?;
    let folders = list(&mut session, &mut imp.summary).await?;

    let acct = imp.account();
    let mut plans = Vec::new();
    let mut total = 0u64;
    let mut truncated = false;
    for folder in folders {
        let key = src.folder_key(&folder.name);
        let known = store
            .read(move |r| r.import_state(acct, &key))
            .await
            .map_err(|e| e.to_string())?;
        let name = folder.name.clone();
        match plan(&mut session, folder, known, total, &mut truncated).await {
            Ok(p) => {
                total += p.todo.len() as u64;
                plans.push(p);
            }
            Err(e) => imp.summary.fail(format!("folder {name:?}: {e}")),
        }
    }
    // `\All` last: see the module header.
    plans.sort_by_key(|p| p.folder.view);
    if truncated {
        imp.summary.fail(format!(
            "more than {MAX_LISTED} new messages: run the command again for the rest"
        ));
    }
    imp.summary.total = Some(total);
    progress(&imp.summary);

    let mut last = std::time::Instant::now();
    for p in plans {
        if p.folder.view {
            imp.flush().await;
            imp.merge_existing = false;
        }
        if let Some(role) = p.folder.role {
            imp.route_to_role(&p.folder.path, role);
        }
        if let Err(e) = fetch_folder(&mut session, &mut imp, &src, &p, &mut last, progress).await {
            imp.flush().await;
            return Err(format!(
                "{e}\n{}\nthe import stopped; run the same command again to go on where it stopped",
                imp.summary.report()
            ));
        }
    }
    imp.flush().await;
    let _ = timed("LOGOUT", session.logout()).await;
    progress(&imp.summary);
    Ok(imp.summary)
}

/// The selectable folders, inbox first.
async fn list(session: &mut Session, summary: &mut Summary) -> Result<Vec<Folder>, String> {
    let mut out = Vec::new();
    let mut more = 0usize;
    let mut stream = timed("LIST", session.list(Some(""), Some("*"))).await?;
    while let Some(name) = next(&mut stream, "LIST").await? {
        if out.len() >= MAX_FOLDERS {
            // Read on to the end of the response (the connection stays in step).
            more += 1;
            continue;
        }
        let attrs = name.attributes();
        let no_mail = |a: &NameAttribute<'_>| match a {
            NameAttribute::NoSelect => true,
            NameAttribute::Extension(x) => x.eq_ignore_ascii_case("\\NonExistent"),
            _ => false,
        };
        if attrs.iter().any(no_mail) {
            continue;
        }
        let raw = name.name().to_string();
        let mut path: Vec<String> = match name.delimiter() {
            Some(d) if !d.is_empty() => raw.split(d).map(str::to_string).collect(),
            _ => vec![raw.clone()],
        };
        for seg in path.iter_mut() {
            if let Some(decoded) = utf7::decode(seg) {
                *seg = decoded;
            }
        }
        if path
            .first()
            .is_some_and(|s| s.eq_ignore_ascii_case("INBOX"))
        {
            path.remove(0);
        }
        let mut role = None;
        let mut view = false;
        for a in attrs {
            let r = match a {
                NameAttribute::All => {
                    view = true;
                    Some("archive")
                }
                NameAttribute::Flagged => {
                    view = true;
                    None
                }
                NameAttribute::Archive => Some("archive"),
                NameAttribute::Drafts => Some("drafts"),
                NameAttribute::Junk => Some("junk"),
                NameAttribute::Sent => Some("sent"),
                NameAttribute::Trash => Some("trash"),
                NameAttribute::Extension(x) => flags::role_by_attribute(x),
                _ => None,
            };
            role = role.or(r);
        }
        if path.is_empty() {
            role = None;
        }
        out.push(Folder {
            name: raw,
            path,
            role,
            view,
        });
    }
    drop(stream);
    if more > 0 {
        summary.fail(format!(
            "{more} folders beyond the first {MAX_FOLDERS} are not imported"
        ));
    }
    out.sort_by_key(|f| !f.path.is_empty());
    Ok(out)
}

/// What is new in a folder.
async fn plan(
    session: &mut Session,
    folder: Folder,
    known: Option<(u64, u64)>,
    listed: u64,
    truncated: &mut bool,
) -> Result<Plan, String> {
    let mb = timed("EXAMINE", session.examine(&folder.name)).await?;
    let uidvalidity = mb
        .uid_validity
        .ok_or("the server gave no UIDVALIDITY (RFC 9051 §2.3.1.1)")?;
    let start = match known {
        Some((v, done)) if v == uidvalidity as u64 => done + 1,
        _ => 1,
    };
    let mut todo = Vec::new();
    let nothing_new = mb.exists == 0 || mb.uid_next.is_some_and(|n| (n as u64) <= start);
    if !nothing_new && start <= u32::MAX as u64 {
        let mut stream = timed(
            "UID FETCH (sizes)",
            session.uid_fetch(format!("{start}:*"), "(UID RFC822.SIZE)"),
        )
        .await?;
        while let Some(f) = next(&mut stream, "UID FETCH (sizes)").await? {
            // `n:*` also names the last message when all UIDs are below n (RFC 9051 §6.4.9).
            if let (Some(uid), Some(size)) = (f.uid, f.size)
                && uid as u64 >= start
            {
                // UIDs ascend with sequence numbers (RFC 9051 §2.3.1.1), so the first ones
                // listed are the lowest: the next run goes on after them. The rest of the
                // response is still read, so the connection stays in step.
                if listed as usize + todo.len() >= MAX_LISTED {
                    *truncated = true;
                    continue;
                }
                todo.push((uid, size));
            }
        }
    }
    todo.sort_unstable();
    todo.dedup_by_key(|t| t.0);
    Ok(Plan {
        folder,
        uidvalidity,
        todo,
    })
}

async fn fetch_folder(
    session: &mut Session,
    imp: &mut Importer,
    src: &Source,
    p: &Plan,
    last: &mut std::time::Instant,
    progress: Progress<'_>,
) -> Result<(), String> {
    let name = &p.folder.name;
    let key = src.folder_key(name);
    let acct = imp.account();
    let mb = timed("EXAMINE", session.examine(name)).await?;
    if mb.uid_validity != Some(p.uidvalidity) {
        imp.summary.fail(format!(
            "folder {name:?} was recreated during the import (UIDVALIDITY changed); run again"
        ));
        return Ok(());
    }
    let mut i = 0;
    while i < p.todo.len() {
        let mut set: Vec<u32> = Vec::new();
        let mut bytes = 0u64;
        while i < p.todo.len()
            && set.len() < BATCH_MESSAGES
            && (set.is_empty() || bytes + p.todo[i].1 as u64 <= BATCH_BYTES)
        {
            let (uid, size) = p.todo[i];
            i += 1;
            if size as usize > MAX_MESSAGE {
                imp.summary.bytes += size as u64;
                imp.summary.fail(format!(
                    "{name} UID {uid}: {size} bytes, larger than the {} MB limit",
                    MAX_MESSAGE >> 20
                ));
                continue;
            }
            set.push(uid);
            bytes += size as u64;
        }
        let mut got = Vec::with_capacity(set.len());
        if !set.is_empty() {
            let uids: Vec<String> = set.iter().map(u32::to_string).collect();
            let mut stream = timed(
                "UID FETCH",
                session.uid_fetch(uids.join(","), "(UID FLAGS INTERNALDATE BODY.PEEK[])"),
            )
            .await?;
            while let Some(f) = next(&mut stream, "UID FETCH").await? {
                let Some(uid) = f.uid.filter(|u| set.binary_search(u).is_ok()) else {
                    continue; // an unsolicited FETCH (a flag change elsewhere)
                };
                let keywords: BTreeSet<String> = f.flags().filter_map(keyword).collect();
                let received = f.internal_date().map(|d| d.timestamp());
                got.push((uid, f.body().map(<[u8]>::to_vec), keywords, received));
            }
        }
        while session.unsolicited_responses.try_recv().is_ok() {}
        for (uid, raw, keywords, received_at) in got {
            let origin = format!("{name} UID {uid}");
            let Some(raw) = raw else {
                imp.summary
                    .fail(format!("{origin}: the server sent no body"));
                continue;
            };
            imp.add(Item {
                raw,
                folders: vec![p.folder.path.clone()],
                keywords,
                received_at,
                origin,
            })
            .await;
        }
        imp.flush().await;
        // Everything up to here is stored (or listed as failed): the next run starts after it.
        let done = p.todo[i - 1].0 as u64;
        let (v, k) = (p.uidvalidity as u64, key.clone());
        imp.store()
            .write(move |w| w.set_import_state(acct, &k, v, done))
            .await
            .map_err(|e| format!("cannot remember the import's progress: {e}"))?;
        if last.elapsed().as_millis() >= 1000 {
            *last = std::time::Instant::now();
            progress(&imp.summary);
        }
    }
    Ok(())
}

/// The next item of a response stream, within the deadline.
async fn next<S, T>(stream: &mut S, what: &str) -> Result<Option<T>, String>
where
    S: futures_lite::Stream<Item = async_imap::error::Result<T>> + Unpin,
{
    let item = timed(what, async { Ok::<_, String>(stream.next().await) }).await?;
    item.transpose().map_err(|e| format!("{what}: {e}"))
}

/// An IMAP flag as a JMAP keyword (RFC 8621 §4.1.1).
fn keyword(f: Flag<'_>) -> Option<String> {
    match f {
        Flag::Seen => Some("$seen".into()),
        Flag::Answered => Some("$answered".into()),
        Flag::Flagged => Some("$flagged".into()),
        Flag::Draft => Some("$draft".into()),
        Flag::Deleted | Flag::Recent | Flag::MayCreate => None,
        Flag::Custom(c) => flags::keyword(&c),
    }
}
