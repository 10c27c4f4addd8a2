//! The CA controller against an in-process cluster: what it writes, when, and what the
//! certificate book then answers.

use super::*;
use crate::sim::clock::Clock;
use base64::Engine;
use std::time::{Duration, SystemTime};

const HOUR: Duration = Duration::from_secs(3600);

fn ns_obj(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

fn istiod(ns: &str, name: &str, rev: &str, tag: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": "istiod", "istio.io/rev": rev}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "istiod", "istio.io/rev": rev}},
            "template": {"metadata": {"labels": {"app": "istiod", "istio.io/rev": rev}},
                "spec": {"containers": [{"name": "discovery", "image": format!("docker.io/istio/pilot:{tag}")}]}}},
    })
}

fn injected_pod(ns: &str, name: &str, rev: &str, sa: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "annotations": {
            "istio.io/rev": rev,
            "sidecar.istio.io/status": format!("{{\"initContainers\":[\"istio-init\"],\"containers\":[\"istio-proxy\"],\"revision\":\"{rev}\"}}"),
        }},
        "spec": {"serviceAccountName": sa, "containers": [
            {"name": "app", "image": "shop/cart:1.0"},
            {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.24.3"},
        ]},
    })
}

fn k(plural: &str) -> &'static Kind {
    match plural {
        "deployments" => kind("apps", plural),
        p => kind("", p),
    }
}

fn set_ready(cluster: &Cluster, ns: &str, name: &str, ready: i64) {
    cluster.mutate(k("deployments"), ns, name, "test", |d| d["status"] = json!({"readyReplicas": ready})).unwrap();
}

fn cluster_with(namespaces: &[&str]) -> Arc<Cluster> {
    let cluster = Cluster::new(Clock::default());
    for n in namespaces {
        cluster.create(k("namespaces"), "", ns_obj(n), WriteOpts::by("test")).unwrap();
    }
    cluster
}

async fn eventually(what: &str, f: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn decoded(secret: &Value, key: &str) -> String {
    let b = secret["data"][key].as_str().unwrap();
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b).unwrap()).unwrap()
}

fn get(cluster: &Cluster, plural: &str, ns: &str, name: &str) -> Option<Arc<Value>> {
    cluster.store.get(k(plural), ns, name).map(|e| e.value())
}

const NAMESPACES: [&str; 7] =
    ["istio-system", "default", "kube-system", "kube-public", "kube-node-lease", "local-path-storage", "shop"];

#[tokio::test]
async fn self_signed_root_is_stored_and_spread_to_namespaces() {
    let cluster = cluster_with(&NAMESPACES);
    cluster
        .create(
            k("deployments"),
            "istio-system",
            istiod("istio-system", "istiod-1-24-3", "1-24-3", "1.24.3"),
            WriteOpts::by("test"),
        )
        .unwrap();
    set_ready(&cluster, "istio-system", "istiod-1-24-3", 1);
    tokio::spawn(run(cluster.clone()));

    eventually("the root ConfigMap in shop", || get(&cluster, "configmaps", "shop", ROOT_CONFIGMAP).is_some()).await;
    let secret = get(&cluster, "secrets", "istio-system", CA_SECRET).expect("istio-ca-secret");
    assert_eq!(secret["type"], "istio.io/ca-root");
    assert_eq!(secret["data"]["cert-chain.pem"], "");
    assert_eq!(secret["data"]["key.pem"], "");
    let root = decoded(&secret, "root-cert.pem");
    assert_eq!(decoded(&secret, "ca-cert.pem"), root);
    let info = ca::inspect_chain(&root).unwrap();
    assert_eq!(info[0].subject, "O=cluster.local");

    for ns in ["istio-system", "default", "kube-system", "shop"] {
        let cm = get(&cluster, "configmaps", ns, ROOT_CONFIGMAP).unwrap_or_else(|| panic!("ConfigMap in {ns}"));
        assert_eq!(cm["data"]["root-cert.pem"], json!(root), "{ns}");
        assert_eq!(cm["metadata"]["labels"]["istio.io/config"], "true", "{ns}");
    }
    for ns in ["kube-public", "kube-node-lease", "local-path-storage"] {
        assert!(get(&cluster, "configmaps", ns, ROOT_CONFIGMAP).is_none(), "{ns} must not get the root");
    }
    assert_eq!(cluster.certs.istiod_version("1-24-3").as_deref(), Some("1.24.3"));

    // A new namespace gets the root; a deleted or edited copy is restored.
    cluster.create(k("namespaces"), "", ns_obj("late"), WriteOpts::by("test")).unwrap();
    eventually("the root ConfigMap in late", || get(&cluster, "configmaps", "late", ROOT_CONFIGMAP).is_some()).await;
    cluster.delete(k("configmaps"), "shop", ROOT_CONFIGMAP, WriteOpts::by("test")).unwrap();
    eventually("the root restored in shop", || get(&cluster, "configmaps", "shop", ROOT_CONFIGMAP).is_some()).await;
    cluster
        .mutate(k("configmaps"), "default", ROOT_CONFIGMAP, "test", |cm| cm["data"]["root-cert.pem"] = json!("x"))
        .unwrap();
    eventually("the root repaired in default", || {
        get(&cluster, "configmaps", "default", ROOT_CONFIGMAP)
            .is_some_and(|cm| cm["data"]["root-cert.pem"] == json!(root))
    })
    .await;
}

