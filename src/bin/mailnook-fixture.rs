//! `make fixture-db`: writes the small database committed as
//! `tests/fixtures/db/v<SCHEMA>.redb`, in the current format, through the ordinary store and
//! ingest paths. The fixture test (`tests/it/store_schema.rs`) opens every committed fixture
//! with the current binary, so a later change to the tables that forgets its migration fails
//! there. Regenerate only when the format version changes, and keep the older fixtures.
//!
//! Contents (the test checks them): account `fixture@example.org` (password
//! `fixture password`, admin), a child mailbox `Archive/2026`, five messages from
//! tests/fixtures/emails (two in one thread), keywords `$seen`/`$flagged`, one message in two
//! mailboxes.

use mailnook::ingest::{self, Target};
use mailnook::store::Store;
use mailnook::store::model::Mailbox;
use std::collections::BTreeMap;
use std::path::PathBuf;

const USER: &str = "fixture@example.org";
const PASS: &str = "fixture password";
/// 2023-11-14T22:13:20Z: fixed, so the fixture's receivedAt values are known.
const T0: i64 = 1_700_000_000;

fn main() {
    if let Err(e) = run() {
        eprintln!("mailnook-fixture: {e}");
        std::process::exit(1);
    }
}

fn thread_message(n: u32, in_reply_to: Option<&str>) -> Vec<u8> {
    let mut m = format!(
        "From: Ada <ada@example.net>\r\nTo: {USER}\r\nSubject: {}Fixture thread\r\n\
         Date: Tue, 14 Nov 2023 22:1{n}:00 +0000\r\nMessage-ID: <thread-{n}@example.net>\r\n",
        if in_reply_to.is_some() { "Re: " } else { "" }
    );
    if let Some(r) = in_reply_to {
        m.push_str(&format!("In-Reply-To: {r}\r\nReferences: {r}\r\n"));
    }
    m.push_str(&format!(
        "\r\nThread body {n}: the word zeppelin is searchable.\r\n"
    ));
    m.into_bytes()
}

fn run() -> Result<(), String> {
    let dest = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or("usage: mailnook-fixture DEST.redb")?;
    if dest.exists() {
        return Err(format!("{} exists; remove it first", dest.display()));
    }
    let store = Store::open(&dest, 8 << 20).map_err(|e| e.to_string())?;
    let hash = mailnook::password::hash(PASS)?;
    let add = mailnook::accounts::Command::Add {
        address: USER.into(),
        password_hash: hash,
        admin: true,
    };
    if let mailnook::accounts::Outcome::Error(e) =
        smol::block_on(mailnook::accounts::run(&store, add))
    {
        return Err(e);
    }
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/emails");
    smol::block_on(async {
        let account = store
            .read(|r| Ok(r.account_by_name(USER)?.map(|a| a.id)))
            .await
            .map_err(|e| e.to_string())?
            .ok_or("account missing")?;
        let (archive, child) = store
            .write(move |w| {
                let archive = w
                    .mailbox_id_by_role(account, "archive")?
                    .ok_or(mailnook::store::StoreError::NotFound)?;
                let child = w.put_mailbox(
                    account,
                    Mailbox {
                        id: 0,
                        name: "2026".into(),
                        parent_id: Some(archive),
                        role: None,
                        sort_order: 0,
                        is_subscribed: true,
                        counts: Default::default(),
                    },
                    true,
                )?;
                Ok((archive, child))
            })
            .await
            .map_err(|e| e.to_string())?;
        let inbox = |kw: &[&str]| Target {
            keywords: kw
                .iter()
                .map(|k| (k.to_string(), true))
                .collect::<BTreeMap<_, _>>(),
            ..Target::inbox(account)
        };
        let file = |n: &str| std::fs::read(fixtures.join(n)).map_err(|e| format!("{n}: {e}"));
        let deliveries = vec![
            (file("01-plain-ascii.eml")?, inbox(&["$seen"])),
            (file("05-multipart-alternative.eml")?, inbox(&["$flagged"])),
            (
                file("06-multipart-mixed-two-attachments.eml")?,
                Target {
                    mailbox_ids: vec![archive, child],
                    ..inbox(&["$seen"])
                },
            ),
            (thread_message(1, None), inbox(&[])),
            (
                thread_message(2, Some("<thread-1@example.net>")),
                inbox(&[]),
            ),
        ];
        for (i, (raw, target)) in deliveries.into_iter().enumerate() {
            ingest::deliver(&store, raw, vec![target], T0 + i as i64 * 60)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok::<(), String>(())
    })?;
    store.shutdown();
    println!("wrote {}", dest.display());
    Ok(())
}
