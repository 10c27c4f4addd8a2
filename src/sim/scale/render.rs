//! JSON of the generated cluster's objects other than pods, and the label sets the store
//! indexes them by. A rendered object's labels must equal the labels it was stored with.
//! Each kind is a shape built from its vars (the strings that differ between objects), so
//! the same builder makes both values and byte templates; a builder must never look at what
//! a var holds, only place it.

use super::template::vars;
use super::{Generated, Layout, Mesh, Tag, id, obj, uid};
use crate::labels::Labels;
use serde_json::{Map, Value, json};

vars!(NsVars { name, uid });
vars!(NodeVars { name, uid, ip, zone, cidr });
vars!(
    /// A namespace's `default` ServiceAccount or a workload's own.
    SaVars { ns, name, uid }
);
vars!(ServiceVars { ns, name, uid, ip });
vars!(DeployVars { ns, name, word, image, rs, uid });
vars!(RsVars { ns, name, workload, word, image, hash, uid, deploy_uid });
vars!(PaVars { ns, uid, mode });
vars!(
    /// `name` is the workload's; the policy is `<name>-viewers`.
    ApVars { ns, name, uid }
);

pub(super) fn labels_json(l: &Labels) -> Value {
    Value::Object(l.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<Map<_, _>>())
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

pub(super) fn namespace_labels(name: &str, mesh: Mesh) -> Labels {
    let mut l = labels(&[("kubernetes.io/metadata.name", name)]);
    match mesh {
        Mesh::Default => l.insert("istio-injection".into(), "enabled".into()),
        Mesh::Canary => l.insert("istio.io/rev".into(), "1-25-0".into()),
        Mesh::Off => None,
    };
    l
}

pub(super) fn node_labels(name: &str, zone: &str) -> Labels {
    labels(&[
        ("kubernetes.io/arch", "amd64"),
        ("kubernetes.io/hostname", name),
        ("kubernetes.io/os", "linux"),
        ("node.kubernetes.io/instance-type", "m6i.2xlarge"),
        ("topology.kubernetes.io/zone", zone),
    ])
}

/// Labels of a workload's Deployment, Service and ServiceAccount.
pub(super) fn app_labels(workload: &str) -> Labels {
    labels(&[("app", workload)])
}

pub(super) fn template_labels(workload: &str) -> Labels {
    labels(&[("app", workload), ("version", "v1")])
}

pub(super) fn rs_labels(workload: &str, hash: &str) -> Labels {
    let mut l = template_labels(workload);
    l.insert("pod-template-hash".into(), hash.into());
    l
}

pub(super) fn pod_labels(workload: &str, hash: &str, mesh: Mesh) -> Labels {
    let mut l = rs_labels(workload, hash);
    if mesh != Mesh::Off {
        l.insert("security.istio.io/tlsMode".into(), "istio".into());
        l.insert("service.istio.io/canonical-name".into(), workload.into());
        l.insert("service.istio.io/canonical-revision".into(), "v1".into());
    }
    l
}

pub(super) fn image(w: usize) -> String {
    format!("ghcr.io/scale-demo/{}:1.{}.{}", Layout::word(w), w % 9, w % 5)
}

pub(super) fn node_zone(n: usize) -> &'static str {
    ["zone-a", "zone-b", "zone-c"][n % 3]
}

