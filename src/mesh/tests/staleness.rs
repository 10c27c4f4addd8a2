//! ISTIO.md §2.1, §2.4, §2.5: proxy detection, actual revision and version, each staleness
//! kind, and the per-workload aggregation.

use super::fixtures::*;
use crate::mesh::view::{MeshView, WorkloadRow};
use crate::mesh::{Snapshot, derive};
use serde_json::{Value, json};
use std::time::UNIX_EPOCH;

fn view(objs: Vec<Value>) -> MeshView {
    let snap = Snapshot::from_objects(objs);
    assert!(snap.warnings.is_empty(), "{:?}", snap.warnings);
    derive(&snap, UNIX_EPOCH)
}

fn row<'a>(v: &'a MeshView, ns: &str, name: &str) -> &'a WorkloadRow {
    v.workloads.iter().find(|w| w.namespace == ns && w.name == name).unwrap_or_else(|| panic!("no row {ns}/{name}"))
}

fn strs(s: &[&str]) -> Option<Vec<String>> {
    Some(s.iter().map(|s| s.to_string()).collect())
}

const P1243: &str = "docker.io/istio/proxyv2:1.24.3";
const P1250: &str = "docker.io/istio/proxyv2:1.25.0";

/// Revision `default` at 1.24.3, `canary` at 1.25.0, and one namespace per label set.
fn cluster() -> Vec<Value> {
    let mut objs = revision("default", "1.24.3");
    objs.extend(revision("canary", "1.25.0"));
    objs.push(namespace("on-default", &[("istio-injection", "enabled")]));
    objs.push(namespace("on-canary", &[("istio.io/rev", "canary")]));
    objs.push(namespace("plain", &[]));
    objs.push(namespace("off", &[("istio-injection", "disabled")]));
    objs
}

#[test]
fn each_staleness_kind() {
    let mut objs = cluster();
    let cases: Vec<(&str, &str, Value, &[&str])> = vec![
        ("up-to-date", "on-default", pod("on-default", "up-to-date").injected(Some("default"), P1243).build(), &[]),
        (
            "variant-ok",
            "on-default",
            pod("on-default", "variant-ok")
                .injected(Some("default"), "docker.io/istio/proxyv2:1.24.3-distroless")
                .build(),
            &[],
        ),
        (
            "moved-ns",
            "on-canary",
            pod("on-canary", "moved-ns").injected(Some("default"), P1243).build(),
            &["STALE-REVISION"],
        ),
        (
            "in-place",
            "on-default",
            pod("on-default", "in-place").injected(Some("default"), "docker.io/istio/proxyv2:1.24.2").build(),
            &["STALE-IMAGE"],
        ),
        (
            "pinned-image",
            "on-default",
            pod("on-default", "pinned-image")
                .injected(Some("default"), "my.registry/proxyv2:1.24.2-patched")
                .annotations(&[("sidecar.istio.io/proxyImage", "my.registry/proxyv2:1.24.2-patched")])
                .build(),
            &[],
        ),
        (
            "unlabelled",
            "plain",
            pod("plain", "unlabelled").injected(Some("default"), P1243).build(),
            &["WILL-LOSE-PROXY"],
        ),
        (
            "opted-out",
            "plain",
            pod("plain", "opted-out")
                .labels(&[("sidecar.istio.io/inject", "false")])
                .injected(Some("default"), P1243)
                .build(),
            &[],
        ),
        ("ns-disabled", "off", pod("off", "ns-disabled").injected(Some("default"), P1243).build(), &[]),
        ("no-proxy", "on-default", pod("on-default", "no-proxy").build(), &["MISSING-PROXY"]),
        ("done-job", "on-default", pod("on-default", "done-job").phase("Succeeded").build(), &[]),
        ("plain-app", "plain", pod("plain", "plain-app").build(), &[]),
        // A proxy 1.25 under istiod 1.24: the data plane may never be ahead. Its image also
        // differs from what `default` injects.
        (
            "ahead",
            "on-default",
            pod("on-default", "ahead").injected(Some("default"), P1250).build(),
            &["STALE-IMAGE", "UNSUPPORTED-SKEW"],
        ),
    ];
    for (_, _, obj, _) in &cases {
        objs.push(obj.clone());
    }
    let v = view(objs);
    for (name, ns, _, want) in &cases {
        let r = row(&v, ns, name);
        assert_eq!(r.kind, "Pod");
        assert_eq!(&r.stale_kinds, want, "{ns}/{name}: {:?}", r.stale_reason);
        assert_eq!(r.stale, Some(!want.is_empty()));
        assert!(r.stale_unknown.is_empty(), "{ns}/{name}: {:?}", r.stale_unknown);
    }
    assert_eq!(
        row(&v, "on-canary", "moved-ns").stale_reason.as_deref(),
        Some("STALE-REVISION (1 of 1 pods): runs revision default, expected canary; restart needed")
    );
    assert_eq!(
        row(&v, "on-default", "in-place").stale_reason.as_deref(),
        Some(
            "STALE-IMAGE (1 of 1 pods): runs image docker.io/istio/proxyv2:1.24.2, revision default injects docker.io/istio/proxyv2:1.24.3; restart needed"
        )
    );
}

