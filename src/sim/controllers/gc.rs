//! Garbage collection by owner references, background propagation: when an owner is
//! deleted, each dependent whose other owners are gone is deleted too (which cascades), and
//! one that still has a live owner only loses the dead reference. Dependents are found in
//! an index built from store events, plus a selector lookup for workloads' own objects
//! written before the controllers started.

use super::Ctx;
use super::util::{MANAGER, kind, selector_of, str_at, uid};
use crate::sim::kinds;
use crate::sim::ops::WriteOpts;
use crate::sim::store::{Event, ListQuery};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Dep {
    /// (group, plural): the storage identity of the dependent's kind.
    kind: (&'static str, &'static str),
    ns: String,
    name: String,
    uid: String,
}

/// Dependents by owner uid.
#[derive(Default)]
pub struct Index {
    deps: Mutex<HashMap<String, HashSet<Dep>>>,
}

fn owner_uids(obj: &Value) -> Vec<&str> {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|r| str_at(r, "/uid")).filter(|u| !u.is_empty()).collect())
        .unwrap_or_default()
}

impl Index {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, HashSet<Dep>>> {
        self.deps.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the owners of an added or modified object.
    pub fn observe(&self, ev: &Event) {
        let owners = owner_uids(&ev.object);
        if owners.is_empty() {
            return;
        }
        let dep = Dep {
            kind: (ev.kind.group, ev.kind.plural),
            ns: ev.namespace.clone(),
            name: ev.name.clone(),
            uid: uid(&ev.object).to_string(),
        };
        let mut deps = self.lock();
        for o in owners {
            deps.entry(o.to_string()).or_default().insert(dep.clone());
        }
    }

    fn forget(&self, ev: &Event) {
        let dep_uid = uid(&ev.object);
        let mut deps = self.lock();
        for o in owner_uids(&ev.object) {
            if let Some(set) = deps.get_mut(o) {
                set.retain(|d| d.uid != dep_uid);
                if set.is_empty() {
                    deps.remove(o);
                }
            }
        }
    }

    fn take(&self, owner_uid: &str) -> HashSet<Dep> {
        self.lock().remove(owner_uid).unwrap_or_default()
    }
}

/// Dependents a workload may have created before the index existed, found by its selector.
fn by_selector(ctx: &Ctx, ev: &Event) -> Vec<Dep> {
    let dep_kind = match (ev.kind.group, ev.kind.plural) {
        ("apps", "deployments") => kind("apps", "replicasets"),
        ("apps", "replicasets" | "statefulsets" | "daemonsets") | ("batch", "jobs") => kind("", "pods"),
        _ => return Vec::new(),
    };
    let Some(sel) = ev.object.pointer("/spec/selector").filter(|s| s.is_object()) else { return Vec::new() };
    let sel = selector_of(Some(sel));
    let q = ListQuery { namespace: Some(&ev.namespace), name: None, selector: Some(&sel), limit: None, after: None };
    let owner = uid(&ev.object);
    ctx.cluster
        .store
        .list(dep_kind, &q)
        .items
        .iter()
        .filter(|o| owner_uids(o).contains(&owner))
        .map(|o| Dep {
            kind: (dep_kind.group, dep_kind.plural),
            ns: ev.namespace.clone(),
            name: str_at(o, "/metadata/name").into(),
            uid: uid(o).into(),
        })
        .collect()
}

fn owner_alive(ctx: &Ctx, r: &Value, ns: &str) -> bool {
    let Some(k) = kinds::by_api_version_kind(str_at(r, "/apiVersion"), str_at(r, "/kind")) else {
        // An owner of a kind this cluster does not serve cannot be checked; keep the dependent.
        return true;
    };
    let ns = if k.namespaced { ns } else { "" };
    ctx.cluster.store.get(k, ns, str_at(r, "/name")).is_some_and(|e| uid(&e.value()) == str_at(r, "/uid"))
}

pub fn on_deleted(ctx: &Ctx, ev: &Event) {
    ctx.gc.forget(ev);
    let dead = uid(&ev.object).to_string();
    let mut deps = ctx.gc.take(&dead);
    deps.extend(by_selector(ctx, ev));
    for dep in deps {
        collect(ctx, &dep, &dead);
    }
}

fn collect(ctx: &Ctx, dep: &Dep, dead: &str) {
    let Some(dep_kind) = kinds::by_group_plural(dep.kind.0, dep.kind.1) else { return };
    let Some(obj) = ctx.cluster.store.get(dep_kind, &dep.ns, &dep.name).map(|e| e.value()) else { return };
    if uid(&obj) != dep.uid || !owner_uids(&obj).contains(&dead) {
        return;
    }
    let refs: Vec<Value> =
        obj.pointer("/metadata/ownerReferences").and_then(Value::as_array).cloned().unwrap_or_default();
    let others_alive = refs.iter().filter(|r| str_at(r, "/uid") != dead).any(|r| owner_alive(ctx, r, &dep.ns));
    let result = if others_alive {
        ctx.cluster
            .mutate(dep_kind, &dep.ns, &dep.name, MANAGER, |o| {
                if let Some(a) = o.pointer_mut("/metadata/ownerReferences").and_then(Value::as_array_mut) {
                    a.retain(|r| str_at(r, "/uid") != dead);
                }
            })
            .map(|_| ())
    } else {
        ctx.cluster.delete(dep_kind, &dep.ns, &dep.name, WriteOpts::by(MANAGER)).map(|_| ())
    };
    if let Err(e) = result {
        tracing::debug!("garbage collecting {} {}/{}: {e}", dep.kind.1, dep.ns, dep.name);
    }
}
