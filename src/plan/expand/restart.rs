//! restart: the pod-template annotation `kubectl.kubernetes.io/restartedAt`, as `kubectl
//! rollout restart` sets it, and the list of what rolls, in which batches, and what cannot.

use super::labels::workload_body;
use super::{Builder, workload_ref};
use crate::mesh::snapshot::in_namespace;
use crate::mesh::types::{Workload, WorkloadKind};
use crate::plan::model::Restart;
use crate::plan::target::Target;
use serde_json::{Value, json};

pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// An int-or-percent of `total`; percentages round up or down as the controller does.
fn scaled(v: Option<&Value>, total: i64, default_percent: i64, round_up: bool) -> i64 {
    let percent = |p: i64| {
        let x = p * total;
        if round_up { (x + 99) / 100 } else { x / 100 }
    };
    match v {
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        Some(Value::String(s)) => match s.strip_suffix('%').map(str::parse::<i64>) {
            Some(Ok(p)) => percent(p),
            _ => s.parse().unwrap_or_else(|_| percent(default_percent)),
        },
        _ => percent(default_percent),
    }
}

/// How many pods a rollout replaces at once, or why it cannot roll.
/// Deployment: Recreate replaces all; RollingUpdate starts up to maxSurge (default 25%,
/// rounded up) new pods plus maxUnavailable (default 25%, rounded down) in place of old ones.
/// StatefulSet: one at a time. DaemonSet: maxUnavailable (default 1), or its maxSurge.
/// OnDelete (StatefulSet, DaemonSet): pods change only when deleted.
pub fn batch_size(w: &Workload) -> Result<usize, String> {
    let replicas = w.replicas.max(0);
    let ru = w.rolling_update.as_ref();
    let strategy = w.strategy.as_deref();
    let n = match w.kind {
        WorkloadKind::Deployment if strategy == Some("Recreate") => replicas,
        WorkloadKind::Deployment => {
            let surge = scaled(ru.and_then(|r| r.max_surge.as_ref()), replicas, 25, true);
            let unavailable = scaled(ru.and_then(|r| r.max_unavailable.as_ref()), replicas, 25, false);
            (surge + unavailable).min(replicas)
        }
        _ if strategy == Some("OnDelete") => return Err("OnDelete: pods change only when deleted".into()),
        WorkloadKind::StatefulSet => 1,
        WorkloadKind::DaemonSet => {
            let unavailable = match ru.and_then(|r| r.max_unavailable.as_ref()) {
                None => 1,
                v => scaled(v, replicas, 0, true),
            };
            let surge = scaled(ru.and_then(|r| r.max_surge.as_ref()), replicas, 0, true);
            unavailable.max(surge)
        }
    };
    Ok(n.max(1) as usize)
}

/// Lists a workload whose pod template changes; stamps the restart annotation when asked.
pub fn restart_workload(b: &mut Builder, w: &Workload, restarted_at: Option<&str>) {
    let (ns, name) = (&w.metadata.namespace, &w.metadata.name);
    if let Some(at) = restarted_at {
        let body = workload_body(
            w.kind,
            ns,
            name,
            &["spec", "template", "metadata", "annotations"],
            json!({RESTARTED_AT: at}),
        );
        b.apply(workload_ref(w.kind, ns, name), body, "restart");
    }
    let (batch, cannot_roll) = match batch_size(w) {
        Ok(n) => (n, None),
        Err(why) => (0, Some(why)),
    };
    b.restart(Restart {
        workload: format!("{} {ns}/{name}", w.kind.as_str()),
        pods: w.replicas.max(0) as usize,
        batch,
        cannot_roll,
    });
}

/// Every Deployment, StatefulSet and DaemonSet of the namespace; bare pods and Jobs are
/// listed as unable to roll rather than skipped silently.
pub fn restart_namespace(b: &mut Builder, ns: &str, restarted_at: &str) {
    let snap = b.snap;
    for w in snap.workloads.values().filter(|w| w.metadata.namespace == ns) {
        restart_workload(b, w, Some(restarted_at));
    }
    for p in in_namespace(&snap.pods, ns).filter(|p| !p.is_finished()) {
        if p.metadata.controller().is_none_or(|o| o.kind == "Node" || o.kind.is_empty()) {
            b.restart(Restart {
                workload: format!("Pod {ns}/{}", p.metadata.name),
                pods: 1,
                batch: 0,
                cannot_roll: Some("a bare pod: delete it to replace it".into()),
            });
        }
    }
    for j in in_namespace(&snap.jobs, ns) {
        let name = &j.metadata.name;
        let pods = in_namespace(&snap.pods, ns)
            .filter(|p| !p.is_finished())
            .filter(|p| p.metadata.controller().is_some_and(|o| o.kind == "Job" && o.name == *name))
            .count();
        b.restart(Restart {
            workload: format!("Job {ns}/{name}"),
            pods,
            batch: 0,
            cannot_roll: Some("a Job: its pods are never replaced; the next run gets the change".into()),
        });
    }
}

pub fn restart(b: &mut Builder, target: &Target, restarted_at: &str) -> Result<(), String> {
    match target {
        Target::Mesh => Err("restart takes a namespace or a workload, not the whole mesh".into()),
        Target::Namespace(ns) => {
            b.namespace_exists(ns)?;
            restart_namespace(b, ns, restarted_at);
            Ok(())
        }
        Target::Workload { kind, namespace, name } => {
            let w = b.workload(*kind, namespace, name)?;
            restart_workload(b, w, Some(restarted_at));
            Ok(())
        }
    }
}
