//! Stage A of injection, as the Kubernetes API server performs it: which mutating webhooks a
//! pod CREATE calls (rules, namespaceSelector, objectSelector), in which order, and whether
//! the call reaches a ready backend. It knows nothing of what istiod decides once called.

use super::super::kinds;
use super::super::store::Store;
use crate::labels::{Labels, selector_matches};
use serde_json::Value;
use std::sync::Arc;

/// One webhook of a MutatingWebhookConfiguration, with the configuration it belongs to.
pub(super) struct Hook {
    pub config_labels: Labels,
    pub spec: Value,
}

impl Hook {
    pub fn name(&self) -> &str {
        self.spec.get("name").and_then(Value::as_str).unwrap_or_default()
    }

    /// `failurePolicy: Ignore` lets the request through when the call fails; Fail is the default.
    pub fn fails_open(&self) -> bool {
        self.spec.get("failurePolicy").and_then(Value::as_str) == Some("Ignore")
    }

    /// Both selectors must match. A never-match selector (`istio.io/deactivated`) needs no
    /// special case: no namespace or pod carries that label.
    pub fn selects(&self, namespace_labels: &Labels, pod_labels: &Labels) -> bool {
        selector_matches(self.spec.get("namespaceSelector"), namespace_labels)
            && selector_matches(self.spec.get("objectSelector"), pod_labels)
    }
}

/// Webhooks whose rules cover CREATE of core/v1 pods, in the order the API server calls them:
/// configurations sorted by name, webhooks in the order they are listed.
pub(super) fn pod_create_hooks(store: &Store) -> Vec<Hook> {
    let Some(kind) = kinds::by_group_plural("admissionregistration.k8s.io", "mutatingwebhookconfigurations") else {
        return Vec::new();
    };
    let mut configs = store.all(kind, None);
    configs.sort_by(|a, b| meta_name(a).cmp(meta_name(b)));
    let mut hooks = Vec::new();
    for config in configs {
        let Some(webhooks) = config.get("webhooks").and_then(Value::as_array) else { continue };
        for w in webhooks {
            let rules = w.get("rules").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            if rules.iter().any(covers_pod_create) {
                hooks.push(Hook { config_labels: crate::labels::labels_of(&config), spec: w.clone() });
            }
        }
    }
    hooks
}

fn meta_name(obj: &Value) -> &str {
    obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default()
}

fn covers_pod_create(rule: &Value) -> bool {
    let lists = |field: &str, accepted: &[&str]| {
        rule.get(field)
            .and_then(Value::as_array)
            .is_some_and(|vs| vs.iter().filter_map(Value::as_str).any(|v| accepted.contains(&v)))
    };
    // "pods/*" names only subresources; "*" all resources; "*/*" resources and subresources.
    let scope_ok = rule.get("scope").and_then(Value::as_str).is_none_or(|s| s == "*" || s == "Namespaced");
    lists("operations", &["CREATE", "*"])
        && lists("apiGroups", &["", "*"])
        && lists("apiVersions", &["v1", "*"])
        && lists("resources", &["pods", "*", "*/*"])
        && scope_ok
}

/// Where a called webhook landed.
pub(super) enum Backend {
    /// An istiod pod answered: the revision it serves and its namespace.
    Istiod { namespace: String, revision: String, pod: Arc<Value> },
    /// Something other than istiod answered; the simulation treats it as admitting unchanged.
    Other,
}

/// Resolves the webhook's service to a ready pod, or returns the error text the API server
/// reports after `failed calling webhook "<name>": `.
pub(super) fn call(store: &Store, hook: &Hook) -> Result<Backend, String> {
    let timeout = hook.spec.get("timeoutSeconds").and_then(Value::as_i64).unwrap_or(10);
    let client = hook.spec.get("clientConfig").cloned().unwrap_or(Value::Null);
    let Some(svc_ref) = client.get("service").filter(|s| s.is_object()) else {
        // A URL webhook points outside the cluster, which the simulation cannot reach.
        let url = client.get("url").and_then(Value::as_str).unwrap_or_default();
        let host = url.split("://").nth(1).unwrap_or(url).split(['/', ':']).next().unwrap_or_default();
        return Err(format!(
            "failed to call webhook: Post \"{url}?timeout={timeout}s\": dial tcp: lookup {host}: no such host"
        ));
    };
    let name = svc_ref.get("name").and_then(Value::as_str).unwrap_or_default();
    let namespace = svc_ref.get("namespace").and_then(Value::as_str).unwrap_or_default();
    let port = svc_ref.get("port").and_then(Value::as_i64).unwrap_or(443);
    let path = svc_ref.get("path").and_then(Value::as_str).unwrap_or_default();
    let url = format!("https://{name}.{namespace}.svc:{port}{path}?timeout={timeout}s");
    let fail = |cause: String| Err(format!("failed to call webhook: Post \"{url}\": {cause}"));

    let services = kinds::by_group_plural("", "services").expect("services kind");
    let Some(service) = store.get(services, namespace, name).map(|e| e.value()) else {
        return fail(format!("service \"{name}\" not found"));
    };
    let has_port = service
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .is_some_and(|ps| ps.iter().any(|p| p.get("port").and_then(Value::as_i64) == Some(port)));
    if !has_port {
        return fail(format!("no service port {port} found for service \"{name}\""));
    }
    let Some(pod) = ready_endpoint(store, namespace, &service) else {
        return fail(format!("no endpoints available for service \"{name}\""));
    };
    let pod_labels = crate::labels::labels_of(&pod);
    if pod_labels.get("app").map(String::as_str) != Some("istiod") {
        return Ok(Backend::Other);
    }
    // The answering istiod serves its own revision, whatever the configuration claims; a tag
    // webhook therefore injects the revision behind its service.
    let revision = pod_labels
        .get("istio.io/rev")
        .or_else(|| hook.config_labels.get("istio.io/rev"))
        .cloned()
        .unwrap_or_else(|| "default".into());
    Ok(Backend::Istiod { namespace: namespace.to_string(), revision, pod })
}

/// The first ready, non-terminating pod the service selects (what its endpoints would list).
/// A service without a selector has only manually managed endpoints, which the simulation
/// does not model: it has none.
fn ready_endpoint(store: &Store, namespace: &str, service: &Value) -> Option<Arc<Value>> {
    let selector = service.pointer("/spec/selector").and_then(Value::as_object).filter(|s| !s.is_empty())?;
    let pods = kinds::by_group_plural("", "pods").expect("pods kind");
    store.all(pods, Some(namespace)).into_iter().find(|pod| {
        let labels = crate::labels::labels_of(pod);
        selector.iter().all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str())
            && pod.pointer("/metadata/deletionTimestamp").is_none_or(Value::is_null)
            && is_ready(pod)
    })
}

pub(super) fn is_ready(pod: &Value) -> bool {
    pod.pointer("/status/conditions").and_then(Value::as_array).is_some_and(|cs| {
        cs.iter().any(|c| {
            c.get("type").and_then(Value::as_str) == Some("Ready")
                && c.get("status").and_then(Value::as_str) == Some("True")
        })
    })
}