/// The workload's own container as its Deployment declares it (defaults filled in).
pub(super) fn app_container(word: &str, image: &str, workload: &str) -> Value {
    json!({
        "name": word,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "OTEL_SERVICE_NAME", "value": workload}
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

fn template(word: &str, image: &str, workload: &str, labels: &Labels) -> Value {
    let mut spec = obj([("containers", Value::Array(vec![app_container(word, image, workload)]))]);
    let rest = json!({
        "serviceAccountName": workload,
        "serviceAccount": workload,
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

/// `ns` is None for cluster-scoped kinds.
fn meta(name: &str, ns: Option<&str>, uid: &str, created: &str, labels: &Labels) -> Value {
    let mut m = json!({"name": name, "uid": uid, "creationTimestamp": created});
    if let Some(ns) = ns {
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

/// The vars of each kind for one index.
impl Generated {
    fn ns_of(&self, w: usize) -> String {
        Layout::ns_name(self.layout.ns_of(w))
    }

    pub(super) fn namespace_vars(&self, i: usize) -> (Mesh, NsVars) {
        (Layout::mesh(i), NsVars { name: Layout::ns_name(i), uid: uid(id(Tag::Namespace, i)) })
    }

    pub(super) fn node_vars(&self, n: usize) -> NodeVars {
        NodeVars {
            name: Layout::node_name(n),
            uid: uid(id(Tag::Node, n)),
            ip: format!("172.18.{}.{}", n / 250, n % 250 + 2),
            zone: node_zone(n).to_string(),
            cidr: format!("10.64.{}.0/24", n % 256),
        }
    }

    pub(super) fn default_sa_vars(&self, i: usize) -> SaVars {
        SaVars { ns: Layout::ns_name(i), name: "default".into(), uid: uid(id(Tag::DefaultSa, i)) }
    }

    pub(super) fn workload_sa_vars(&self, w: usize) -> SaVars {
        SaVars { ns: self.ns_of(w), name: Layout::workload_name(w), uid: uid(id(Tag::WorkloadSa, w)) }
    }

    pub(super) fn service_vars(&self, w: usize) -> ServiceVars {
        // 10.96.0.0/12, skipping the first few addresses as the API server reserves them.
        let n = w + 16;
        ServiceVars {
            ns: self.ns_of(w),
            name: Layout::workload_name(w),
            uid: uid(id(Tag::Service, w)),
            ip: format!("10.{}.{}.{}", 96 + (n >> 16) % 16, (n >> 8) & 255, n & 255),
        }
    }

    pub(super) fn deployment_vars(&self, w: usize) -> DeployVars {
        DeployVars {
            ns: self.ns_of(w),
            name: Layout::workload_name(w),
            word: Layout::word(w).into(),
            image: image(w),
            rs: Layout::rs_name(w),
            uid: uid(id(Tag::Deployment, w)),
        }
    }

    pub(super) fn replica_set_vars(&self, w: usize) -> RsVars {
        let (workload, hash) = (Layout::workload_name(w), Layout::rs_hash(w));
        RsVars {
            ns: self.ns_of(w),
            name: format!("{workload}-{hash}"),
            word: Layout::word(w).into(),
            image: image(w),
            uid: uid(id(Tag::ReplicaSet, w)),
            deploy_uid: uid(id(Tag::Deployment, w)),
            workload,
            hash,
        }
    }

    pub(super) fn peer_authentication_vars(&self, i: usize) -> PaVars {
        let mode = Layout::peer_authentication(i).unwrap_or("PERMISSIVE");
        PaVars { ns: Layout::ns_name(i), uid: uid(id(Tag::PeerAuthentication, i)), mode: mode.into() }
    }

    pub(super) fn authorization_policy_vars(&self, w: usize) -> ApVars {
        ApVars { ns: self.ns_of(w), name: Layout::workload_name(w), uid: uid(id(Tag::AuthorizationPolicy, w)) }
    }
}

/// The shape of each kind.
impl Generated {
    pub(super) fn namespace(&self, v: &NsVars, mesh: Mesh) -> Value {
        let m = meta(&v.name, None, &v.uid, &self.t_ns, &namespace_labels(&v.name, mesh));
        object(
            "v1",
            "Namespace",
            m,
            [("spec", json!({"finalizers": ["kubernetes"]})), ("status", json!({"phase": "Active"}))],
        )
    }

    pub(super) fn node(&self, v: &NodeVars) -> Value {
        let status = json!({
            "capacity": {"cpu": "8", "memory": "32Gi", "pods": "110", "ephemeral-storage": "100Gi"},
            "allocatable": {"cpu": "7910m", "memory": "31Gi", "pods": "110", "ephemeral-storage": "95Gi"},
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                "message": "kubelet is posting ready status", "lastHeartbeatTime": self.t_ready,
                "lastTransitionTime": self.t_ns}],
            "addresses": [{"type": "InternalIP", "address": v.ip}, {"type": "Hostname", "address": v.name}],
            "nodeInfo": {"kubeletVersion": "v1.33.1", "kubeProxyVersion": "", "containerRuntimeVersion": "containerd://2.0.5",
                "osImage": "Ubuntu 24.04.2 LTS", "kernelVersion": "6.8.0-60-generic", "architecture": "amd64",
                "operatingSystem": "linux"}
        });
        let spec = json!({"podCIDR": v.cidr, "providerID": format!("sim://{}", v.name)});
        let m = meta(&v.name, None, &v.uid, &self.t_ns, &node_labels(&v.name, &v.zone));
        object("v1", "Node", m, [("spec", spec), ("status", status)])
    }

    pub(super) fn default_sa(&self, v: &SaVars) -> Value {
        let m = meta(&v.name, Some(&v.ns), &v.uid, &self.t_ns, &Labels::new());
        object("v1", "ServiceAccount", m, [])
    }

    pub(super) fn workload_sa(&self, v: &SaVars) -> Value {
        let m = meta(&v.name, Some(&v.ns), &v.uid, &self.t_workload, &app_labels(&v.name));
        object("v1", "ServiceAccount", m, [])
    }

    pub(super) fn service(&self, v: &ServiceVars) -> Value {
        let spec = json!({
            "ports": [{"name": "http", "protocol": "TCP", "port": 8080, "targetPort": 8080}],
            "selector": {"app": v.name},
            "clusterIP": v.ip, "clusterIPs": [v.ip], "type": "ClusterIP", "sessionAffinity": "None",
            "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"
        });
        let m = meta(&v.name, Some(&v.ns), &v.uid, &self.t_workload, &app_labels(&v.name));
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

    pub(super) fn deployment(&self, v: &DeployVars) -> Value {
        let n = self.layout.spec.pods_per_workload;
        let mut m = meta(&v.name, Some(&v.ns), &v.uid, &self.t_workload, &app_labels(&v.name));
        m["generation"] = json!(1);
        m["annotations"] = json!({"deployment.kubernetes.io/revision": "1"});
        let mut status = self.replicas_status("updatedReplicas");
        let t = &self.t_ready;
        let progressed = format!("ReplicaSet \"{}\" has successfully progressed.", v.rs);
        status.insert(
            "conditions".into(),
            Value::Array(vec![
                condition("Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", t),
                condition("Progressing", "True", "NewReplicaSetAvailable", &progressed, t),
            ]),
        );
        let mut spec = json!({"replicas": n, "selector": {"matchLabels": {"app": v.name}}});
        spec["template"] = template(&v.word, &v.image, &v.name, &template_labels(&v.name));
        spec["strategy"] =
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}});
        spec["revisionHistoryLimit"] = json!(10);
        spec["progressDeadlineSeconds"] = json!(600);
        object("apps/v1", "Deployment", m, [("spec", spec), ("status", Value::Object(status))])
    }

    pub(super) fn replica_set(&self, v: &RsVars) -> Value {
        let n = self.layout.spec.pods_per_workload;
        let labels = rs_labels(&v.workload, &v.hash);
        let mut m = meta(&v.name, Some(&v.ns), &v.uid, &self.t_workload, &labels);
        m["generation"] = json!(1);
        m["annotations"] = json!({
            "deployment.kubernetes.io/desired-replicas": n.to_string(),
            "deployment.kubernetes.io/max-replicas": (n + n.div_ceil(4)).to_string(),
            "deployment.kubernetes.io/revision": "1"
        });
        m["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": v.workload,
            "uid": v.deploy_uid, "controller": true, "blockOwnerDeletion": true}]);
        let status = self.replicas_status("fullyLabeledReplicas");
        let mut spec =
            json!({"replicas": n, "selector": {"matchLabels": {"app": v.workload, "pod-template-hash": v.hash}}});
        spec["template"] = template(&v.word, &v.image, &v.workload, &labels);
        object("apps/v1", "ReplicaSet", m, [("spec", spec), ("status", Value::Object(status))])
    }

    pub(super) fn peer_authentication(&self, v: &PaVars) -> Value {
        let mut m = meta("default", Some(&v.ns), &v.uid, &self.t_ns, &Labels::new());
        m["generation"] = json!(1);
        object("security.istio.io/v1", "PeerAuthentication", m, [("spec", json!({"mtls": {"mode": v.mode}}))])
    }

    pub(super) fn authorization_policy(&self, v: &ApVars) -> Value {
        let policy = format!("{}-viewers", v.name);
        let mut m = meta(&policy, Some(&v.ns), &v.uid, &self.t_workload, &Labels::new());
        m["generation"] = json!(1);
        let spec = json!({
            "selector": {"matchLabels": {"app": v.name}},
            "action": "ALLOW",
            "rules": [{
                "from": [{"source": {"namespaces": [v.ns]}}],
                "to": [{"operation": {"methods": ["GET", "HEAD"], "paths": ["/api/*"]}}]
            }]
        });
        object("security.istio.io/v1", "AuthorizationPolicy", m, [("spec", spec)])
    }
}
