//! The Deployment controller: one ReplicaSet per pod template (`<name>-<pod-template-hash>`),
//! RollingUpdate and Recreate rollouts, revision annotations, history clean-up and the
//! Deployment's status. The arithmetic lives in `rollout`; this file reads and writes.

use super::events::{Source, Type};
use super::podtemplate;
use super::queue::{Key, What};
use super::rollout::{self, NewRs, REVISION, Rs, replicas};
use super::util::{
    MANAGER, controlled_by, created, find_condition, generation, int_at, kind, str_at, template_hash, templates_equal,
    uid,
};
use super::{Ctx, Outcome, replicaset};
use crate::sim::ops::{OpError, WriteOpts};
use serde_json::{Value, json};
use std::sync::Arc;

const SOURCE: Source<'static> = Source::controller("deployment-controller");
const HASH: &str = "pod-template-hash";
/// Deployment annotations a ReplicaSet does not inherit.
const NOT_COPIED: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
];

fn rs_kind() -> &'static crate::sim::kinds::Kind {
    kind("apps", "replicasets")
}

fn owned_sets(ctx: &Ctx, d: &Value) -> Vec<Arc<Value>> {
    let ns = str_at(d, "/metadata/namespace");
    let mut v = podtemplate::owned(ctx, rs_kind(), ns, d.pointer("/spec/selector"), uid(d));
    v.sort_by(|a, b| (created(a), str_at(a, "/metadata/name")).cmp(&(created(b), str_at(b, "/metadata/name"))));
    v
}

/// Index of the ReplicaSet running the Deployment's current template.
fn find_new(sets: &[Arc<Value>], d: &Value, hash: &str) -> Option<usize> {
    let template = d.pointer("/spec/template").cloned().unwrap_or_default();
    sets.iter().position(|r| str_at(r, &format!("/metadata/labels/{HASH}")) == hash).or_else(|| {
        sets.iter().position(|r| templates_equal(r.pointer("/spec/template").unwrap_or(&Value::Null), &template))
    })
}

pub fn reconcile(ctx: &Arc<Ctx>, ns: &str, name: &str) -> Outcome {
    let dk = kind("apps", "deployments");
    let Some(d) = ctx.cluster.store.get(dk, ns, name).map(|e| e.value()) else { return Ok(None) };
    let template = d.pointer("/spec/template").cloned().unwrap_or_else(|| json!({}));
    let hash = template_hash(&template, int_at(&d, "/status/collisionCount").unwrap_or(0));
    let sets = owned_sets(ctx, &d);
    let paused = d.pointer("/spec/paused") == Some(&json!(true));
    let how = if paused {
        scale_paused(ctx, &d, &sets, &hash)?;
        NewRs::Unchanged
    } else if rollout::is_rolling(&d) {
        rolling(ctx, &d, &sets, &hash)?
    } else {
        recreate(ctx, &d, &sets, &hash)?
    };
    let sets = owned_sets(ctx, &d);
    let new_idx = find_new(&sets, &d, &hash);
    let infos: Vec<Rs> = sets.iter().map(|r| Rs::of(r)).collect();
    let new_info = new_idx.map(|i| &infos[i]);
    let failure = new_idx
        .and_then(|i| find_condition(&sets[i], "ReplicaFailure"))
        .or_else(|| sets.iter().find_map(|r| find_condition(r, "ReplicaFailure")))
        .cloned();
    let now = ctx.cluster.clock.now();
    let status = rollout::next_status(&d, &infos, new_info, how, failure.as_ref(), now, &ctx.cluster.now_str());
    if rollout::complete(&d, &status) {
        clean_history(ctx, &d, &sets, new_idx);
    }
    let new_rev = new_info.map(|r| r.revision.to_string());
    let d_uid = uid(&d).to_string();
    ctx.cluster.mutate(dk, ns, name, MANAGER, |o| {
        if uid(o) != d_uid {
            return;
        }
        o["status"] = status.clone();
        if let Some(rev) = &new_rev {
            if !o["metadata"]["annotations"].is_object() {
                o["metadata"]["annotations"] = json!({});
            }
            o["metadata"]["annotations"][REVISION] = json!(rev);
        }
    })?;
    Ok(rollout::recheck_deadline(&d, &status, now))
}

