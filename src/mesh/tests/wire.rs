//! The wire form of a pod: what is read of it, which strings stay borrowed from the text,
//! and the pools finding their copies from it.

use crate::mesh::share::{PodParts, Shared};
use crate::mesh::types::Pod;
use crate::mesh::wire::PodWire;
use std::borrow::Cow;

/// Labels out of order and one key twice; annotations of other tools; fields the model
/// never reads; a JSON-in-a-string annotation (escaped, so it cannot be borrowed).
const POD: &str = r#"{
  "metadata": {"name": "web-1", "namespace": "shop",
    "labels": {"version": "v1", "app": "web", "app": "web2"},
    "annotations": {"kubectl.kubernetes.io/restartedAt": "x",
      "sidecar.istio.io/status": "{\"revision\":\"canary\"}", "istio.io/rev": "canary"},
    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d9", "controller": true, "uid": "u"}],
    "creationTimestamp": "2026-11-01T00:00:00Z", "managedFields": [{"manager": "x"}]},
  "spec": {"serviceAccountName": "web", "nodeName": "node-1", "hostNetwork": null,
    "volumes": [{"name": "v", "emptyDir": {}}],
    "initContainers": [{"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.24.3", "restartPolicy": "Always",
      "env": [{"name": "A", "value": "b"}]}],
    "containers": [{"name": "web", "image": "shop/web:2", "ports": [{"containerPort": 8080}]}]},
  "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "t"}],
    "containerStatuses": null}
}"#;

fn strs<'a>(pairs: impl IntoIterator<Item = (&'a String, &'a String)>) -> Vec<(&'a str, &'a str)> {
    pairs.into_iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[test]
fn plain_strings_stay_borrowed_and_escaped_ones_are_unescaped() {
    let w: PodWire = serde_json::from_str(POD).unwrap();
    assert!(matches!(w.metadata.name.0, Cow::Borrowed("web-1")));
    let ann: Vec<(&str, &Cow<str>)> = w.metadata.annotations.0.iter().map(|(k, v)| (k.as_str(), &v.0)).collect();
    assert_eq!(ann.len(), 2, "only Istio's annotations: {ann:?}");
    assert!(matches!(ann[0], ("istio.io/rev", Cow::Borrowed("canary"))));
    assert!(matches!(ann[1], ("sidecar.istio.io/status", Cow::Owned(s)) if s == r#"{"revision":"canary"}"#));
    let labels: Vec<(&str, &str)> = w.metadata.labels.0.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(labels, [("app", "web2"), ("version", "v1")], "in key order, a repeated key's last value");
}

#[test]
fn a_pod_reads_what_the_model_uses() {
    let p: Pod = serde_json::from_str(POD).unwrap();
    assert_eq!((p.metadata.namespace.as_str(), p.metadata.name.as_str()), ("shop", "web-1"));
    assert_eq!(strs(p.metadata.labels.iter()), [("app", "web2"), ("version", "v1")]);
    assert_eq!(
        strs(p.metadata.annotations.iter()),
        [("istio.io/rev", "canary"), ("sidecar.istio.io/status", r#"{"revision":"canary"}"#)]
    );
    let owner = p.metadata.controller().unwrap();
    assert_eq!((owner.kind.as_str(), owner.name.as_str(), owner.controller), ("ReplicaSet", "web-5d9", true));
    assert_eq!(p.metadata.creation_timestamp.as_deref(), Some("2026-11-01T00:00:00Z"));
    assert_eq!(p.spec.service_account_name.as_deref(), Some("web"));
    assert_eq!(p.spec.node_name.as_deref(), Some("node-1"));
    assert!(!p.spec.host_network);
    let init = &p.spec.init_containers[0];
    assert_eq!(
        (init.name.as_str(), init.image.as_deref(), init.restart_policy.as_deref()),
        ("istio-proxy", Some("docker.io/istio/proxyv2:1.24.3"), Some("Always"))
    );
    assert_eq!(p.spec.containers[0].image.as_deref(), Some("shop/web:2"));
    assert_eq!(p.status.phase.as_deref(), Some("Running"));
    assert!(p.is_ready());
    assert!(p.status.container_statuses.is_empty());
}

#[test]
fn nulls_are_empty_and_wrong_types_are_named() {
    let p: Pod = serde_json::from_str(
        r#"{"metadata":{"name":"x","labels":null,"annotations":null,"ownerReferences":null},"spec":null,"status":null}"#,
    )
    .unwrap();
    assert!(p.metadata.labels.is_empty() && p.metadata.annotations.is_empty());
    assert!(p.spec.containers.is_empty() && p.status.conditions.is_empty());
    let err = serde_json::from_str::<Pod>(r#"{"metadata":{"name":5}}"#).unwrap_err().to_string();
    assert!(err.starts_with("invalid type: integer `5`, expected a string"), "{err}");
    let err = serde_json::from_str::<Pod>(r#"{"metadata":{"labels":{"a":1}}}"#).unwrap_err().to_string();
    assert!(err.starts_with("invalid type: integer `1`, expected a string"), "{err}");
}

#[test]
fn the_pools_find_their_copies_from_the_wire_form() {
    let mut parts = PodParts::default();
    let w: PodWire = serde_json::from_str(POD).unwrap();
    let a = parts.build(&w);
    let b = parts.build(&w);
    assert!(Shared::same(&a.metadata.labels, &b.metadata.labels));
    assert!(Shared::same(&a.spec.init_containers, &b.spec.init_containers));
    assert!(Shared::same(&a.status.conditions, &b.status.conditions));
    // A pod decoded on its own (a watch event) has its own copies until it is shared, and then
    // finds the ones built from the wire: both sides hash alike.
    let mut c: Pod = serde_json::from_str(POD).unwrap();
    assert!(!Shared::same(&a.metadata.labels, &c.metadata.labels));
    parts.share(&mut c);
    assert!(Shared::same(&a.metadata.labels, &c.metadata.labels));
    assert!(Shared::same(&a.metadata.annotations, &c.metadata.annotations));
    assert!(Shared::same(&a.metadata.owner_references, &c.metadata.owner_references));
    assert!(Shared::same(&a.spec.containers, &c.spec.containers));
    assert!(Shared::same(&a.status.conditions, &c.status.conditions));
    // A part that differs is its own copy; the rest is still shared.
    let other = POD.replace("shop/web:2", "shop/web:3");
    let d = parts.build(&serde_json::from_str(&other).unwrap());
    assert!(!Shared::same(&a.spec.containers, &d.spec.containers));
    assert_eq!(d.spec.containers[0].image.as_deref(), Some("shop/web:3"));
    assert!(Shared::same(&a.metadata.labels, &d.metadata.labels));
}
