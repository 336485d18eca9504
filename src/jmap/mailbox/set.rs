//! Mailbox/set (RFC 8621 §2.5) on the shared /set machinery (`set.rs`).
//!
//! Rules enforced, each checked before anything is written:
//! - name: 1..=255 octets (the session's maxSizeMailboxName), no control characters, unique
//!   among its siblings;
//! - parentId: null or an existing mailbox (or `#creationId`); a move may not make a mailbox its
//!   own ancestor; the tree is at most maxMailboxDepth (10) deep;
//! - role: null or a registered role (IANA IMAP Mailbox Name Attributes), lower-case, at most
//!   one mailbox per role; the inbox keeps its role and cannot be destroyed, because mail
//!   delivery needs it;
//! - sortOrder < 2^31; isSubscribed defaults to true for the user's own mailboxes;
//! - counts and myRights are server-set;
//! - destroy: `mailboxHasChild` while it has children; `mailboxHasEmail` while it holds mail
//!   unless `onDestroyRemoveEmails`, which takes the mailbox off every email and destroys
//!   emails left in no mailbox, with counts kept exact by the store.

use super::get::to_json;
use crate::jmap::error::SetError;
use crate::jmap::set::{self, Created, Obj, SetCx, SetHandler};
use crate::store::model::{DataType, IdKind, Mailbox};
use crate::store::{VALID_ROLES, Writer};
use serde_json::{Value, json};

/// The session's maxSizeMailboxName and maxMailboxDepth (jmap/session.rs).
pub const MAX_NAME_OCTETS: usize = 255;
pub const MAX_DEPTH: usize = 10;

const SERVER_SET: [&str; 6] = [
    "totalEmails",
    "unreadEmails",
    "totalThreads",
    "unreadThreads",
    "myRights",
    "id",
];

pub struct MailboxSet;

/// The validated client-settable fields.
struct Fields {
    name: String,
    parent_id: Option<u32>,
    role: Option<String>,
    sort_order: u32,
    is_subscribed: bool,
}

fn mailbox_ref(cx: &SetCx, prop: &str, v: &Value) -> Result<Option<u32>, SetError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => {
            let id = cx.resolve_ref(prop, s)?;
            IdKind::Mailbox
                .decode(&id)
                .map(Some)
                .ok_or_else(|| SetError::invalid_properties(&[prop], "no such mailbox"))
        }
        _ => Err(SetError::invalid_properties(
            &[prop],
            format!("{prop} must be an id or null"),
        )),
    }
}

fn fields(cx: &SetCx, obj: &Obj, base: Option<&Mailbox>) -> Result<Fields, SetError> {
    let name = match obj.get("name") {
        Some(Value::String(n)) => n.clone(),
        None if base.is_some() => base.map(|b| b.name.clone()).unwrap_or_default(),
        _ => {
            return Err(SetError::invalid_properties(
                &["name"],
                "name must be a string",
            ));
        }
    };
    if name.is_empty() || name.len() > MAX_NAME_OCTETS || name.chars().any(char::is_control) {
        return Err(SetError::invalid_properties(
            &["name"],
            format!("a name is 1 to {MAX_NAME_OCTETS} octets without control characters"),
        ));
    }
    let parent_id = match obj.get("parentId") {
        Some(v) => mailbox_ref(cx, "parentId", v)?,
        None => base.and_then(|b| b.parent_id),
    };
    let role = match obj.get("role") {
        Some(Value::Null) => None,
        Some(Value::String(r)) => {
            if !VALID_ROLES.contains(&r.as_str()) {
                return Err(SetError::invalid_properties(
                    &["role"],
                    format!("unknown role '{r}'"),
                ));
            }
            Some(r.clone())
        }
        None => base.and_then(|b| b.role.clone()),
        Some(_) => {
            return Err(SetError::invalid_properties(
                &["role"],
                "role must be a string or null",
            ));
        }
    };
    let sort_order = match obj.get("sortOrder") {
        Some(Value::Number(n)) => match n.as_u64() {
            Some(v) if v < (1 << 31) => v as u32,
            _ => {
                return Err(SetError::invalid_properties(
                    &["sortOrder"],
                    "sortOrder is an integer from 0 to 2^31-1",
                ));
            }
        },
        None => base.map(|b| b.sort_order).unwrap_or(0),
        Some(_) => {
            return Err(SetError::invalid_properties(
                &["sortOrder"],
                "sortOrder must be a number",
            ));
        }
    };
    let is_subscribed = match obj.get("isSubscribed") {
        Some(Value::Bool(b)) => *b,
        None => base.map(|b| b.is_subscribed).unwrap_or(true),
        Some(_) => {
            return Err(SetError::invalid_properties(
                &["isSubscribed"],
                "isSubscribed must be a boolean",
            ));
        }
    };
    Ok(Fields {
        name,
        parent_id,
        role,
        sort_order,
        is_subscribed,
    })
}

