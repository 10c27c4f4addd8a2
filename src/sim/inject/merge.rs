//! Overlaying a rendered template on the pod, as istiod's strategic merge and post-processing
//! do: containers, init containers and volumes merge by name (so a second injection replaces
//! the first rather than doubling it), user customisations of `istio-proxy` win, containers
//! are reordered, and the metadata (labels, Prometheus merge, status) is written last.

use super::policy::Injector;
use super::template::Rendered;
use serde_json::{Map, Value, json};

const PROXY: &str = "istio-proxy";
/// The port of the agent's merged Prometheus endpoint and app-probe proxy.
pub(super) const STATUS_PORT: i64 = 15020;

/// Names a previous injection added, from its `sidecar.istio.io/status` annotation.
#[derive(Default)]
pub(super) struct Previous {
    pub containers: Vec<String>,
    pub init_containers: Vec<String>,
}

impl Previous {
    /// Parsed leniently: older status formats and `null` lists simply contribute nothing.
    pub fn of(pod: &Value) -> Option<Previous> {
        let raw = pod.pointer("/metadata/annotations").and_then(|a| a.get("sidecar.istio.io/status"))?.as_str()?;
        let status: Value = serde_json::from_str(raw).unwrap_or(Value::Null);
        let names = |key: &str| -> Vec<String> {
            status[key]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        Some(Previous { containers: names("containers"), init_containers: names("initContainers") })
    }
}

fn list(pod: &Value, key: &str) -> Vec<Value> {
    pod.pointer(&format!("/spec/{key}")).and_then(Value::as_array).cloned().unwrap_or_default()
}

fn named(items: &[Value], name: &str) -> Option<usize> {
    if name.is_empty() {
        return None;
    }
    items.iter().position(|c| c.get("name").and_then(Value::as_str) == Some(name))
}

/// The pod as the template sees it: previously injected containers removed.
pub(super) fn application_view(pod: &Value, prev: Option<&Previous>) -> Value {
    let mut view = pod.clone();
    if let Some(prev) = prev {
        for (key, names) in [("containers", &prev.containers), ("initContainers", &prev.init_containers)] {
            let kept: Vec<Value> = list(pod, key)
                .into_iter()
                .filter(|c| !c["name"].as_str().is_some_and(|n| names.iter().any(|p| p == n)))
                .collect();
            if view["spec"].get(key).is_some() {
                view["spec"][key] = Value::Array(kept);
            }
        }
    }
    view
}

/// User fields of a container the user wrote under an injected name override the template,
/// env entries by name; `image: auto` keeps the injected image.
fn overlay_user(template: &mut Value, user: &Value) {
    let Some(fields) = user.as_object() else { return };
    for (k, v) in fields {
        match k.as_str() {
            "image" if v.as_str().is_none_or(|i| i.is_empty() || i == "auto") => {}
            "env" => {
                let mut env = template["env"].as_array().cloned().unwrap_or_default();
                for e in v.as_array().cloned().unwrap_or_default() {
                    match named(&env, e["name"].as_str().unwrap_or_default()) {
                        Some(i) => env[i] = e,
                        None => env.push(e),
                    }
                }
                template["env"] = Value::Array(env);
            }
            _ => template[k] = v.clone(),
        }
    }
}

fn merge_named(items: &mut Vec<Value>, item: Value, injected_before: &[String]) {
    let name = item["name"].as_str().unwrap_or_default().to_string();
    match named(items, &name) {
        Some(i) if injected_before.contains(&name) => {
            // Re-injection: env merges by name as in a strategic merge, so entries istiod added
            // after rendering (app probers, Prometheus settings) survive; the rest is replaced.
            let mut fresh = item;
            let carried: Vec<Value> = items[i]["env"]
                .as_array()
                .map(|old| {
                    let new = fresh["env"].as_array().cloned().unwrap_or_default();
                    old.iter()
                        .filter(|e| named(&new, e["name"].as_str().unwrap_or_default()).is_none())
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            if let Some(env) = fresh.get_mut("env").and_then(Value::as_array_mut) {
                env.extend(carried);
            }
            items[i] = fresh;
        }
        Some(i) => {
            let user = items[i].clone();
            let mut merged = item;
            overlay_user(&mut merged, &user);
            items[i] = merged;
        }
        None => items.push(item),
    }
}

fn move_to(items: &mut Vec<Value>, name: &str, first: bool) {
    if let Some(i) = named(items, name) {
        let c = items.remove(i);
        if first { items.insert(0, c) } else { items.push(c) }
    }
}

/// Overlays the rendered template on `pod` and writes the injection metadata.
pub(super) fn apply(pod: &mut Value, r: &Rendered, prev: Option<&Previous>, status: String, inj: &Injector) {
    let empty = Previous::default();
    let prev = prev.unwrap_or(&empty);
    let mut containers = list(pod, "containers");
    let mut inits = list(pod, "initContainers");
    let native = named(&r.init_containers, PROXY).is_some();
    if native {
        // The proxy moves to init containers: drop an earlier classic injection's proxy, and
        // carry a user-written proxy over so its customisations still apply.
        if let Some(i) = named(&containers, PROXY) {
            let c = containers.remove(i);
            if !prev.containers.iter().any(|n| n == PROXY) {
                inits.push(c);
            }
        }
    } else if let Some(i) = named(&inits, PROXY).filter(|_| prev.init_containers.iter().any(|n| n == PROXY)) {
        inits.remove(i);
    }
    for c in &r.init_containers {
        merge_named(&mut inits, c.clone(), &prev.init_containers);
    }
    for c in &r.containers {
        merge_named(&mut containers, c.clone(), &prev.containers);
    }
    if native {
        // {istio-init | istio-validation}, then the proxy, then the pod's own init containers.
        move_to(&mut inits, PROXY, true);
        move_to(&mut inits, "istio-validation", true);
        move_to(&mut inits, "istio-init", true);
    } else {
        // The proxy goes last so `kubectl exec` defaults to the application; iptables is set
        // up last so the pod's own init containers are not redirected.
        move_to(&mut containers, PROXY, r.proxy_first);
        move_to(&mut inits, "istio-validation", true);
        move_to(&mut inits, "istio-init", false);
    }
    let spec = &mut pod["spec"];
    spec["containers"] = Value::Array(containers);
    if !inits.is_empty() {
        spec["initContainers"] = Value::Array(inits);
    }
    let mut volumes = spec.get("volumes").and_then(Value::as_array).cloned().unwrap_or_default();
    for v in &r.volumes {
        match named(&volumes, v["name"].as_str().unwrap_or_default()) {
            Some(i) => volumes[i] = v.clone(),
            None => volumes.push(v.clone()),
        }
    }
    spec["volumes"] = Value::Array(volumes);
    if !r.image_pull_secrets.is_empty() {
        let mut secrets = spec.get("imagePullSecrets").and_then(Value::as_array).cloned().unwrap_or_default();
        for s in &r.image_pull_secrets {
            if named(&secrets, s["name"].as_str().unwrap_or_default()).is_none() {
                secrets.push(s.clone());
            }
        }
        spec["imagePullSecrets"] = Value::Array(secrets);
    }

    let meta = &mut pod["metadata"];
    for key in ["labels", "annotations"] {
        if !meta.get(key).is_some_and(Value::is_object) {
            meta[key] = json!({});
        }
    }
    for (k, v) in &r.labels {
        meta["labels"][k] = json!(v);
    }
    for (k, v) in &r.annotations {
        meta["annotations"][k] = json!(v);
    }
    prometheus_merge(pod, inj);
    super::probes::rewrite(pod, inj);
    let annotations = &mut pod["metadata"]["annotations"];
    annotations["sidecar.istio.io/status"] = json!(status);
    for (k, v) in &inj.injected_annotations {
        annotations[k] = json!(v);
    }
}

/// The sidecar container, wherever the injection put it.
pub(super) fn sidecar_mut(pod: &mut Value) -> Option<&mut Value> {
    let in_containers = pod.pointer("/spec/containers").and_then(Value::as_array).and_then(|cs| named(cs, PROXY));
    match in_containers {
        Some(i) => pod.pointer_mut(&format!("/spec/containers/{i}")),
        None => {
            let i = pod.pointer("/spec/initContainers").and_then(Value::as_array).and_then(|cs| named(cs, PROXY))?;
            pod.pointer_mut(&format!("/spec/initContainers/{i}"))
        }
    }
}

/// Go's strconv.ParseBool.
pub(super) fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Prometheus treats `prometheus.io/scrape`, `prometheus.io.scrape` and the like alike.
fn sanitized(key: &str) -> String {
    key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

/// Metrics merging: the pod's own scrape settings move into the proxy's environment and the
/// annotations point Prometheus at the agent, which serves both.
fn prometheus_merge(pod: &mut Value, inj: &Injector) {
    let annotations: Map<String, Value> = pod["metadata"]["annotations"].as_object().cloned().unwrap_or_default();
    let find = |name: &str| {
        annotations.iter().find(|(k, _)| sanitized(k) == name).and_then(|(_, v)| v.as_str().map(str::to_string))
    };
    let enabled = annotations
        .get("prometheus.istio.io/merge-metrics")
        .and_then(Value::as_str)
        .and_then(parse_bool)
        .or_else(|| inj.mesh.get("enablePrometheusMerge").and_then(Value::as_bool))
        .unwrap_or(true);
    let scrape = find("prometheus_io_scrape");
    if !enabled || scrape.as_deref().and_then(parse_bool) == Some(false) {
        return;
    }
    let port = find("prometheus_io_port");
    if port.as_deref() == Some(&STATUS_PORT.to_string()) {
        return;
    }
    let mut original = Map::new();
    for (key, value) in [("scrape", scrape), ("path", find("prometheus_io_path")), ("port", port)] {
        if let Some(v) = value {
            original.insert(key.into(), json!(v));
        }
    }
    if !original.is_empty()
        && let Some(env) = sidecar_mut(pod).and_then(|s| s.get_mut("env")).and_then(Value::as_array_mut)
    {
        env.push(json!({"name": "ISTIO_PROMETHEUS_ANNOTATIONS", "value": Value::Object(original).to_string()}));
    }
    let Some(anns) = pod.pointer_mut("/metadata/annotations").and_then(Value::as_object_mut) else { return };
    anns.retain(|k, _| {
        !matches!(sanitized(k).as_str(), "prometheus_io_scrape" | "prometheus_io_port" | "prometheus_io_path")
    });
    anns.insert("prometheus.io/port".into(), json!(STATUS_PORT.to_string()));
    anns.insert("prometheus.io/path".into(), json!("/stats/prometheus"));
    anns.insert("prometheus.io/scrape".into(), json!("true"));
}
