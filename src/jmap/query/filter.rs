//! The `filter` argument of every /query and /queryChanges (RFC 8620 §5.5): a tree of
//! FilterOperators (AND, OR, NOT) over FilterConditions, parsed once into [`Filter<C>`] where
//! `C` is the object type's own typed condition (one property of a FilterCondition).
//!
//! Errors, the same for every object type (RFC 8620 §5.5, §3.6.2):
//! - a filter or condition that is not an object, an `operator` other than "AND", "OR" or
//!   "NOT" (the spec says it MUST be one of them), a FilterOperator without a `conditions`
//!   array or with other properties, a condition value of the wrong type or form:
//!   `invalidArguments` (the request is not well-formed);
//! - a condition property the type does not know, a tree deeper than [`MAX_DEPTH`], or more
//!   than the type can answer: `unsupportedFilter` ("syntactically valid, but the server
//!   cannot process it").
//!
//! A FilterCondition with several properties is the AND of one condition per property.

use crate::jmap::Ctx;
use crate::jmap::error::MethodError;
use serde_json::{Map, Value};

/// Deeper trees are refused (a request must not be able to exhaust the stack).
pub const MAX_DEPTH: usize = 16;

/// One FilterCondition property of an object type, typed. Implementing it (plus
/// [`SortProperty`](super::sort::SortProperty)) is what an object needs for /query.
pub trait Condition: Sized {
    /// Parses the property `name` with `value`. `Ok(None)`: the type has no such condition
    /// (answered unsupportedFilter); a value of the wrong type or form is invalidArguments.
    /// `ctx` resolves `#creationId` references (RFC 8620 §5.3) in id values.
    fn parse(ctx: &Ctx<'_>, name: &str, value: &Value) -> Result<Option<Self>, MethodError>;
}

/// A parsed filter: FilterOperators over the type's conditions `C`.
#[derive(Debug, Clone)]
pub enum Filter<C> {
    And(Vec<Filter<C>>),
    Or(Vec<Filter<C>>),
    /// §5.5: true when none of the conditions is.
    Not(Vec<Filter<C>>),
    Cond(C),
}

impl<C: Condition> Filter<C> {
    /// Parses `filter`; absent or null means no filter (every object matches).
    pub fn parse(ctx: &Ctx<'_>, v: Option<&Value>) -> Result<Option<Filter<C>>, MethodError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(v) => node(ctx, v, 0).map(Some),
        }
    }
}

fn node<C: Condition>(ctx: &Ctx<'_>, v: &Value, depth: usize) -> Result<Filter<C>, MethodError> {
    if depth > MAX_DEPTH {
        return Err(MethodError::unsupported_filter(format!(
            "filters may nest at most {MAX_DEPTH} levels"
        )));
    }
    let Value::Object(o) = v else {
        return Err(MethodError::invalid_arguments(
            "a filter must be a FilterOperator or FilterCondition object",
        ));
    };
    match o.get("operator") {
        Some(op) => operator(ctx, o, op, depth),
        None => condition(ctx, o),
    }
}

fn operator<C: Condition>(
    ctx: &Ctx<'_>,
    o: &Map<String, Value>,
    op: &Value,
    depth: usize,
) -> Result<Filter<C>, MethodError> {
    if let Some(k) = o.keys().find(|k| *k != "operator" && *k != "conditions") {
        return Err(MethodError::invalid_arguments(format!(
            "unknown FilterOperator property '{k}'"
        )));
    }
    let Some(Value::Array(list)) = o.get("conditions") else {
        return Err(MethodError::invalid_arguments(
            "a FilterOperator needs a 'conditions' array",
        ));
    };
    let make: fn(Vec<Filter<C>>) -> Filter<C> = match op.as_str() {
        Some("AND") => Filter::And,
        Some("OR") => Filter::Or,
        Some("NOT") => Filter::Not,
        _ => {
            return Err(MethodError::invalid_arguments(
                "operator must be \"AND\", \"OR\" or \"NOT\"",
            ));
        }
    };
    let children = list
        .iter()
        .map(|c| node(ctx, c, depth + 1))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(make(children))
}

fn condition<C: Condition>(
    ctx: &Ctx<'_>,
    o: &Map<String, Value>,
) -> Result<Filter<C>, MethodError> {
    let mut conds = Vec::with_capacity(o.len());
    for (k, v) in o {
        let c = C::parse(ctx, k, v)?.ok_or_else(|| {
            MethodError::unsupported_filter(format!("filter condition '{k}' is not supported"))
        })?;
        conds.push(Filter::Cond(c));
    }
    if conds.len() == 1 {
        return Ok(conds.remove(0));
    }
    Ok(Filter::And(conds))
}

impl<C> Filter<C> {
    /// Does an object match, given how one condition matches it?
    pub fn matches(&self, cond: &dyn Fn(&C) -> bool) -> bool {
        match self {
            Filter::And(l) => l.iter().all(|f| f.matches(cond)),
            Filter::Or(l) => l.iter().any(|f| f.matches(cond)),
            Filter::Not(l) => !l.iter().any(|f| f.matches(cond)),
            Filter::Cond(c) => cond(c),
        }
    }

    /// [`Filter::matches`] for conditions that read records as they go (and so can fail).
    pub fn try_matches<E>(&self, cond: &mut dyn FnMut(&C) -> Result<bool, E>) -> Result<bool, E> {
        Ok(match self {
            Filter::And(l) => {
                for f in l {
                    if !f.try_matches(cond)? {
                        return Ok(false);
                    }
                }
                true
            }
            Filter::Or(l) => {
                for f in l {
                    if f.try_matches(cond)? {
                        return Ok(true);
                    }
                }
                false
            }
            Filter::Not(l) => {
                for f in l {
                    if f.try_matches(cond)? {
                        return Ok(false);
                    }
                }
                true
            }
            Filter::Cond(c) => cond(c)?,
        })
    }

    /// Whether any condition satisfies `pred` (e.g. "does the filter look at threads?").
    pub fn any(&self, pred: &dyn Fn(&C) -> bool) -> bool {
        match self {
            Filter::Cond(c) => pred(c),
            Filter::And(l) | Filter::Or(l) | Filter::Not(l) => l.iter().any(|f| f.any(pred)),
        }
    }

    /// The conditions every match must satisfy: those at the top or under top-level ANDs.
    pub fn required(&self) -> Vec<&C> {
        let mut out = Vec::new();
        fn walk<'a, C>(f: &'a Filter<C>, out: &mut Vec<&'a C>) {
            match f {
                Filter::Cond(c) => out.push(c),
                Filter::And(l) => l.iter().for_each(|f| walk(f, out)),
                _ => {}
            }
        }
        walk(self, &mut out);
        out
    }
}

impl<C> Filter<C> {
    /// Visits every condition in order, mutably (Email numbers its text searches this way).
    pub fn visit_mut<E>(&mut self, f: &mut dyn FnMut(&mut C) -> Result<(), E>) -> Result<(), E> {
        match self {
            Filter::Cond(c) => f(c),
            Filter::And(l) | Filter::Or(l) | Filter::Not(l) => {
                l.iter_mut().try_for_each(|x| x.visit_mut(f))
            }
        }
    }
}
