//! `derive` end to end: rows per owner, namespace rows, ambient, Services, gateways, the
//! control plane, and the JSON contract of `meshdeck inventory -o json`.

use super::fixtures::*;
use crate::mesh::view::MeshView;
use crate::mesh::{MtlsMode, Snapshot, derive};
use serde_json::{Value, json};
use std::time::{Duration, UNIX_EPOCH};

fn view(objs: Vec<Value>) -> MeshView {
    let snap = Snapshot::from_objects(objs);
    assert!(snap.warnings.is_empty(), "{:?}", snap.warnings);
    derive(&snap, UNIX_EPOCH + Duration::from_secs(1_700_000_000))
}

fn shop() -> Vec<Value> {
    let mut objs = revision("1-24-3", "1.24.3");
    objs.push(tag_mwc("default", "1-24-3"));
    objs.push(
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "istiod", "namespace": "istio-system"},
        "spec": {"selector": {"app": "istiod"}}}),
    );
    objs.push(namespace("shop", &[("istio-injection", "enabled")]));
    objs.push(namespace("mesh-free", &[("istio.io/dataplane-mode", "ambient")]));
    objs.push(pa("istio-system", "default", "2024-01-01T00:00:00Z", Some("STRICT"), &[]));
    let mut wl_pa = pa("shop", "web-ports", "2024-01-01T00:00:00Z", None, &[("app", "web")]);
    wl_pa["spec"]["portLevelMtls"] = json!({"8080": {"mode": "DISABLE"}});
    objs.push(wl_pa);
    objs.push(ap("shop", "allow-front", json!({"selector": {"matchLabels": {"app": "web"}}, "rules": [{"from": [{"source": {"namespaces": ["shop"]}}]}]})));
    objs.push(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}));
    objs.push(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "external", "namespace": "shop"}, "spec": {}}));
    objs.push(deployment("shop", "web", &[("app", "web")], &[]));
    objs.push(
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "web-7f9c", "namespace": "shop",
        "ownerReferences": [{"kind": "Deployment", "name": "web", "controller": true}]}}),
    );
    let p = "docker.io/istio/proxyv2:1.24.3";
    objs.push(
        pod("shop", "web-7f9c-1")
            .labels(&[("app", "web")])
            .owner("ReplicaSet", "web-7f9c")
            .injected(Some("1-24-3"), p)
            .build(),
    );
    objs.push(
        pod("shop", "web-7f9c-2")
            .labels(&[("app", "web")])
            .owner("ReplicaSet", "web-7f9c")
            .injected(Some("1-24-3"), p)
            .build(),
    );
    // The ReplicaSet of `api` is not in the snapshot: the pod-template-hash names the Deployment.
    objs.push(
        pod("shop", "api-66b8d-x")
            .labels(&[("app", "api"), ("pod-template-hash", "66b8d")])
            .owner("ReplicaSet", "api-66b8d")
            .build(),
    );
    objs.push(json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate", "namespace": "shop"},
        "spec": {"template": {"metadata": {"labels": {"sidecar.istio.io/inject": "false"}}, "spec": {}}}}));
    objs.push(
        pod("shop", "migrate-abc")
            .labels(&[("sidecar.istio.io/inject", "false")])
            .owner("Job", "migrate")
            .phase("Succeeded")
            .build(),
    );
    objs.push(pod("shop", "debug").build());
    objs.push(pod("shop", "static-node1").owner("Node", "node1").build());
    objs.push(pod("mesh-free", "worker").labels(&[("app", "worker")]).build());
    objs.push(pod("mesh-free", "opted-out").labels(&[("istio.io/dataplane-mode", "none")]).build());
    objs
}

#[test]
fn rows_per_owner() {
    let v = view(shop());
    type Row<'a> = (&'a str, &'a str, &'a str, Option<usize>, Option<usize>);
    let rows: Vec<Row> = v
        .workloads
        .iter()
        .map(|w| (w.namespace.as_str(), w.kind.as_str(), w.name.as_str(), w.pods, w.pods_with_proxy))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("istio-system", "Deployment", "istiod-1-24-3", Some(0), Some(0)),
            ("mesh-free", "Pod", "opted-out", Some(1), Some(0)),
            ("mesh-free", "Pod", "worker", Some(1), Some(0)),
            ("shop", "Deployment", "api", Some(1), Some(0)),
            ("shop", "Pod", "debug", Some(1), Some(0)),
            ("shop", "Job", "migrate", Some(1), Some(0)),
            ("shop", "Pod", "static-node1", Some(1), Some(0)),
            ("shop", "Deployment", "web", Some(2), Some(2)),
        ]
    );
    let web = v.workloads.iter().find(|w| w.name == "web").expect("web row");
    assert_eq!(web.service_account, "web");
    assert_eq!(web.services, Some(vec!["web".to_string()]));
    assert_eq!((web.injection.expected, web.injection.revision.as_deref()), (Some(true), Some("1-24-3")));
    assert_eq!(web.mtls.source.as_deref(), Some("istio-system/default"));
    assert_eq!(web.authorization, Some("restricted"));
    let api = v.workloads.iter().find(|w| w.name == "api").expect("api row");
    assert_eq!(api.stale_kinds, vec!["MISSING-PROXY"]);
    let migrate = v.workloads.iter().find(|w| w.name == "migrate").expect("job row");
    assert_eq!((migrate.injection.expected, migrate.stale), (Some(false), Some(false)));
    let worker = v.workloads.iter().find(|w| w.name == "worker").expect("worker row");
    assert_eq!(worker.ambient, Some(true));
    assert_eq!(v.workloads.iter().find(|w| w.name == "opted-out").expect("row").ambient, Some(false));
    assert!(v.workloads.iter().all(|w| w.unknown.is_empty() && w.stale_unknown.is_empty()));
}

