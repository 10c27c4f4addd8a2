//! The generated pods: running and ready, and in mesh namespaces shaped like Istio's
//! sidecar injection leaves them (istio-init, istio-proxy, rewritten probes, the status and
//! revision annotations). Sizes match real injected pods, a few KB of JSON each.

use super::render::{app_container, image, labels_json, pod_labels};
use super::template::vars;
use super::{Generated, Layout, Mesh, Tag, hex64, id, mix, obj, suffix, uid};
use serde_json::{Map, Value, json};

vars!(
    /// What differs between two pods in namespaces of the same mesh state.
    PodVars {
        ns,
        name,
        rs,
        rs_hash,
        workload,
        word,
        image,
        image_id,
        token,
        node,
        host_ip,
        pod_ip,
        uid,
        rs_uid,
        app_container_id,
        proxy_container_id,
        init_container_id,
    }
);

const PROXY_VOLUMES: &[&str] = &[
    "workload-socket",
    "credential-socket",
    "workload-certs",
    "istio-envoy",
    "istio-data",
    "istio-podinfo",
    "istio-token",
    "istiod-ca-cert",
];

fn env(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

fn field_env(name: &str, path: &str) -> Value {
    json!({"name": name, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}})
}

fn resource_env(name: &str, resource: &str) -> Value {
    json!({"name": name, "valueFrom": {"resourceFieldRef": {"divisor": "0", "resource": resource}}})
}

fn proxy_security_context(init: bool) -> Value {
    if init {
        json!({"allowPrivilegeEscalation": false, "capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]},
            "privileged": false, "readOnlyRootFilesystem": false, "runAsGroup": 0, "runAsNonRoot": false, "runAsUser": 0})
    } else {
        json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "privileged": false,
            "readOnlyRootFilesystem": true, "runAsGroup": 1337, "runAsNonRoot": true, "runAsUser": 1337})
    }
}

fn proxy_resources() -> Value {
    json!({"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "100m", "memory": "128Mi"}})
}

fn istio_init(proxy_image: &str, token_volume: &str) -> Value {
    let mut c = json!({
        "name": "istio-init",
        "image": proxy_image,
        "imagePullPolicy": "IfNotPresent",
        "args": ["istio-iptables", "-p", "15001", "-z", "15006", "-u", "1337", "-m", "REDIRECT", "-i", "*", "-x", "",
            "-b", "*", "-d", "15090,15021,15020", "--log_output_level=default:info"],
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "volumeMounts": [{"name": token_volume, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}]
    });
    c["resources"] = proxy_resources();
    c["securityContext"] = proxy_security_context(true);
    c
}

fn istio_proxy(v: &PodVars, rev: &str, proxy_image: &str) -> Value {
    let (name, app, ns, token_volume) = (&v.workload, &v.word, &v.ns, &v.token);
    let probers = json!({
        format!("/app-health/{app}/livez"): {"httpGet": {"path": "/live", "port": 8080, "scheme": "HTTP"}, "timeoutSeconds": 1},
        format!("/app-health/{app}/readyz"): {"httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"}, "timeoutSeconds": 1}
    });
    let mounts: Vec<Value> = [
        ("workload-socket", "/var/run/secrets/workload-spiffe-uds"),
        ("credential-socket", "/var/run/secrets/credential-uds"),
        ("workload-certs", "/var/run/secrets/workload-spiffe-credentials"),
        ("istiod-ca-cert", "/var/run/secrets/istio"),
        ("istio-data", "/var/lib/istio/data"),
        ("istio-envoy", "/etc/istio/proxy"),
        ("istio-token", "/var/run/secrets/tokens"),
        ("istio-podinfo", "/etc/istio/pod"),
    ]
    .iter()
    .map(|(n, p)| json!({"name": n, "mountPath": p}))
    .chain([
        json!({"name": token_volume, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}),
    ])
    .collect();
    let env = vec![
        env("PILOT_CERT_PROVIDER", "istiod"),
        env("CA_ADDR", &format!("istiod-{rev}.istio-system.svc:15012")),
        field_env("POD_NAME", "metadata.name"),
        field_env("POD_NAMESPACE", "metadata.namespace"),
        field_env("INSTANCE_IP", "status.podIP"),
        field_env("SERVICE_ACCOUNT", "spec.serviceAccountName"),
        field_env("HOST_IP", "status.hostIP"),
        resource_env("ISTIO_CPU_LIMIT", "limits.cpu"),
        env("PROXY_CONFIG", "{}\n"),
        env("ISTIO_META_POD_PORTS", "[\n    {\"name\":\"http\",\"containerPort\":8080,\"protocol\":\"TCP\"}\n]"),
        env("ISTIO_META_APP_CONTAINERS", app),
        resource_env("GOMEMLIMIT", "limits.memory"),
        resource_env("GOMAXPROCS", "limits.cpu"),
        env("ISTIO_META_CLUSTER_ID", "Kubernetes"),
        field_env("ISTIO_META_NODE_NAME", "spec.nodeName"),
        env("ISTIO_META_INTERCEPTION_MODE", "REDIRECT"),
        env("ISTIO_META_WORKLOAD_NAME", name),
        env("ISTIO_META_OWNER", &format!("kubernetes://apis/apps/v1/namespaces/{ns}/deployments/{name}")),
        env("ISTIO_META_MESH_ID", "cluster.local"),
        env("TRUST_DOMAIN", "cluster.local"),
        env("ISTIO_KUBE_APP_PROBERS", &probers.to_string()),
    ];
    let mut c = json!({
        "name": "istio-proxy",
        "image": proxy_image,
        "imagePullPolicy": "IfNotPresent",
        "args": ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local", "--proxyLogLevel=warning",
            "--proxyComponentLogLevel=misc:error", "--log_output_level=default:info"]
    });
    c["env"] = Value::Array(env);
    c["ports"] = json!([{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}]);
    c["readinessProbe"] = json!({"httpGet": {"path": "/healthz/ready", "port": 15021, "scheme": "HTTP"},
        "failureThreshold": 4, "periodSeconds": 15, "successThreshold": 1, "timeoutSeconds": 3});
    c["startupProbe"] = json!({"httpGet": {"path": "/healthz/ready", "port": 15021, "scheme": "HTTP"},
        "failureThreshold": 600, "periodSeconds": 1, "successThreshold": 1, "timeoutSeconds": 3});
    c["resources"] = proxy_resources();
    c["securityContext"] = proxy_security_context(false);
    c["terminationMessagePath"] = json!("/dev/termination-log");
    c["terminationMessagePolicy"] = json!("File");
    c["volumeMounts"] = Value::Array(mounts);
    c
}

