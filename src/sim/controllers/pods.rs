//! The scheduler and kubelet of the simulated cluster, per pod: bind a new pod to a node,
//! report it creating, start it after a short (time-scaled) delay, crash-loop containers
//! whose image cannot run, and complete pods that do not restart. Each pod gets its own
//! timers; nothing here sweeps all pods, and pods never seen in an event are left alone.

use super::Ctx;
use super::Outcome;
use super::events::{About, Source, Type};
use super::nodes::{self, NodeInfo};
use super::podstatus::{self, crashes, is_sidecar};
use super::util::{pods, str_at, uid};
use crate::sim::ops::OpError;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Which timers a pod (by uid) already has.
#[derive(Default, Clone, Copy)]
struct Track {
    starting: bool,
    crashing: bool,
    finishing: bool,
}

#[derive(Default)]
pub struct Kubelet {
    tracked: Mutex<HashMap<String, Track>>,
    next_ip: AtomicU32,
    next_node: AtomicUsize,
}

impl Kubelet {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Track>> {
        self.tracked.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn forget(&self, pod_uid: &str) {
        self.lock().remove(pod_uid);
    }

    /// Sets one flag; false when it was already set (the timer exists).
    fn claim(&self, pod_uid: &str, f: impl Fn(&mut Track) -> &mut bool) -> bool {
        let mut t = self.lock();
        let flag = f(t.entry(pod_uid.to_string()).or_default());
        !std::mem::replace(flag, true)
    }

    fn release(&self, pod_uid: &str, f: impl Fn(&mut Track) -> &mut bool) {
        if let Some(t) = self.lock().get_mut(pod_uid) {
            *f(t) = false;
        }
    }

    fn pod_ip(&self) -> String {
        let n = self.next_ip.fetch_add(1, Ordering::Relaxed);
        format!("10.244.{}.{}", 1 + (n / 250) % 250, 2 + n % 250)
    }
}

fn kubelet_on(node: &str) -> Source<'_> {
    Source { component: "kubelet", host: Some(node) }
}

/// The node a DaemonSet-style pod is pinned to by required node affinity on
/// `metadata.name`.
fn pinned_node(pod: &Value) -> Option<String> {
    let terms = pod
        .pointer("/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms")?
        .as_array()?;
    terms.iter().flat_map(|t| t.get("matchFields").and_then(Value::as_array).into_iter().flatten()).find_map(|f| {
        (str_at(f, "/key") == "metadata.name" && str_at(f, "/operator") == "In")
            .then(|| f.pointer("/values/0").and_then(Value::as_str).map(String::from))
            .flatten()
    })
}

fn pick_node(ctx: &Ctx, pod: &Value) -> Option<NodeInfo> {
    let nodes = nodes::schedulable(&ctx.cluster);
    if let Some(want) = pinned_node(pod) {
        return nodes.into_iter().find(|n| n.name == want);
    }
    if nodes.is_empty() {
        return None;
    }
    let i = ctx.kubelet.next_node.fetch_add(1, Ordering::Relaxed) % nodes.len();
    nodes.into_iter().nth(i)
}

/// Moves one pod along: bind, start timers. Called for every event about the pod.
pub fn reconcile(ctx: &Arc<Ctx>, ns: &str, name: &str) -> Outcome {
    let Some(pod) = ctx.cluster.store.get(pods(), ns, name).map(|e| e.value()) else { return Ok(None) };
    if super::util::pod_terminal(&pod) || pod.pointer("/metadata/deletionTimestamp").is_some() {
        return Ok(None);
    }
    let pod_uid = uid(&pod).to_string();
    let node = str_at(&pod, "/spec/nodeName").to_string();
    if node.is_empty() {
        return schedule(ctx, &pod);
    }
    match str_at(&pod, "/status/phase") {
        "" | "Pending" if ctx.kubelet.claim(&pod_uid, |t| &mut t.starting) => {
            tokio::spawn(start(ctx.clone(), ns.to_string(), name.to_string(), pod_uid, node));
        }
        "Running" => {
            if has_crash_looping(&pod) && ctx.kubelet.claim(&pod_uid, |t| &mut t.crashing) {
                tokio::spawn(crash_loop(ctx.clone(), ns.to_string(), name.to_string(), pod_uid.clone(), node.clone()));
            }
            let runs_to_completion = str_at(&pod, "/spec/restartPolicy") != "Always";
            if runs_to_completion && !has_crash_looping(&pod) && ctx.kubelet.claim(&pod_uid, |t| &mut t.finishing) {
                tokio::spawn(finish(ctx.clone(), ns.to_string(), name.to_string(), pod_uid));
            }
        }
        _ => {}
    }
    Ok(None)
}

fn has_crash_looping(pod: &Value) -> bool {
    ["/status/containerStatuses", "/status/initContainerStatuses"].iter().any(|p| {
        pod.pointer(p)
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|cs| str_at(cs, "/state/waiting/reason") == "CrashLoopBackOff"))
    })
}