#[test]
fn namespaces_and_control_plane() {
    let v = view(shop());
    type NsRow<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<MtlsMode>, usize, Option<usize>, Option<usize>);
    let ns: Vec<NsRow> = v
        .namespaces
        .iter()
        .map(|n| {
            (
                n.name.as_str(),
                n.injection.mode,
                n.injection.revision.as_deref(),
                n.mtls.mode,
                n.workloads,
                n.pods,
                n.pods_with_proxy,
            )
        })
        .collect();
    assert_eq!(
        ns,
        vec![
            ("istio-system", Some("unset"), None, Some(MtlsMode::Strict), 1, Some(0), Some(0)),
            ("mesh-free", Some("unset"), None, Some(MtlsMode::Strict), 2, Some(2), Some(0)),
            ("shop", Some("enabled"), Some("1-24-3"), Some(MtlsMode::Strict), 5, Some(6), Some(2)),
        ]
    );
    assert_eq!(v.namespaces[1].ambient, Some(true));
    let shop_expected: Vec<Option<bool>> = v.namespaces.iter().map(|n| n.injection.expected).collect();
    assert_eq!(shop_expected, vec![Some(false), Some(false), Some(true)]);
    let cp = &v.control_plane;
    assert_eq!(cp.revisions.len(), 1);
    let r = &cp.revisions[0];
    assert_eq!(
        (
            r.name.as_str(),
            r.namespace.as_str(),
            r.version.as_deref(),
            r.ready_replicas,
            r.replicas,
            r.tags.clone(),
            r.proxies
        ),
        ("1-24-3", "istio-system", Some("1.24.3"), 1, 1, Some(vec!["default".to_string()]), Some(2))
    );
    assert_eq!(r.expected_proxy_image.as_deref(), Some("docker.io/istio/proxyv2:1.24.3"));
    assert_eq!(cp.proxies.as_ref().and_then(|p| p.get("1.24.3")), Some(&2));
    assert_eq!(v.generated_at, "2023-11-14T22:13:20Z");
    assert_eq!(v.root_namespace.as_deref(), Some("istio-system"));
    assert!(cp.unknown.is_empty() && v.forbidden.is_empty());
    assert!(v.warnings.is_empty(), "{:?}", v.warnings);
}

#[test]
fn json_contract() {
    let v = view(shop());
    let j = serde_json::to_value(&v).expect("serialisable");
    assert_eq!(j["context"], json!(""));
    assert_eq!(
        j["controlPlane"]["revisions"][0],
        json!({"name": "1-24-3", "namespace": "istio-system", "version": "1.24.3", "readyReplicas": 1, "replicas": 1,
               "tags": ["default"], "expectedProxyImage": "docker.io/istio/proxyv2:1.24.3", "proxies": 2})
    );
    let shop_ns = j["namespaces"].as_array().and_then(|a| a.iter().find(|n| n["name"] == "shop")).expect("shop row");
    assert_eq!(shop_ns["injection"]["mode"], "enabled");
    assert_eq!(shop_ns["injection"]["revision"], "1-24-3");
    assert_eq!(shop_ns["mtls"], json!({"mode": "STRICT", "source": "istio-system/default"}));
    assert_eq!(
        (shop_ns["workloads"].clone(), shop_ns["pods"].clone(), shop_ns["podsWithProxy"].clone()),
        (json!(5), json!(6), json!(2))
    );
    let web = j["workloads"].as_array().and_then(|a| a.iter().find(|w| w["name"] == "web")).expect("web row");
    assert_eq!(web["namespace"], "shop");
    assert_eq!(web["kind"], "Deployment");
    assert_eq!(web["serviceAccount"], "web");
    assert_eq!(web["injection"]["expected"], true);
    assert_eq!(web["injection"]["revision"], "1-24-3");
    assert_eq!(
        web["injection"]["reason"],
        "namespace label istio-injection=enabled → webhook istio-revision-tag-default/namespace.sidecar-injector.istio.io \
         (revision 1-24-3 via tag default)"
    );
    assert_eq!((web["pods"].clone(), web["podsWithProxy"].clone()), (json!(2), json!(2)));
    assert_eq!(web["proxyRevisions"], json!(["1-24-3"]));
    assert_eq!(web["proxyVersions"], json!(["1.24.3"]));
    assert_eq!((web["stale"].clone(), web["staleReason"].clone()), (json!(false), Value::Null));
    assert_eq!(web["mtls"], json!({"mode": "STRICT", "source": "istio-system/default", "ports": {"8080": "DISABLE"}}));
    assert_eq!(
        web["authorizationPolicies"],
        json!([{"name": "shop/allow-front", "action": "ALLOW", "effect": "allow-matching", "dryRun": false}])
    );
    let debug = j["workloads"].as_array().and_then(|a| a.iter().find(|w| w["name"] == "debug")).expect("debug row");
    assert_eq!(debug["mtls"]["ports"], json!({}));
    assert_eq!(debug["injection"]["revision"], "1-24-3");
}

