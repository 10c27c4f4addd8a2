//! Which GitOps tool or package manager owns a live object, from the labels and annotations
//! Helm, Argo CD and Flux put on what they apply. Pure. Flux is checked first: its
//! helm-controller installs with Helm, so its objects carry Helm's marks as well.

use serde_json::Value;

fn meta<'a>(live: &'a Value, map: &str, key: &str) -> Option<&'a str> {
    live.get("metadata")?.get(map)?.get(key)?.as_str().filter(|s| !s.is_empty())
}

/// "Helm release bookinfo", "Argo CD application shop", "Flux Kustomization flux-system/apps",
/// "Flux HelmRelease flux-system/istiod"; `None` when nothing marks the object.
pub fn managed_by(live: &Value) -> Option<String> {
    let label = |k: &str| meta(live, "labels", k);
    let annotation = |k: &str| meta(live, "annotations", k);
    let qualified = |name: &str, ns: Option<&str>| match ns {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    };
    if let Some(name) = label("kustomize.toolkit.fluxcd.io/name") {
        return Some(format!("Flux Kustomization {}", qualified(name, label("kustomize.toolkit.fluxcd.io/namespace"))));
    }
    if let Some(name) = label("helm.toolkit.fluxcd.io/name") {
        return Some(format!("Flux HelmRelease {}", qualified(name, label("helm.toolkit.fluxcd.io/namespace"))));
    }
    // tracking-id reads `<application>:<group>/<kind>:<namespace>/<name>`.
    let tracked =
        annotation("argocd.argoproj.io/tracking-id").and_then(|t| t.split(':').next()).filter(|a| !a.is_empty());
    if let Some(app) = label("argocd.argoproj.io/instance").or(tracked) {
        return Some(format!("Argo CD application {app}"));
    }
    let helm = label("app.kubernetes.io/managed-by") == Some("Helm");
    match annotation("meta.helm.sh/release-name") {
        Some(release) => Some(format!("Helm release {release}")),
        None if helm => Some(match label("app.kubernetes.io/instance") {
            Some(i) => format!("Helm release {i}"),
            None => "Helm".into(),
        }),
        None => None,
    }
}
