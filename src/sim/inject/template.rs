//! The sidecar template as istiod renders it for one pod: the `istio-init` (or
//! `istio-validation`) init container, the `istio-proxy` container (classic or native), the
//! volumes, and the metadata the template sets. It reads the pod's application view and the
//! injector's settings; merging into the pod is `merge`'s job.

use super::super::store::Store;
use super::inputs::{
    annotation, lookup, lookup_str, native_sidecar, proxy_config, truthy, values_proxy_image, workload_of,
};
use super::policy::Injector;
use crate::labels::labels_of;
use serde_json::{Map, Value, json};

/// The rendered template: what istiod overlays on the pod.
pub(super) struct Rendered {
    pub init_containers: Vec<Value>,
    pub containers: Vec<Value>,
    pub volumes: Vec<Value>,
    pub image_pull_secrets: Vec<Value>,
    pub annotations: Vec<(String, String)>,
    pub labels: Vec<(String, String)>,
    /// The proxy goes first among containers (holdApplicationUntilProxyStarts, classic only).
    pub proxy_first: bool,
}

fn env(name: &str, value: impl Into<String>) -> Value {
    json!({"name": name, "value": value.into()})
}

fn env_field(name: &str, path: &str) -> Value {
    json!({"name": name, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}})
}

fn env_resource(name: &str, resource: &str) -> Value {
    json!({"name": name, "valueFrom": {"resourceFieldRef": {"divisor": "0", "resource": resource}}})
}

