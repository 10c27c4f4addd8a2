//! Fixture builders: compact Kubernetes JSON for the mesh tests. Injector webhook
//! configurations follow ISTIO.md §1.1 exactly (names, labels, selectors per webhook).

use serde_json::{Value, json};

pub fn kv(pairs: &[(&str, &str)]) -> Value {
    Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), json!(v))).collect())
}

pub fn labels(pairs: &[(&str, &str)]) -> crate::labels::Labels {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

pub fn namespace(name: &str, l: &[(&str, &str)]) -> Value {
    let mut lab = kv(l);
    lab["kubernetes.io/metadata.name"] = json!(name);
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": lab}})
}

fn expr(key: &str, op: &str, values: &[&str]) -> Value {
    if values.is_empty() {
        json!({"key": key, "operator": op})
    } else {
        json!({"key": key, "operator": op, "values": values})
    }
}

fn webhook(prefix: &str, service: &str, ns_sel: Vec<Value>, obj_sel: Vec<Value>) -> Value {
    json!({
        "name": format!("{prefix}sidecar-injector.istio.io"),
        "admissionReviewVersions": ["v1beta1", "v1"],
        "clientConfig": {"service": {"name": service, "namespace": "istio-system", "path": "/inject", "port": 443}},
        "failurePolicy": "Fail",
        "reinvocationPolicy": "Never",
        "sideEffects": "None",
        "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}],
        "namespaceSelector": {"matchExpressions": ns_sel},
        "objectSelector": {"matchExpressions": obj_sel},
    })
}

fn istiod_service_name(rev: &str) -> String {
    if rev == "default" { "istiod".into() } else { format!("istiod-{rev}") }
}

/// The webhooks of §1.1 for selector value `r` (revision or tag name); `with_default` adds
/// `namespace.` and `object.` (default revision, or tag `default`).
fn injector_webhooks(r: &str, service: &str, with_default: bool) -> Vec<Value> {
    let not_false = || expr("sidecar.istio.io/inject", "NotIn", &["false"]);
    let mut hooks = vec![
        webhook(
            "rev.namespace.",
            service,
            vec![expr("istio.io/rev", "In", &[r]), expr("istio-injection", "DoesNotExist", &[])],
            vec![not_false()],
        ),
        webhook(
            "rev.object.",
            service,
            vec![expr("istio.io/rev", "DoesNotExist", &[]), expr("istio-injection", "DoesNotExist", &[])],
            vec![not_false(), expr("istio.io/rev", "In", &[r])],
        ),
    ];
    if with_default {
        hooks.push(webhook(
            "namespace.",
            service,
            vec![expr("istio-injection", "In", &["enabled"])],
            vec![not_false()],
        ));
        hooks.push(webhook(
            "object.",
            service,
            vec![expr("istio-injection", "DoesNotExist", &[]), expr("istio.io/rev", "DoesNotExist", &[])],
            vec![expr("sidecar.istio.io/inject", "In", &["true"]), expr("istio.io/rev", "DoesNotExist", &[])],
        ));
    }
    hooks
}

/// MutatingWebhookConfiguration of a revision; `default` is the unrevisioned install.
pub fn revision_mwc(rev: &str) -> Value {
    let name =
        if rev == "default" { "istio-sidecar-injector".to_string() } else { format!("istio-sidecar-injector-{rev}") };
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": name, "labels": {"istio.io/rev": rev, "app": "sidecar-injector"}},
        "webhooks": injector_webhooks(rev, &istiod_service_name(rev), rev == "default"),
    })
}

/// MutatingWebhookConfiguration of tag `tag` pointing at revision `target`.
pub fn tag_mwc(tag: &str, target: &str) -> Value {
    json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {
            "name": format!("istio-revision-tag-{tag}"),
            "labels": {"istio.io/tag": tag, "istio.io/rev": target, "app": "sidecar-injector"},
        },
        "webhooks": injector_webhooks(tag, &istiod_service_name(target), tag == "default"),
    })
}

/// Adds the `auto.` webhook (`enableNamespacesByDefault=true`).
pub fn with_auto(mut mwc: Value) -> Value {
    let service = mwc["webhooks"][0]["clientConfig"]["service"]["name"].as_str().unwrap_or("istiod").to_string();
    let hook = webhook(
        "auto.",
        &service,
        vec![
            expr("istio-injection", "DoesNotExist", &[]),
            expr("istio.io/rev", "DoesNotExist", &[]),
            expr(
                "kubernetes.io/metadata.name",
                "NotIn",
                &["kube-system", "kube-public", "kube-node-lease", "local-path-storage"],
            ),
        ],
        vec![expr("sidecar.istio.io/inject", "DoesNotExist", &[]), expr("istio.io/rev", "DoesNotExist", &[])],
    );
    mwc["webhooks"].as_array_mut().expect("fixture has webhooks").push(hook);
    mwc
}

/// What `istioctl tag set default` does to the old default webhooks.
pub fn deactivated(mut mwc: Value) -> Value {
    for w in mwc["webhooks"].as_array_mut().expect("fixture has webhooks") {
        w["namespaceSelector"] = json!({"matchLabels": {"istio.io/deactivated": "never-match"}});
        w["objectSelector"] = json!({"matchLabels": {"istio.io/deactivated": "never-match"}});
    }
    mwc
}