fn rolling(ctx: &Arc<Ctx>, d: &Value, sets: &[Arc<Value>], hash: &str) -> Result<NewRs, OpError> {
    let new_idx = find_new(sets, d, hash);
    let olds: Vec<Rs> = sets.iter().enumerate().filter(|(i, _)| Some(*i) != new_idx).map(|(_, r)| Rs::of(r)).collect();
    let old_sum: i64 = olds.iter().map(|r| r.spec).sum();
    let next_rev = olds.iter().map(|r| r.revision).max().unwrap_or(0) + 1;
    let (new, how) = match new_idx {
        Some(i) => (bump_revision(ctx, &sets[i], next_rev)?, NewRs::Found),
        None => {
            let n = rollout::new_rs_replicas(d, old_sum, 0);
            (create_set(ctx, d, hash, next_rev, n)?, NewRs::Created)
        }
    };
    let new_info = Rs::of(&new);
    let want = replicas(d);
    if new_info.spec > want {
        scale(ctx, d, &new, want)?;
        return Ok(how);
    }
    if new_info.spec < want {
        let n = rollout::new_rs_replicas(d, old_sum + new_info.spec, new_info.spec);
        if n != new_info.spec {
            scale(ctx, d, &new, n)?;
            return Ok(how);
        }
    }
    for (name, size) in rollout::old_scale_down(d, Some(&new_info), &olds) {
        if let Some(r) = sets.iter().find(|r| str_at(r, "/metadata/name") == name) {
            scale(ctx, d, r, size)?;
        }
    }
    Ok(how)
}

fn recreate(ctx: &Arc<Ctx>, d: &Value, sets: &[Arc<Value>], hash: &str) -> Result<NewRs, OpError> {
    let new_idx = find_new(sets, d, hash);
    let olds: Vec<&Arc<Value>> = sets.iter().enumerate().filter(|(i, _)| Some(*i) != new_idx).map(|(_, r)| r).collect();
    let how = if new_idx.is_some() { NewRs::Found } else { NewRs::Unchanged };
    let active: Vec<&&Arc<Value>> = olds.iter().filter(|r| Rs::of(r).spec > 0).collect();
    if !active.is_empty() {
        for r in active {
            scale(ctx, d, r, 0)?;
        }
        return Ok(how);
    }
    // Old pods must be gone before new ones start.
    if olds.iter().any(|r| Rs::of(r).replicas > 0) {
        return Ok(how);
    }
    let want = replicas(d);
    let next_rev = olds.iter().map(|r| rollout::revision(r)).max().unwrap_or(0) + 1;
    match new_idx {
        None => {
            create_set(ctx, d, hash, next_rev, want)?;
            Ok(NewRs::Created)
        }
        Some(i) => {
            let new = bump_revision(ctx, &sets[i], next_rev)?;
            if Rs::of(&new).spec != want {
                scale(ctx, d, &new, want)?;
            }
            Ok(how)
        }
    }
}

/// A paused Deployment is only scaled: the sole active ReplicaSet follows `spec.replicas`.
fn scale_paused(ctx: &Arc<Ctx>, d: &Value, sets: &[Arc<Value>], hash: &str) -> Result<(), OpError> {
    let active: Vec<&Arc<Value>> = sets.iter().filter(|r| Rs::of(r).spec > 0).collect();
    let target = match (active.as_slice(), find_new(sets, d, hash)) {
        ([one], _) => Some(*one),
        ([], Some(i)) => Some(&sets[i]),
        _ => None,
    };
    if let Some(r) = target
        && Rs::of(r).spec != replicas(d)
    {
        scale(ctx, d, r, replicas(d))?;
    }
    Ok(())
}

fn max_replicas(d: &Value) -> i64 {
    replicas(d) + if rollout::is_rolling(d) { rollout::fenceposts(d).0 } else { 0 }
}

fn create_set(ctx: &Arc<Ctx>, d: &Value, hash: &str, revision: i64, size: i64) -> Result<Arc<Value>, OpError> {
    let ns = str_at(d, "/metadata/namespace");
    let name = format!("{}-{hash}", str_at(d, "/metadata/name"));
    let mut template = d.pointer("/spec/template").cloned().unwrap_or_else(|| json!({}));
    if !template["metadata"].is_object() {
        template["metadata"] = json!({});
    }
    if !template["metadata"]["labels"].is_object() {
        template["metadata"]["labels"] = json!({});
    }
    template["metadata"]["labels"][HASH] = json!(hash);
    let mut selector = d.pointer("/spec/selector").cloned().unwrap_or_else(|| json!({}));
    if !selector["matchLabels"].is_object() {
        selector["matchLabels"] = json!({});
    }
    selector["matchLabels"][HASH] = json!(hash);
    let mut annotations = serde_json::Map::new();
    for (k, v) in d.pointer("/metadata/annotations").and_then(Value::as_object).into_iter().flatten() {
        if !NOT_COPIED.contains(&k.as_str()) {
            annotations.insert(k.clone(), v.clone());
        }
    }
    annotations.insert("deployment.kubernetes.io/desired-replicas".into(), json!(replicas(d).to_string()));
    annotations.insert("deployment.kubernetes.io/max-replicas".into(), json!(max_replicas(d).to_string()));
    annotations.insert(REVISION.into(), json!(revision.to_string()));
    let mut spec = json!({"replicas": size, "selector": selector, "template": template});
    if let Some(m) = d.pointer("/spec/minReadySeconds") {
        spec["minReadySeconds"] = m.clone();
    }
    let rs = json!({
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": ns, "labels": template["metadata"]["labels"].clone(),
                     "annotations": annotations, "ownerReferences": [super::util::owner_ref(d)]},
        "spec": spec,
    });
    match ctx.cluster.create(rs_kind(), ns, rs, WriteOpts::by(MANAGER)) {
        Ok(created) => {
            if size > 0 {
                let msg = format!("Scaled up replica set {name} from 0 to {size}");
                ctx.recorder.record(&ctx.cluster, d, Type::Normal, "ScalingReplicaSet", &msg, SOURCE);
            }
            sync_set(ctx, ns, &name);
            Ok(ctx.cluster.get(rs_kind(), ns, &name).unwrap_or(created))
        }
        Err(OpError::AlreadyExists { .. }) => {
            let existing = ctx.cluster.get(rs_kind(), ns, &name)?;
            let same = templates_equal(existing.pointer("/spec/template").unwrap_or(&Value::Null), &template);
            if controlled_by(&existing, uid(d)) && same {
                return Ok(existing);
            }
            // Another set holds the name: hash again with a higher collision count.
            let d_uid = uid(d).to_string();
            ctx.cluster.mutate(kind("apps", "deployments"), ns, str_at(d, "/metadata/name"), MANAGER, |o| {
                if uid(o) == d_uid {
                    let c = int_at(o, "/status/collisionCount").unwrap_or(0);
                    o["status"]["collisionCount"] = json!(c + 1);
                }
            })?;
            Err(OpError::Conflict(format!("replica set {name} exists with another template")))
        }
        Err(e) => Err(e),
    }
}

