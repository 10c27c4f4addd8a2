//! Tests of injection against the `istio` scenario: the decision table of ISTIO.md 1.3,
//! istiod's own checks, failures and overlaps, and the shape of injected pods. Every
//! expectation is written by hand.

mod decision;
mod failures;
mod mutation;
mod scenario;

use super::{Denied, admit_pod};
use crate::sim::defaults;
use crate::sim::kinds::{self, Kind};
use crate::sim::store::Store;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::SystemTime;

/// Label or annotation pairs as tests write them.
pub(super) type Pairs<'a> = &'a [(&'a str, &'a str)];

pub(super) const ISTIO_YAML: &str = include_str!("../../../../assets/scenarios/istio.yaml");

pub(super) fn kind(group: &str, plural: &str) -> &'static Kind {
    kinds::by_group_plural(group, plural).unwrap_or_else(|| panic!("kind {group}/{plural}"))
}

pub(super) fn mwc_kind() -> &'static Kind {
    kind("admissionregistration.k8s.io", "mutatingwebhookconfigurations")
}

/// The documents of a multi-document YAML stream, empty documents dropped.
pub(super) fn documents(yaml: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|doc| Value::deserialize(doc).expect("valid YAML document"))
        .filter(|v| !v.is_null())
        .collect()
}

/// Stores objects the way the API server would after defaulting the bits injection reads.
pub(super) fn load(store: &Store, yaml: &str) {
    for mut obj in documents(yaml) {
        let api_version = obj["apiVersion"].as_str().unwrap_or_default().to_string();
        let k = kinds::by_api_version_kind(&api_version, obj["kind"].as_str().unwrap_or_default())
            .unwrap_or_else(|| panic!("served kind for {api_version} {}", obj["kind"]));
        if k.plural == "namespaces" {
            let name = obj["metadata"]["name"].clone();
            obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
        }
        store.create(k, obj).expect("create scenario object");
    }
}

/// A running, Ready pod of a Deployment, as the controllers would leave it.
pub(super) fn ready_pod_of(store: &Store, namespace: &str, deployment: &str) -> Value {
    let deploy = store.get(kind("apps", "deployments"), namespace, deployment).expect("deployment").value();
    let hash = "5d9c8b7f6";
    let template = &deploy["spec"]["template"];
    let mut labels = template["metadata"]["labels"].clone();
    labels["pod-template-hash"] = json!(hash);
    let pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": format!("{deployment}-{hash}-x7k2p"),
            "generateName": format!("{deployment}-{hash}-"),
            "namespace": namespace,
            "labels": labels,
            "annotations": template["metadata"]["annotations"].clone(),
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": format!("{deployment}-{hash}"),
                                 "uid": "00000000-0000-4000-8000-000000000001", "controller": true,
                                 "blockOwnerDeletion": true}],
        },
        "spec": template["spec"].clone(),
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    });
    pod
}

/// The scenario with one Ready istiod pod per revision.
pub(super) fn cluster() -> Arc<Store> {
    let store = Store::new(1000);
    load(&store, ISTIO_YAML);
    for rev in ["1-24-3", "1-25-0"] {
        let pod = ready_pod_of(&store, "istio-system", &format!("istiod-{rev}"));
        store.create(kind("", "pods"), pod).expect("istiod pod");
    }
    store
}

pub(super) fn namespace(store: &Store, name: &str, labels: &[(&str, &str)]) {
    let mut l = json!({"kubernetes.io/metadata.name": name});
    for (k, v) in labels {
        l[*k] = json!(v);
    }
    store
        .create(
            kind("", "namespaces"),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": l}}),
        )
        .expect("namespace");
}

fn map(pairs: &[(&str, &str)]) -> Value {
    Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), json!(v))).collect())
}

