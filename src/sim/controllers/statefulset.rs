//! The StatefulSet controller: pods `<name>-<ordinal>` created in order (OrderedReady) or
//! all at once (Parallel), scale-down from the highest ordinal, RollingUpdate from the
//! highest ordinal down to the partition one pod at a time, OnDelete replacing only deleted
//! pods, and the revision status `kubectl rollout status` reads.

use super::events::{Source, Type};
use super::podtemplate::{self, PodName};
use super::queue::{Key, What};
use super::util::{
    MANAGER, generation, int_at, kind, pod_available, pod_ready, pod_terminal, pods, str_at, template_hash, uid,
};
use super::{Ctx, Outcome};
use crate::sim::ops::WriteOpts;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

const SOURCE: Source<'static> = Source::controller("statefulset-controller");
const REV: &str = "controller-revision-hash";

fn revision_of(pod: &Value) -> &str {
    str_at(pod, &format!("/metadata/labels/{REV}"))
}

fn healthy(pod: &Value) -> bool {
    str_at(pod, "/status/phase") == "Running" && pod_ready(pod)
}

/// The pods by ordinal; pods whose names do not follow `<set>-<n>` are not the set's.
fn by_ordinal(set_name: &str, list: Vec<Arc<Value>>) -> BTreeMap<i64, Arc<Value>> {
    let prefix = format!("{set_name}-");
    list.into_iter()
        .filter_map(|p| {
            let ord = str_at(&p, "/metadata/name").strip_prefix(&prefix)?.parse::<i64>().ok()?;
            Some((ord, p))
        })
        .collect()
}

struct Plan<'a> {
    set: &'a Value,
    ns: &'a str,
    name: &'a str,
    update_rev: String,
    current_rev: String,
    partition: i64,
    rolling: bool,
}

impl Plan<'_> {
    fn revision_for(&self, ordinal: i64) -> &str {
        if self.rolling && ordinal < self.partition { &self.current_rev } else { &self.update_rev }
    }
}

pub fn reconcile(ctx: &Arc<Ctx>, ns: &str, name: &str) -> Outcome {
    let sk = kind("apps", "statefulsets");
    let Some(set) = ctx.cluster.store.get(sk, ns, name).map(|e| e.value()) else { return Ok(None) };
    let template = set.pointer("/spec/template").cloned().unwrap_or_else(|| json!({}));
    let update_rev =
        format!("{name}-{}", template_hash(&template, int_at(&set, "/status/collisionCount").unwrap_or(0)));
    ctx.sts_revisions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert((ns.to_string(), update_rev.clone()), template.clone());
    let current_rev = match str_at(&set, "/status/currentRevision") {
        "" => update_rev.clone(),
        r => r.to_string(),
    };
    let plan = Plan {
        set: &set,
        ns,
        name,
        update_rev,
        current_rev,
        partition: int_at(&set, "/spec/updateStrategy/rollingUpdate/partition").unwrap_or(0),
        rolling: str_at(&set, "/spec/updateStrategy/type") != "OnDelete",
    };
    let want = int_at(&set, "/spec/replicas").unwrap_or(1).max(0);
    let parallel = str_at(&set, "/spec/podManagementPolicy") == "Parallel";
    let selector = set.pointer("/spec/selector");
    let list = podtemplate::owned(ctx, pods(), ns, selector, uid(&set));
    let existing = by_ordinal(name, list);
    let key = Key::new(What::StatefulSet, ns, name);
    let mut retry = None;
    let mut blocked = false;
    for ord in 0..want {
        match existing.get(&ord) {
            None => {
                if !create(ctx, &plan, ord) {
                    retry = Some(ctx.failed(&key));
                    blocked = true;
                    break;
                }
                ctx.succeeded(&key);
                if !parallel {
                    blocked = true;
                    break;
                }
            }
            Some(p) if pod_terminal(p) => {
                delete(ctx, &plan, p);
                if !parallel {
                    blocked = true;
                    break;
                }
            }
            Some(p) if !parallel && !healthy(p) => {
                blocked = true;
                break;
            }
            _ => {}
        }
    }
    if !blocked {
        let condemned: Vec<&Arc<Value>> = existing.range(want..).rev().map(|(_, p)| p).collect();
        if let Some(first) = condemned.first() {
            let victims = if parallel { condemned.clone() } else { vec![*first] };
            for p in victims {
                delete(ctx, &plan, p);
            }
            blocked = true;
        }
    }
    if !blocked && plan.rolling {
        for ord in (plan.partition.max(0)..want).rev() {
            let Some(p) = existing.get(&ord) else { break };
            if revision_of(p) != plan.update_rev {
                delete(ctx, &plan, p);
                break;
            }
            if !healthy(p) {
                break;
            }
        }
    }
    write_status(ctx, &plan)?;
    Ok(retry)
}

