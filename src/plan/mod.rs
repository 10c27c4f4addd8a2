//! The migration plan, pure: staged actions, what each expands to against a snapshot of the
//! cluster, preflight findings, the inverse of a journal entry, and the plan file form. It
//! takes data and returns data: no IO, no async, no clock (times are passed in).

mod model;
mod target;

pub use model::*;
pub use target::*;
mod preview;

pub use preview::*;

use crate::mesh::Snapshot;

/// What expansion reads besides the plan.
pub struct Context<'a> {
    pub snapshot: &'a Snapshot,
    /// Journal entries an `undo` action may name.
    pub journal: &'a [JournalEntry],
    /// RFC 3339 UTC, for restarts staged without a time.
    pub now: &'a str,
}

/// The changes a plan makes, in order, with findings and the restarts they cause. Errors name
/// the action (`action 3 (mtls ns/rng STRICT): …`).
pub fn expand(plan: &Plan, cx: &Context) -> Result<Expanded, String> {
    let _ = (plan, cx);
    Err("plan expansion is not built yet".into())
}