/// A one-container application pod.
pub(super) fn app_pod(namespace: &str, name: &str, labels: &[(&str, &str)], annotations: &[(&str, &str)]) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": map(labels), "annotations": map(annotations)},
        "spec": {"containers": [{"name": "app", "image": "docker.io/example/app:1.0",
                                 "ports": [{"name": "http", "containerPort": 8080}]}]},
    })
}

/// Admission as `ops` runs it: create-time defaults first, then the webhooks.
pub(super) fn admit(store: &Store, mut pod: Value) -> Result<Value, Denied> {
    defaults::on_create(kind("", "pods"), &mut pod, "2025-03-01T10:00:00Z");
    admit_pod(store, pod, SystemTime::now())
}

/// The revision that injected the pod, or None when it was not injected. Also checks the
/// invariants every injected pod holds: one proxy, and status and annotation agreeing.
pub(super) fn injected_revision(pod: &Value) -> Option<String> {
    let annotations = &pod["metadata"]["annotations"];
    let status = annotations.get("sidecar.istio.io/status").and_then(Value::as_str)?;
    let status: Value = serde_json::from_str(status).expect("status is JSON");
    let rev = annotations["istio.io/rev"].as_str().expect("istio.io/rev annotation").to_string();
    assert_eq!(status["revision"], json!(rev), "status revision matches the annotation");
    let proxies = ["containers", "initContainers"]
        .iter()
        .flat_map(|l| pod["spec"][*l].as_array().cloned().unwrap_or_default())
        .filter(|c| c["name"] == "istio-proxy")
        .count();
    assert_eq!(proxies, 1, "exactly one istio-proxy");
    Some(rev)
}

pub(super) fn names(pod: &Value, list: &str) -> Vec<String> {
    pod["spec"][list]
        .as_array()
        .map(|a| a.iter().map(|c| c["name"].as_str().unwrap_or("").to_string()).collect())
        .unwrap_or_default()
}

pub(super) fn container<'a>(pod: &'a Value, name: &str) -> &'a Value {
    ["containers", "initContainers"]
        .iter()
        .filter_map(|l| pod["spec"][*l].as_array())
        .flatten()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("container {name}"))
}

pub(super) fn env_value(c: &Value, name: &str) -> Option<String> {
    c["env"].as_array()?.iter().find(|e| e["name"] == name)?["value"].as_str().map(str::to_string)
}

/// Replaces one object after editing it.
pub(super) fn edit(store: &Store, k: &'static Kind, namespace: &str, name: &str, f: impl FnOnce(&mut Value)) {
    let mut obj = (*store.get(k, namespace, name).unwrap_or_else(|| panic!("{name} exists")).value()).clone();
    f(&mut obj);
    store.update(k, obj, None).expect("update");
}

/// Rewrites one YAML key of a ConfigMap's data (e.g. the injector `config`).
pub(super) fn edit_yaml_key(store: &Store, cm: &str, key: &str, f: impl FnOnce(&mut Value)) {
    edit(store, kind("", "configmaps"), "istio-system", cm, |obj| {
        let mut data: Value = serde_yaml::from_str(obj["data"][key].as_str().expect("key")).expect("yaml");
        f(&mut data);
        obj["data"][key] = json!(serde_yaml::to_string(&data).expect("yaml out"));
    });
}

pub(super) fn set_ready(store: &Store, pod: &str, ready: bool) {
    edit(store, kind("", "pods"), "istio-system", pod, |p| {
        p["status"]["conditions"] = json!([{"type": "Ready", "status": if ready { "True" } else { "False" }}]);
    });
}

/// Rewrites the `values` key (JSON, as the chart writes it) of an injector ConfigMap.
pub(super) fn edit_values(store: &Store, cm: &str, f: impl FnOnce(&mut Value)) {
    edit(store, kind("", "configmaps"), "istio-system", cm, |obj| {
        let mut values: Value = serde_json::from_str(obj["data"]["values"].as_str().expect("values")).expect("json");
        f(&mut values);
        obj["data"]["values"] = json!(values.to_string());
    });
}