fn create(ctx: &Ctx, plan: &Plan<'_>, ordinal: i64) -> bool {
    let pod_name = format!("{}-{ordinal}", plan.name);
    let mut rev = plan.revision_for(ordinal).to_string();
    let stored =
        ctx.sts_revisions.lock().unwrap_or_else(|e| e.into_inner()).get(&(plan.ns.to_string(), rev.clone())).cloned();
    let template = match stored {
        Some(t) => t,
        None => {
            // The old template is not known (the sim restarted): use the current one, honestly labelled.
            rev = plan.update_rev.clone();
            plan.set.pointer("/spec/template").cloned().unwrap_or_default()
        }
    };
    let ord = ordinal.to_string();
    let extra = [
        (REV, rev.as_str()),
        ("statefulset.kubernetes.io/pod-name", &pod_name),
        ("apps.kubernetes.io/pod-index", &ord),
    ];
    let mut pod = podtemplate::new_pod(&template, plan.set, PodName::Fixed(&pod_name), &extra);
    pod["spec"]["hostname"] = json!(pod_name);
    if let Some(svc) = plan.set.pointer("/spec/serviceName").filter(|s| s.as_str().is_some_and(|s| !s.is_empty())) {
        pod["spec"]["subdomain"] = svc.clone();
    }
    match podtemplate::create(ctx, plan.ns, pod) {
        Ok(p) => {
            let msg = format!("create Pod {} in StatefulSet {} successful", str_at(&p, "/metadata/name"), plan.name);
            ctx.recorder.record(&ctx.cluster, plan.set, Type::Normal, "SuccessfulCreate", &msg, SOURCE);
            true
        }
        Err(e) => {
            let msg = format!("create Pod {pod_name} in StatefulSet {} failed error: {}", plan.name, e.message(pods()));
            ctx.recorder.record(&ctx.cluster, plan.set, Type::Warning, "FailedCreate", &msg, SOURCE);
            false
        }
    }
}

fn delete(ctx: &Ctx, plan: &Plan<'_>, pod: &Value) {
    let pod_name = str_at(pod, "/metadata/name");
    if ctx.cluster.delete(pods(), plan.ns, pod_name, WriteOpts::by(MANAGER)).is_ok() {
        let msg = format!("delete Pod {pod_name} in StatefulSet {} successful", plan.name);
        ctx.recorder.record(&ctx.cluster, plan.set, Type::Normal, "SuccessfulDelete", &msg, SOURCE);
    }
}

fn write_status(ctx: &Ctx, plan: &Plan<'_>) -> Result<(), crate::sim::ops::OpError> {
    let set = plan.set;
    let list = podtemplate::owned(ctx, pods(), plan.ns, set.pointer("/spec/selector"), uid(set));
    let live: Vec<Arc<Value>> = by_ordinal(plan.name, list).into_values().filter(|p| !pod_terminal(p)).collect();
    let now = ctx.cluster.clock.now();
    let min_ready = int_at(set, "/spec/minReadySeconds").unwrap_or(0);
    let replicas = live.len() as i64;
    let ready = live.iter().filter(|p| pod_ready(p)).count() as i64;
    let available = live.iter().filter(|p| pod_available(p, min_ready, now)).count() as i64;
    let updated = live.iter().filter(|p| revision_of(p) == plan.update_rev).count() as i64;
    let mut current_rev = plan.current_rev.clone();
    let mut current = live.iter().filter(|p| revision_of(p) == current_rev).count() as i64;
    if plan.rolling && updated == replicas && ready == replicas {
        current_rev = plan.update_rev.clone();
        current = updated;
    }
    let mut status = json!({"observedGeneration": generation(set), "replicas": replicas});
    for (k, v) in [("readyReplicas", ready), ("currentReplicas", current), ("updatedReplicas", updated)] {
        if v > 0 {
            status[k] = json!(v);
        }
    }
    status["currentRevision"] = json!(current_rev);
    status["updateRevision"] = json!(plan.update_rev);
    status["collisionCount"] = json!(int_at(set, "/status/collisionCount").unwrap_or(0));
    status["availableReplicas"] = json!(available);
    let set_uid = uid(set).to_string();
    ctx.cluster.mutate(kind("apps", "statefulsets"), plan.ns, plan.name, MANAGER, |o| {
        if uid(o) == set_uid {
            o["status"] = status.clone();
        }
    })?;
    Ok(())
}
