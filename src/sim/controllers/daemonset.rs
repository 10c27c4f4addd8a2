//! The DaemonSet controller: one pod per schedulable node, pinned by node affinity, rolled
//! with RollingUpdate's maxUnavailable (or only on delete with OnDelete), and the
//! `*NumberScheduled` / `number*` status `kubectl rollout status` reads.

use super::events::{Source, Type};
use super::nodes;
use super::podtemplate::{self, PodName};
use super::queue::{Key, What};
use super::util::{
    MANAGER, created, generation, int_at, kind, pod_available, pod_ready, pod_terminal, pods, scaled_value, str_at,
    template_hash, uid,
};
use super::{Ctx, Outcome};
use crate::sim::ops::WriteOpts;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

const SOURCE: Source<'static> = Source::controller("daemonset-controller");
const REV: &str = "controller-revision-hash";

/// The node a pod runs on or is pinned to.
fn node_of(pod: &Value) -> String {
    let n = str_at(pod, "/spec/nodeName");
    if !n.is_empty() {
        return n.to_string();
    }
    str_at(
        pod,
        "/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0/matchFields/0/values/0",
    )
    .to_string()
}

/// The tolerations the DaemonSet controller adds so its pods run on troubled nodes.
fn tolerations() -> Value {
    let t = |key: &str, effect: &str| json!({"key": key, "operator": "Exists", "effect": effect});
    json!([
        t("node.kubernetes.io/not-ready", "NoExecute"),
        t("node.kubernetes.io/unreachable", "NoExecute"),
        t("node.kubernetes.io/disk-pressure", "NoSchedule"),
        t("node.kubernetes.io/memory-pressure", "NoSchedule"),
        t("node.kubernetes.io/pid-pressure", "NoSchedule"),
        t("node.kubernetes.io/unschedulable", "NoSchedule"),
    ])
}

pub fn reconcile(ctx: &Arc<Ctx>, ns: &str, name: &str) -> Outcome {
    let Some(ds) = ctx.cluster.store.get(kind("apps", "daemonsets"), ns, name).map(|e| e.value()) else {
        return Ok(None);
    };
    let template = ds.pointer("/spec/template").cloned().unwrap_or_else(|| json!({}));
    let hash = template_hash(&template, int_at(&ds, "/status/collisionCount").unwrap_or(0));
    let node_names: Vec<String> = nodes::schedulable(&ctx.cluster).into_iter().map(|n| n.name).collect();
    let list = podtemplate::owned(ctx, pods(), ns, ds.pointer("/spec/selector"), uid(&ds));
    let mut on_node: BTreeMap<String, Vec<Arc<Value>>> = BTreeMap::new();
    for p in list {
        on_node.entry(node_of(&p)).or_default().push(p);
    }
    let now = ctx.cluster.clock.now();
    let min_ready = int_at(&ds, "/spec/minReadySeconds").unwrap_or(0);
    let key = Key::new(What::DaemonSet, ns, name);
    let mut retry = None;
    // Pods on nodes that are gone, failed pods, and duplicates go.
    for (node, ps) in on_node.iter_mut() {
        let mut keep: Vec<Arc<Value>> = Vec::new();
        let mut sorted = ps.clone();
        sorted.sort_by(|a, b| created(a).cmp(created(b)));
        for p in sorted {
            if !node_names.contains(node) || pod_terminal(&p) || !keep.is_empty() {
                delete(ctx, &ds, &p);
            } else {
                keep.push(p);
            }
        }
        *ps = keep;
    }
    for node in &node_names {
        if on_node.get(node).is_none_or(Vec::is_empty) {
            if create(ctx, &ds, &template, &hash, node) {
                ctx.succeeded(&key);
            } else {
                retry = Some(ctx.failed(&key));
                break;
            }
        }
    }
    if str_at(&ds, "/spec/updateStrategy/type") != "OnDelete" {
        let desired = node_names.len() as i64;
        let max_unavailable =
            scaled_value(ds.pointer("/spec/updateStrategy/rollingUpdate/maxUnavailable"), desired, true).max(1);
        let current: Vec<&Arc<Value>> = node_names.iter().filter_map(|n| on_node.get(n)?.first()).collect();
        let mut unavailable = desired - current.iter().filter(|p| pod_available(p, min_ready, now)).count() as i64;
        let old: Vec<&&Arc<Value>> =
            current.iter().filter(|p| str_at(p, &format!("/metadata/labels/{REV}")) != hash).collect();
        // Old pods that are not available anyway go at once; available ones within the budget.
        for p in old.iter().filter(|p| !pod_available(p, min_ready, now)) {
            delete(ctx, &ds, p);
        }
        for p in old.iter().filter(|p| pod_available(p, min_ready, now)) {
            if unavailable >= max_unavailable {
                break;
            }
            delete(ctx, &ds, p);
            unavailable += 1;
        }
    }
    write_status(ctx, &ds, &hash, &node_names, min_ready)?;
    Ok(retry)
}

