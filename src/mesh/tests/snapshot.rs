//! Building a snapshot from Kubernetes JSON: dispatch by apiVersion/kind, lists, bad data
//! skipped with a warning naming it, ConfigMap parsing, removal.

use super::fixtures::*;
use crate::mesh::share::Shared;
use crate::mesh::snapshot::{WorkloadId, in_namespace};
use crate::mesh::types::WorkloadKind;
use crate::mesh::{Object, Snapshot};
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

#[test]
fn pods_keep_only_istio_annotations_and_share_what_their_workload_repeats() {
    let pod_json = |name: &str| {
        json!({"metadata": {"name": name, "namespace": "shop",
            "labels": {"app": "web", "pod-template-hash": "5d9"},
            "annotations": {"sidecar.istio.io/status": "{\"revision\":\"canary\"}", "istio.io/rev": "canary",
                            "kubectl.kubernetes.io/default-container": "web", "prometheus.io/port": "15020"}},
            "spec": {"containers": [{"name": "web", "image": "web:1", "ports": [{"containerPort": 8080}]},
                                    {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.24.2"}]},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
        .to_string()
    };
    let mut staged = Snapshot::default();
    for name in ["web-5d9-a", "web-5d9-b"] {
        staged.put(Object::from_json("", "Pod", &pod_json(name)).unwrap().unwrap());
    }
    let null_annotations = json!({"metadata": {"name": "bare", "namespace": "shop", "annotations": null}});
    staged.put(Object::from_json("", "Pod", &null_annotations.to_string()).unwrap().unwrap());

    let mut snap = Snapshot::from_objects(vec![pod("shop", "old").build()]);
    snap.replace_kind("Pod", staged);
    let names: Vec<&str> = snap.pods.values().map(|p| p.metadata.name.as_str()).collect();
    assert_eq!(names, ["bare", "web-5d9-a", "web-5d9-b"]);
    let a = &snap.pods[&("shop".to_string(), "web-5d9-a".to_string())];
    let b = &snap.pods[&("shop".to_string(), "web-5d9-b".to_string())];
    let keys: Vec<&str> = a.metadata.annotations.keys().map(String::as_str).collect();
    assert_eq!(keys, ["istio.io/rev", "sidecar.istio.io/status"]);
    assert!(snap.pods[&("shop".to_string(), "bare".to_string())].metadata.annotations.is_empty());
    assert!(Shared::same(&a.metadata.labels, &b.metadata.labels));
    assert!(Shared::same(&a.metadata.annotations, &b.metadata.annotations));
    assert!(Shared::same(&a.spec.containers, &b.spec.containers));
    assert!(Shared::same(&a.status.conditions, &b.status.conditions));
    assert_eq!((a.mesh.ready, a.mesh.proxy.injected, a.mesh.proxy.revision.as_deref()), (true, true, Some("canary")));
    assert_eq!(a.mesh.proxy.version(), Some("1.24.2"));
}
