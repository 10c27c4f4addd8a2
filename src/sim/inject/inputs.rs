//! What the sidecar template reads besides the injector's settings: the pod's owning
//! workload, the effective ProxyConfig, the proxy image and whether the proxy runs as a
//! native sidecar. Pure lookups; nothing here changes the pod.

use super::super::kinds;
use super::super::store::Store;
use super::policy::Injector;
use serde_json::{Value, json};

/// What the template reads about the pod's owner (istio's `GetDeployMetaFromPod`).
pub(super) struct Workload {
    pub name: String,
    pub kind: String,
    pub api_version: String,
}

pub(super) fn workload_of(pod: &Value) -> Workload {
    let meta = &pod["metadata"];
    let pod_name = meta["name"].as_str().unwrap_or_default().to_string();
    let mut w = Workload { name: String::new(), kind: "Pod".into(), api_version: "v1".into() };
    // Only generated names are traced to a controller; a hand-named pod is its own workload.
    let generated = meta["generateName"].as_str().is_some_and(|g| !g.is_empty());
    let controller = meta["ownerReferences"]
        .as_array()
        .and_then(|refs| refs.iter().find(|r| r["controller"].as_bool() == Some(true)));
    if let (true, Some(owner)) = (generated, controller) {
        w.kind = owner["kind"].as_str().unwrap_or_default().to_string();
        w.api_version = owner["apiVersion"].as_str().unwrap_or_default().to_string();
        w.name = owner["name"].as_str().unwrap_or_default().to_string();
        let hash = meta.pointer("/labels/pod-template-hash").and_then(Value::as_str).unwrap_or_default();
        if w.kind == "ReplicaSet" && !hash.is_empty() && w.name.ends_with(hash) {
            if let Some(base) = w.name.strip_suffix(&format!("-{hash}")) {
                w.name = base.to_string();
            }
            w.kind = "Deployment".into();
        } else if w.kind == "Job"
            && let Some((cron, stamp)) = w.name.rsplit_once('-')
            && (8..=11).contains(&stamp.len())
            && stamp.chars().all(|c| c.is_ascii_digit())
        {
            w.name = cron.to_string();
            w.kind = "CronJob".into();
        }
    }
    if w.name.is_empty() {
        w.name = pod_name;
    }
    w
}

pub(super) fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    v.pointer(path).filter(|x| !x.is_null())
}

pub(super) fn lookup_str<'a>(v: &'a Value, path: &str) -> Option<&'a str> {
    lookup(v, path).and_then(Value::as_str).filter(|s| !s.is_empty())
}

pub(super) fn truthy(v: &Value, path: &str) -> bool {
    match lookup(v, path) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s == "true",
        _ => false,
    }
}

pub(super) fn annotation<'a>(pod: &'a Value, key: &str) -> Option<&'a str> {
    pod.pointer("/metadata/annotations").and_then(|a| a.get(key)).and_then(Value::as_str)
}

/// `<tag>` with an image variant applied (`-distroless`, `-debug`; `default` strips it).
fn with_variant(tag: &str, variant: Option<&str>) -> String {
    let Some(variant) = variant.filter(|v| !v.is_empty()) else { return tag.to_string() };
    let base = ["-distroless", "-debug"].iter().find_map(|s| tag.strip_suffix(s)).unwrap_or(tag);
    if variant == "default" { base.to_string() } else { format!("{base}-{variant}") }
}

/// The proxy image from `values`: `<hub>/<proxy.image>:<tag>`, or `proxy.image` as written
/// when it already names a registry path.
pub(super) fn values_proxy_image(inj: &Injector, pod: &Value, proxy_config: &Value) -> String {
    let image = lookup_str(&inj.values, "/global/proxy/image").unwrap_or("proxyv2");
    if image.contains('/') {
        return image.to_string();
    }
    let hub = lookup_str(&inj.values, "/global/hub").unwrap_or("docker.io/istio");
    let tag = match lookup(&inj.values, "/global/tag") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => "latest".into(),
    };
    let variant = annotation(pod, "sidecar.istio.io/proxyImageType")
        .or_else(|| lookup_str(proxy_config, "/image/imageType"))
        .or_else(|| lookup_str(&inj.values, "/global/variant"));
    format!("{hub}/{image}:{}", with_variant(&tag, variant))
}

/// Effective ProxyConfig: the mesh's `defaultConfig` overlaid by the pod's
/// `proxy.istio.io/config` annotation (top-level fields replace, proxyMetadata merges).
pub(super) fn proxy_config(inj: &Injector, pod: &Value) -> Value {
    let mut cfg = lookup(&inj.mesh, "/defaultConfig").filter(|v| v.is_object()).cloned().unwrap_or(json!({}));
    let overlay = annotation(pod, "proxy.istio.io/config").and_then(|t| serde_yaml::from_str::<Value>(t).ok());
    if let Some(Value::Object(o)) = overlay {
        for (k, v) in o {
            if k == "proxyMetadata"
                && let (Some(base), Some(add)) = (cfg.get_mut(&k).and_then(Value::as_object_mut), v.as_object())
            {
                base.extend(add.clone());
                continue;
            }
            cfg[&k] = v;
        }
    }
    cfg
}

/// Native sidecar form: the pod annotation decides when present; otherwise istiod's
/// ENABLE_NATIVE_SIDECARS (`auto` means every relevant node's kubelet is 1.33 or newer).
pub(super) fn native_sidecar(inj: &Injector, pod: &Value, store: &Store) -> bool {
    if let Some(a) = annotation(pod, "sidecar.istio.io/nativeSidecar") {
        return a == "true";
    }
    match inj.native_env.as_deref() {
        Some("true") => true,
        Some("auto") => nodes_support_native(pod, store),
        _ => false,
    }
}

fn nodes_support_native(pod: &Value, store: &Store) -> bool {
    let Some(nodes_kind) = kinds::by_group_plural("", "nodes") else { return false };
    let new_enough = |node: &Value| {
        let v = node.pointer("/status/nodeInfo/kubeletVersion").and_then(Value::as_str).unwrap_or_default();
        let mut parts = v.trim_start_matches('v').split(['.', '-', '+']).map(|p| p.parse::<u32>().unwrap_or(0));
        (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (1, 33)
    };
    match lookup_str(pod, "/spec/nodeName") {
        Some(node) => store.get(nodes_kind, "", node).is_some_and(|n| new_enough(&n.value())),
        None => {
            let nodes = store.all(nodes_kind, None);
            !nodes.is_empty() && nodes.iter().all(|n| new_enough(n))
        }
    }
}
