//! JSON of the generated cluster's objects other than pods, and the label sets the store
//! indexes them by. A rendered object's labels must equal the labels it was stored with.

use super::{Generated, Layout, Mesh, Tag, id, obj, uid};
use crate::labels::Labels;
use serde_json::{Map, Value, json};

pub(super) fn labels_json(l: &Labels) -> Value {
    Value::Object(l.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<Map<_, _>>())
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

pub(super) fn namespace_labels(i: usize) -> Labels {
    let name = Layout::ns_name(i);
    let mut l = labels(&[("kubernetes.io/metadata.name", &name)]);
    match Layout::mesh(i) {
        Mesh::Default => l.insert("istio-injection".into(), "enabled".into()),
        Mesh::Canary => l.insert("istio.io/rev".into(), "1-25-0".into()),
        Mesh::Off => None,
    };
    l
}

pub(super) fn node_labels(n: usize) -> Labels {
    let name = Layout::node_name(n);
    let zone = format!("zone-{}", ["a", "b", "c"][n % 3]);
    labels(&[
        ("kubernetes.io/arch", "amd64"),
        ("kubernetes.io/hostname", &name),
        ("kubernetes.io/os", "linux"),
        ("node.kubernetes.io/instance-type", "m6i.2xlarge"),
        ("topology.kubernetes.io/zone", &zone),
    ])
}

/// Labels of a workload's Deployment, Service and ServiceAccount.
pub(super) fn app_labels(w: usize) -> Labels {
    labels(&[("app", &Layout::workload_name(w))])
}

pub(super) fn template_labels(w: usize) -> Labels {
    labels(&[("app", &Layout::workload_name(w)), ("version", "v1")])
}

pub(super) fn rs_labels(w: usize) -> Labels {
    let mut l = template_labels(w);
    l.insert("pod-template-hash".into(), Layout::rs_hash(w));
    l
}

pub(super) fn pod_labels(w: usize, mesh: Mesh) -> Labels {
    let mut l = rs_labels(w);
    if mesh != Mesh::Off {
        l.insert("security.istio.io/tlsMode".into(), "istio".into());
        l.insert("service.istio.io/canonical-name".into(), Layout::workload_name(w));
        l.insert("service.istio.io/canonical-revision".into(), "v1".into());
    }
    l
}

pub(super) fn image(w: usize) -> String {
    format!("ghcr.io/scale-demo/{}:1.{}.{}", Layout::word(w), w % 9, w % 5)
}

/// The workload's own container as its Deployment declares it (defaults filled in).
pub(super) fn app_container(w: usize) -> Value {
    json!({
        "name": Layout::word(w),
        "image": image(w),
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "OTEL_SERVICE_NAME", "value": Layout::workload_name(w)}
        ],
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "256Mi"}},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"},
            "periodSeconds": 5, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
        "livenessProbe": {"httpGet": {"path": "/live", "port": 8080, "scheme": "HTTP"},
            "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File"
    })
}

pub(super) fn template(w: usize, labels: &Labels) -> Value {
    let mut spec = obj([("containers", Value::Array(vec![app_container(w)]))]);
    let rest = json!({
        "serviceAccountName": Layout::workload_name(w),
        "serviceAccount": Layout::workload_name(w),
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "securityContext": {},
        "schedulerName": "default-scheduler"
    });
    if let (Some(spec), Value::Object(rest)) = (spec.as_object_mut(), rest) {
        spec.extend(rest);
    }
    obj([("metadata", obj([("labels", labels_json(labels))])), ("spec", spec)])
}

/// `{"apiVersion", "kind", "metadata"}` followed by the rest.
fn object<const N: usize>(api_version: &str, kind: &str, metadata: Value, rest: [(&str, Value); N]) -> Value {
    let mut o = obj([("apiVersion", json!(api_version)), ("kind", json!(kind)), ("metadata", metadata)]);
    if let Some(m) = o.as_object_mut() {
        m.extend(rest.into_iter().map(|(k, v)| (k.to_string(), v)));
    }
    o
}

