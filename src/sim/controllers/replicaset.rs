//! The ReplicaSet controller: keeps `spec.replicas` pods from the template (creating with
//! `generateName`, deleting the least useful first) and reports replicas, ready and
//! available counts and the ReplicaFailure condition when pod creation is refused.

use super::events::{Source, Type};
use super::podtemplate::{self, PodName};
use super::queue::{Key, What};
use super::util::{
    self, MANAGER, created, generation, int_at, kind, pod_available, pod_available_in, pod_ready, pod_terminal,
    remove_condition, set_condition, str_at, uid,
};
use super::{Ctx, Outcome, sooner};
use crate::labels::labels_of;
use crate::sim::ops::WriteOpts;
use serde_json::{Value, json};
use std::cmp::Reverse;
use std::sync::Arc;

const SOURCE: Source<'static> = Source::controller("replicaset-controller");

/// Sort key for choosing pods to delete on scale-down; smallest goes first: unscheduled,
/// then pending, then not ready, then ready most recently, then most restarted, then newest.
pub fn deletion_rank(pod: &Value) -> impl Ord + use<> {
    let assigned = !str_at(pod, "/spec/nodeName").is_empty();
    let phase = match str_at(pod, "/status/phase") {
        "Pending" | "" => 0,
        "Running" => 2,
        _ => 1,
    };
    let ready = pod_ready(pod);
    let ready_since = util::find_condition(pod, "Ready")
        .filter(|_| ready)
        .map(|c| str_at(c, "/lastTransitionTime").to_string())
        .unwrap_or_default();
    let restarts: i64 = pod
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(|c| c.get("restartCount").and_then(Value::as_i64)).sum())
        .unwrap_or(0);
    (assigned, phase, ready, Reverse(ready_since), Reverse(restarts), Reverse(created(pod).to_string()))
}

pub fn reconcile(ctx: &Arc<Ctx>, ns: &str, name: &str) -> Outcome {
    let rs_kind = kind("apps", "replicasets");
    let Some(rs) = ctx.cluster.store.get(rs_kind, ns, name).map(|e| e.value()) else { return Ok(None) };
    let want = int_at(&rs, "/spec/replicas").unwrap_or(1).max(0);
    let selector = rs.pointer("/spec/selector");
    let list = podtemplate::owned(ctx, util::pods(), ns, selector, uid(&rs));
    let active: Vec<&Arc<Value>> = list.iter().filter(|p| !pod_terminal(p)).collect();
    let key = Key::new(What::ReplicaSet, ns, name);
    let mut failure = None;
    let mut changed = false;
    let diff = active.len() as i64 - want;
    if diff < 0 {
        let template = rs.pointer("/spec/template").cloned().unwrap_or_else(|| json!({}));
        let prefix = format!("{name}-");
        for _ in 0..-diff {
            let pod = podtemplate::new_pod(&template, &rs, PodName::Generate(&prefix), &[]);
            match podtemplate::create(ctx, ns, pod) {
                Ok(p) => {
                    changed = true;
                    let msg = format!("Created pod: {}", util::name(&p));
                    ctx.recorder.record(&ctx.cluster, &rs, Type::Normal, "SuccessfulCreate", &msg, SOURCE);
                }
                Err(e) => {
                    let msg = format!("Error creating: {}", e.message(util::pods()));
                    ctx.recorder.record(&ctx.cluster, &rs, Type::Warning, "FailedCreate", &msg, SOURCE);
                    failure = Some(e.message(util::pods()));
                    break;
                }
            }
        }
    } else if diff > 0 {
        let mut victims = active.clone();
        victims.sort_by_key(|p| deletion_rank(p));
        for p in victims.into_iter().take(diff as usize) {
            if ctx.cluster.delete(util::pods(), ns, util::name(p), WriteOpts::by(MANAGER)).is_ok() {
                changed = true;
                let msg = format!("Deleted pod: {}", util::name(p));
                ctx.recorder.record(&ctx.cluster, &rs, Type::Normal, "SuccessfulDelete", &msg, SOURCE);
            }
        }
    }
    let list = if changed { podtemplate::owned(ctx, util::pods(), ns, selector, uid(&rs)) } else { list };
    let retry = match &failure {
        Some(_) => Some(ctx.failed(&key)),
        None => {
            ctx.succeeded(&key);
            None
        }
    };
    let recheck = write_status(ctx, &rs, &list, failure.as_deref())?;
    Ok(sooner(retry, recheck))
}

