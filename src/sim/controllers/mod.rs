//! Controllers that make the simulated cluster act like Kubernetes: workload rollouts, pod
//! start-up and readiness, garbage collection by owner. They react to store events and
//! timers only — one dispatcher maps each event to the keys it affects, one worker
//! reconciles coalesced keys — and never sweep all pods or talk HTTP.

mod daemonset;
mod deployment;
mod events;
mod gc;
mod job;
mod nodes;
mod pods;
mod podstatus;
mod podtemplate;
mod queue;
mod replicaset;
mod rollout;
mod statefulset;
mod status;
mod util;

#[cfg(test)]
mod tests;

use super::kinds;
use super::ops::{Cluster, OpError};
use super::store::{Event, EventType};
use queue::{Key, Queue, What};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use util::{controller_of, generation, int_at, kind, str_at};

/// State the controllers share. Everything else lives in the store.
pub(crate) struct Ctx {
    pub cluster: Arc<Cluster>,
    pub queue: Arc<Queue>,
    pub recorder: events::Recorder,
    pub kubelet: pods::Kubelet,
    pub gc: gc::Index,
    /// Pod templates by (namespace, StatefulSet revision name): a real cluster keeps them in
    /// ControllerRevisions, which this API does not serve.
    pub sts_revisions: Mutex<HashMap<(String, String), Value>>,
    /// Consecutive failed pod creations per workload, for retry backoff.
    pub failures: Mutex<HashMap<Key, u32>>,
}

impl Ctx {
    /// Backoff after a failed pod creation: 0.5 s doubling up to 5 s, real time.
    pub fn failed(&self, key: &Key) -> Duration {
        let mut f = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let n = f.entry(key.clone()).or_insert(0);
        *n = (*n + 1).min(10);
        Duration::from_millis(500u64.saturating_mul(1 << (*n - 1)).min(5_000))
    }

