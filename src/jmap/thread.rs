//! Thread/get (RFC 8621 §3.1): the email ids of a thread in receivedAt order.

use super::args::Args;
use super::error::MethodError;
use super::{Ctx, get};
use crate::store::model::{DataType, IdKind};
use serde_json::{Value, json};

pub async fn get(ctx: &mut Ctx<'_>, a: Args) -> Result<Value, MethodError> {
    let (acct, access) = ctx.access(&a)?;
    let g = get::parse(ctx, &a, &[], &["id", "emailIds"])?;
    let Some(ids) = g.ids else {
        // RFC 8620 §5.1 allows ids: null; threads are fetched by id in practice, so list all.
        let (state, all) = ctx
            .jmap
            .store
            .read(move |r| {
                let mut threads = std::collections::BTreeSet::new();
                for (_, e) in r.all_emails(acct)? {
                    if let Some(s) = r.email_state(acct, e)? {
                        threads.insert(s.thread_id);
                    }
                }
                let mut out = Vec::new();
                for t in threads {
                    if let Some(m) = r.thread(acct, t)? {
                        out.push((t, m));
                    }
                }
                let out = visible_threads(r, acct, &access, out)?;
                Ok((access.state(r.state(acct, DataType::Thread)?), out))
            })
            .await?;
        let list = all
            .into_iter()
            .map(|(t, m)| render(t, &m, g.properties.as_deref()))
            .collect();
        return Ok(get::response(&ctx.account_id(), state, list, Vec::new()));
    };
    let wanted: Vec<(String, Option<u32>)> = ids
        .into_iter()
        .map(|s| (s.clone(), IdKind::Thread.decode(&s)))
        .collect();
    let (state, found) = ctx
        .jmap
        .store
        .read(move |r| {
            let mut out = Vec::new();
            for (s, n) in wanted {
                let members = match n {
                    Some(n) => r.thread(acct, n)?.map(|m| (n, m)),
                    None => None,
                };
                let members = match members {
                    Some(m) => visible_threads(r, acct, &access, vec![m])?.pop(),
                    None => None,
                };
                out.push((s, members));
            }
            Ok((access.state(r.state(acct, DataType::Thread)?), out))
        })
        .await?;
    let mut list = Vec::new();
    let mut not_found = Vec::new();
    for (s, m) in found {
        match m {
            Some((n, members)) => list.push(render(n, &members, g.properties.as_deref())),
            None => not_found.push(s),
        }
    }
    Ok(get::response(&ctx.account_id(), state, list, not_found))
}

/// A thread as a grantee sees it: its readable members only; none readable, no thread
/// (access.rs).
fn visible_threads(
    r: &crate::store::Reader,
    acct: u32,
    access: &super::access::Access,
    threads: Vec<(u32, Vec<u32>)>,
) -> crate::store::Result<Vec<(u32, Vec<u32>)>> {
    if access.reads_all() {
        return Ok(threads);
    }
    let mut out = Vec::with_capacity(threads.len());
    for (t, members) in threads {
        let mut keep = Vec::with_capacity(members.len());
        for m in members {
            if r.email_state(acct, m)?.is_some_and(|st| access.reads(&st)) {
                keep.push(m);
            }
        }
        if !keep.is_empty() {
            out.push((t, keep));
        }
    }
    Ok(out)
}

fn render(id: u32, members: &[u32], props: Option<&[String]>) -> Value {
    let v = json!({
        "id": IdKind::Thread.encode(id),
        "emailIds": members.iter().map(|m| IdKind::Email.encode(*m)).collect::<Vec<_>>(),
    });
    match v {
        Value::Object(m) => get::select(m, props),
        other => other,
    }
}