fn meta(name: &str, ns: &str, id: u64, created: &str, labels: &Labels) -> Value {
    let mut m = json!({"name": name, "uid": uid(id), "creationTimestamp": created});
    if !ns.is_empty() {
        m["namespace"] = json!(ns);
    }
    if !labels.is_empty() {
        m["labels"] = labels_json(labels);
    }
    m
}

fn condition(kind: &str, status: &str, reason: &str, message: &str, at: &str) -> Value {
    json!({"type": kind, "status": status, "lastUpdateTime": at, "lastTransitionTime": at,
        "reason": reason, "message": message})
}

impl Generated {
    fn ns_of(&self, w: usize) -> String {
        Layout::ns_name(self.layout.ns_of(w))
    }

    pub(super) fn namespace(&self, i: usize) -> Value {
        let m = meta(&Layout::ns_name(i), "", id(Tag::Namespace, i), &self.t_ns, &namespace_labels(i));
        object(
            "v1",
            "Namespace",
            m,
            [("spec", json!({"finalizers": ["kubernetes"]})), ("status", json!({"phase": "Active"}))],
        )
    }

    pub(super) fn node(&self, n: usize) -> Value {
        let name = Layout::node_name(n);
        let ip = format!("172.18.{}.{}", n / 250, n % 250 + 2);
        let status = json!({
            "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"},
            "allocatable": {"cpu": "7910m", "memory": "31Gi", "pods": "110", "ephemeral-storage": "95Gi"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                "message": "kubelet is posting ready status", "lastHeartbeatTime": self.t_ready,
                "lastTransitionTime": self.t_ns}],
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "nodeInfo": {"kubeletVersion": "v1.33.1", "kubeProxyVersion": "", "containerRuntimeVersion": "containerd://2.0.5",
                "osImage": "Ubuntu 24.04.2 LTS", "kernelVersion": "6.8.0-60-generic", "architecture": "amd64",
                "operatingSystem": "linux"}
        });
        let spec = json!({"podCIDR": format!("10.64.{}.0/24", n % 256), "providerID": format!("sim://{name}")});
        let m = meta(&name, "", id(Tag::Node, n), &self.t_ns, &node_labels(n));
        object("v1", "Node", m, [("spec", spec), ("status", status)])
    }

    pub(super) fn default_sa(&self, i: usize) -> Value {
        let m = meta("default", &Layout::ns_name(i), id(Tag::DefaultSa, i), &self.t_ns, &Labels::new());
        object("v1", "ServiceAccount", m, [])
    }

    pub(super) fn workload_sa(&self, w: usize) -> Value {
        let m =
            meta(&Layout::workload_name(w), &self.ns_of(w), id(Tag::WorkloadSa, w), &self.t_workload, &app_labels(w));
        object("v1", "ServiceAccount", m, [])
    }

    pub(super) fn service(&self, w: usize) -> Value {
        // 10.96.0.0/12, skipping the first few addresses as the API server reserves them.
        let n = w + 16;
        let ip = format!("10.{}.{}.{}", 96 + (n >> 16) % 16, (n >> 8) & 255, n & 255);
        let spec = json!({
            "ports": [{"name": "http", "protocol": "TCP", "port": 8080, "targetPort": 8080}],
            "selector": {"app": Layout::workload_name(w)},
            "clusterIP": ip, "clusterIPs": [ip], "type": "ClusterIP", "sessionAffinity": "None",
            "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"
        });
        let m = meta(&Layout::workload_name(w), &self.ns_of(w), id(Tag::Service, w), &self.t_workload, &app_labels(w));
        object("v1", "Service", m, [("spec", spec), ("status", json!({"loadBalancer": {}}))])
    }

    fn replicas_status(&self, extra: &str) -> Map<String, Value> {
        let n = self.layout.spec.pods_per_workload;
        let mut s = Map::new();
        s.insert("observedGeneration".into(), json!(1));
        // The API server omits zero counts.
        if n > 0 {
            for f in ["replicas", extra, "readyReplicas", "availableReplicas"] {
                s.insert(f.into(), json!(n));
            }
        }
        s
    }

    pub(super) fn deployment(&self, w: usize) -> Value {
        let name = Layout::workload_name(w);
        let n = self.layout.spec.pods_per_workload;
        let mut m = meta(&name, &self.ns_of(w), id(Tag::Deployment, w), &self.t_workload, &app_labels(w));
        m["generation"] = json!(1);
        m["annotations"] = json!({"deployment.kubernetes.io/revision": "1"});
        let mut status = self.replicas_status("updatedReplicas");
        let (t, rs) = (&self.t_ready, Layout::rs_name(w));
        let progressed = format!("ReplicaSet \"{rs}\" has successfully progressed.");
        status.insert(
            "conditions".into(),
            Value::Array(vec![
                condition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", t),
                condition("Progressing", "True", "NewReplicaSetAvailable", &progressed, t),
            ]),
        );
        let mut spec = json!({"replicas": n, "selector": {"matchLabels": {"app": name}}});
        spec["template"] = template(w, &template_labels(w));
        spec["strategy"] =
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}});
        spec["revisionHistoryLimit"] = json!(10);
        spec["progressDeadlineSeconds"] = json!(600);
        object("apps/v1", "Deployment", m, [("spec", spec), ("status", Value::Object(status))])
    }

    pub(super) fn replica_set(&self, w: usize) -> Value {
        let name = Layout::workload_name(w);
        let n = self.layout.spec.pods_per_workload;
        let mut m = meta(&Layout::rs_name(w), &self.ns_of(w), id(Tag::ReplicaSet, w), &self.t_workload, &rs_labels(w));
        m["generation"] = json!(1);
        m["annotations"] = json!({
            "deployment.kubernetes.io/desired-replicas": n.to_string(),
            "deployment.kubernetes.io/max-replicas": (n + n.div_ceil(4)).to_string(),
            "deployment.kubernetes.io/revision": "1"
        });
        m["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
            "uid": uid(id(Tag::Deployment, w)), "controller": true, "blockOwnerDeletion": true}]);
        let status = self.replicas_status("fullyLabeledReplicas");
        let mut spec =
            json!({"replicas": n, "selector": {"matchLabels": {"app": name, "pod-template-hash": Layout::rs_hash(w)}}});
        spec["template"] = template(w, &rs_labels(w));
        object("apps/v1", "ReplicaSet", m, [("spec", spec), ("status", Value::Object(status))])
    }

    pub(super) fn peer_authentication(&self, i: usize) -> Value {
        let mut m = meta("default", &Layout::ns_name(i), id(Tag::PeerAuthentication, i), &self.t_ns, &Labels::new());
        m["generation"] = json!(1);
        let mode = Layout::peer_authentication(i).unwrap_or("PERMISSIVE");
        object("security.istio.io/v1", "PeerAuthentication", m, [("spec", json!({"mtls": {"mode": mode}}))])
    }

    pub(super) fn authorization_policy(&self, w: usize) -> Value {
        let name = Layout::workload_name(w);
        let ns = self.ns_of(w);
        let policy = format!("{name}-viewers");
        let mut m = meta(&policy, &ns, id(Tag::AuthorizationPolicy, w), &self.t_workload, &Labels::new());
        m["generation"] = json!(1);
        let spec = json!({
            "selector": {"matchLabels": {"app": name}},
            "action": "ALLOW",
            "rules": [{
                "from": [{"source": {"namespaces": [ns]}}],
                "to": [{"operation": {"methods": ["GET", "HEAD"], "paths": ["/api/*"]}}]
            }]
        });
        object("security.istio.io/v1", "AuthorizationPolicy", m, [("spec", spec)])
    }
}