/// Checks the fields against the other mailboxes: parent exists, no cycle, depth, sibling
/// names, one mailbox per role. `id` is the mailbox being updated (None on create).
fn check_tree(all: &[Mailbox], id: Option<u32>, f: &Fields) -> Result<(), SetError> {
    if let Some(p) = f.parent_id {
        if !all.iter().any(|m| m.id == p) {
            return Err(SetError::invalid_properties(
                &["parentId"],
                "the parent mailbox does not exist",
            ));
        }
        // Walk up from the new parent: meeting `id` means a cycle.
        let mut depth = 1;
        let mut cur = Some(p);
        while let Some(c) = cur {
            if Some(c) == id {
                return Err(SetError::invalid_properties(
                    &["parentId"],
                    "a mailbox cannot be moved under itself or its descendants",
                ));
            }
            depth += 1;
            if depth > all.len() + 1 {
                break;
            }
            cur = all.iter().find(|m| m.id == c).and_then(|m| m.parent_id);
        }
        if depth + subtree_height(all, id) > MAX_DEPTH {
            return Err(SetError::invalid_properties(
                &["parentId"],
                format!("mailboxes nest at most {MAX_DEPTH} deep"),
            ));
        }
    }
    // A sibling with the same name is the object that "already exists" (RFC 8620 §5.3/§5.4
    // `alreadyExists`, with `existingId` naming it), not a malformed property: a client that
    // creates "Archive" twice can then use the existing one.
    if let Some(existing) = all
        .iter()
        .find(|m| Some(m.id) != id && m.parent_id == f.parent_id && m.name == f.name)
    {
        return Err(
            SetError::new("alreadyExists", "a sibling mailbox has this name")
                .with("existingId", json!(IdKind::Mailbox.encode(existing.id))),
        );
    }
    if let Some(r) = &f.role
        && all
            .iter()
            .any(|m| Some(m.id) != id && m.role.as_deref() == Some(r))
    {
        return Err(SetError::invalid_properties(
            &["role"],
            format!("another mailbox has the role '{r}'"),
        ));
    }
    Ok(())
}

/// Levels below `id` (0 for a leaf or a new mailbox).
fn subtree_height(all: &[Mailbox], id: Option<u32>) -> usize {
    let Some(id) = id else { return 0 };
    fn walk(all: &[Mailbox], id: u32, depth: usize) -> usize {
        if depth > 64 {
            return depth;
        }
        all.iter()
            .filter(|m| m.parent_id == Some(id))
            .map(|m| 1 + walk(all, m.id, depth + 1))
            .max()
            .unwrap_or(0)
    }
    walk(all, id, 0)
}

fn decode(id: &str) -> Result<u32, SetError> {
    IdKind::Mailbox.decode(id).ok_or_else(SetError::not_found)
}

impl SetHandler for MailboxSet {
    fn data_type(&self) -> Option<DataType> {
        Some(DataType::Mailbox)
    }