/// Writes the status; returns when a ready pod will become available (minReadySeconds).
fn write_status(
    ctx: &Ctx,
    rs: &Value,
    list: &[Arc<Value>],
    failure: Option<&str>,
) -> Result<Option<std::time::Duration>, crate::sim::ops::OpError> {
    let now = ctx.cluster.clock.now();
    let now_str = ctx.cluster.now_str();
    let min_ready = int_at(rs, "/spec/minReadySeconds").unwrap_or(0);
    let template_labels =
        labels_of(&json!({"metadata": rs.pointer("/spec/template/metadata").cloned().unwrap_or_default()}));
    let active: Vec<&Arc<Value>> = list.iter().filter(|p| !pod_terminal(p)).collect();
    let replicas = active.len() as i64;
    let fully = active.iter().filter(|p| template_labels.iter().all(|(k, v)| labels_of(p).get(k) == Some(v))).count();
    let ready = active.iter().filter(|p| pod_ready(p)).count();
    let available = active.iter().filter(|p| pod_available(p, min_ready, now)).count();
    let recheck = active.iter().filter_map(|p| pod_available_in(p, min_ready, now)).min();
    let mut conds: Vec<Value> = rs.pointer("/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default();
    match failure {
        Some(msg) => set_condition(&mut conds, "ReplicaFailure", "True", "FailedCreate", msg, &now_str, false),
        None => remove_condition(&mut conds, "ReplicaFailure"),
    }
    let mut status = json!({"replicas": replicas});
    for (k, v) in [("fullyLabeledReplicas", fully), ("readyReplicas", ready), ("availableReplicas", available)] {
        if v > 0 {
            status[k] = json!(v);
        }
    }
    status["observedGeneration"] = json!(generation(rs));
    if !conds.is_empty() {
        status["conditions"] = Value::Array(conds);
    }
    let rs_uid = uid(rs).to_string();
    ctx.cluster.mutate(
        kind("apps", "replicasets"),
        str_at(rs, "/metadata/namespace"),
        util::name(rs),
        MANAGER,
        |o| {
            if uid(o) == rs_uid {
                o["status"] = status.clone();
            }
        },
    )?;
    Ok(recheck)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, node: &str, phase: &str, ready: Option<&str>, created: &str) -> Value {
        let mut p = json!({"metadata": {"name": name, "creationTimestamp": created},
                           "spec": {"nodeName": node}, "status": {"phase": phase, "conditions": []}});
        if let Some(since) = ready {
            p["status"]["conditions"] = json!([{"type": "Ready", "status": "True", "lastTransitionTime": since}]);
        }
        p
    }

    #[test]
    fn scale_down_prefers_unready_then_newest() {
        let pods = [
            pod("old-ready", "n1", "Running", Some("2024-01-01T00:00:10Z"), "2024-01-01T00:00:00Z"),
            pod("new-ready", "n1", "Running", Some("2024-01-01T00:05:10Z"), "2024-01-01T00:05:00Z"),
            pod("running-unready", "n2", "Running", None, "2024-01-01T00:01:00Z"),
            pod("pending", "n2", "Pending", None, "2024-01-01T00:02:00Z"),
            pod("unscheduled", "", "Pending", None, "2024-01-01T00:03:00Z"),
        ];
        let mut order: Vec<&Value> = pods.iter().collect();
        order.sort_by_key(|p| deletion_rank(p));
        let names: Vec<&str> = order.iter().map(|p| util::name(p)).collect();
        assert_eq!(names, ["unscheduled", "pending", "running-unready", "new-ready", "old-ready"]);
    }
}
