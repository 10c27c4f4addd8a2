//! Sidecar injection as a real cluster performs it on pod CREATE: the API server's webhook
//! selection over every MutatingWebhookConfiguration, then istiod's own checks with the
//! injector ConfigMap of that revision, then the mutation. Written from Kubernetes' and
//! Istio's documented behaviour, independently of `mesh/`'s predictions.
//!
//! Overlapping webhooks: the API server calls every matching webhook, one after another,
//! and istiod does not skip a pod that already carries `sidecar.istio.io/status`; it
//! re-renders its template and merges it over the pod by container and volume name. So two
//! matching injectors never double the containers: the pod ends up with one `istio-proxy`
//! whose image, `CA_ADDR` and `istio.io/rev` come from whichever webhook ran last, that is
//! the configuration whose name sorts last. That silent "last one wins" is the real hazard
//! behind IST0139, and it is what the simulation reproduces.

mod inputs;
mod merge;
mod policy;
mod probes;
mod template;
mod webhook;

#[cfg(test)]
mod tests;

use super::kinds;
use super::store::Store;
use crate::labels::labels_of;
use serde_json::{Value, json};
use std::time::SystemTime;

/// A refusal, returned to the client as a Kubernetes Status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub code: u16,
    pub reason: String,
    pub message: String,
}

/// Runs admission for a pod about to be created in its namespace; returns the pod to store
/// (injected or not), or the error a real API server gives.
pub fn admit_pod(store: &Store, pod: Value, now: SystemTime) -> Result<Value, Denied> {
    let namespace = pod.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or("default").to_string();
    let ns_labels = {
        let ns_kind = kinds::by_group_plural("", "namespaces").expect("namespaces kind");
        let mut labels = store.get(ns_kind, "", &namespace).map(|e| labels_of(&e.value())).unwrap_or_default();
        labels.entry("kubernetes.io/metadata.name".into()).or_insert_with(|| namespace.clone());
        labels
    };
    let mut pod = pod;
    let mut mutated = false;
    for hook in webhook::pod_create_hooks(store) {
        // Selectors see the pod as earlier webhooks left it.
        if !hook.selects(&ns_labels, &labels_of(&pod)) {
            continue;
        }
        let backend = match webhook::call(store, &hook) {
            Ok(b) => b,
            Err(_) if hook.fails_open() => continue,
            Err(cause) => {
                return Err(Denied {
                    code: 500,
                    reason: "InternalError".into(),
                    message: format!("Internal error occurred: failed calling webhook \"{}\": {cause}", hook.name()),
                });
            }
        };
        let webhook::Backend::Istiod { namespace: cp_namespace, revision, pod: istiod_pod } = backend else {
            continue;
        };
        let injector = policy::Injector::load(store, &cp_namespace, &revision, &istiod_pod);
        if !injector.inject_required(&pod, &namespace) {
            continue;
        }
        pod = inject(&injector, pod, store).map_err(|msg| Denied {
            // An explicit rejection from the webhook carries no reason; kubectl prints
            // "Error from server: ..." for it.
            code: 400,
            reason: String::new(),
            message: format!("admission webhook \"{}\" denied the request: {msg}", hook.name()),
        })?;
        mutated = true;
    }
    if mutated {
        // The API server defaults the patched object again, so injected containers get the
        // same defaults as the user's.
        let pods = kinds::by_group_plural("", "pods").expect("pods kind");
        let status = pod.get("status").cloned();
        super::defaults::on_create(pods, &mut pod, &super::clock::rfc3339(now));
        if let Some(s) = status {
            pod["status"] = s;
        }
    }
    Ok(pod)
}

/// istiod's `injectPod`: render the selected templates for the application view of the pod
/// and merge the result over the pod as it arrived.
fn inject(injector: &policy::Injector, mut pod: Value, store: &Store) -> Result<Value, String> {
    for t in injector.selected_templates(&pod) {
        if !injector.templates.contains(&t) {
            return Err(format!(
                "failed to run injection template: requested template \"{t}\" not found; have {}",
                injector.templates.join(", ")
            ));
        }
    }
    let previous = merge::Previous::of(&pod);
    let view = merge::application_view(&pod, previous.as_ref());
    let rendered = template::render(injector, &view, store);
    let status = template::status_json(&rendered, &injector.revision);
    if !pod.get("spec").is_some_and(Value::is_object) {
        pod["spec"] = json!({});
    }
    merge::apply(&mut pod, &rendered, previous.as_ref(), status, injector);
    Ok(pod)
}