#[test]
fn ambient_ignores_disable_and_gateways_are_listed() {
    let mut objs = shop();
    objs.push(pa("mesh-free", "off", "2024-01-01T00:00:00Z", Some("DISABLE"), &[]));
    objs.push(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "istio-ingressgateway", "namespace": "istio-system"},
        "spec": {"template": {"metadata": {"labels": {"istio": "ingressgateway", "sidecar.istio.io/inject": "true"},
                                           "annotations": {"inject.istio.io/templates": "gateway"}},
                              "spec": {"containers": [{"name": "istio-proxy", "image": "auto"}]}}}}));
    let v = view(objs);
    let worker = v.workloads.iter().find(|w| w.name == "worker").expect("worker row");
    assert_eq!(worker.mtls.mode, Some(MtlsMode::Permissive));
    assert_eq!(worker.mtls.source.as_deref(), Some("mesh-free/off"));
    let plain = v.workloads.iter().find(|w| w.name == "opted-out").expect("row");
    assert_eq!(plain.mtls.mode, Some(MtlsMode::Disable));
    let gws: Vec<(&str, &str)> =
        v.control_plane.gateways.iter().map(|g| (g.namespace.as_str(), g.name.as_str())).collect();
    assert_eq!(gws, vec![("istio-system", "istio-ingressgateway")]);
    let gw = v.workloads.iter().find(|w| w.name == "istio-ingressgateway").expect("gateway row");
    assert_eq!((gw.gateway, gw.injection.revision.as_deref()), (true, Some("1-24-3")));
}

/// Scale check for the 100,000-pod goal: correctness of counts only (no timing asserts).
/// Run with `cargo test --release --lib mesh::tests::derive::scale -- --ignored --nocapture`.
#[test]
#[ignore]
fn scale_100k_pods() {
    let mut snap = Snapshot::from_objects(shop());
    let image = "docker.io/istio/proxyv2:1.24.3";
    for n in 0..1000 {
        let ns = format!("ns-{n:04}");
        snap.insert(namespace(&ns, &[("istio-injection", "enabled")])).expect("namespace");
        snap.insert(pa(&ns, "default", "2024-01-01T00:00:00Z", Some("STRICT"), &[])).expect("pa");
        for d in 0..10 {
            let app = format!("app-{d}");
            snap.insert(deployment(&ns, &app, &[("app", &app)], &[])).expect("deployment");
            snap.insert(ap(&ns, &app, json!({"selector": {"matchLabels": {"app": app}}, "rules": [{}]}))).expect("ap");
            snap.insert(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": app, "namespace": ns},
                "spec": {"selector": {"app": app}}}))
                .expect("service");
            let rs = format!("{app}-5d8f");
            snap.insert(
                json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": rs, "namespace": ns,
                "ownerReferences": [{"kind": "Deployment", "name": app, "controller": true}]}}),
            )
            .expect("rs");
            for p in 0..10 {
                let pod = pod(&ns, &format!("{rs}-{p}")).labels(&[("app", &app)]).owner("ReplicaSet", &rs);
                snap.insert(pod.injected(Some("1-24-3"), image).build()).expect("pod");
            }
        }
    }
    // CPU time of this thread (Linux), so a busy machine does not inflate the figure.
    let cpu_ns = || {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()))
            .unwrap_or(0)
    };
    let mut v = MeshView::default();
    let runs: usize = std::env::var("MESH_SCALE_RUNS").ok().and_then(|s| s.parse().ok()).unwrap_or(3);
    for _ in 0..runs {
        let (start, cpu) = (std::time::Instant::now(), cpu_ns());
        v = derive(&snap, UNIX_EPOCH);
        let cpu_ms = (cpu_ns() - cpu) as f64 / 1e6;
        eprintln!("derive over {} pods: {:?} wall, {cpu_ms:.1} ms cpu", snap.pods.len(), start.elapsed());
    }
    let total: usize = v.workloads.iter().filter_map(|w| w.pods_with_proxy).sum();
    assert!(total >= 100_000);
    assert_eq!(v.control_plane.proxies.as_ref().and_then(|p| p.get("1.24.3")), Some(&100_002));
}
