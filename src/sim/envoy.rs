//! The Envoy admin endpoint (port 15000) of a simulated sidecar: `/certs`, `/server_info`,
//! `/config_dump` (the secrets `istioctl proxy-config secret` reads) and `/ready`, in Envoy's
//! JSON shapes. It reads the pod and the CA's certificate book and answers one request at a
//! time; it writes nothing and does no IO (the port-forward layer carries its bytes).

use super::ca;
use super::clock::{parse_rfc3339, rfc3339};
use super::istiod::{self, WorkloadCert};
use super::kinds;
use super::ops::Cluster;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::Serialize;
use serde_json::{Value, json};
use std::time::SystemTime;

/// The port Envoy's admin interface listens on inside an Istio sidecar.
pub const ADMIN_PORT: u16 = 15000;

const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=UTF-8";
const SECRET_TYPE: &str = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
const SECRETS_DUMP: &str = "type.googleapis.com/envoy.admin.v3.SecretsConfigDump";
const BOOTSTRAP_DUMP: &str = "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump";
/// What Envoy prints instead of private keys: base64 of `[redacted]`.
const REDACTED: &str = "W3JlZGFjdGVkXQ==";

fn containers(pod: &Value) -> impl Iterator<Item = &Value> {
    ["containers", "initContainers"].into_iter().filter_map(|list| pod.get("spec")?.get(list)?.as_array()).flatten()
}

fn proxy_container(pod: &Value) -> Option<&Value> {
    containers(pod).find(|c| c.get("name").and_then(Value::as_str) == Some("istio-proxy"))
}

/// A pod runs Envoy when it has an `istio-proxy` container, classic or native sidecar.
pub fn has_proxy(pod: &Value) -> bool {
    proxy_container(pod).is_some()
}

/// The proxy's Istio version: the `istio-proxy` image tag (or the `sidecar.istio.io/proxyImage`
/// annotation), else the version of the revision's istiod for digest-pinned images.
pub fn proxy_version(cluster: &Cluster, pod: &Value) -> Option<String> {
    let annotated = pod.pointer("/metadata/annotations/sidecar.istio.io~1proxyImage").and_then(Value::as_str);
    let image = annotated.or_else(|| proxy_container(pod)?.get("image")?.as_str());
    image.and_then(istiod::image_version).or_else(|| cluster.certs.istiod_version(&istiod::pod_revision(pod)))
}

/// The Envoy release inside an Istio proxy: Istio 1.N ships Envoy 1.(N+8), built from
/// Istio's proxy branch (hence `-dev`). The patch level is not derivable and shows as 0.
pub fn envoy_version(istio_version: &str) -> Option<(u64, u64, u64)> {
    let mut parts = istio_version.split(['.', '-']);
    let major: u64 = parts.next()?.parse().ok()?;
    let minor: u64 = parts.next()?.parse().ok()?;
    (major == 1).then_some((1, minor + 8, 0))
}

/// A stable 40-hex build identifier for a proxy version.
fn build_sha(istio_version: &str) -> String {
    (0..3u8).map(|i| format!("{:016x}", istiod::rotation::fnv64(&[istio_version.as_bytes(), &[i]]))).collect::<String>()
        [..40]
        .to_string()
}

/// Envoy prints admin JSON with protobuf's printer: one space per indent level.
fn pretty(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::with_indent(b" "));
    v.serialize(&mut ser).expect("JSON values always serialize");
    out.push(b'\n');
    out
}

fn days_until(t: SystemTime, now: SystemTime) -> u64 {
    t.duration_since(now).map(|d| d.as_secs() / 86_400).unwrap_or(0)
}

fn details(info: &ca::CertInfo, days: u64) -> Value {
    let sans: Vec<Value> =
        info.uris.iter().map(|u| json!({"uri": u})).chain(info.dns.iter().map(|d| json!({"dns": d}))).collect();
    json!({
        "path": "<inline>",
        "serial_number": info.serial_hex,
        "subject_alt_names": sans,
        "days_until_expiration": days.to_string(),
        "valid_from": rfc3339(info.not_before),
        "expiration_time": rfc3339(info.not_after),
    })
}

/// `GET /certs`: the trust bundle as `ca_cert` and the workload leaf as `cert_chain`, whose
/// days until expiration is the minimum over its chain, as Envoy reports it.
pub fn certs_json(cert: Option<&WorkloadCert>, now: SystemTime) -> Value {
    let Some(cert) = cert else { return json!({"certificates": []}) };
    let roots = ca::inspect_chain(&cert.root_pem).unwrap_or_default();
    let chain = ca::inspect_chain(&cert.chain_pem).unwrap_or_default();
    let ca_cert: Vec<Value> = roots.iter().map(|r| details(r, days_until(r.not_after, now))).collect();
    let cert_chain: Vec<Value> = chain
        .first()
        .map(|leaf| {
            let soonest = chain.iter().map(|c| c.not_after).min().unwrap_or(leaf.not_after);
            details(leaf, days_until(soonest, now))
        })
        .into_iter()
        .collect();
    json!({"certificates": [{"ca_cert": ca_cert, "cert_chain": cert_chain}]})
}

