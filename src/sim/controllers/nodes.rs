//! The simulated cluster's nodes: three Ready Nodes created at start when none exist, and
//! the facts the scheduler and DaemonSets read from them. It does not schedule pods.

use super::util::{condition_true, kind, name, str_at};
use crate::sim::ops::{Cluster, WriteOpts};
use serde_json::{Value, json};

pub const KUBELET_VERSION: &str = "v1.33.1";

fn node_object(i: usize, now: &str) -> Value {
    let name = format!("sim-node-{i}");
    let ip = format!("172.18.0.{}", i + 1);
    let ready = |ty: &str, reason: &str, msg: &str, status: &str| {
        json!({"type": ty, "status": status, "lastHeartbeatTime": now, "lastTransitionTime": now,
               "reason": reason, "message": msg})
    };
    json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
            },
            "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {"podCIDR": format!("10.244.{i}.0/24"), "podCIDRs": [format!("10.244.{i}.0/24")]},
        "status": {
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "allocatable": {"cpu": "8", "ephemeral-storage": "100Gi", "memory": "16Gi", "pods": "110"},
            "capacity": {"cpu": "8", "ephemeral-storage": "100Gi", "memory": "16Gi", "pods": "110"},
            "conditions": [
                ready("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available", "False"),
                ready("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure", "False"),
                ready("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available", "False"),
                ready("Ready", "KubeletReady", "kubelet is posting ready status", "True"),
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": format!("00000000-0000-4000-8000-00000000000{i}"),
                "containerRuntimeVersion": "containerd://2.0.3",
                "kernelVersion": "6.8.0-sim",
                "kubeProxyVersion": KUBELET_VERSION,
                "kubeletVersion": KUBELET_VERSION,
                "machineID": format!("sim{i:029}"),
                "operatingSystem": "linux",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "systemUUID": format!("00000000-0000-4000-8000-10000000000{i}"),
            },
        },
    })
}

/// Creates `sim-node-1..3` unless the cluster has nodes already.
pub fn ensure_nodes(cluster: &Cluster) {
    let nodes = kind("", "nodes");
    if !cluster.store.all(nodes, None).is_empty() {
        return;
    }
    let now = cluster.now_str();
    for i in 1..=3 {
        if let Err(e) = cluster.create(nodes, "", node_object(i, &now), WriteOpts::by("kubelet")) {
            tracing::warn!("creating node sim-node-{i}: {e}");
        }
    }
}

/// A node the scheduler may place pods on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    pub name: String,
    pub ip: String,
}

/// Ready, schedulable nodes, by name.
pub fn schedulable(cluster: &Cluster) -> Vec<NodeInfo> {
    let mut out: Vec<NodeInfo> = cluster
        .store
        .all(kind("", "nodes"), None)
        .iter()
        .filter(|n| condition_true(n, "Ready") && n.pointer("/spec/unschedulable") != Some(&json!(true)))
        .map(|n| NodeInfo { name: name(n).to_string(), ip: internal_ip(n) })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn internal_ip(node: &Value) -> String {
    node.pointer("/status/addresses")
        .and_then(Value::as_array)
        .and_then(|a| a.iter().find(|x| str_at(x, "/type") == "InternalIP"))
        .map(|x| str_at(x, "/address").to_string())
        .unwrap_or_default()
}
