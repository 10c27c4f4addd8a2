//! Patch semantics of the simulated API server: JSON patch, JSON merge patch, strategic merge
//! patch and server-side apply with managedFields. Pure functions on JSON values; no store,
//! no IO.

use super::kinds::Kind;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchKind {
    Json,
    Merge,
    Strategic,
}

/// A field owned by another manager whose value an apply would change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub manager: String,
    /// The field in Kubernetes' notation, e.g. `.metadata.labels.app` or
    /// `.spec.template.spec.containers[name="app"].image`.
    pub field: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The patch itself is malformed or cannot apply (HTTP 400/422).
    #[error("{0}")]
    Invalid(String),
    /// Server-side apply conflicts (HTTP 409), not forced.
    #[error("Apply failed with {} conflict(s)", .0.len())]
    Conflicts(Vec<Conflict>),
}

/// Applies a JSON, merge or strategic-merge patch to `live` and returns the result. Does not
/// touch `metadata.managedFields` (see `track_update`).
pub fn apply_patch(kind: &Kind, live: &Value, patch: &Value, how: PatchKind) -> Result<Value, PatchError> {
    let _ = (kind, live, patch, how);
    todo!("patch")
}

/// Server-side apply of `applied` by `manager` onto `live` (None when creating). Returns the
/// merged object with `metadata.managedFields` updated, or the conflicts with other managers
/// when `force` is false.
pub fn server_side_apply(
    kind: &Kind,
    live: Option<&Value>,
    applied: &Value,
    manager: &str,
    force: bool,
    now: &str,
) -> Result<Value, PatchError> {
    let _ = (kind, live, applied, manager, force, now);
    todo!("ssa")
}

/// Records a non-apply write (create, update, non-apply patch) by `manager` in
/// `new.metadata.managedFields`: the manager gets an `Update` entry owning the fields that
/// changed from `old` (every field on create), and those fields leave other managers' sets.
/// An empty `manager` records nothing (server-side apply has recorded its own entry).
pub fn track_update(kind: &Kind, old: Option<&Value>, new: &mut Value, manager: &str, now: &str) {
    let _ = (kind, old, new, manager, now);
}