/// The facts about a pod that `/server_info` shows.
#[derive(Debug, Clone)]
pub struct ProxyFacts {
    pub namespace: String,
    pub name: String,
    pub ip: String,
    pub service_account: String,
    pub workload: String,
    pub labels: Value,
    pub router: bool,
    pub started: SystemTime,
    pub istio_version: Option<String>,
}

impl ProxyFacts {
    pub fn of(cluster: &Cluster, pod: &Value) -> ProxyFacts {
        let s = |p: &str| pod.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
        let labels = pod.pointer("/metadata/labels").cloned().unwrap_or(json!({}));
        let name = s("/metadata/name");
        let workload = ["service.istio.io/canonical-name", "app.kubernetes.io/name", "app"]
            .iter()
            .find_map(|k| labels.get(*k).and_then(Value::as_str))
            .unwrap_or(&name)
            .to_string();
        let router = proxy_container(pod)
            .and_then(|c| c.get("args"))
            .and_then(Value::as_array)
            .is_some_and(|args| args.iter().any(|a| a == "router"));
        let started = parse_rfc3339(&s("/status/startTime"))
            .or_else(|| parse_rfc3339(&s("/metadata/creationTimestamp")))
            .unwrap_or_else(|| cluster.clock.now());
        let sa = s("/spec/serviceAccountName");
        ProxyFacts {
            namespace: s("/metadata/namespace"),
            ip: s("/status/podIP"),
            service_account: if sa.is_empty() { "default".into() } else { sa },
            workload,
            labels,
            router,
            started,
            istio_version: proxy_version(cluster, pod),
            name,
        }
    }
}

/// `GET /server_info`.
pub fn server_info_json(p: &ProxyFacts, now: SystemTime) -> Value {
    let istio = p.istio_version.clone().unwrap_or_else(|| "unknown".into());
    let (maj, min, patch) = envoy_version(&istio).unwrap_or((0, 0, 0));
    let sha = build_sha(&istio);
    let uptime = format!("{}s", now.duration_since(p.started).map(|d| d.as_secs()).unwrap_or(0));
    let kind = if p.router { "router" } else { "sidecar" };
    let node_id = format!("{kind}~{}~{}.{}~{}.svc.cluster.local", p.ip, p.name, p.namespace, p.namespace);
    let cluster = format!("{}.{}", p.workload, p.namespace);
    json!({
        "version": format!("{sha}/{maj}.{min}.{patch}-dev/Clean/RELEASE/BoringSSL"),
        "state": "LIVE",
        "hot_restart_version": "disabled",
        "command_line_options": {
            "base_id": "0",
            "concurrency": 2,
            "config_path": "etc/istio/proxy/envoy-rev.json",
            "config_yaml": "",
            "allow_unknown_static_fields": false,
            "reject_unknown_dynamic_fields": false,
            "ignore_unknown_dynamic_fields": false,
            "admin_address_path": "",
            "local_address_ip_version": "v4",
            "log_level": "warning",
            "component_log_level": "misc:error",
            "log_format": "%Y-%m-%dT%T.%fZ\t%l\tenvoy %n %g:%#\t%v\tthread=%t",
            "log_path": "",
            "service_cluster": "",
            "service_node": "",
            "service_zone": "",
            "drain_time": "45s",
            "drain_strategy": "Immediate",
            "parent_shutdown_time": "60s",
            "mode": "Serve",
            "disable_hot_restart": true,
            "enable_mutex_tracing": false,
            "restart_epoch": 0,
            "cpuset_threads": false,
            "disabled_extensions": [],
            "enable_fine_grain_logging": false,
            "socket_path": "@envoy_domain_socket",
            "socket_mode": 0,
            "enable_core_dump": false,
            "stats_tag": [],
        },
        "node": {
            "id": node_id,
            "cluster": cluster,
            "metadata": {
                "ISTIO_VERSION": istio,
                "NAME": p.name,
                "NAMESPACE": p.namespace,
                "SERVICE_ACCOUNT": p.service_account,
                "CLUSTER_ID": "Kubernetes",
                "MESH_ID": ca::TRUST_DOMAIN,
                "INTERCEPTION_MODE": "REDIRECT",
                "WORKLOAD_NAME": p.workload,
                "LABELS": p.labels,
                "ISTIO_PROXY_SHA": sha,
                "ENVOY_STATUS_PORT": 15021,
                "ENVOY_PROMETHEUS_PORT": 15090,
            },
            "locality": {},
            "user_agent_name": "envoy",
            "user_agent_build_version": {
                "version": {"major_number": maj, "minor_number": min, "patch": patch},
                "metadata": {
                    "revision.sha": sha,
                    "revision.status": "Clean",
                    "build.type": "RELEASE",
                    "ssl.version": "BoringSSL",
                },
            },
        },
        "uptime_current_epoch": uptime,
        "uptime_all_epochs": uptime,
    })
}