#[test]
fn orphaned_revision() {
    // Revision 1-22-0 was uninstalled but its webhook was left behind: pods still select it,
    // so they are not STALE-REVISION, but no istiod serves them.
    let mut objs = cluster();
    objs.push(revision_mwc("1-22-0"));
    objs.push(namespace("legacy", &[("istio.io/rev", "1-22-0")]));
    objs.push(pod("legacy", "old").injected(Some("1-22-0"), "docker.io/istio/proxyv2:1.22.0").build());
    let v = view(objs);
    let r = row(&v, "legacy", "old");
    assert_eq!(r.stale_kinds, vec!["ORPHANED"]);
    assert_eq!(r.injection.revision.as_deref(), Some("1-22-0"));
    assert!(v.warnings.iter().any(|w| w
        == "webhook istio-sidecar-injector-1-22-0/rev.namespace.sidecar-injector.istio.io points at Service istio-system/istiod-1-22-0, \
            which does not exist: matching pods cannot be created (IST0139)"));
    // With the Service still there, the revision counts as present.
    let mut objs = cluster();
    objs.push(revision_mwc("1-22-0"));
    objs.push(istiod("1-22-0", "1.22.0", 0, 0).remove(1));
    objs.push(namespace("legacy", &[("istio.io/rev", "1-22-0")]));
    objs.push(pod("legacy", "old").injected(Some("1-22-0"), "docker.io/istio/proxyv2:1.22.0").build());
    assert!(row(&view(objs), "legacy", "old").stale_kinds.is_empty());
}

#[test]
fn version_skew_bounds() {
    // No `values` in the injector config: no expected image, so only skew can show.
    let mut objs = istiod("default", "1.24.3", 1, 1);
    objs.push(revision_mwc("default"));
    objs.push(injector_cm("default", "enabled", json!([]), json!([]), None));
    objs.push(namespace("shop", &[("istio-injection", "enabled")]));
    let cases: [(&str, &str, &[&str]); 6] = [
        ("p1220", "docker.io/istio/proxyv2:1.22.0", &["UNSUPPORTED-SKEW"]),
        ("p1235", "docker.io/istio/proxyv2:1.23.5", &[]),
        ("p1240", "docker.io/istio/proxyv2:1.24.0-distroless", &[]),
        ("p1250", "docker.io/istio/proxyv2:1.25.0", &["UNSUPPORTED-SKEW"]),
        ("p0990", "docker.io/istio/proxyv2:0.99.0", &["UNSUPPORTED-SKEW"]),
        ("digest", "docker.io/istio/proxyv2@sha256:0123456789abcdef", &[]),
    ];
    for (name, image, _) in &cases {
        objs.push(pod("shop", name).injected(Some("default"), image).build());
    }
    let v = view(objs);
    for (name, _, want) in &cases {
        assert_eq!(&row(&v, "shop", name).stale_kinds, want, "{name}");
    }
    // A digest-pinned proxy reports its revision's istiod version.
    assert_eq!(row(&v, "shop", "digest").proxy_versions, strs(&["1.24.3"]));
    assert_eq!(row(&v, "shop", "p1240").proxy_versions, strs(&["1.24.0"]));
}

