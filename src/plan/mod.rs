//! The migration plan, pure: staged actions, what each expands to against a snapshot of the
//! cluster, preflight findings, the inverse of a journal entry, diffs, GitOps ownership,
//! export, the plan file form, actions that contradict each other, and the merge that lets
//! two processes share one plan file. It takes data and returns data: no IO, no async, no clock
//! (times are passed in).
//!
//! Indices: `Change::action` and `Finding::action` are 0-based indices into `Plan::actions`;
//! messages number actions from 1 (`action 3 (mtls ns/rng STRICT): …`).

mod clash;
mod diff;
mod edit;
mod expand;
mod export;
mod gitops;
pub mod guard;
mod json;
mod merge;
mod model;
mod owned;
mod preflight;
mod preview;
mod tagged;
mod target;
mod undo;

#[cfg(test)]
mod tests;

pub use clash::{Clash, ClashKind, clash, clashes};
pub use diff::{for_display, unified};
pub use edit::{check_edit, identity_mismatch, parse_edit};
pub use expand::{batch_size, expand};
pub use export::export;
pub use gitops::managed_by;
pub use merge::{Merged, merge};
pub use model::*;
pub use owned::carry_owned;
pub use preflight::preflight;
pub use preview::*;
pub use target::*;
pub use undo::{forget_undone, inverse};

use crate::mesh::Snapshot;

/// What expansion reads besides the plan.
pub struct Context<'a> {
    pub snapshot: &'a Snapshot,
    /// Journal entries an `undo` action may name.
    pub journal: &'a [JournalEntry],
    /// RFC 3339 UTC, for restarts staged without a time.
    pub now: &'a str,
}