fn dynamic_secret(name: &str, at: Option<SystemTime>, body: Value) -> Value {
    let mut secret = json!({"@type": SECRET_TYPE, "name": name});
    if let (Value::Object(s), Value::Object(b)) = (&mut secret, body) {
        s.extend(b);
    }
    match at {
        Some(t) => json!({"name": name, "version_info": rfc3339(t), "last_updated": rfc3339(t), "secret": secret}),
        None => json!({"name": name, "version_info": "uninitialized", "secret": secret}),
    }
}

/// The `default` (workload chain) and `ROOTCA` (trust bundle) secrets: active once a
/// certificate was issued, warming before that.
fn secrets(cert: Option<&WorkloadCert>) -> (Vec<Value>, Vec<Value>) {
    match cert {
        Some(c) => (
            vec![
                dynamic_secret(
                    "default",
                    Some(c.issued_at),
                    json!({"tls_certificate": {
                        "certificate_chain": {"inline_bytes": B64.encode(&c.chain_pem)},
                        "private_key": {"inline_bytes": REDACTED},
                    }}),
                ),
                dynamic_secret(
                    "ROOTCA",
                    Some(c.issued_at),
                    json!({"validation_context": {"trusted_ca": {"inline_bytes": B64.encode(&c.root_pem)}}}),
                ),
            ],
            vec![],
        ),
        None => (vec![], vec![dynamic_secret("default", None, json!({})), dynamic_secret("ROOTCA", None, json!({}))]),
    }
}

fn query_param<'a>(query: &'a str, key: &str) -> Option<&'a str> {
    query.split('&').find_map(|kv| kv.split_once('=').filter(|(k, _)| *k == key).map(|(_, v)| v))
}

/// `GET /config_dump`, honouring `mask` (field names, comma-separated) and `resource` the way
/// Envoy does for the secrets section; other sections are reduced to the bootstrap node.
pub fn config_dump_json(p: &ProxyFacts, cert: Option<&WorkloadCert>, query: &str, now: SystemTime) -> Value {
    let (active, warming) = secrets(cert);
    let decoded = query.replace("%2C", ",").replace("%2c", ",");
    if let Some(resource) = query_param(&decoded, "resource") {
        let items = match resource {
            "dynamic_active_secrets" => active,
            "dynamic_warming_secrets" => warming,
            _ => vec![],
        };
        let typed = items
            .into_iter()
            .map(|mut s| {
                s["@type"] = json!(format!("{SECRETS_DUMP}.DynamicSecret"));
                s
            })
            .collect::<Vec<_>>();
        return json!({"configs": typed});
    }
    let mask: Option<Vec<&str>> = query_param(&decoded, "mask").map(|m| m.split(',').collect());
    let wanted = |field: &str| mask.as_ref().is_none_or(|m| m.contains(&field));
    let mut dump = json!({"@type": SECRETS_DUMP});
    // Protobuf's JSON printer leaves out empty repeated fields.
    if wanted("dynamic_active_secrets") && !active.is_empty() {
        dump["dynamic_active_secrets"] = json!(active);
    }
    if wanted("dynamic_warming_secrets") && !warming.is_empty() {
        dump["dynamic_warming_secrets"] = json!(warming);
    }
    let configs = match &mask {
        None => {
            let node = server_info_json(p, now)["node"].clone();
            let bootstrap = json!({"@type": BOOTSTRAP_DUMP, "bootstrap": {"node": node}});
            vec![bootstrap, dump]
        }
        Some(fields) if fields.iter().any(|f| f.ends_with("_secrets")) => vec![dump],
        Some(_) => vec![],
    };
    json!({"configs": configs})
}

const HELP: &str = "invalid path. admin commands are:\n  /certs: print certs on machine\n  /config_dump: dump current Envoy configs\n  /ready: print server state, return 200 if LIVE, otherwise return 503\n  /server_info: print server version/status information\n";

/// Answers one admin request for the sidecar of `ns/pod`: status, content type and body.
pub fn admin(cluster: &Cluster, ns: &str, pod: &str, method: &str, path: &str) -> (u16, String, Vec<u8>) {
    let pods = kinds::by_group_plural("", "pods").expect("pods kind");
    let Some(obj) = cluster.store.get(pods, ns, pod).map(|e| e.value()).filter(|p| has_proxy(p)) else {
        return (503, TEXT.into(), format!("no Envoy in pod {ns}/{pod}\n").into_bytes());
    };
    let _ = method; // Envoy serves its read-only handlers whatever the method.
    let now = cluster.clock.now();
    let (route, query) = path.split_once('?').unwrap_or((path, ""));
    let cert = || cluster.certs.workload_cert(&obj, istiod::workload_ttl(&cluster.clock), now);
    match route {
        "/certs" => (200, JSON.into(), pretty(&certs_json(cert().as_ref(), now))),
        "/server_info" => (200, JSON.into(), pretty(&server_info_json(&ProxyFacts::of(cluster, &obj), now))),
        "/config_dump" => {
            let dump = config_dump_json(&ProxyFacts::of(cluster, &obj), cert().as_ref(), query, now);
            (200, JSON.into(), pretty(&dump))
        }
        "/ready" => (200, TEXT.into(), b"LIVE\n".to_vec()),
        _ => (404, TEXT.into(), HELP.as_bytes().to_vec()),
    }
}

#[cfg(test)]
mod tests;