#[test]
fn revision_from_annotation_then_status_and_native_sidecars() {
    let mut objs = cluster();
    // Only the status JSON carries the revision (1.12–1.17).
    let mut from_status = pod("on-canary", "from-status").injected(Some("canary"), P1250).build();
    from_status["metadata"]["annotations"].as_object_mut().unwrap().remove("istio.io/rev");
    objs.push(from_status);
    // The annotation wins over the status JSON.
    objs.push(
        pod("on-canary", "annotated")
            .injected(Some("default"), P1250)
            .annotations(&[("istio.io/rev", "canary")])
            .build(),
    );
    // Pre-1.12 status without revision: injected, revision unknown.
    objs.push(pod("on-default", "ancient").injected(None, P1243).build());
    // Native sidecar: istio-proxy is an init container with restartPolicy Always.
    objs.push(json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "native", "namespace": "on-default", "annotations": {
            "sidecar.istio.io/status": "{\"initContainers\":[\"istio-init\",\"istio-proxy\"],\"containers\":null,\"revision\":\"default\"}",
            "istio.io/rev": "default"}},
        "spec": {"initContainers": [{"name": "istio-init", "image": P1243},
                                    {"name": "istio-proxy", "image": P1243, "restartPolicy": "Always"}],
                 "containers": [{"name": "app", "image": "app:1"}]},
        "status": {"phase": "Running"}}));
    let v = view(objs);
    assert_eq!(row(&v, "on-canary", "from-status").proxy_revisions, strs(&["canary"]));
    assert!(row(&v, "on-canary", "from-status").stale_kinds.is_empty());
    assert_eq!(row(&v, "on-canary", "annotated").proxy_revisions, strs(&["canary"]));
    let ancient = row(&v, "on-default", "ancient");
    assert_eq!((ancient.pods_with_proxy, ancient.proxy_revisions.clone()), (Some(1), strs(&[])));
    assert!(ancient.stale_kinds.is_empty());
    let native = row(&v, "on-default", "native");
    assert_eq!((native.pods_with_proxy, native.proxy_versions.clone()), (Some(1), strs(&["1.24.3"])));
    assert!(native.stale_kinds.is_empty());
}

#[test]
fn aggregation_over_a_deployment() {
    let mut objs = cluster();
    objs.push(deployment("on-canary", "web", &[("app", "web")], &[]));
    objs.push(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web-5d8f", "namespace": "on-canary",
                     "ownerReferences": [{"kind": "Deployment", "name": "web", "controller": true}]}}));
    objs.push(
        pod("on-canary", "web-5d8f-a")
            .labels(&[("app", "web")])
            .owner("ReplicaSet", "web-5d8f")
            .injected(Some("canary"), P1250)
            .build(),
    );
    objs.push(
        pod("on-canary", "web-5d8f-b")
            .labels(&[("app", "web")])
            .owner("ReplicaSet", "web-5d8f")
            .injected(Some("default"), P1243)
            .build(),
    );
    objs.push(pod("on-canary", "web-5d8f-c").labels(&[("app", "web")]).owner("ReplicaSet", "web-5d8f").build());
    let v = view(objs);
    let r = row(&v, "on-canary", "web");
    assert_eq!((r.kind.as_str(), r.pods, r.pods_with_proxy), ("Deployment", Some(3), Some(2)));
    assert_eq!(r.proxy_revisions, strs(&["canary", "default"]));
    assert_eq!(r.proxy_versions, strs(&["1.24.3", "1.25.0"]));
    assert_eq!(r.stale_kinds, vec!["STALE-REVISION", "MISSING-PROXY"]);
    assert_eq!(
        r.stale_reason.as_deref(),
        Some(
            "STALE-REVISION (1 of 3 pods): runs revision default, expected canary; restart needed; \
             MISSING-PROXY (1 of 3 pods): no sidecar although a webhook selects it; created before labelling or injection failed (IST0103)"
        )
    );
    // Control-plane totals.
    let revs: Vec<(&str, Option<usize>)> =
        v.control_plane.revisions.iter().map(|r| (r.name.as_str(), r.proxies)).collect();
    assert_eq!(revs, vec![("canary", Some(1)), ("default", Some(1))]);
    assert_eq!(v.control_plane.proxies.as_ref().and_then(|p| p.get("1.25.0")), Some(&1));
}

#[test]
fn stale_revision_compares_revision_names_not_versions() {
    // Two revisions at one version: a pod of `1-25-0` in a namespace moved to `canary` is
    // still served by 1-25-0's istiod until it restarts, though the versions are equal.
    let mut objs = revision("1-25-0", "1.25.0");
    objs.extend(revision("canary", "1.25.0"));
    objs.push(namespace("moved", &[("istio.io/rev", "canary")]));
    objs.push(namespace("stays", &[("istio.io/rev", "1-25-0")]));
    objs.push(pod("moved", "web").injected(Some("1-25-0"), P1250).build());
    objs.push(pod("stays", "api").injected(Some("1-25-0"), P1250).build());
    let v = view(objs);
    let web = row(&v, "moved", "web");
    assert_eq!((web.stale, web.stale_kinds.clone()), (Some(true), vec!["STALE-REVISION"]));
    assert_eq!(
        web.stale_reason.as_deref(),
        Some("STALE-REVISION (1 of 1 pods): runs revision 1-25-0, expected canary; restart needed")
    );
    let api = row(&v, "stays", "api");
    assert_eq!((api.stale, api.stale_kinds.len()), (Some(false), 0));
}