    fn extra_args(&self) -> &'static [&'static str] {
        &["onDestroyRemoveEmails"]
    }

    fn create(&self, w: &mut Writer<'_>, cx: &mut SetCx, obj: Obj) -> Result<Created, SetError> {
        set::only_props(
            &obj,
            &["name", "parentId", "role", "sortOrder", "isSubscribed"],
        )?;
        let f = fields(cx, &obj, None)?;
        let all = w.all_mailboxes(cx.account)?;
        check_tree(&all, None, &f)?;
        let mb = Mailbox {
            id: 0,
            name: f.name,
            parent_id: f.parent_id,
            role: f.role.clone(),
            sort_order: f.sort_order,
            is_subscribed: f.is_subscribed,
            counts: Default::default(),
        };
        let id = w.put_mailbox(cx.account, mb, true)?;
        let mut c = Created::new(IdKind::Mailbox.encode(id))
            .with("totalEmails", json!(0))
            .with("unreadEmails", json!(0))
            .with("totalThreads", json!(0))
            .with("unreadThreads", json!(0));
        if let Some(v) = to_json(&Mailbox {
            id,
            name: String::new(),
            parent_id: None,
            role: None,
            sort_order: 0,
            is_subscribed: true,
            counts: Default::default(),
        })
        .get("myRights")
        {
            c = c.with("myRights", v.clone());
        }
        for (prop, v) in [
            (
                "parentId",
                json!(f.parent_id.map(|p| IdKind::Mailbox.encode(p))),
            ),
            ("role", json!(f.role)),
            ("sortOrder", json!(f.sort_order)),
            ("isSubscribed", json!(f.is_subscribed)),
        ] {
            if !obj.contains_key(prop) {
                c = c.with(prop, v);
            }
        }
        Ok(c)
    }

    fn load(&self, w: &mut Writer<'_>, cx: &SetCx, id: &str) -> Result<Option<Obj>, SetError> {
        let Some(n) = IdKind::Mailbox.decode(id) else {
            return Ok(None);
        };
        Ok(w.all_mailboxes(cx.account)?
            .into_iter()
            .find(|m| m.id == n)
            .map(|m| to_json(&m)))
    }

    fn update(
        &self,
        w: &mut Writer<'_>,
        cx: &mut SetCx,
        id: &str,
        old: &Obj,
        new: Obj,
    ) -> Result<Option<Obj>, SetError> {
        set::same_server_set(old, &new, &SERVER_SET)?;
        set::only_props(
            &new,
            &[
                "id",
                "name",
                "parentId",
                "role",
                "sortOrder",
                "isSubscribed",
                "totalEmails",
                "unreadEmails",
                "totalThreads",
                "unreadThreads",
                "myRights",
            ],
        )?;
        let n = decode(id)?;
        let all = w.all_mailboxes(cx.account)?;
        let current = all
            .iter()
            .find(|m| m.id == n)
            .cloned()
            .ok_or_else(SetError::not_found)?;
        let f = fields(cx, &new, Some(&current))?;
        if current.role.as_deref() == Some("inbox") && f.role.as_deref() != Some("inbox") {
            return Err(SetError::invalid_properties(
                &["role"],
                "the inbox keeps its role: mail is delivered there",
            ));
        }
        check_tree(&all, Some(n), &f)?;
        let mb = Mailbox {
            name: f.name,
            parent_id: f.parent_id,
            role: f.role,
            sort_order: f.sort_order,
            is_subscribed: f.is_subscribed,
            ..current.clone()
        };
        if mb != current {
            w.put_mailbox(cx.account, mb, false)?;
        }
        Ok(None)
    }

    fn destroy(&self, w: &mut Writer<'_>, cx: &mut SetCx, id: &str) -> Result<(), SetError> {
        let n = decode(id)?;
        let acct = cx.account;
        let all = w.all_mailboxes(acct)?;
        let Some(mb) = all.iter().find(|m| m.id == n) else {
            return Err(SetError::not_found());
        };
        if mb.role.as_deref() == Some("inbox") {
            return Err(SetError::new(
                "forbidden",
                "the inbox cannot be destroyed: mail is delivered there",
            ));
        }
        if all.iter().any(|m| m.parent_id == Some(n)) {
            return Err(SetError::new(
                "mailboxHasChild",
                "the mailbox has child mailboxes",
            ));
        }
        let emails = w.mailbox_email_ids(acct, n)?;
        if !emails.is_empty() && !cx.bool_arg("onDestroyRemoveEmails") {
            return Err(SetError::new(
                "mailboxHasEmail",
                format!("the mailbox holds {} emails", emails.len()),
            ));
        }
        for e in emails {
            let Some(st) = w.find_email(acct, e)? else {
                continue;
            };
            let rest: Vec<u32> = st.mailbox_ids.iter().copied().filter(|m| *m != n).collect();
            if rest.is_empty() {
                w.destroy_email(acct, e)?;
            } else {
                w.update_email(acct, e, Some(rest), None)?;
            }
        }
        w.remove_mailbox(acct, n)?;
        Ok(())
    }
}