/// ConfigMap `istio-sidecar-injector[-rev]`. `values_tag` None leaves out `values`.
pub fn injector_cm(rev: &str, policy: &str, never: Value, always: Value, values_tag: Option<&str>) -> Value {
    let name =
        if rev == "default" { "istio-sidecar-injector".to_string() } else { format!("istio-sidecar-injector-{rev}") };
    let config = format!(
        "policy: {policy}\nalwaysInjectSelector: {}\nneverInjectSelector: {}\ninjectedAnnotations: {{}}\ndefaultTemplates: [sidecar]\ntemplates: {{}}\n",
        always, never
    );
    let mut data = json!({"config": config});
    if let Some(tag) = values_tag {
        let revision = if rev == "default" { "" } else { rev };
        data["values"] = json!(
            json!({"global": {"hub": "docker.io/istio", "tag": tag, "proxy": {"image": "proxyv2"}}, "revision": revision})
                .to_string()
        );
    }
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "namespace": "istio-system", "labels": {"istio.io/rev": rev}}, "data": data})
}

/// Deployment and Service of a revision's istiod.
pub fn istiod(rev: &str, version: &str, ready: i64, replicas: i64) -> Vec<Value> {
    let name = istiod_service_name(rev);
    vec![
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "istio-system", "labels": {"app": "istiod", "istio.io/rev": rev}},
            "spec": {"replicas": replicas, "template": {
                "metadata": {"labels": {"app": "istiod", "istio.io/rev": rev, "sidecar.istio.io/inject": "false"}},
                "spec": {"containers": [{"name": "discovery", "image": format!("docker.io/istio/pilot:{version}")}]}}},
            "status": {"replicas": replicas, "readyReplicas": ready}}),
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": "istio-system", "labels": {"app": "istiod", "istio.io/rev": rev}},
            "spec": {"selector": {"app": "istiod", "istio.io/rev": rev}, "ports": [{"name": "https-webhook", "port": 443, "targetPort": 15017}]}}),
    ]
}

/// A complete revision: istiod, its webhook configuration and its injector ConfigMap.
pub fn revision(rev: &str, version: &str) -> Vec<Value> {
    let mut v = istiod(rev, version, 1, 1);
    v.push(revision_mwc(rev));
    v.push(injector_cm(rev, "enabled", json!([]), json!([]), Some(version)));
    v
}

pub fn deployment(ns: &str, name: &str, tl: &[(&str, &str)], ta: &[(&str, &str)]) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
        "spec": {"replicas": 1, "template": {"metadata": {"labels": kv(tl), "annotations": kv(ta)},
            "spec": {"serviceAccountName": name, "containers": [{"name": "app", "image": "app:1"}]}}}})
}

/// A pod, built up with the methods below.
pub struct PodB(pub Value);

pub fn pod(ns: &str, name: &str) -> PodB {
    PodB(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{ns}-{name}"), "labels": {}, "annotations": {}},
        "spec": {"containers": [{"name": "app", "image": "app:1"}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}))
}

impl PodB {
    pub fn labels(mut self, l: &[(&str, &str)]) -> Self {
        for (k, v) in l {
            self.0["metadata"]["labels"][*k] = json!(v);
        }
        self
    }
    pub fn annotations(mut self, a: &[(&str, &str)]) -> Self {
        for (k, v) in a {
            self.0["metadata"]["annotations"][*k] = json!(v);
        }
        self
    }
    pub fn owner(mut self, kind: &str, name: &str) -> Self {
        self.0["metadata"]["ownerReferences"] =
            json!([{"apiVersion": "apps/v1", "kind": kind, "name": name, "controller": true, "uid": "x"}]);
        self
    }
    pub fn phase(mut self, phase: &str) -> Self {
        self.0["status"]["phase"] = json!(phase);
        self
    }
    /// Injected by `rev` (classic sidecar) running `image`; `rev` None leaves out every revision hint.
    pub fn injected(self, rev: Option<&str>, image: &str) -> Self {
        let status = match rev {
            Some(r) => {
                json!({"initContainers": ["istio-init"], "containers": ["istio-proxy"], "volumes": ["istiod-ca-cert"],
                              "imagePullSecrets": null, "revision": r})
            }
            None => json!({"initContainers": ["istio-init"], "containers": ["istio-proxy"], "version": "abc"}),
        };
        let mut p = self.annotations(&[("sidecar.istio.io/status", &status.to_string())]);
        if let Some(r) = rev {
            p = p.annotations(&[("istio.io/rev", r)]);
        }
        p.0["spec"]["containers"]
            .as_array_mut()
            .expect("containers")
            .push(json!({"name": "istio-proxy", "image": image}));
        p.0["spec"]["initContainers"] = json!([{"name": "istio-init", "image": image}]);
        p
    }
    pub fn build(self) -> Value {
        self.0
    }
}

pub fn pa(ns: &str, name: &str, created: &str, mode: Option<&str>, selector: &[(&str, &str)]) -> Value {
    let mut spec = json!({});
    if let Some(m) = mode {
        spec["mtls"] = json!({"mode": m});
    }
    if !selector.is_empty() {
        spec["selector"] = json!({"matchLabels": kv(selector)});
    }
    json!({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": created}, "spec": spec})
}

pub fn ap(ns: &str, name: &str, spec: Value) -> Value {
    json!({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": "2024-01-01T00:00:00Z"}, "spec": spec})
}

/// Sets one label on any object.
pub fn with_label(mut obj: Value, k: &str, v: &str) -> Value {
    obj["metadata"]["labels"][k] = json!(v);
    obj
}

/// Sets one annotation on any object.
pub fn with_annotation(mut obj: Value, k: &str, v: &str) -> Value {
    obj["metadata"]["annotations"][k] = json!(v);
    obj
}
