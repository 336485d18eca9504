//! The result window of every /query (RFC 8620 §5.5: position, anchor, anchorOffset, limit,
//! calculateTotal) and the one builder of the /query response.
//!
//! An anchor wins over position; a negative position counts from the end; both are clamped to
//! the results; an anchor not in the results is `anchorNotFound`. A type may cap `limit`
//! (Email does, the rest return everything asked); §5.5 says `limit` is returned "only if the
//! server set a limit or used a different limit than that given in the request", so it is
//! echoed only when the cap cut the page.

use crate::jmap::args::{self, Args};
use crate::jmap::error::MethodError;
use crate::jmap::{Ctx, state_string};
use crate::store::model::IdKind;
use serde_json::{Value, json};

/// The window arguments of a /query.
#[derive(Debug, Clone)]
pub struct Window {
    pub position: i64,
    /// With `#creationId` references resolved (RFC 8620 §5.3).
    pub anchor: Option<String>,
    pub anchor_offset: i64,
    /// As asked; negative is refused (§5.5: "MUST be rejected with an invalidArguments").
    pub limit: Option<u64>,
    pub calculate_total: bool,
}

impl Window {
    pub fn parse(ctx: &Ctx<'_>, a: &Args) -> Result<Window, MethodError> {
        Ok(Window {
            position: args::opt_int(a, "position")?.unwrap_or(0),
            anchor: args::opt_str(a, "anchor")?.map(|s| ctx.resolve_id(s)),
            anchor_offset: args::opt_int(a, "anchorOffset")?.unwrap_or(0),
            limit: args::opt_uint(a, "limit")?,
            calculate_total: args::opt_bool(a, "calculateTotal", false)?,
        })
    }

    /// The page size used: the asked limit, capped at the type's `max` if it has one.
    fn used_limit(&self, max: Option<usize>) -> usize {
        let asked = self
            .limit
            .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
        max.map_or(asked, |m| asked.min(m))
    }

    /// How many results a type that finds them in order may stop after: without a total, an
    /// anchor or a position from the end, the page and one more (to tell whether the cap cut
    /// it) are enough. `None`: it needs them all.
    pub fn stop_after(&self, max: Option<usize>) -> Option<usize> {
        if self.calculate_total {
            return None;
        }
        self.stop_after_counted(max)
    }

    /// As [`Window::stop_after`], for a type that knows the total without the results (e.g.
    /// Email from a mailbox's counts): `calculateTotal` then needs no full walk.
    pub fn stop_after_counted(&self, max: Option<usize>) -> Option<usize> {
        (self.anchor.is_none() && self.position >= 0).then(|| {
            usize::try_from(self.position)
                .unwrap_or(usize::MAX)
                .saturating_add(self.used_limit(max))
                .saturating_add(1)
        })
    }

    /// The /query response for the ordered results `ids` (all of them, or at least the prefix
    /// [`Window::stop_after`] asked for), at query state `state`, with the type's limit cap.
    pub fn response(
        &self,
        ctx: &Ctx<'_>,
        state: u64,
        ids: &[u32],
        kind: IdKind,
        max: Option<usize>,
    ) -> Result<Value, MethodError> {
        self.response_counted(ctx, state, ids, kind, max, ids.len())
    }

    /// [`Window::response`] with the `total` known apart from `ids` (which then hold at least
    /// the prefix [`Window::stop_after_counted`] asked for).
    pub fn response_counted(
        &self,
        ctx: &Ctx<'_>,
        state: u64,
        ids: &[u32],
        kind: IdKind,
        max: Option<usize>,
        total: usize,
    ) -> Result<Value, MethodError> {
        let start = match &self.anchor {
            Some(anchor) => {
                let at = kind
                    .decode(anchor)
                    .and_then(|n| ids.iter().position(|i| *i == n))
                    .ok_or_else(|| {
                        MethodError::new("anchorNotFound", "the anchor is not in the results")
                    })?;
                usize::try_from((at as i64).saturating_add(self.anchor_offset).max(0)).unwrap_or(0)
            }
            None if self.position < 0 => {
                usize::try_from((total as i64).saturating_add(self.position).max(0)).unwrap_or(0)
            }
            None => usize::try_from(self.position).unwrap_or(usize::MAX),
        }
        .min(total);
        let limit = self.used_limit(max);
        // `ids` may be shorter than `total` when the total was counted apart.
        let page: Vec<String> = ids
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take(limit)
            .map(|i| kind.encode(*i))
            .collect();
        let mut out = json!({
            "accountId": ctx.account_id(),
            "queryState": state_string(state),
            "canCalculateChanges": true,
            "position": start,
            "ids": page,
        });
        if self.calculate_total {
            out["total"] = json!(total);
        }
        // §5.5: `limit` only when the server's cap replaced the client's (a larger or no
        // limit) and so may have cut the page.
        if let Some(m) = max {
            let capped = match self.limit {
                Some(l) => usize::try_from(l).map_or(true, |l| l > m),
                None => total.saturating_sub(start) > m,
            };
            if capped {
                out["limit"] = json!(limit);
            }
        }
        Ok(out)
    }
}
