//! Waiting for workloads to finish rolling out between scenario files, so that a later file
//! (a revision-tag promotion, say) acts on pods that already exist. It only reads the store
//! and never fails: after the deadline it reports what is still pending.

use crate::sim::kinds;
use crate::sim::ops::Cluster;
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;

const WORKLOADS: &[&str] = &["deployments", "statefulsets", "daemonsets"];

fn int(v: &Value, pointer: &str) -> Option<i64> {
    v.pointer(pointer).and_then(Value::as_i64)
}

/// Has the workload's controller seen its latest spec and brought every replica up?
pub(super) fn is_settled(plural: &str, obj: &Value) -> bool {
    let generation = int(obj, "/metadata/generation").unwrap_or(0);
    let observed = int(obj, "/status/observedGeneration").unwrap_or(0);
    if observed < generation {
        return false;
    }
    let (want, ready) = match plural {
        "daemonsets" => (int(obj, "/status/desiredNumberScheduled").unwrap_or(0), int(obj, "/status/numberReady")),
        _ => (int(obj, "/spec/replicas").unwrap_or(1), int(obj, "/status/readyReplicas")),
    };
    ready.unwrap_or(0) == want
}

/// Workloads in `namespaces` that have not settled, as `Kind namespace/name`.
pub(super) fn pending(cluster: &Cluster, namespaces: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    for plural in WORKLOADS {
        let Some(kind) = kinds::by_group_plural("apps", plural) else { continue };
        for ns in namespaces {
            for obj in cluster.store.all(kind, Some(ns)) {
                if !is_settled(plural, &obj) {
                    let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
                    out.push(format!("{} {ns}/{name}", kind.kind));
                }
            }
        }
    }
    out
}

/// Waits until every workload in `namespaces` has settled, re-checking on each store change;
/// after `timeout`, returns the ones still pending.
pub(super) async fn wait(
    cluster: &Cluster,
    namespaces: &BTreeSet<String>,
    timeout: Duration,
) -> Result<(), Vec<String>> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut changes = cluster.store.changes();
    loop {
        changes.borrow_and_update();
        let left = pending(cluster, namespaces);
        if left.is_empty() {
            return Ok(());
        }
        match tokio::time::timeout_at(deadline, changes.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => return Err(left),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settled_workloads() {
        let cases = [
            ("deployments", json!({"metadata": {"generation": 1}, "spec": {"replicas": 2}}), false),
            (
                "deployments",
                json!({"metadata": {"generation": 2}, "spec": {"replicas": 2},
                    "status": {"observedGeneration": 1, "readyReplicas": 2}}),
                false,
            ),
            (
                "deployments",
                json!({"metadata": {"generation": 2}, "spec": {"replicas": 2},
                    "status": {"observedGeneration": 2, "readyReplicas": 1}}),
                false,
            ),
            (
                "deployments",
                json!({"metadata": {"generation": 2}, "spec": {"replicas": 2},
                    "status": {"observedGeneration": 2, "readyReplicas": 2}}),
                true,
            ),
            // Scaled to zero: no readyReplicas field at all is the settled state.
            (
                "statefulsets",
                json!({"metadata": {"generation": 3}, "spec": {"replicas": 0},
                "status": {"observedGeneration": 3}}),
                true,
            ),
            // replicas defaults to 1.
            (
                "statefulsets",
                json!({"metadata": {"generation": 1}, "spec": {},
                "status": {"observedGeneration": 1, "readyReplicas": 1}}),
                true,
            ),
            (
                "daemonsets",
                json!({"metadata": {"generation": 1},
                "status": {"observedGeneration": 1, "desiredNumberScheduled": 3, "numberReady": 2}}),
                false,
            ),
            (
                "daemonsets",
                json!({"metadata": {"generation": 1},
                "status": {"observedGeneration": 1, "desiredNumberScheduled": 3, "numberReady": 3}}),
                true,
            ),
        ];
        for (i, (plural, obj, want)) in cases.into_iter().enumerate() {
            assert_eq!(is_settled(plural, &obj), want, "case {i}: {plural} {obj}");
        }
    }
}
