//! The pods behind one row of the view, summarised for the detail pane: readiness, containers
//! and the proxy each runs. Pure, like the rest of the model.

use super::snapshot::{Snapshot, in_namespace};
use super::types::Pod;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodLine {
    pub name: String,
    pub ready: usize,
    pub containers: usize,
    pub container_names: Vec<String>,
    pub proxy_version: Option<String>,
    pub proxy_revision: Option<String>,
}

/// The controlling row a pod belongs to, as the view groups pods: a Deployment through its
/// ReplicaSet, other controllers directly, bare pods as themselves.
fn owner(snap: &Snapshot, pod: &Pod) -> (String, String) {
    let m = &pod.metadata;
    let Some(ctrl) = m.controller() else { return ("Pod".into(), m.name.clone()) };
    match ctrl.kind.as_str() {
        "Node" | "" => ("Pod".into(), m.name.clone()),
        "ReplicaSet" => match snap.replica_sets.get(&(m.namespace.clone(), ctrl.name.clone())) {
            Some(rs) => match rs.metadata.controller() {
                Some(o) => (o.kind.clone(), o.name.clone()),
                None => ("ReplicaSet".into(), ctrl.name.clone()),
            },
            None => match m.labels.get("pod-template-hash").and_then(|h| ctrl.name.strip_suffix(h.as_str())) {
                Some(prefix) if prefix.ends_with('-') && prefix.len() > 1 => {
                    ("Deployment".into(), prefix[..prefix.len() - 1].to_string())
                }
                _ => ("ReplicaSet".into(), ctrl.name.clone()),
            },
        },
        kind => (kind.to_string(), ctrl.name.clone()),
    }
}

/// Pods of the row (`kind`, `name`) in `namespace`, in name order.
pub fn pods_of(snap: &Snapshot, namespace: &str, kind: &str, name: &str) -> Vec<PodLine> {
    in_namespace(&snap.pods, namespace)
        .filter(|p| {
            let (k, n) = owner(snap, p);
            k == kind && n == name
        })
        .map(|p| {
            let proxy = &p.mesh.proxy;
            let native = usize::from(proxy.native);
            let ready = p.status.container_statuses.iter().filter(|c| c.ready).count()
                + usize::from(proxy.native && p.mesh.ready);
            PodLine {
                name: p.metadata.name.clone(),
                ready,
                containers: p.spec.containers.len() + native,
                container_names: p.spec.containers.iter().map(|c| c.name.clone()).collect(),
                proxy_version: if proxy.has_proxy { proxy.version().map(String::from) } else { None },
                proxy_revision: proxy.revision.as_deref().map(String::from),
            }
        })
        .collect()
}