#[tokio::test]
async fn plugged_in_cacerts_is_used_instead_of_a_self_signed_root() {
    let cluster = cluster_with(&NAMESPACES);
    let cacerts = ca::cacerts_secret("istio-system", SystemTime::now()).unwrap();
    let plugged_root = decoded(&cacerts, "root-cert.pem");
    cluster.create(k("secrets"), "istio-system", cacerts, WriteOpts::by("test")).unwrap();
    cluster
        .create(
            k("deployments"),
            "istio-system",
            istiod("istio-system", "istiod", "default", "1.25.0"),
            WriteOpts::by("test"),
        )
        .unwrap();
    set_ready(&cluster, "istio-system", "istiod", 1);
    tokio::spawn(run(cluster.clone()));

    eventually("the plugged root in shop", || {
        get(&cluster, "configmaps", "shop", ROOT_CONFIGMAP)
            .is_some_and(|cm| cm["data"]["root-cert.pem"] == json!(plugged_root))
    })
    .await;
    assert!(get(&cluster, "secrets", "istio-system", CA_SECRET).is_none(), "no self-signed root with cacerts");
    assert!(cluster.certs.ca().unwrap().is_plugged());

    let pod = cluster
        .create(k("pods"), "shop", injected_pod("shop", "cart-1", "default", "cart"), WriteOpts::by("test"))
        .unwrap();
    let cert = cluster.certs.workload_cert(&pod, book::WORKLOAD_TTL, SystemTime::now()).expect("a workload cert");
    let chain = ca::inspect_chain(&cert.chain_pem).unwrap();
    assert_eq!(chain.len(), 3, "leaf, intermediate, root");
    assert_eq!(chain[0].issuer, "O=Istio, CN=Intermediate CA");
    assert_eq!(cert.root_pem, plugged_root);
}

#[tokio::test]
async fn incomplete_cacerts_leaves_the_cluster_without_a_root() {
    let cluster = cluster_with(&NAMESPACES);
    let mut cacerts = ca::cacerts_secret("istio-system", SystemTime::now()).unwrap();
    cacerts["data"].as_object_mut().unwrap().remove("cert-chain.pem");
    cluster.create(k("secrets"), "istio-system", cacerts, WriteOpts::by("test")).unwrap();
    cluster
        .create(
            k("deployments"),
            "istio-system",
            istiod("istio-system", "istiod", "default", "1.25.0"),
            WriteOpts::by("test"),
        )
        .unwrap();
    set_ready(&cluster, "istio-system", "istiod", 1);
    tokio::spawn(run(cluster.clone()));
    eventually("the controller to see istiod ready", || cluster.certs.revision_ready("default")).await;
    // Events are handled in order: once a later istiod is seen, every earlier event was too.
    cluster
        .create(
            k("deployments"),
            "istio-system",
            istiod("istio-system", "istiod-canary", "canary", "1.25.0"),
            WriteOpts::by("test"),
        )
        .unwrap();
    set_ready(&cluster, "istio-system", "istiod-canary", 1);
    eventually("the later istiod", || cluster.certs.revision_ready("canary")).await;
    assert!(cluster.certs.ca().is_none());
    assert!(get(&cluster, "configmaps", "shop", ROOT_CONFIGMAP).is_none());
    assert!(get(&cluster, "secrets", "istio-system", CA_SECRET).is_none());
}