fn resources(inj: &Injector, pod: &Value) -> Value {
    let keys = [
        ("requests", "cpu", "sidecar.istio.io/proxyCPU"),
        ("requests", "memory", "sidecar.istio.io/proxyMemory"),
        ("limits", "cpu", "sidecar.istio.io/proxyCPULimit"),
        ("limits", "memory", "sidecar.istio.io/proxyMemoryLimit"),
    ];
    if keys.iter().any(|(_, _, a)| annotation(pod, a).is_some()) {
        let mut out = json!({});
        for (group, res, a) in keys {
            if let Some(v) = annotation(pod, a) {
                out[group][res] = json!(v);
            }
        }
        return out;
    }
    lookup(&inj.values, "/global/proxy/resources").cloned().unwrap_or_else(
        || json!({"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "100m", "memory": "128Mi"}}),
    )
}

fn ready_probe(period: i64, failures: i64) -> Value {
    json!({"failureThreshold": failures, "httpGet": {"path": "/healthz/ready", "port": 15021, "scheme": "HTTP"},
           "periodSeconds": period, "successThreshold": 1, "timeoutSeconds": 3})
}

/// Renders the sidecar template for `pod`, whose `spec.containers` hold only the
/// application containers (previously injected ones already stripped).
pub(super) fn render(inj: &Injector, pod: &Value, store: &Store) -> Rendered {
    let pcfg = proxy_config(inj, pod);
    let native = native_sidecar(inj, pod, store);
    let cni = truthy(&inj.values, "/istio_cni/enabled") || truthy(&inj.values, "/pilot/cni/enabled");
    let mode = annotation(pod, "sidecar.istio.io/interceptionMode")
        .or_else(|| lookup_str(&pcfg, "/interceptionMode"))
        .unwrap_or("REDIRECT")
        .to_string();
    // A native sidecar starts before the application anyway; only the classic form reorders.
    let hold = !native
        && (pcfg.get("holdApplicationUntilProxyStarts").and_then(Value::as_bool) == Some(true)
            || truthy(&inj.values, "/global/proxy/holdApplicationUntilProxyStarts"));
    let values_image = values_proxy_image(inj, pod, &pcfg);
    let proxy_image = match annotation(pod, "sidecar.istio.io/proxyImage") {
        Some(a) if a.contains('/') => a.to_string(),
        _ => values_image.clone(),
    };
    let init_image = lookup_str(&inj.values, "/global/proxy_init/image")
        .filter(|i| i.contains('/'))
        .map(str::to_string)
        .unwrap_or_else(|| values_image.clone());
    // A proxy the user wrote into the pod is a customisation, not an application container.
    let apps: Vec<Value> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(|cs| cs.iter().filter(|c| c["name"] != "istio-proxy").cloned().collect())
        .unwrap_or_default();
    let workload = workload_of(pod);
    let labels = labels_of(pod);
    let ns = pod.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("default");
    let res = resources(inj, pod);
    let log_level = annotation(pod, "sidecar.istio.io/logLevel")
        .or_else(|| lookup_str(&inj.values, "/global/proxy/logLevel"))
        .unwrap_or("warning");
    let component_level = annotation(pod, "sidecar.istio.io/componentLogLevel")
        .or_else(|| lookup_str(&inj.values, "/global/proxy/componentLogLevel"))
        .unwrap_or("misc:error");
    let agent_level = lookup_str(&inj.values, "/global/logging/level").unwrap_or("default:info");
    let cluster_domain = lookup_str(&inj.values, "/global/proxy/clusterDomain").unwrap_or("cluster.local");
    let trust_domain = lookup_str(&inj.mesh, "/trustDomain").unwrap_or("cluster.local");
    let network = lookup_str(&inj.values, "/global/network");

    let mut init_containers = Vec::new();
    if mode != "NONE" {
        let excluded_in = match annotation(pod, "traffic.sidecar.istio.io/excludeInboundPorts") {
            Some(extra) if !extra.is_empty() => format!("15090,15021,15020,{extra}"),
            _ => "15090,15021,15020".into(),
        };
        let mut args = vec![
            "istio-iptables".to_string(),
            "-p".into(),
            "15001".into(),
            "-z".into(),
            "15006".into(),
            "-u".into(),
            "1337".into(),
            "-m".into(),
            mode.clone(),
            "-i".into(),
            annotation(pod, "traffic.sidecar.istio.io/includeOutboundIPRanges").unwrap_or("*").into(),
            "-x".into(),
            annotation(pod, "traffic.sidecar.istio.io/excludeOutboundIPRanges").unwrap_or("").into(),
            "-b".into(),
            annotation(pod, "traffic.sidecar.istio.io/includeInboundPorts").unwrap_or("*").into(),
            "-d".into(),
            excluded_in,
        ];
        if let Some(ports) = annotation(pod, "traffic.sidecar.istio.io/excludeOutboundPorts") {
            args.extend(["-o".to_string(), ports.to_string()]);
        }
        if cni {
            args.extend(["--run-validation".to_string(), "--skip-rule-apply".to_string()]);
        }
        args.push(format!("--log_output_level={agent_level}"));
        // With the CNI plugin the rules are already in place; the init container only checks
        // them and needs no privileges.
        let security = if cni {
            json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "privileged": false,
                   "readOnlyRootFilesystem": true, "runAsGroup": 1337, "runAsNonRoot": true, "runAsUser": 1337})
        } else {
            json!({"allowPrivilegeEscalation": false, "capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]},
                   "privileged": false, "readOnlyRootFilesystem": false, "runAsGroup": 0, "runAsNonRoot": false,
                   "runAsUser": 0})
        };
        init_containers.push(json!({
            "name": if cni { "istio-validation" } else { "istio-init" },
            "image": init_image,
            "args": args,
            "resources": res.clone(),
            "securityContext": security,
        }));
    }

    let pod_ports: Vec<String> = apps
        .iter()
        .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
        .map(|p| format!("    {p}"))
        .collect();
    let app_names: Vec<&str> = apps.iter().filter_map(|c| c["name"].as_str()).collect();
    let ca_addr = lookup_str(&inj.values, "/global/caAddress").map(str::to_string).unwrap_or_else(|| {
        let istio_ns = lookup_str(&inj.values, "/global/istioNamespace").unwrap_or(&inj.namespace);
        let rev = match lookup(&inj.values, "/revision").and_then(Value::as_str) {
            Some(r) => r.to_string(),
            None if inj.revision == "default" => String::new(),
            None => inj.revision.clone(),
        };
        let svc = if rev.is_empty() { "istiod".to_string() } else { format!("istiod-{rev}") };
        format!("{svc}.{istio_ns}.svc:15012")
    });
    let mut envs = vec![
        env("PILOT_CERT_PROVIDER", lookup_str(&inj.values, "/global/pilotCertProvider").unwrap_or("istiod")),
        env("CA_ADDR", ca_addr),
        env_field("POD_NAME", "metadata.name"),
        env_field("POD_NAMESPACE", "metadata.namespace"),
        env_field("INSTANCE_IP", "status.podIP"),
        env_field("SERVICE_ACCOUNT", "spec.serviceAccountName"),
        env_field("HOST_IP", "status.hostIP"),
        env_resource("ISTIO_CPU_LIMIT", "limits.cpu"),
        env("PROXY_CONFIG", format!("{pcfg}\n")),
        env("ISTIO_META_POD_PORTS", format!("[\n{}\n]", pod_ports.join(",\n"))),
        env("ISTIO_META_APP_CONTAINERS", app_names.join(",")),
        env_resource("GOMEMLIMIT", "limits.memory"),
        env_resource("GOMAXPROCS", "limits.cpu"),
        env(
            "ISTIO_META_CLUSTER_ID",
            lookup_str(&inj.values, "/global/multiCluster/clusterName").unwrap_or("Kubernetes"),
        ),
        env_field("ISTIO_META_NODE_NAME", "spec.nodeName"),
        env("ISTIO_META_INTERCEPTION_MODE", mode.clone()),
    ];
    if let Some(n) = network {
        envs.push(env("ISTIO_META_NETWORK", n));
    }
    envs.push(env("ISTIO_META_WORKLOAD_NAME", workload.name.clone()));
    envs.push(env(
        "ISTIO_META_OWNER",
        format!(
            "kubernetes://apis/{}/namespaces/{ns}/{}s/{}",
            workload.api_version,
            workload.kind.to_lowercase(),
            workload.name
        ),
    ));
    envs.push(env("ISTIO_META_MESH_ID", lookup_str(&inj.values, "/global/meshID").unwrap_or(trust_domain)));
    envs.push(env("TRUST_DOMAIN", trust_domain));
    let metadata = pcfg.get("proxyMetadata").and_then(Value::as_object).cloned().unwrap_or_default();
    for (k, v) in &metadata {
        envs.push(env(k, v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())));
    }

    let mut proxy = json!({
        "name": "istio-proxy",
        "image": proxy_image,
        "args": ["proxy", "sidecar", "--domain", format!("$(POD_NAMESPACE).svc.{cluster_domain}"),
                 format!("--proxyLogLevel={log_level}"), format!("--proxyComponentLogLevel={component_level}"),
                 format!("--log_output_level={agent_level}")],
        "env": envs,
        "ports": [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}],
        "readinessProbe": ready_probe(15, 4),
        "resources": res,
        "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "privileged": false,
                            "readOnlyRootFilesystem": true, "runAsGroup": 1337, "runAsNonRoot": true, "runAsUser": 1337},
        "startupProbe": ready_probe(1, 600),
        "volumeMounts": [
            {"mountPath": "/var/run/secrets/workload-spiffe-uds", "name": "workload-socket"},
            {"mountPath": "/var/run/secrets/credential-uds", "name": "credential-socket"},
            {"mountPath": "/var/run/secrets/workload-spiffe-credentials", "name": "workload-certs"},
            {"mountPath": "/var/run/secrets/istio", "name": "istiod-ca-cert"},
            {"mountPath": "/var/lib/istio/data", "name": "istio-data"},
            {"mountPath": "/etc/istio/proxy", "name": "istio-envoy"},
            {"mountPath": "/var/run/secrets/tokens", "name": "istio-token"},
            {"mountPath": "/etc/istio/pod", "name": "istio-podinfo"},
        ],
    });
    if hold {
        proxy["lifecycle"] = json!({"postStart": {"exec": {"command": ["pilot-agent", "wait"]}}});
    }
    let mut containers = Vec::new();
    if native {
        proxy["restartPolicy"] = json!("Always");
        init_containers.push(proxy);
    } else {
        containers.push(proxy);
    }

    let audience = lookup_str(&inj.values, "/global/sds/token/aud").unwrap_or("istio-ca");
    let volumes = vec![
        json!({"emptyDir": {}, "name": "workload-socket"}),
        json!({"emptyDir": {}, "name": "credential-socket"}),
        json!({"emptyDir": {}, "name": "workload-certs"}),
        json!({"emptyDir": {"medium": "Memory"}, "name": "istio-envoy"}),
        json!({"emptyDir": {}, "name": "istio-data"}),
        json!({"downwardAPI": {"items": [
            {"fieldRef": {"fieldPath": "metadata.labels"}, "path": "labels"},
            {"fieldRef": {"fieldPath": "metadata.annotations"}, "path": "annotations"}]}, "name": "istio-podinfo"}),
        json!({"name": "istio-token", "projected": {"sources": [{"serviceAccountToken":
            {"audience": audience, "expirationSeconds": 43200, "path": "istio-token"}}]}}),
        json!({"configMap": {"name": "istio-ca-root-cert"}, "name": "istiod-ca-cert"}),
    ];
    let image_pull_secrets = lookup(&inj.values, "/global/imagePullSecrets")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter().filter_map(|s| s.as_str().or_else(|| s["name"].as_str())).map(|n| json!({"name": n})).collect()
        })
        .unwrap_or_default();

    let mut annotations = vec![("istio.io/rev".to_string(), inj.revision.clone())];
    if let Some(first) = app_names.first() {
        for key in ["kubectl.kubernetes.io/default-logs-container", "kubectl.kubernetes.io/default-container"] {
            if annotation(pod, key).is_none() {
                annotations.push((key.to_string(), first.to_string()));
            }
        }
    }
    if cni {
        annotations.push(("sidecar.istio.io/interceptionMode".into(), mode));
        for (key, default) in [
            ("traffic.sidecar.istio.io/includeOutboundIPRanges", "*"),
            ("traffic.sidecar.istio.io/includeInboundPorts", "*"),
        ] {
            annotations.push((key.into(), annotation(pod, key).unwrap_or(default).into()));
        }
        annotations.push(("traffic.sidecar.istio.io/excludeInboundPorts".into(), "15020".into()));
    }

    let first_label = |keys: &[&str]| keys.iter().find_map(|k| labels.get(*k).filter(|v| !v.is_empty()).cloned());
    let mut out_labels = vec![
        (
            "security.istio.io/tlsMode".to_string(),
            first_label(&["security.istio.io/tlsMode"]).unwrap_or("istio".into()),
        ),
        (
            "service.istio.io/canonical-name".to_string(),
            first_label(&["service.istio.io/canonical-name", "app.kubernetes.io/name", "app"]).unwrap_or(workload.name),
        ),
        (
            "service.istio.io/canonical-revision".to_string(),
            first_label(&["service.istio.io/canonical-revision", "app.kubernetes.io/version", "version"])
                .unwrap_or("latest".into()),
        ),
    ];
    if metadata.get("ISTIO_META_ENABLE_HBONE").and_then(Value::as_str) == Some("true") {
        out_labels.push(("networking.istio.io/tunnel".into(), "http".into()));
    }
    if let Some(n) = labels.get("topology.istio.io/network").map(String::as_str).or(network) {
        out_labels.push(("topology.istio.io/network".into(), n.to_string()));
    }

    Rendered {
        init_containers,
        containers,
        volumes,
        image_pull_secrets,
        annotations,
        labels: out_labels,
        proxy_first: hold,
    }
}

/// The names a rendered template adds, for the `sidecar.istio.io/status` annotation.
pub(super) fn status_json(r: &Rendered, revision: &str) -> String {
    let names = |items: &[Value]| -> Value {
        if items.is_empty() { Value::Null } else { Value::Array(items.iter().map(|i| i["name"].clone()).collect()) }
    };
    let mut status = Map::new();
    status.insert("initContainers".into(), names(&r.init_containers));
    status.insert("containers".into(), names(&r.containers));
    status.insert("volumes".into(), names(&r.volumes));
    status.insert("imagePullSecrets".into(), names(&r.image_pull_secrets));
    status.insert("revision".into(), json!(revision));
    Value::Object(status).to_string()
}
