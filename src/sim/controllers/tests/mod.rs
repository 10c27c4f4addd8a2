//! In-process tests of the controllers: a fresh simulated cluster at time scale 50, objects
//! written through `Cluster`, conditions awaited with a generous deadline.

mod deployments;
mod pods;
mod startup;
mod workloads;

use super::spawn_all;
use crate::sim::clock::Clock;
use crate::sim::kinds::{self, Kind};
use crate::sim::ops::{Cluster, WriteOpts};
use crate::sim::store::{Event, EventType};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

pub fn k(group: &str, plural: &str) -> &'static Kind {
    kinds::by_group_plural(group, plural).unwrap()
}

/// A cluster with controllers running and namespace `ns`.
pub fn start(ns: &str) -> Arc<Cluster> {
    let c = Cluster::new(Clock::new(50.0));
    let nsobj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
    c.create(k("", "namespaces"), "", nsobj, WriteOpts::by("test")).unwrap();
    spawn_all(c.clone());
    c
}

pub fn template(app: &str, image: &str) -> Value {
    json!({"metadata": {"labels": {"app": app}}, "spec": {"containers": [{"name": "app", "image": image}]}})
}

pub fn deployment(name: &str, replicas: i64, image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
           "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}}, "template": template(name, image)}})
}

pub fn create(c: &Cluster, group: &str, plural: &str, ns: &str, obj: Value) -> Arc<Value> {
    c.create(k(group, plural), ns, obj, WriteOpts::by("test")).unwrap()
}

/// Polls `f` every 20 ms for up to 30 s; `Err` describes what is still missing.
pub async fn wait_for<T>(what: &str, mut f: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match f() {
            Ok(v) => return v,
            Err(state) if Instant::now() > deadline => panic!("timed out waiting for {what}; last state: {state}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

pub fn int(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr).and_then(Value::as_i64).unwrap_or(0)
}

pub fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or_default()
}

pub fn cond<'a>(v: &'a Value, ty: &str) -> Option<&'a Value> {
    v.pointer("/status/conditions")?.as_array()?.iter().find(|c| c["type"] == ty)
}

pub fn pods_with(c: &Cluster, ns: &str, app: &str) -> Vec<Arc<Value>> {
    c.store.all(k("", "pods"), Some(ns)).into_iter().filter(|p| s(p, "/metadata/labels/app") == app).collect()
}

pub fn ready(pod: &Value) -> bool {
    cond(pod, "Ready").is_some_and(|c| c["status"] == "True")
}

/// Waits until `kubectl rollout status` would report the Deployment done.
pub async fn rolled_out(c: &Cluster, ns: &str, name: &str) -> Arc<Value> {
    wait_for(&format!("deployment {name} rolled out"), || {
        let d = c.get(k("apps", "deployments"), ns, name).map_err(|e| e.to_string())?;
        let want = int(&d, "/spec/replicas");
        let st = |f: &str| int(&d, &format!("/status/{f}"));
        let done = st("observedGeneration") >= int(&d, "/metadata/generation")
            && st("updatedReplicas") == want
            && st("replicas") == want
            && st("availableReplicas") == want;
        if done { Ok(d) } else { Err(d["status"].to_string()) }
    })
    .await
}

/// Pod states seen in a stream of store events: name → (labels, ready).
#[derive(Default)]
pub struct PodLog {
    pub live: BTreeMap<String, (Value, bool)>,
}

impl PodLog {
    pub fn seed(c: &Cluster, ns: &str) -> PodLog {
        let mut log = PodLog::default();
        for p in c.store.all(k("", "pods"), Some(ns)) {
            log.live.insert(s(&p, "/metadata/name").into(), (p["metadata"]["labels"].clone(), ready(&p)));
        }
        log
    }

    /// Applies one event if it is about a pod in `ns`; returns it for the caller's checks.
    pub fn apply<'e>(&mut self, ev: &'e Event, ns: &str) -> Option<&'e Event> {
        if ev.kind.plural != "pods" || ev.namespace != ns {
            return None;
        }
        match ev.kind_of_change {
            EventType::Deleted => {
                self.live.remove(&ev.name);
            }
            _ => {
                self.live.insert(ev.name.clone(), (ev.object["metadata"]["labels"].clone(), ready(&ev.object)));
            }
        }
        Some(ev)
    }

    pub fn count(&self, app: &str, only_ready: bool) -> usize {
        self.live.values().filter(|(l, r)| l["app"] == app && (*r || !only_ready)).count()
    }
}

pub fn drain(rx: &mut UnboundedReceiver<Event>) -> Vec<Event> {
    let mut out = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        out.push(ev);
    }
    out
}
