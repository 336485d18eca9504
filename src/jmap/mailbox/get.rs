//! Mailbox/get (RFC 8621 §2.1). Counts come from the store, which keeps them exact.

use crate::jmap::args::Args;
use crate::jmap::error::MethodError;
use crate::jmap::{Ctx, get};
use crate::store::model::{DataType, IdKind, Mailbox};
use serde_json::{Map, Value, json};

pub const PROPERTIES: [&str; 12] = [
    "id",
    "name",
    "parentId",
    "role",
    "sortOrder",
    "totalEmails",
    "unreadEmails",
    "totalThreads",
    "unreadThreads",
    "myRights",
    "isSubscribed",
    // RFC 9670 §3 (issue #16): the owner's grants; null for a grantee.
    "shareWith",
];

pub fn to_json(m: &Mailbox) -> Map<String, Value> {
    let v = json!({
        "id": IdKind::Mailbox.encode(m.id),
        "name": m.name,
        "parentId": m.parent_id.map(|p| IdKind::Mailbox.encode(p)),
        "role": m.role,
        "sortOrder": m.sort_order,
        "totalEmails": m.counts.total_emails,
        "unreadEmails": m.counts.unread_emails,
        "totalThreads": m.counts.total_threads,
        "unreadThreads": m.counts.unread_threads,
        "myRights": {
            "mayReadItems": true,
            "mayAddItems": true,
            "mayRemoveItems": true,
            "maySetSeen": true,
            "maySetKeywords": true,
            "mayCreateChild": true,
            "mayRename": true,
            "mayDelete": true,
            "maySubmit": true,
        },
        "isSubscribed": m.is_subscribed,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub async fn get(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let (acct, access) = ctx.access(&a)?;
    let g = get::parse(ctx, &a, &[], &PROPERTIES)?;
    let (state, all, grants) = ctx
        .jmap
        .store
        .read(move |r| {
            Ok((
                r.state(acct, DataType::Mailbox)?,
                r.mailboxes(acct)?,
                r.shares_of(acct)?,
            ))
        })
        .await?;
    let (state, all) = (access.state(state), access.visible_mailboxes(all));
    let full = access.full();
    let (list, not_found) = get::pick(
        g,
        &all,
        |id| {
            IdKind::Mailbox
                .decode(id)
                .and_then(|n| all.iter().find(|m| m.id == n))
        },
        |m| {
            let mut v = to_json(m);
            v.insert("myRights".into(), json!(access.rights(m.id).to_map()));
            let mine: Vec<_> = grants
                .iter()
                .filter(|g| full && g.mailbox == Some(m.id))
                .copied()
                .collect();
            v.insert(
                "shareWith".into(),
                crate::jmap::share_set::share_with_json(&mine),
            );
            v
        },
    );
    Ok(get::response(&ctx.account_id(), state, list, not_found))
}