#[tokio::test]
async fn workload_certificates_follow_istiod_readiness() {
    let cluster = cluster_with(&NAMESPACES);
    cluster
        .create(
            k("deployments"),
            "istio-system",
            istiod("istio-system", "istiod-1-24-3", "1-24-3", "1.24.3"),
            WriteOpts::by("test"),
        )
        .unwrap();
    set_ready(&cluster, "istio-system", "istiod-1-24-3", 1);
    tokio::spawn(run(cluster.clone()));
    eventually("a CA", || cluster.certs.ca().is_some()).await;

    let pod = cluster
        .create(k("pods"), "shop", injected_pod("shop", "cart-1", "1-24-3", "cart"), WriteOpts::by("test"))
        .unwrap();
    let created = crate::sim::clock::parse_rfc3339(pod["metadata"]["creationTimestamp"].as_str().unwrap()).unwrap();
    let ttl = book::WORKLOAD_TTL;
    let now = SystemTime::now();
    let a = cluster.certs.workload_cert(&pod, ttl, now).unwrap();
    assert_eq!(a.spiffe_id, "spiffe://cluster.local/ns/shop/sa/cart");
    assert_eq!(a.issued_at, created, "first certificate when the pod starts");
    assert_eq!(a.not_after, created + ttl);
    assert_eq!(a.not_before, created - Duration::from_secs(120));
    // Read again before half its life: the same certificate, not a new signature.
    let again = cluster.certs.workload_cert(&pod, ttl, now + 11 * HOUR).unwrap();
    assert_eq!(again.serial, a.serial);
    // Past half its life: renewed, between 49% and 51% of the lifetime.
    let b = cluster.certs.workload_cert(&pod, ttl, created + 13 * HOUR).unwrap();
    assert_ne!(b.serial, a.serial);
    let age = b.issued_at.duration_since(created).unwrap();
    assert!(age >= ttl.mul_f64(0.49) && age <= ttl.mul_f64(0.51), "renewed at {age:?}");

    // istiod goes to zero: the history closes and nothing issued later counts.
    set_ready(&cluster, "istio-system", "istiod-1-24-3", 0);
    eventually("istiod down", || !cluster.certs.revision_ready("1-24-3")).await;
    let stale = cluster.certs.workload_cert(&pod, ttl, SystemTime::now() + 30 * HOUR).unwrap();
    assert_eq!(stale.issued_at, created);
    assert!(stale.not_after < SystemTime::now() + 30 * HOUR, "expired by then");
    set_ready(&cluster, "istio-system", "istiod-1-24-3", 1);
    eventually("istiod back", || cluster.certs.revision_ready("1-24-3")).await;
    let spans = cluster.certs.readiness("1-24-3").unwrap();
    assert_eq!(spans.spans().len(), 2);
    assert_eq!(spans.spans()[0].0, rotation::ALWAYS);

    // A pod of a revision that has no istiod never gets a certificate.
    let orphan = cluster
        .create(k("pods"), "shop", injected_pod("shop", "old-1", "1-20-0", "cart"), WriteOpts::by("test"))
        .unwrap();
    assert!(cluster.certs.workload_cert(&orphan, ttl, SystemTime::now() + HOUR).is_none());
}

#[test]
fn versions_from_image_tags() {
    for (image, want) in [
        ("docker.io/istio/pilot:1.24.3", Some("1.24.3")),
        ("docker.io/istio/proxyv2:1.25.0-distroless", Some("1.25.0")),
        ("gcr.io/istio-release/proxyv2:1.23.1-debug", Some("1.23.1")),
        ("localhost:5000/istio/pilot:1.22.0", Some("1.22.0")),
        ("docker.io/istio/pilot@sha256:abcd", None),
        ("istio/pilot", None),
    ] {
        assert_eq!(image_version(image).as_deref(), want, "{image}");
    }
}

#[test]
fn pod_revision_precedence() {
    let mut pod = injected_pod("a", "b", "1-24-3", "sa");
    assert_eq!(pod_revision(&pod), "1-24-3");
    pod["metadata"]["annotations"].as_object_mut().unwrap().remove("istio.io/rev");
    pod["metadata"]["annotations"]["sidecar.istio.io/status"] = json!("{\"revision\":\"canary\"}");
    assert_eq!(pod_revision(&pod), "canary");
    pod["metadata"]["annotations"]["sidecar.istio.io/status"] = json!("{\"version\":\"abc\"}");
    assert_eq!(pod_revision(&pod), "default");
}