fn create(ctx: &Ctx, ds: &Value, template: &Value, hash: &str, node: &str) -> bool {
    let gen_label = generation(ds).to_string();
    let extra = [(REV, hash), ("pod-template-generation", gen_label.as_str())];
    let prefix = format!("{}-", str_at(ds, "/metadata/name"));
    let mut pod = podtemplate::new_pod(template, ds, PodName::Generate(&prefix), &extra);
    pod["spec"]["affinity"]["nodeAffinity"] = json!({"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}});
    let mut tol = pod["spec"]["tolerations"].as_array().cloned().unwrap_or_default();
    tol.extend(tolerations().as_array().cloned().unwrap_or_default());
    pod["spec"]["tolerations"] = Value::Array(tol);
    match podtemplate::create(ctx, str_at(ds, "/metadata/namespace"), pod) {
        Ok(p) => {
            let msg = format!("Created pod: {}", str_at(&p, "/metadata/name"));
            ctx.recorder.record(&ctx.cluster, ds, Type::Normal, "SuccessfulCreate", &msg, SOURCE);
            true
        }
        Err(e) => {
            let msg = format!("Error creating: {}", e.message(pods()));
            ctx.recorder.record(&ctx.cluster, ds, Type::Warning, "FailedCreate", &msg, SOURCE);
            false
        }
    }
}

fn delete(ctx: &Ctx, ds: &Value, pod: &Value) {
    let n = str_at(pod, "/metadata/name");
    if ctx.cluster.delete(pods(), str_at(pod, "/metadata/namespace"), n, WriteOpts::by(MANAGER)).is_ok() {
        let msg = format!("Deleted pod: {n}");
        ctx.recorder.record(&ctx.cluster, ds, Type::Normal, "SuccessfulDelete", &msg, SOURCE);
    }
}

fn write_status(
    ctx: &Ctx,
    ds: &Value,
    hash: &str,
    nodes: &[String],
    min_ready: i64,
) -> Result<(), crate::sim::ops::OpError> {
    let ns = str_at(ds, "/metadata/namespace");
    let list = podtemplate::owned(ctx, pods(), ns, ds.pointer("/spec/selector"), uid(ds));
    let now = ctx.cluster.clock.now();
    let mut scheduled = 0;
    let mut updated = 0;
    let mut ready = 0;
    let mut available = 0;
    for n in nodes {
        let Some(p) = list.iter().filter(|p| !pod_terminal(p)).find(|p| node_of(p) == *n) else { continue };
        scheduled += 1;
        updated += i64::from(str_at(p, &format!("/metadata/labels/{REV}")) == hash);
        ready += i64::from(pod_ready(p));
        available += i64::from(pod_available(p, min_ready, now));
    }
    let desired = nodes.len() as i64;
    let mut status = json!({
        "currentNumberScheduled": scheduled,
        "desiredNumberScheduled": desired,
        "numberMisscheduled": 0,
        "numberReady": ready,
        "observedGeneration": generation(ds),
    });
    if available > 0 {
        status["numberAvailable"] = json!(available);
    }
    if desired - available > 0 {
        status["numberUnavailable"] = json!(desired - available);
    }
    if updated > 0 {
        status["updatedNumberScheduled"] = json!(updated);
    }
    let ds_uid = uid(ds).to_string();
    ctx.cluster.mutate(kind("apps", "daemonsets"), ns, str_at(ds, "/metadata/name"), MANAGER, |o| {
        if uid(o) == ds_uid {
            o["status"] = status.clone();
        }
    })?;
    Ok(())
}
