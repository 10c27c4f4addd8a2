//! Patch semantics of the simulated API server: JSON patch, JSON merge patch, strategic merge
//! patch and server-side apply with managedFields. Pure functions on JSON values; no store,
//! no IO, and nothing of resourceVersion, generation or status (see `ops`).
//!
//! A strategic merge patch of a custom resource (the Istio kinds) fails with a message that
//! starts "strategic merge patch is not supported for custom resources"; the real API server
//! answers that with 415 UnsupportedMediaType, which the HTTP layer may map from the prefix.

mod apply;
mod fields;
mod fieldset;
mod managed;
mod schema;
mod strategic;
#[cfg(test)]
mod tests;

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
    let out = match how {
        PatchKind::Json => json_patch_apply(live, patch)?,
        PatchKind::Merge => {
            if !patch.is_object() {
                return Err(PatchError::Invalid("merge patch: the patch must be a JSON object".into()));
            }
            let mut out = live.clone();
            merge_patch(&mut out, patch);
            out
        }
        PatchKind::Strategic => strategic::apply(kind, live, patch)?,
    };
    if !out.is_object() {
        return Err(PatchError::Invalid("the patched object is not a JSON object".into()));
    }
    Ok(out)
}

/// RFC 6902. A failed `test` operation fails the whole patch.
fn json_patch_apply(live: &Value, patch: &Value) -> Result<Value, PatchError> {
    let ops: json_patch::Patch = serde_json::from_value(patch.clone())
        .map_err(|e| PatchError::Invalid(format!("json patch: the patch is not a list of operations: {e}")))?;
    let mut out = live.clone();
    json_patch::patch(&mut out, &ops.0).map_err(|e| match e.kind {
        json_patch::PatchErrorKind::TestFailed => {
            PatchError::Invalid(format!("json patch: testing value {} failed: test failed", e.path))
        }
        _ => PatchError::Invalid(format!("json patch: {e}")),
    })?;
    Ok(out)
}

/// RFC 7386, keeping the order of the remaining keys (the json-patch crate's `merge` swaps
/// the last key into a removed one's place).
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    let Some(t) = target.as_object_mut() else { return };
    for (k, v) in p {
        if v.is_null() {
            t.shift_remove(k);
        } else {
            merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
        }
    }
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
    apply::server_side_apply(kind, live, applied, manager, force, now)
}

/// Records a non-apply write (create, update, non-apply patch) by `manager` in
/// `new.metadata.managedFields`: the manager gets an `Update` entry owning the fields that
/// changed from `old` (every field on create), and those fields leave other managers' sets.
/// An empty `manager` records nothing (server-side apply has recorded its own entry).
pub fn track_update(kind: &Kind, old: Option<&Value>, new: &mut Value, manager: &str, now: &str) {
    apply::track_update(kind, old, new, manager, now)
}