    pub fn succeeded(&self, key: &Key) {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

/// Starts every controller on the current tokio runtime. Creates the simulated nodes when
/// the cluster has none. Subscribes before returning, so no later write is missed.
pub fn spawn_all(cluster: Arc<Cluster>) {
    nodes::ensure_nodes(&cluster);
    let rx = cluster.store.subscribe();
    let subscribed_at = cluster.store.current_rv();
    let ctx = Arc::new(Ctx {
        cluster,
        queue: Arc::new(Queue::default()),
        recorder: events::Recorder::default(),
        kubelet: pods::Kubelet::default(),
        gc: gc::Index::default(),
        sts_revisions: Mutex::new(HashMap::new()),
        failures: Mutex::new(HashMap::new()),
    });
    replay_history(&ctx, subscribed_at);
    tokio::spawn(dispatch(ctx.clone(), rx));
    tokio::spawn(work(ctx));
}

/// Replays the store's event history, so objects written before the controllers started are
/// handled as if their events had just arrived. Objects the scale generator inserted carry
/// no events (history restarts after them) and are left alone.
fn replay_history(ctx: &Ctx, up_to: u64) {
    let store = &ctx.cluster.store;
    let since = store.compacted_rv();
    let mut evs: Vec<Event> = kinds::all()
        .filter(|k| !k.virtual_only)
        .flat_map(|k| store.events_since(k, since).unwrap_or_default())
        .filter(|e| e.rv <= up_to)
        .collect();
    evs.sort_by_key(|e| e.rv);
    for ev in &evs {
        on_event(ctx, ev);
    }
}

fn needs_sync(obj: &Value) -> bool {
    int_at(obj, "/status/observedGeneration") != Some(generation(obj))
}

async fn dispatch(ctx: Arc<Ctx>, mut rx: tokio::sync::mpsc::UnboundedReceiver<Event>) {
    while let Some(ev) = rx.recv().await {
        on_event(&ctx, &ev);
    }
}

fn owner_key(obj: &Value, ns: &str) -> Option<Key> {
    let (api_version, kind, name, _) = controller_of(obj)?;
    let what = match (api_version, kind) {
        ("apps/v1", "ReplicaSet") => What::ReplicaSet,
        ("apps/v1", "Deployment") => What::Deployment,
        ("apps/v1", "StatefulSet") => What::StatefulSet,
        ("apps/v1", "DaemonSet") => What::DaemonSet,
        ("batch/v1", "Job") => What::Job,
        _ => return None,
    };
    Some(Key::new(what, ns, name))
}

fn on_event(ctx: &Ctx, ev: &Event) {
    let obj = &ev.object;
    let ns = ev.namespace.as_str();
    let deleted = ev.kind_of_change == EventType::Deleted;
    let own = |what| {
        if !deleted && (ev.kind_of_change == EventType::Added || needs_sync(obj)) {
            ctx.queue.add(Key::new(what, ns, &ev.name));
        }
    };
    match (ev.kind.group, ev.kind.plural) {
        ("", "events") => return,
        ("", "pods") => {
            if deleted {
                ctx.kubelet.forget(util::uid(obj));
            } else {
                ctx.queue.add(Key::new(What::Pod, ns, &ev.name));
            }
            for pdb in status::pdbs_selecting(&ctx.cluster, ns, &ev.labels) {
                ctx.queue.add(Key::new(What::Pdb, ns, &pdb));
            }
        }
        ("apps", "replicasets") => own(What::ReplicaSet),
        ("apps", "deployments") => own(What::Deployment),
        ("apps", "statefulsets") => own(What::StatefulSet),
        ("apps", "daemonsets") => own(What::DaemonSet),
        ("batch", "jobs") => own(What::Job),
        ("policy", "poddisruptionbudgets") if !deleted => ctx.queue.add(Key::new(What::Pdb, ns, &ev.name)),
        ("autoscaling", "horizontalpodautoscalers") if !deleted => ctx.queue.add(Key::new(What::Hpa, ns, &ev.name)),
        ("", "nodes") if ev.kind_of_change != EventType::Modified => {
            for ds in ctx.cluster.store.all(kind("apps", "daemonsets"), None) {
                ctx.queue.add(Key::new(What::DaemonSet, str_at(&ds, "/metadata/namespace"), util::name(&ds)));
            }
        }
        _ => {}
    }
    if matches!(ev.kind.plural, "pods" | "replicasets")
        && let Some(k) = owner_key(obj, ns)
    {
        ctx.queue.add(k);
    }
    if matches!(ev.kind.plural, "deployments" | "statefulsets" | "replicasets") && !deleted {
        for hpa in status::hpas_targeting(&ctx.cluster, ns, ev.kind.kind, &ev.name) {
            ctx.queue.add(Key::new(What::Hpa, ns, &hpa));
        }
    }
    if deleted {
        ctx.recorder.forget(util::uid(obj));
        gc::on_deleted(ctx, ev);
    } else {
        ctx.gc.observe(ev);
    }
}

async fn work(ctx: Arc<Ctx>) {
    loop {
        let key = ctx.queue.next().await;
        match reconcile(&ctx, &key) {
            Ok(Some(after)) => ctx.queue.add_after(key, after),
            Ok(None) | Err(OpError::NotFound { .. }) => {}
            Err(OpError::Conflict(_)) => ctx.queue.add_after(key, Duration::from_millis(50)),
            Err(e) => {
                tracing::warn!("reconciling {:?} {}/{}: {e}", key.what, key.ns, key.name);
                ctx.queue.add_after(key, Duration::from_secs(1));
            }
        }
        tokio::task::yield_now().await;
    }
}

/// What to do after a reconcile: look again after a while, or wait for the next event.
pub(crate) type Outcome = Result<Option<Duration>, OpError>;

fn reconcile(ctx: &Arc<Ctx>, key: &Key) -> Outcome {
    let (ns, name) = (key.ns.as_str(), key.name.as_str());
    match key.what {
        What::Deployment => deployment::reconcile(ctx, ns, name),
        What::ReplicaSet => replicaset::reconcile(ctx, ns, name),
        What::StatefulSet => statefulset::reconcile(ctx, ns, name),
        What::DaemonSet => daemonset::reconcile(ctx, ns, name),
        What::Job => job::reconcile(ctx, ns, name),
        What::Pod => pods::reconcile(ctx, ns, name),
        What::Pdb => status::reconcile_pdb(ctx, ns, name),
        What::Hpa => status::reconcile_hpa(ctx, ns, name),
    }
}

/// Shortest of two optional delays.
pub(crate) fn sooner(a: Option<Duration>, b: Option<Duration>) -> Option<Duration> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}