fn schedule(ctx: &Arc<Ctx>, pod: &Value) -> Outcome {
    let (ns, name) = (str_at(pod, "/metadata/namespace"), super::util::name(pod));
    let Some(node) = pick_node(ctx, pod) else {
        // Nothing to place it on; a node event does not re-queue pods, so look again later.
        return Ok(Some(Duration::from_secs(2)));
    };
    let pod_uid = uid(pod).to_string();
    let now = ctx.cluster.now_str();
    let bound = ctx.cluster.mutate(pods(), ns, name, "kube-scheduler", |p| {
        if uid(p) == pod_uid && str_at(p, "/spec/nodeName").is_empty() {
            podstatus::apply_scheduled(p, &node.name, &now);
        }
    })?;
    if str_at(&bound, "/spec/nodeName") != node.name {
        return Ok(None);
    }
    let msg = format!("Successfully assigned {ns}/{name} to {}", node.name);
    ctx.recorder.record(&ctx.cluster, &bound, Type::Normal, "Scheduled", &msg, Source::controller("default-scheduler"));
    ctx.cluster.mutate(pods(), ns, name, "kubelet", |p| {
        if uid(p) == pod_uid && matches!(str_at(p, "/status/phase"), "" | "Pending") {
            podstatus::apply_creating(p, &node.ip, &now);
        }
    })?;
    Ok(None)
}

/// Writes `f`'s change to the pod if it is still the same pod; Err(()) when it is gone.
fn update_same_pod(
    ctx: &Ctx,
    ns: &str,
    name: &str,
    pod_uid: &str,
    mut f: impl FnMut(&mut Value) -> bool,
) -> Result<Arc<Value>, ()> {
    let mut same = true;
    let r = ctx.cluster.mutate(pods(), ns, name, "kubelet", |p| {
        same = uid(p) == pod_uid && f(p);
    });
    match r {
        Ok(p) if same => Ok(p),
        Ok(_) | Err(OpError::NotFound { .. }) => Err(()),
        Err(e) => {
            tracing::debug!("kubelet writing pod {ns}/{name}: {e}");
            Err(())
        }
    }
}

fn startup_delay(ctx: &Ctx) -> Duration {
    ctx.cluster.clock.scaled(Duration::from_millis(rand::random_range(1000..2000)))
}

async fn start(ctx: Arc<Ctx>, ns: String, name: String, pod_uid: String, node: String) {
    tokio::time::sleep(startup_delay(&ctx)).await;
    let ip = ctx.kubelet.pod_ip();
    let now = ctx.cluster.now_str();
    let started = update_same_pod(&ctx, &ns, &name, &pod_uid, |p| {
        if !matches!(str_at(p, "/status/phase"), "" | "Pending") {
            return false;
        }
        podstatus::apply_running(p, &ip, &now);
        true
    });
    ctx.kubelet.release(&pod_uid, |t| &mut t.starting);
    let Ok(pod) = started else { return };
    let src = kubelet_on(&node);
    for (list, field) in [("initContainers", "spec.initContainers"), ("containers", "spec.containers")] {
        for c in pod.pointer(&format!("/spec/{list}")).and_then(Value::as_array).into_iter().flatten() {
            let cname = str_at(c, "/name");
            let path = format!("{field}{{{cname}}}");
            let img = str_at(c, "/image");
            let pulled = format!("Container image \"{img}\" already present on machine");
            ctx.recorder.record(
                &ctx.cluster,
                About { obj: &pod, field_path: Some(&path) },
                Type::Normal,
                "Pulled",
                &pulled,
                src,
            );
            let created = format!("Created container: {cname}");
            ctx.recorder.record(
                &ctx.cluster,
                About { obj: &pod, field_path: Some(&path) },
                Type::Normal,
                "Created",
                &created,
                src,
            );
            let started = format!("Started container {cname}");
            ctx.recorder.record(
                &ctx.cluster,
                About { obj: &pod, field_path: Some(&path) },
                Type::Normal,
                "Started",
                &started,
                src,
            );
            if crashes(c) && (list == "containers" || is_sidecar(c)) {
                back_off_event(&ctx, &pod, &path, cname, src);
            }
        }
    }
}

fn back_off_event(ctx: &Ctx, pod: &Value, path: &str, container: &str, src: Source<'_>) {
    let msg = format!(
        "Back-off restarting failed container {container} in pod {}_{}({})",
        super::util::name(pod),
        str_at(pod, "/metadata/namespace"),
        uid(pod)
    );
    ctx.recorder.record(&ctx.cluster, About { obj: pod, field_path: Some(path) }, Type::Warning, "BackOff", &msg, src);
}

/// Restarts crash-looping containers with Kubernetes' back-off (10 s doubling to 5 min,
/// time-scaled) until the pod is gone.
async fn crash_loop(ctx: Arc<Ctx>, ns: String, name: String, pod_uid: String, node: String) {
    let mut backoff = 10u64;
    loop {
        tokio::time::sleep(ctx.cluster.clock.scaled(Duration::from_secs(backoff))).await;
        let next = (backoff * 2).min(300);
        let now = ctx.cluster.now_str();
        let mut restarted = Vec::new();
        let r = update_same_pod(&ctx, &ns, &name, &pod_uid, |p| {
            restarted = podstatus::apply_restart(p, &now, next);
            !restarted.is_empty()
        });
        let Ok(pod) = r else { break };
        for (path, cname) in &restarted {
            back_off_event(&ctx, &pod, path, cname, kubelet_on(&node));
        }
        backoff = next;
    }
    ctx.kubelet.release(&pod_uid, |t| &mut t.crashing);
}

/// Pods that do not restart (Job pods) exit a short while after starting.
async fn finish(ctx: Arc<Ctx>, ns: String, name: String, pod_uid: String) {
    let d = ctx.cluster.clock.scaled(Duration::from_millis(rand::random_range(2000..3000)));
    tokio::time::sleep(d).await;
    let now = ctx.cluster.now_str();
    let _ = update_same_pod(&ctx, &ns, &name, &pod_uid, |p| {
        if str_at(p, "/status/phase") != "Running" {
            return false;
        }
        podstatus::apply_completed(p, &now);
        true
    });
    ctx.kubelet.release(&pod_uid, |t| &mut t.finishing);
}
