//! Defaulting, as the API server fills fields a client left out. Only the defaults clients
//! and the controllers read are set; anything else is left as written.

use super::kinds::Kind;
use serde_json::{Value, json};

fn set_default(obj: &mut Value, path: &[&str], v: Value) {
    let mut cur = obj;
    for (i, p) in path.iter().enumerate() {
        if !cur.is_object() {
            return;
        }
        if i == path.len() - 1 {
            if cur.get(*p).is_none_or(Value::is_null) {
                cur[*p] = v;
            }
            return;
        }
        if cur.get(*p).is_none_or(Value::is_null) {
            cur[*p] = json!({});
        }
        cur = &mut cur[*p];
    }
}

fn default_pod_spec(spec: &mut Value) {
    set_default(spec, &["restartPolicy"], json!("Always"));
    set_default(spec, &["dnsPolicy"], json!("ClusterFirst"));
    set_default(spec, &["schedulerName"], json!("default-scheduler"));
    set_default(spec, &["terminationGracePeriodSeconds"], json!(30));
    set_default(spec, &["securityContext"], json!({}));
    if spec.get("serviceAccountName").is_none_or(Value::is_null) {
        let sa = spec.get("serviceAccount").cloned().unwrap_or(json!("default"));
        spec["serviceAccountName"] = sa;
    }
    for list in ["containers", "initContainers"] {
        if let Some(cs) = spec.get_mut(list).and_then(Value::as_array_mut) {
            for c in cs {
                set_default(c, &["terminationMessagePath"], json!("/dev/termination-log"));
                set_default(c, &["terminationMessagePolicy"], json!("File"));
                let pull = if c
                    .get("image")
                    .and_then(Value::as_str)
                    .is_some_and(|i| i.ends_with(":latest") || !i.contains(':'))
                {
                    "Always"
                } else {
                    "IfNotPresent"
                };
                set_default(c, &["imagePullPolicy"], json!(pull));
                if let Some(ports) = c.get_mut("ports").and_then(Value::as_array_mut) {
                    for p in ports {
                        set_default(p, &["protocol"], json!("TCP"));
                    }
                }
            }
        }
    }
}

/// Fills create-time defaults.
pub fn on_create(kind: &Kind, obj: &mut Value, now: &str) {
    on_update(kind, obj);
    match (kind.group, kind.plural) {
        ("", "namespaces") => {
            set_default(obj, &["spec", "finalizers"], json!(["kubernetes"]));
            obj["status"] = json!({"phase": "Active"});
        }
        ("", "pods") => {
            if let Some(spec) = obj.get_mut("spec") {
                default_pod_spec(spec);
            }
            obj["status"] = json!({"phase": "Pending", "qosClass": "BestEffort"});
            let _ = now;
        }
        ("", "services") => {
            set_default(obj, &["spec", "type"], json!("ClusterIP"));
            set_default(obj, &["spec", "sessionAffinity"], json!("None"));
            let headless = obj["spec"].get("clusterIP").and_then(Value::as_str) == Some("None");
            if !headless && obj["spec"]["type"] != "ExternalName" {
                let ip = format!("10.96.{}.{}", rand::random_range(0..255), rand::random_range(1..255));
                set_default(obj, &["spec", "clusterIP"], json!(ip));
                let ip = obj["spec"]["clusterIP"].clone();
                set_default(obj, &["spec", "clusterIPs"], json!([ip]));
            }
            if let Some(ports) = obj["spec"].get_mut("ports").and_then(Value::as_array_mut) {
                for p in ports {
                    set_default(p, &["protocol"], json!("TCP"));
                    let port = p.get("port").cloned().unwrap_or(Value::Null);
                    set_default(p, &["targetPort"], port);
                }
            }
            let lb = obj["spec"]["type"] == "LoadBalancer";
            obj["status"] = if lb {
                json!({"loadBalancer": {"ingress": [{"ip": format!("172.18.255.{}", rand::random_range(1..250))}]}})
            } else {
                json!({"loadBalancer": {}})
            };
        }
        ("apps", "deployments") => {
            set_default(obj, &["spec", "replicas"], json!(1));
            set_default(obj, &["spec", "revisionHistoryLimit"], json!(10));
            set_default(obj, &["spec", "progressDeadlineSeconds"], json!(600));
            set_default(obj, &["spec", "strategy", "type"], json!("RollingUpdate"));
            if obj["spec"]["strategy"]["type"] == "RollingUpdate" {
                set_default(obj, &["spec", "strategy", "rollingUpdate", "maxSurge"], json!("25%"));
                set_default(obj, &["spec", "strategy", "rollingUpdate", "maxUnavailable"], json!("25%"));
            }
        }
        ("apps", "statefulsets") => {
            set_default(obj, &["spec", "replicas"], json!(1));
            set_default(obj, &["spec", "podManagementPolicy"], json!("OrderedReady"));
            set_default(obj, &["spec", "revisionHistoryLimit"], json!(10));
            set_default(obj, &["spec", "updateStrategy", "type"], json!("RollingUpdate"));
            if obj["spec"]["updateStrategy"]["type"] == "RollingUpdate" {
                set_default(obj, &["spec", "updateStrategy", "rollingUpdate", "partition"], json!(0));
            }
        }
        ("apps", "daemonsets") => {
            set_default(obj, &["spec", "revisionHistoryLimit"], json!(10));
            set_default(obj, &["spec", "updateStrategy", "type"], json!("RollingUpdate"));
            if obj["spec"]["updateStrategy"]["type"] == "RollingUpdate" {
                set_default(obj, &["spec", "updateStrategy", "rollingUpdate", "maxUnavailable"], json!(1));
                set_default(obj, &["spec", "updateStrategy", "rollingUpdate", "maxSurge"], json!(0));
            }
        }
        ("batch", "jobs") => {
            set_default(obj, &["spec", "completions"], json!(1));
            set_default(obj, &["spec", "parallelism"], json!(1));
            set_default(obj, &["spec", "backoffLimit"], json!(6));
        }
        _ => {}
    }
    if matches!(kind.plural, "deployments" | "statefulsets" | "daemonsets" | "replicasets" | "jobs")
        && let Some(spec) = obj.pointer_mut("/spec/template/spec")
    {
        default_pod_spec(spec);
    }
}

/// Defaults the API server re-applies on every write.
pub fn on_update(kind: &Kind, obj: &mut Value) {
    if kind.group.is_empty() && kind.plural == "namespaces" {
        let name = obj["metadata"]["name"].clone();
        if !obj["metadata"].get("labels").is_some_and(Value::is_object) {
            obj["metadata"]["labels"] = json!({});
        }
        obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
    }
}
