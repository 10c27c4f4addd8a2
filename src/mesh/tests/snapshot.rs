//! Building a snapshot from Kubernetes JSON: dispatch by apiVersion/kind, lists, bad data
//! skipped with a warning naming it, ConfigMap parsing, removal.

use super::fixtures::*;
use crate::mesh::Snapshot;
use crate::mesh::snapshot::{WorkloadId, in_namespace};
use crate::mesh::types::WorkloadKind;
use serde_json::json;

#[test]
fn malformed_objects_are_skipped_and_named() {
    let snap = Snapshot::from_objects(vec![
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bad-labels", "namespace": "shop", "labels": {"app": 7}}}),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"namespace": "shop"}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"}, "spec": {"replicas": "three"}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio-sidecar-injector", "namespace": "istio-system"},
               "data": {"config": "policy: [unclosed", "values": "{}"}}),
        json!("just a string"),
        pod("shop", "fine").labels(&[("app", "web")]).build(),
    ]);
    assert_eq!(snap.pods.len(), 1);
    assert!(snap.workloads.is_empty() && snap.injector_configs.is_empty());
    assert_eq!(snap.warnings.len(), 5, "{:#?}", snap.warnings);
    let prefixes = [
        "skipped Pod shop/bad-labels: ",
        "skipped Pod shop/<unnamed>: metadata.name is missing",
        "skipped Deployment shop/web: ",
        "skipped ConfigMap istio-system/istio-sidecar-injector: key config: ",
        "skipped a non-object item: \"just a string\"",
    ];
    for (w, p) in snap.warnings.iter().zip(prefixes) {
        assert!(w.starts_with(p), "{w:?} should start with {p:?}");
    }
}

#[test]
fn lists_unknown_kinds_and_managed_fields() {
    let list = json!({"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "9"}, "items": [
        {"metadata": {"name": "a", "namespace": "shop", "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:metadata": {}}}]}},
        {"metadata": {"name": "b", "namespace": "shop"}, "status": null, "spec": {"containers": null}},
    ]});
    let generic = json!({"apiVersion": "v1", "kind": "List", "items": [namespace("shop", &[]),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "shop"}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app-config", "namespace": "shop"}, "data": {"mesh": "x"}}),
        json!({"apiVersion": "example.com/v1", "kind": "Pod", "metadata": {"name": "not-core", "namespace": "shop"}})]});
    let snap = Snapshot::from_objects(vec![list, generic]);
    assert!(snap.warnings.is_empty(), "{:?}", snap.warnings);
    let pods: Vec<&str> = snap.pods.values().map(|p| p.metadata.name.as_str()).collect();
    assert_eq!(pods, vec!["a", "b"]);
    assert_eq!(snap.namespaces.len(), 1);
    assert!(snap.mesh_configs.is_empty() && snap.injector_configs.is_empty());
}

#[test]
fn injector_and_mesh_config_maps() {
    let cm = injector_cm(
        "1-24-3",
        "disabled",
        json!([{"matchLabels": {"team": "x"}}]),
        json!([{"matchLabels": {"a": "b"}}, {"matchLabels": {"c": "d"}}]),
        Some("1.24.3"),
    );
    let unrevisioned = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "istio-sidecar-injector", "namespace": "istio-system"},
        "data": {"values": "{\"global\":{\"hub\":\"gcr.io/istio-release\",\"tag\":1.2,\"proxy\":{\"image\":\"my.registry/proxy:7\"}},\"revision\":\"\"}"}});
    let mesh = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio-1-24-3", "namespace": "istio-system"},
        "data": {"mesh": "defaultConfig:\n  discoveryAddress: istiod-1-24-3.istio-system.svc:15012\n"}});
    let snap = Snapshot::from_objects(vec![cm, unrevisioned, mesh]);
    assert!(snap.warnings.is_empty(), "{:?}", snap.warnings);
    let c = &snap.injector_configs[&("istio-system".to_string(), "istio-sidecar-injector-1-24-3".to_string())];
    assert_eq!((c.policy.as_str(), c.revision()), ("disabled", "1-24-3".to_string()));
    assert_eq!((c.never_inject_selector.len(), c.always_inject_selector.len()), (1, 2));
    assert_eq!(
        (c.hub.as_deref(), c.tag.as_deref(), c.proxy_image.as_deref()),
        (Some("docker.io/istio"), Some("1.24.3"), Some("proxyv2"))
    );
    let u = &snap.injector_configs[&("istio-system".to_string(), "istio-sidecar-injector".to_string())];
    assert_eq!((u.policy.as_str(), u.revision(), u.tag.as_deref()), ("enabled", "default".to_string(), Some("1.2")));
    assert_eq!(crate::mesh::revision::expected_image(u).as_deref(), Some("my.registry/proxy:7"));
    assert_eq!(crate::mesh::revision::expected_image(c).as_deref(), Some("docker.io/istio/proxyv2:1.24.3"));
    // A mesh config without rootNamespace means its own namespace.
    assert_eq!(snap.root_namespace(), "istio-system");
    assert_eq!(Snapshot::default().root_namespace(), "istio-system");
}

#[test]
fn workloads_insert_replace_and_remove() {
    let mut snap = Snapshot::from_objects(vec![
        deployment("shop", "web", &[("app", "web")], &[]),
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": "shop"},
               "spec": {"updateStrategy": {"type": "OnDelete"}, "template": {"spec": {"hostNetwork": true}}},
               "status": {"desiredNumberScheduled": 3, "numberReady": 2, "updatedNumberScheduled": 3, "numberAvailable": 2}}),
        pa("shop", "a", "2024-01-01T00:00:00Z", Some("STRICT"), &[]),
        pa("shopping", "b", "2024-01-01T00:00:00Z", Some("STRICT"), &[]),
        pa("shop", "c", "2024-01-01T00:00:00Z", Some("STRICT"), &[]),
    ]);
    let ds =
        &snap.workloads[&WorkloadId { namespace: "shop".into(), kind: WorkloadKind::DaemonSet, name: "agent".into() }];
    assert_eq!((ds.replicas, ds.ready_replicas, ds.updated_replicas, ds.available_replicas), (3, 2, 3, 2));
    assert_eq!((ds.strategy.as_deref(), ds.template.spec.host_network), (Some("OnDelete"), true));
    let names: Vec<&str> = in_namespace(&snap.peer_authentications, "shop").map(|p| p.metadata.name.as_str()).collect();
    assert_eq!(names, vec!["a", "c"]);
    // Replacing keeps one entry; removing by kind forgets it.
    snap.insert(deployment("shop", "web", &[("app", "web2")], &[])).expect("valid deployment");
    assert_eq!(snap.workloads.len(), 2);
    assert!(snap.remove("Deployment", "shop", "web"));
    assert!(!snap.remove("Deployment", "shop", "web"));
    assert!(snap.remove("PeerAuthentication", "shop", "a"));
    assert_eq!(snap.workloads.len(), 1);
    assert_eq!(snap.peer_authentications.len(), 2);
}
