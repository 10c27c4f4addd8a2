//! App-probe rewriting: kubelet probes of the application containers are redirected to the
//! agent's status port (`/app-health/<container>/<kind>`), and the original probes travel to
//! the agent in `ISTIO_KUBE_APP_PROBERS`, so probes keep working under STRICT mTLS.

use super::merge::{STATUS_PORT, parse_bool, sidecar_mut};
use super::policy::Injector;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

const PROBERS_ENV: &str = "ISTIO_KUBE_APP_PROBERS";

fn enabled(pod: &Value, inj: &Injector) -> bool {
    let annotation = pod
        .pointer("/metadata/annotations")
        .and_then(|a| a.get("sidecar.istio.io/rewriteAppHTTPProbers"))
        .and_then(Value::as_str)
        .and_then(parse_bool);
    let values = inj.values.pointer("/sidecarInjectorWebhook/rewriteAppHTTPProbe").and_then(Value::as_bool);
    annotation.or(values).unwrap_or(true)
}

/// A port given by name resolves through the container's ports; unresolvable probes are
/// left alone, as istiod leaves them.
fn port_number(port: &Value, container: &Value) -> Option<i64> {
    match port {
        Value::Number(n) => n.as_i64(),
        Value::String(name) => name.parse().ok().or_else(|| {
            container["ports"].as_array()?.iter().find(|p| p["name"] == name.as_str())?["containerPort"].as_i64()
        }),
        _ => None,
    }
}

/// What the agent needs to run the original probe, or None when it is not rewritable.
fn prober(probe: &Value, container: &Value) -> Option<Value> {
    let timeout = probe.get("timeoutSeconds").and_then(Value::as_i64).unwrap_or(1);
    let mut out = Map::new();
    if let Some(http) = probe.get("httpGet").filter(|h| h.is_object()) {
        let port = port_number(&http["port"], container)?;
        let already = port == STATUS_PORT && http["path"].as_str().is_some_and(|p| p.starts_with("/app-health/"));
        if already {
            return None;
        }
        let mut action = Map::new();
        action.insert("path".into(), http.get("path").cloned().unwrap_or(json!("/")));
        action.insert("port".into(), json!(port));
        if let Some(host) = http.get("host") {
            action.insert("host".into(), host.clone());
        }
        action.insert("scheme".into(), http.get("scheme").cloned().unwrap_or(json!("HTTP")));
        if let Some(headers) = http.get("httpHeaders") {
            action.insert("httpHeaders".into(), headers.clone());
        }
        out.insert("httpGet".into(), Value::Object(action));
    } else if let Some(tcp) = probe.get("tcpSocket").filter(|t| t.is_object()) {
        out.insert("tcpSocket".into(), json!({"port": port_number(&tcp["port"], container)?}));
    } else if let Some(grpc) = probe.get("grpc").filter(|g| g.is_object()) {
        out.insert("grpc".into(), grpc.clone());
    } else {
        return None;
    }
    out.insert("timeoutSeconds".into(), json!(timeout));
    Some(Value::Object(out))
}

/// Rewrites the application containers' probes and hands the originals to the proxy.
/// On re-injection the probes already point at the agent; the list the proxy carried over
/// from the earlier injection is kept and extended.
pub(super) fn rewrite(pod: &mut Value, inj: &Injector) {
    if !enabled(pod, inj) {
        return;
    }
    let mut probers: BTreeMap<String, Value> = BTreeMap::new();
    for list in ["containers", "initContainers"] {
        let Some(containers) = pod.pointer_mut(&format!("/spec/{list}")).and_then(Value::as_array_mut) else {
            continue;
        };
        for c in containers.iter_mut() {
            let name = c["name"].as_str().unwrap_or_default().to_string();
            // Init containers only count when they run for the pod's lifetime (native sidecars).
            if name == "istio-proxy" || (list == "initContainers" && c["restartPolicy"] != "Always") {
                continue;
            }
            for (field, suffix) in
                [("readinessProbe", "readyz"), ("livenessProbe", "livez"), ("startupProbe", "startupz")]
            {
                let Some(original) = c.get(field).filter(|p| p.is_object()).cloned() else { continue };
                let Some(p) = prober(&original, c) else { continue };
                let path = format!("/app-health/{name}/{suffix}");
                probers.insert(path.clone(), p);
                let Some(probe) = c.get_mut(field).and_then(Value::as_object_mut) else { continue };
                probe.remove("tcpSocket");
                probe.remove("grpc");
                probe.insert("httpGet".into(), json!({"path": path, "port": STATUS_PORT, "scheme": "HTTP"}));
            }
        }
    }
    if probers.is_empty() {
        return;
    }
    let Some(env) = sidecar_mut(pod).and_then(|s| s.get_mut("env")).and_then(Value::as_array_mut) else { return };
    match env.iter().position(|e| e["name"] == PROBERS_ENV) {
        Some(i) => {
            let mut merged: BTreeMap<String, Value> =
                env[i]["value"].as_str().and_then(|v| serde_json::from_str(v).ok()).unwrap_or_default();
            merged.extend(probers);
            env[i] = json!({"name": PROBERS_ENV, "value": serde_json::to_string(&merged).unwrap_or_default()});
        }
        None => env.push(json!({"name": PROBERS_ENV, "value": serde_json::to_string(&probers).unwrap_or_default()})),
    }
}