fn proxy_volumes() -> Vec<Value> {
    vec![
        json!({"name": "workload-socket", "emptyDir": {}}),
        json!({"name": "credential-socket", "emptyDir": {}}),
        json!({"name": "workload-certs", "emptyDir": {}}),
        json!({"name": "istio-envoy", "emptyDir": {"medium": "Memory"}}),
        json!({"name": "istio-data", "emptyDir": {}}),
        json!({"name": "istio-podinfo", "downwardAPI": {"defaultMode": 420, "items": [
            {"path": "labels", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.labels"}},
            {"path": "annotations", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.annotations"}}
        ]}}),
        json!({"name": "istio-token", "projected": {"defaultMode": 420, "sources": [
            {"serviceAccountToken": {"audience": "istio-ca", "expirationSeconds": 43200, "path": "istio-token"}}
        ]}}),
        json!({"name": "istiod-ca-cert", "configMap": {"defaultMode": 420, "name": "istio-ca-root-cert"}}),
    ]
}

fn token_volume(name: &str) -> Value {
    json!({"name": name, "projected": {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
    ]}})
}

/// `imageID` as the runtime reports it: the repository with a digest stable per image.
fn image_id(image: &str) -> String {
    let repo = image.rsplit_once(':').filter(|(_, tag)| !tag.contains('/')).map_or(image, |(r, _)| r);
    format!("{repo}@sha256:{}", hex64(image.bytes().fold(0x1a6e_u64, |h, b| mix(h ^ u64::from(b)))))
}

fn container_id(seed: u64) -> String {
    let mut s = String::with_capacity(13 + 64);
    s.push_str("containerd://");
    s.push_str(&hex64(seed));
    s
}

fn running(name: &str, image: &str, image_id: &str, container_id: &str, started: &str) -> Value {
    json!({"name": name, "image": image, "imageID": image_id,
        "containerID": container_id, "ready": true, "started": true, "restartCount": 0,
        "state": {"running": {"startedAt": started}}, "lastState": {}})
}

impl Generated {
    pub(super) fn pod_vars(&self, index: usize) -> (Mesh, PodVars) {
        let per = self.layout.spec.pods_per_workload.max(1);
        let (w, p) = (index / per, index % per);
        let ns_index = self.layout.ns_of(w);
        let pod_id = id(Tag::Pod, index);
        let n = self.layout.node_of(index);
        let g = index as u64 % 4_000_000 + 2;
        let (workload, rs_hash) = (Layout::workload_name(w), Layout::rs_hash(w));
        let rs = format!("{workload}-{rs_hash}");
        let image = image(w);
        let vars = PodVars {
            ns: Layout::ns_name(ns_index),
            name: Layout::pod_name(&rs, w, p),
            image_id: image_id(&image),
            token: format!("kube-api-access-{}", suffix(mix(pod_id), 5)),
            node: Layout::node_name(n),
            host_ip: format!("172.18.{}.{}", n / 250, n % 250 + 2),
            pod_ip: format!("10.{}.{}.{}", 64 + (g >> 16), (g >> 8) & 255, g & 255),
            uid: uid(pod_id),
            rs_uid: uid(id(Tag::ReplicaSet, w)),
            app_container_id: container_id(pod_id ^ 0xc0de_0000),
            proxy_container_id: container_id(pod_id ^ 0x9e37 ^ 0xc0de_0000),
            init_container_id: container_id(pod_id ^ 0x1417),
            word: Layout::word(w).into(),
            rs,
            rs_hash,
            workload,
            image,
        };
        (Layout::mesh(ns_index), vars)
    }

    pub(super) fn pod(&self, v: &PodVars, mesh: Mesh) -> Value {
        let (t_start, t_ready) = (&self.t_pod, &self.t_ready);
        let mut app = app_container(&v.word, &v.image, &v.workload);
        app["volumeMounts"] =
            json!([{"name": v.token, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}]);
        let mut containers = vec![];
        let mut init_containers = vec![];
        let mut volumes = vec![];
        let mut annotations = Map::new();
        let mut statuses = vec![running(&v.word, &v.image, &v.image_id, &v.app_container_id, t_start)];
        let mut init_statuses = vec![];
        if let Some((rev, version)) = mesh.revision() {
            let proxy_image = format!("docker.io/istio/proxyv2:{version}");
            let proxy_image_id = image_id(&proxy_image);
            let word = &v.word;
            // Injection points the app's HTTP probes at the sidecar's agent.
            app["readinessProbe"]["httpGet"] =
                json!({"path": format!("/app-health/{word}/readyz"), "port": 15020, "scheme": "HTTP"});
            app["livenessProbe"]["httpGet"] =
                json!({"path": format!("/app-health/{word}/livez"), "port": 15020, "scheme": "HTTP"});
            init_containers.push(istio_init(&proxy_image, &v.token));
            containers.push(app);
            containers.push(istio_proxy(v, rev, &proxy_image));
            volumes.extend(proxy_volumes());
            let status = json!({"initContainers": ["istio-init"], "containers": ["istio-proxy"], "volumes": PROXY_VOLUMES,
                "imagePullSecrets": null, "revision": rev});
            for (key, value) in [
                ("istio.io/rev", rev.to_string()),
                ("kubectl.kubernetes.io/default-container", word.to_string()),
                ("kubectl.kubernetes.io/default-logs-container", word.to_string()),
                ("prometheus.io/path", "/stats/prometheus".to_string()),
                ("prometheus.io/port", "15020".to_string()),
                ("prometheus.io/scrape", "true".to_string()),
                ("sidecar.istio.io/status", status.to_string()),
            ] {
                annotations.insert(key.into(), json!(value));
            }
            statuses.push(running("istio-proxy", &proxy_image, &proxy_image_id, &v.proxy_container_id, t_start));
            init_statuses.push(json!({"name": "istio-init", "image": proxy_image,
                "imageID": proxy_image_id,
                "containerID": v.init_container_id, "ready": true, "started": false,
                "restartCount": 0, "lastState": {},
                "state": {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": t_start, "finishedAt": t_start,
                    "containerID": v.init_container_id}}}));
        } else {
            containers.push(app);
        }
        volumes.push(token_volume(&v.token));

        let mut metadata = json!({
            "name": v.name, "generateName": format!("{}-", v.rs), "namespace": v.ns, "uid": v.uid,
            "creationTimestamp": t_start
        });
        metadata["labels"] = labels_json(&pod_labels(&v.workload, &v.rs_hash, mesh));
        if !annotations.is_empty() {
            metadata["annotations"] = Value::Object(annotations);
        }
        metadata["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": v.rs,
            "uid": v.rs_uid, "controller": true, "blockOwnerDeletion": true}]);

        let mut spec = obj([("volumes", Value::Array(volumes))]);
        if !init_containers.is_empty() {
            spec["initContainers"] = Value::Array(init_containers);
        }
        spec["containers"] = Value::Array(containers);
        let rest = json!({
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": v.workload,
            "serviceAccount": v.workload,
            "nodeName": v.node,
            "securityContext": {},
            "schedulerName": "default-scheduler",
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            ],
            "priority": 0,
            "enableServiceLinks": true,
            "preemptionPolicy": "PreemptLowerPriority"
        });
        if let (Some(spec), Value::Object(rest)) = (spec.as_object_mut(), rest) {
            spec.extend(rest);
        }

        let cond =
            |t: &str, at: &str| json!({"type": t, "status": "True", "lastProbeTime": null, "lastTransitionTime": at});
        let mut status = json!({
            "phase": "Running",
            "hostIP": v.host_ip, "hostIPs": [{"ip": v.host_ip}],
            "podIP": v.pod_ip, "podIPs": [{"ip": v.pod_ip}],
            "startTime": t_start
        });
        status["conditions"] = Value::Array(vec![
            cond("PodReadyToStartContainers", t_start),
            cond("Initialized", t_start),
            cond("Ready", t_ready),
            cond("ContainersReady", t_ready),
            cond("PodScheduled", t_start),
        ]);
        if !init_statuses.is_empty() {
            status["initContainerStatuses"] = Value::Array(init_statuses);
        }
        status["containerStatuses"] = Value::Array(statuses);
        status["qosClass"] = json!("Burstable");
        obj([
            ("apiVersion", json!("v1")),
            ("kind", json!("Pod")),
            ("metadata", metadata),
            ("spec", spec),
            ("status", status),
        ])
    }
}