/// A ReplicaSet that becomes current again (a rollback) takes the next revision number.
fn bump_revision(ctx: &Ctx, rs: &Arc<Value>, next: i64) -> Result<Arc<Value>, OpError> {
    if rollout::revision(rs) >= next {
        return Ok(rs.clone());
    }
    let rs_uid = uid(rs).to_string();
    ctx.cluster.mutate(rs_kind(), str_at(rs, "/metadata/namespace"), str_at(rs, "/metadata/name"), MANAGER, |o| {
        if uid(o) == rs_uid {
            if !o["metadata"]["annotations"].is_object() {
                o["metadata"]["annotations"] = json!({});
            }
            o["metadata"]["annotations"][REVISION] = json!(next.to_string());
        }
    })
}

fn scale(ctx: &Arc<Ctx>, d: &Value, rs: &Value, to: i64) -> Result<(), OpError> {
    let ns = str_at(rs, "/metadata/namespace");
    let name = str_at(rs, "/metadata/name");
    let from = Rs::of(rs).spec;
    let (desired, max) = (replicas(d).to_string(), max_replicas(d).to_string());
    let rs_uid = uid(rs).to_string();
    ctx.cluster.mutate(rs_kind(), ns, name, MANAGER, |o| {
        if uid(o) != rs_uid {
            return;
        }
        o["spec"]["replicas"] = json!(to);
        if !o["metadata"]["annotations"].is_object() {
            o["metadata"]["annotations"] = json!({});
        }
        o["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] = json!(desired);
        o["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] = json!(max);
    })?;
    if from != to {
        let dir = if to > from { "up" } else { "down" };
        let msg = format!("Scaled {dir} replica set {name} from {from} to {to}");
        ctx.recorder.record(&ctx.cluster, d, Type::Normal, "ScalingReplicaSet", &msg, SOURCE);
    }
    sync_set(ctx, ns, name);
    Ok(())
}

/// Runs the ReplicaSet controller for a set just scaled, so pods follow before the next
/// Deployment step reads the counts: the rollout never overshoots its surge on stale data.
fn sync_set(ctx: &Arc<Ctx>, ns: &str, name: &str) {
    let key = Key::new(What::ReplicaSet, ns, name);
    match replicaset::reconcile(ctx, ns, name) {
        Ok(Some(after)) => ctx.queue.add_after(key, after),
        Ok(None) => {}
        Err(_) => ctx.queue.add(key),
    }
}

/// Deletes old, empty ReplicaSets beyond `revisionHistoryLimit`, lowest revision first.
fn clean_history(ctx: &Ctx, d: &Value, sets: &[Arc<Value>], new_idx: Option<usize>) {
    let limit = int_at(d, "/spec/revisionHistoryLimit").unwrap_or(10).max(0) as usize;
    let mut cleanable: Vec<&Arc<Value>> = sets
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != new_idx)
        .map(|(_, r)| r)
        .filter(|r| {
            let i = Rs::of(r);
            i.spec == 0 && i.replicas == 0 && generation(r) <= int_at(r, "/status/observedGeneration").unwrap_or(0)
        })
        .collect();
    if cleanable.len() <= limit {
        return;
    }
    cleanable.sort_by_key(|r| rollout::revision(r));
    let extra = cleanable.len() - limit;
    for r in cleanable.into_iter().take(extra) {
        let _ = ctx.cluster.delete(
            rs_kind(),
            str_at(r, "/metadata/namespace"),
            str_at(r, "/metadata/name"),
            WriteOpts::by(MANAGER),
        );
    }
}
