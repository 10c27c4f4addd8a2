//! Preflight: what a plan will do to the mesh. Pure.

use super::model::{Expanded, Finding, ObjRef};
use crate::mesh::Snapshot;
use serde_json::Value;

pub fn preflight(
    snapshot: &Snapshot,
    expanded: &Expanded,
    results: &[(ObjRef, Option<Value>)],
    now: &str,
) -> Vec<Finding> {
    let _ = (snapshot, expanded, results, now);
    Vec::new()
}
