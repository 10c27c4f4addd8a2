//! Status of PodDisruptionBudgets (healthy and expected pods, allowed disruptions) and
//! HorizontalPodAutoscalers (current and desired replicas; with no metrics server, the
//! only scaling is keeping the target within min/max, as a real HPA does).

use super::events::{Source, Type};
use super::util::{
    MANAGER, generation, int_at, kind, pod_ready, pod_terminal, pods, scaled_value, selector_of, set_condition, str_at,
    uid,
};
use super::{Ctx, Outcome};
use crate::labels::{Labels, selector_matches};
use crate::sim::ops::Cluster;
use crate::sim::store::ListQuery;
use serde_json::{Value, json};
use std::sync::Arc;

/// PDBs in `ns` whose selector matches a pod's labels.
pub fn pdbs_selecting(cluster: &Cluster, ns: &str, labels: &Labels) -> Vec<String> {
    cluster
        .store
        .all(kind("policy", "poddisruptionbudgets"), Some(ns))
        .iter()
        .filter(|p| p.pointer("/spec/selector").is_some_and(|s| selector_matches(Some(s), labels)))
        .map(|p| str_at(p, "/metadata/name").to_string())
        .collect()
}

/// HPAs in `ns` whose scale target is `kind`/`name`.
pub fn hpas_targeting(cluster: &Cluster, ns: &str, target_kind: &str, name: &str) -> Vec<String> {
    cluster
        .store
        .all(kind("autoscaling", "horizontalpodautoscalers"), Some(ns))
        .iter()
        .filter(|h| {
            str_at(h, "/spec/scaleTargetRef/kind") == target_kind && str_at(h, "/spec/scaleTargetRef/name") == name
        })
        .map(|h| str_at(h, "/metadata/name").to_string())
        .collect()
}

pub fn reconcile_pdb(ctx: &Arc<Ctx>, ns: &str, name: &str) -> Outcome {
    let pk = kind("policy", "poddisruptionbudgets");
    let Some(pdb) = ctx.cluster.store.get(pk, ns, name).map(|e| e.value()) else { return Ok(None) };
    let sel = selector_of(pdb.pointer("/spec/selector"));
    let q = ListQuery { namespace: Some(ns), name: None, selector: Some(&sel), limit: None, after: None };
    let matching: Vec<Arc<Value>> =
        ctx.cluster.store.list(pods(), &q).items.into_iter().filter(|p| !pod_terminal(p)).collect();
    let expected = matching.len() as i64;
    let healthy = matching.iter().filter(|p| pod_ready(p)).count() as i64;
    let desired = match (pdb.pointer("/spec/minAvailable"), pdb.pointer("/spec/maxUnavailable")) {
        (Some(min), _) => scaled_value(Some(min), expected, true),
        (None, Some(max)) => (expected - scaled_value(Some(max), expected, true)).max(0),
        (None, None) => expected,
    };
    let allowed = (healthy - desired).max(0);
    let now = ctx.cluster.now_str();
    let mut conds: Vec<Value> =
        pdb.pointer("/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default();
    let (st, reason) = if allowed > 0 { ("True", "SufficientPods") } else { ("False", "InsufficientPods") };
    set_condition(&mut conds, "DisruptionAllowed", st, reason, "", &now, false);
    for c in conds.iter_mut() {
        c["observedGeneration"] = json!(generation(&pdb));
    }
    let status = json!({
        "conditions": conds,
        "currentHealthy": healthy,
        "desiredHealthy": desired,
        "disruptionsAllowed": allowed,
        "expectedPods": expected,
        "observedGeneration": generation(&pdb),
    });
    let pdb_uid = uid(&pdb).to_string();
    ctx.cluster.mutate(pk, ns, name, MANAGER, |o| {
        if uid(o) == pdb_uid {
            o["status"] = status.clone();
        }
    })?;
    Ok(None)
}

pub fn reconcile_hpa(ctx: &Arc<Ctx>, ns: &str, name: &str) -> Outcome {
    let hk = kind("autoscaling", "horizontalpodautoscalers");
    let Some(hpa) = ctx.cluster.store.get(hk, ns, name).map(|e| e.value()) else { return Ok(None) };
    let target_kind = match str_at(&hpa, "/spec/scaleTargetRef/kind") {
        "Deployment" => kind("apps", "deployments"),
        "StatefulSet" => kind("apps", "statefulsets"),
        "ReplicaSet" => kind("apps", "replicasets"),
        _ => return Ok(None),
    };
    let target_name = str_at(&hpa, "/spec/scaleTargetRef/name");
    let Some(target) = ctx.cluster.store.get(target_kind, ns, target_name).map(|e| e.value()) else {
        return Ok(None);
    };
    let current = int_at(&target, "/spec/replicas").unwrap_or(1);
    let min = int_at(&hpa, "/spec/minReplicas").unwrap_or(1);
    let max = int_at(&hpa, "/spec/maxReplicas").unwrap_or(current.max(1));
    let now = ctx.cluster.now_str();
    let (desired, why) = if current == 0 && min != 0 {
        (0, None)
    } else if current > max {
        (max, Some("Current number of replicas above Spec.MaxReplicas"))
    } else if current < min {
        (min, Some("Current number of replicas below Spec.MinReplicas"))
    } else {
        (current, None)
    };
    let mut rescaled = false;
    if let Some(reason) = why {
        let t_uid = uid(&target).to_string();
        ctx.cluster.mutate(target_kind, ns, target_name, MANAGER, |o| {
            if uid(o) == t_uid {
                o["spec"]["replicas"] = json!(desired);
            }
        })?;
        rescaled = true;
        let msg = format!("New size: {desired}; reason: {reason}");
        let src = Source::controller("horizontal-pod-autoscaler");
        ctx.recorder.record(&ctx.cluster, &hpa, Type::Normal, "SuccessfulRescale", &msg, src);
    }
    let mut conds: Vec<Value> =
        hpa.pointer("/status/conditions").and_then(Value::as_array).cloned().unwrap_or_default();
    set_condition(
        &mut conds,
        "AbleToScale",
        "True",
        "SucceededGetScale",
        "the HPA controller was able to get the target's current scale",
        &now,
        false,
    );
    if current == 0 && min != 0 {
        set_condition(
            &mut conds,
            "ScalingActive",
            "False",
            "ScalingDisabled",
            "scaling is disabled since the replica count of the target is zero",
            &now,
            false,
        );
    } else {
        set_condition(
            &mut conds,
            "ScalingActive",
            "False",
            "FailedGetResourceMetric",
            "the HPA was unable to compute the replica count: no metrics returned from resource metrics API",
            &now,
            false,
        );
    }
    let mut status = json!({
        "observedGeneration": generation(&hpa),
        "currentReplicas": int_at(&target, "/status/replicas").unwrap_or(current),
        "desiredReplicas": desired,
        "conditions": conds,
    });
    if rescaled {
        status["lastScaleTime"] = json!(now);
    } else if let Some(t) = hpa.pointer("/status/lastScaleTime") {
        status["lastScaleTime"] = t.clone();
    }
    let hpa_uid = uid(&hpa).to_string();
    ctx.cluster.mutate(hk, ns, name, MANAGER, |o| {
        if uid(o) == hpa_uid {
            o["status"] = status.clone();
        }
    })?;
    Ok(None)
}
