//! `--wait`: after an apply, poll each workload it changed until the rollout is complete
//! (observed generation caught up, every replica updated and ready, no old pods left), telling
//! the caller each time a workload's progress changes. Reads only.

use super::ApplyReport;
use super::http;
use crate::plan::{ItemState, ObjRef};
use serde_json::Value;
use std::time::Duration;

/// Where one workload's rollout stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutProgress {
    pub workload: String,
    /// "2/3 updated, 1/3 ready", "rolled out".
    pub text: String,
    pub done: bool,
}

fn n(v: &Value, p: &str) -> i64 {
    v.pointer(p).and_then(Value::as_i64).unwrap_or(0)
}

/// The rollout state of a Deployment, StatefulSet or DaemonSet: (done, description).
pub fn rollout_state(obj: &Value) -> (bool, String) {
    let kind = obj["kind"].as_str().unwrap_or("");
    let generation = n(obj, "/metadata/generation");
    let observed = n(obj, "/status/observedGeneration");
    if observed < generation {
        return (false, "waiting for the controller to see the change".into());
    }
    match kind {
        "DaemonSet" => {
            let want = n(obj, "/status/desiredNumberScheduled");
            let updated = n(obj, "/status/updatedNumberScheduled");
            let ready = n(obj, "/status/numberReady");
            let done = updated == want && ready == want;
            (done, if done { "rolled out".into() } else { format!("{updated}/{want} updated, {ready}/{want} ready") })
        }
        _ => {
            let want = obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
            let updated = n(obj, "/status/updatedReplicas");
            let ready = n(obj, "/status/readyReplicas");
            let total = n(obj, "/status/replicas");
            let mut done = updated == want && ready == want && total == want;
            if kind == "Deployment" {
                done &= n(obj, "/status/availableReplicas") == want;
            }
            if kind == "StatefulSet" {
                done &= obj.pointer("/status/currentRevision") == obj.pointer("/status/updateRevision");
            }
            let text = if done {
                "rolled out".into()
            } else {
                let old = (total - updated).max(0);
                format!("{updated}/{want} updated, {ready}/{want} ready, {old} old")
            };
            (done, text)
        }
    }
}

/// The workloads an apply changed whose pod template moved (their generation changed).
pub fn rolled_workloads(report: &ApplyReport) -> Vec<ObjRef> {
    let mut out: Vec<ObjRef> = Vec::new();
    for i in &report.entry.items {
        let t = &i.change.target;
        if i.state != ItemState::Applied || !matches!(t.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet") {
            continue;
        }
        let gen_of = |v: &Option<Value>| v.as_ref().and_then(|v| v.pointer("/metadata/generation")).cloned();
        if gen_of(&i.before) != gen_of(&i.after) && !out.contains(t) {
            out.push(t.clone());
        }
    }
    out
}

pub(super) async fn wait(
    client: &kube::Client,
    report: &ApplyReport,
    timeout: Duration,
    progress: &mut (dyn FnMut(&RolloutProgress) + Send),
) -> anyhow::Result<()> {
    let end = tokio::time::Instant::now() + timeout;
    let mut pending = rolled_workloads(report);
    let mut last: std::collections::HashMap<ObjRef, String> = Default::default();
    while !pending.is_empty() {
        let mut still = Vec::new();
        for w in pending {
            let obj = http::get(client, &w).await.map_err(|e| anyhow::anyhow!("reading {}: {e}", w.display()))?;
            let Some(obj) = obj else {
                anyhow::bail!("{} disappeared while waiting for its rollout", w.display());
            };
            let (done, text) = rollout_state(&obj);
            if last.get(&w) != Some(&text) {
                progress(&RolloutProgress { workload: w.display(), text: text.clone(), done });
                last.insert(w.clone(), text);
            }
            if !done {
                still.push(w);
            }
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
        if tokio::time::Instant::now() >= end {
            let names: Vec<String> = pending
                .iter()
                .map(|w| format!("{} ({})", w.display(), last.get(w).cloned().unwrap_or_default()))
                .collect();
            anyhow::bail!("timed out after {}s waiting for rollouts: {}", timeout.as_secs(), names.join(", "));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rollout_states() {
        let cases = [
            (
                json!({"kind": "Deployment", "metadata": {"generation": 3}, "spec": {"replicas": 2},
                    "status": {"observedGeneration": 2}}),
                (false, "waiting for the controller to see the change"),
            ),
            (
                json!({"kind": "Deployment", "metadata": {"generation": 3}, "spec": {"replicas": 2},
                    "status": {"observedGeneration": 3, "replicas": 3, "updatedReplicas": 1, "readyReplicas": 2, "availableReplicas": 2}}),
                (false, "1/2 updated, 2/2 ready, 2 old"),
            ),
            (
                json!({"kind": "Deployment", "metadata": {"generation": 3}, "spec": {"replicas": 2},
                    "status": {"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2}}),
                (true, "rolled out"),
            ),
            (
                json!({"kind": "StatefulSet", "metadata": {"generation": 2}, "spec": {"replicas": 1},
                    "status": {"observedGeneration": 2, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1,
                        "currentRevision": "a", "updateRevision": "b"}}),
                (false, "1/1 updated, 1/1 ready, 0 old"),
            ),
            (
                json!({"kind": "DaemonSet", "metadata": {"generation": 2},
                    "status": {"observedGeneration": 2, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberReady": 3}}),
                (true, "rolled out"),
            ),
        ];
        for (obj, (done, text)) in cases {
            assert_eq!(rollout_state(&obj), (done, text.to_string()), "{obj}");
        }
    }
}
