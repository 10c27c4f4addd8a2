//! Partial views: the same cluster derived as a user who may read everything and as one RBAC
//! refuses a kind. Every fact the hidden kind decides is unknown with its reason; every fact
//! still stated agrees with the full view.

use super::fixtures::*;
use crate::mesh::view::{MeshView, WorkloadRow};
use crate::mesh::{Hidden, Input, Snapshot, derive};
use serde_json::{Value, json};
use std::time::UNIX_EPOCH;

const P1243: &str = "docker.io/istio/proxyv2:1.24.3";
const MWC: &str = "unknown: mutatingwebhookconfigurations.admissionregistration.k8s.io are forbidden to this user";

/// Revisions `default` (1.24.3) and `canary` (1.25.0, tag `prod`), one namespace per way of
/// asking for injection, and a pod for each thing a hidden kind could change.
fn cluster() -> Vec<Value> {
    let mut objs = revision("default", "1.24.3");
    objs.extend(revision("canary", "1.25.0"));
    objs.push(tag_mwc("prod", "canary"));
    objs.push(revision_mwc("1-22-0"));
    objs.push(namespace("on-default", &[("istio-injection", "enabled")]));
    objs.push(namespace("on-prod", &[("istio.io/rev", "prod")]));
    objs.push(namespace("plain", &[]));
    objs.push(namespace("amb", &[("istio.io/dataplane-mode", "ambient")]));
    objs.push(namespace("legacy", &[("istio.io/rev", "1-22-0")]));
    objs.push(pa("istio-system", "default", "2024-01-01T00:00:00Z", Some("STRICT"), &[]));
    objs.push(ap("on-default", "allow-web", json!({"selector": {"matchLabels": {"app": "web"}}, "rules": [{}]})));
    objs.push(json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "on-default"},
        "spec": {"selector": {"app": "web"}}}));
    objs.push(deployment("on-default", "web", &[("app", "web")], &[]));
    objs.push(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web-5d8f", "namespace": "on-default", "labels": {"pod-template-hash": "5d8f"},
                     "ownerReferences": [{"kind": "Deployment", "name": "web", "controller": true}]}}));
    let web =
        |n: &str| pod("on-default", &format!("web-5d8f-{n}")).labels(&[("app", "web"), ("pod-template-hash", "5d8f")]);
    objs.push(web("a").owner("ReplicaSet", "web-5d8f").injected(Some("default"), P1243).build());
    objs.push(web("b").owner("ReplicaSet", "web-5d8f").injected(Some("default"), P1243).build());
    objs.push(pod("on-default", "in-place").injected(Some("default"), "docker.io/istio/proxyv2:1.24.2").build());
    objs.push(pod("on-default", "no-proxy").build());
    objs.push(pod("on-default", "ahead").injected(Some("default"), "docker.io/istio/proxyv2:1.25.0").build());
    objs.push(pod("on-prod", "moved").injected(Some("default"), P1243).build());
    objs.push(pod("plain", "unlabelled").injected(Some("default"), P1243).build());
    objs.push(pod("plain", "plain-app").build());
    objs.push(
        pod("plain", "opted-out")
            .labels(&[("sidecar.istio.io/inject", "false")])
            .injected(Some("default"), P1243)
            .build(),
    );
    let mut host = pod("on-default", "host").build();
    host["spec"]["hostNetwork"] = json!(true);
    objs.push(host);
    objs.push(pod("amb", "worker").build());
    objs.push(pod("legacy", "old").injected(Some("1-22-0"), "docker.io/istio/proxyv2:1.22.0").build());
    objs
}

fn full() -> MeshView {
    derive(&Snapshot::from_objects(cluster()), UNIX_EPOCH)
}

/// The view of a user refused `hidden`: its objects are not in the snapshot, and the
/// snapshot says so, as the live watches report it.
fn refused(hidden: &[Input]) -> MeshView {
    let objs = cluster().into_iter().filter(|o| !hidden.iter().any(|i| o["kind"] == i.kind()));
    let mut snap = Snapshot::from_objects(objs);
    assert!(snap.warnings.is_empty(), "{:?}", snap.warnings);
    snap.hidden = Hidden::of(hidden.iter().copied());
    derive(&snap, UNIX_EPOCH)
}

fn row<'a>(v: &'a MeshView, ns: &str, name: &str) -> &'a WorkloadRow {
    v.workloads.iter().find(|w| w.namespace == ns && w.name == name).unwrap_or_else(|| panic!("no row {ns}/{name}"))
}

/// Nothing the partial view states is contradicted by the full one, and every fact it leaves
/// out says why.
fn agrees(full: &MeshView, part: &MeshView) {
    for w in &part.workloads {
        let id = format!("{}/{}", w.namespace, w.name);
        let a = row(full, &w.namespace, &w.name);
        let why = |key: &str| assert!(w.unknown.contains_key(key), "{id}: no reason for {key}: {:?}", w.unknown);
        match w.injection.expected {
            Some(e) => {
                assert_eq!((Some(e), &w.injection.revision), (a.injection.expected, &a.injection.revision), "{id}")
            }
            None => why("injection.expected"),
        }
        if w.injection.conflict.is_some() {
            assert_eq!(w.injection.conflict, a.injection.conflict, "{id}");
        }
        match w.pods {
            Some(_) => assert_eq!(
                (w.pods, w.ready_pods, w.pods_with_proxy, &w.proxy_revisions, &w.proxy_versions),
                (a.pods, a.ready_pods, a.pods_with_proxy, &a.proxy_revisions, &a.proxy_versions),
                "{id}"
            ),
            None => why("pods"),
        }
        match w.stale {
            Some(s) => assert_eq!(Some(s), a.stale, "{id}"),
            None => why("stale"),
        }
        for k in &w.stale_kinds {
            assert!(a.stale_kinds.contains(k), "{id}: {k} not in {:?}", a.stale_kinds);
        }
        for k in &a.stale_kinds {
            assert!(w.stale_kinds.contains(k) || w.stale_unknown.contains(k), "{id}: {k} denied");
        }
        match w.mtls.mode {
            Some(_) => assert_eq!(w.mtls, a.mtls, "{id}"),
            None => why("mtls"),
        }
        match w.authorization {
            Some(_) => assert_eq!(
                (w.authorization, &w.authorization_policies),
                (a.authorization, &a.authorization_policies),
                "{id}"
            ),
            None => why("authorization"),
        }
        match &w.services {
            Some(_) => assert_eq!(w.services, a.services, "{id}"),
            None => why("services"),
        }
        match w.ambient {
            Some(_) => assert_eq!(w.ambient, a.ambient, "{id}"),
            None => why("ambient"),
        }
    }
    for n in &part.namespaces {
        let a = full.namespaces.iter().find(|x| x.name == n.name).expect("namespace in the full view");
        let why = |key: &str| assert!(n.unknown.contains_key(key), "{}: no reason for {key}", n.name);
        match n.injection.mode {
            Some(_) => assert_eq!(n.injection.mode, a.injection.mode, "{}", n.name),
            None => why("injection.mode"),
        }
        match n.injection.expected {
            Some(_) => {
                assert_eq!((n.injection.expected, &n.injection.revision), (a.injection.expected, &a.injection.revision))
            }
            None => why("injection.expected"),
        }
        match n.mtls.mode {
            Some(_) => assert_eq!(n.mtls, a.mtls, "{}", n.name),
            None => why("mtls"),
        }
        match n.pods {
            Some(_) => assert_eq!((n.pods, n.pods_with_proxy), (a.pods, a.pods_with_proxy), "{}", n.name),
            None => why("pods"),
        }
        match n.ambient {
            Some(_) => assert_eq!(n.ambient, a.ambient, "{}", n.name),
            None => why("ambient"),
        }
    }
    let (cp, full_cp) = (&part.control_plane, &full.control_plane);
    for r in &cp.revisions {
        let a = full_cp.revisions.iter().find(|x| x.name == r.name).expect("revision in the full view");
        assert_eq!((&r.version, r.ready_replicas), (&a.version, a.ready_replicas));
        if r.tags.is_some() {
            assert_eq!(r.tags, a.tags);
        }
        if r.proxies.is_some() {
            assert_eq!(r.proxies, a.proxies);
        }
    }
    if cp.tags.is_some() {
        assert_eq!(cp.tags, full_cp.tags);
    }
    if cp.proxies.is_some() {
        assert_eq!(cp.proxies, full_cp.proxies);
    }
    if part.root_namespace.is_some() {
        assert_eq!(part.root_namespace, full.root_namespace);
    }
    for w in part.warnings.iter().filter(|w| !w.contains(": forbidden; ")) {
        assert!(full.warnings.contains(w), "{w} is not in the full view's warnings {:?}", full.warnings);
    }
}

#[test]
fn the_full_view_has_each_fact_this_file_hides() {
    let v = full();
    assert!(v.forbidden.is_empty() && v.workloads.iter().all(|w| w.unknown.is_empty()));
    let kinds = |name: &str, ns: &str| row(&v, ns, name).stale_kinds.clone();
    assert_eq!(kinds("web", "on-default"), Vec::<&str>::new());
    assert_eq!(kinds("in-place", "on-default"), vec!["STALE-IMAGE"]);
    assert_eq!(kinds("no-proxy", "on-default"), vec!["MISSING-PROXY"]);
    assert_eq!(kinds("ahead", "on-default"), vec!["STALE-IMAGE", "UNSUPPORTED-SKEW"]);
    assert_eq!(kinds("moved", "on-prod"), vec!["STALE-REVISION"]);
    assert_eq!(kinds("unlabelled", "plain"), vec!["WILL-LOSE-PROXY"]);
    assert_eq!(kinds("old", "legacy"), vec!["ORPHANED"]);
    assert_eq!(row(&v, "amb", "worker").ambient, Some(true));
    assert_eq!(row(&v, "on-default", "web").authorization, Some("allow-all"));
    assert_eq!(v.control_plane.tags, Some([("prod".to_string(), "canary".to_string())].into()));
}

#[test]
fn hidden_webhooks_leave_injection_tags_and_dependent_staleness_unknown() {
    let (a, v) = (full(), refused(&[Input::MutatingWebhookConfiguration]));
    agrees(&a, &v);
    assert_eq!(v.forbidden, vec!["mutatingwebhookconfigurations.admissionregistration.k8s.io"]);
    assert_eq!(
        v.warnings[0],
        "mutatingwebhookconfigurations.admissionregistration.k8s.io: forbidden; injection expectations, revision tags and staleness are unknown"
    );
    let web = row(&v, "on-default", "web");
    assert_eq!(
        (
            web.injection.expected,
            web.injection.revision.as_deref(),
            web.injection.reason.as_str(),
            web.injection.conflict
        ),
        (None, None, MWC, None)
    );
    assert_eq!((web.stale, web.stale_unknown.clone()), (None, vec!["STALE-REVISION", "WILL-LOSE-PROXY"]));
    assert_eq!(
        web.stale_reason.as_deref(),
        Some(
            "unknown whether STALE-REVISION or WILL-LOSE-PROXY: \
             mutatingwebhookconfigurations.admissionregistration.k8s.io are forbidden to this user"
        )
    );
    // What the webhooks do not decide is still said: the image is older than `default` injects.
    let in_place = row(&v, "on-default", "in-place");
    assert_eq!((in_place.stale, in_place.stale_kinds.clone()), (Some(true), vec!["STALE-IMAGE"]));
    // The pods the issue saw reported WILL-LOSE-PROXY: no longer asserted, and no longer denied.
    let unlabelled = row(&v, "plain", "unlabelled");
    assert_eq!((unlabelled.stale, unlabelled.stale_kinds.len()), (None, 0));
    assert_eq!(row(&v, "plain", "plain-app").stale_unknown, vec!["MISSING-PROXY"]);
    // Stage B refuses these whatever the webhooks select.
    let opted = row(&v, "plain", "opted-out");
    assert_eq!(
        (opted.injection.expected, opted.injection.reason.as_str(), opted.stale),
        (
            Some(false),
            "pod label sidecar.istio.io/inject=false: not injected, whichever webhook selects it",
            Some(false)
        )
    );
    let host = row(&v, "on-default", "host");
    assert_eq!(
        (host.injection.expected, host.injection.reason.as_str(), host.injection.conflict),
        (
            Some(false),
            "the pod uses hostNetwork, which istiod never injects: not injected, whichever webhook selects it",
            None
        )
    );
    assert_eq!(host.unknown.get("injection.conflict").map(String::as_str), Some(MWC));
    // Ambient enrolment needs to know whether a sidecar comes; `worker` has none running.
    assert_eq!(row(&v, "amb", "worker").ambient, None);
    let ns = v.namespaces.iter().find(|n| n.name == "on-prod").expect("on-prod");
    assert_eq!((ns.injection.mode, ns.injection.expected, ns.injection.reason.as_str()), (Some("enabled"), None, MWC));
    assert_eq!((&v.control_plane.tags, v.control_plane.unknown.get("tags").map(String::as_str)), (&None, Some(MWC)));
    assert!(v.control_plane.revisions.iter().all(|r| r.tags.is_none() && r.proxies.is_some()));
    let j = serde_json::to_value(&v).expect("serialisable");
    assert_eq!((&j["schemaVersion"], &j["controlPlane"]["tags"]), (&json!(2), &Value::Null));
    let web = j["workloads"].as_array().and_then(|w| w.iter().find(|w| w["name"] == "web")).expect("web");
    assert_eq!((&web["injection"]["expected"], &web["stale"]), (&Value::Null, &Value::Null));
}

#[test]
fn hidden_namespaces_leave_their_labels_unknown() {
    let (a, v) = (full(), refused(&[Input::Namespace]));
    agrees(&a, &v);
    let reason = "unknown: namespaces are forbidden to this user";
    let ns = v.namespaces.iter().find(|n| n.name == "on-default").expect("on-default");
    assert_eq!((ns.injection.mode, ns.injection.expected, ns.ambient), (None, None, None));
    assert_eq!(ns.unknown.get("injection.mode").map(String::as_str), Some(reason));
    assert_eq!(row(&v, "on-default", "web").injection.reason, reason);
    assert_eq!(row(&v, "amb", "worker").ambient, None);
    // An explicit opt-out needs no namespace label to be known.
    assert_eq!(row(&v, "plain", "opted-out").stale, Some(false));
    // The webhooks are readable: the pod's own revision is still orphaned, whatever selects it.
    assert_eq!(row(&v, "legacy", "old").stale_kinds, vec!["ORPHANED"]);
    assert!(v.control_plane.tags.is_some());
}

#[test]
fn hidden_pods_leave_counts_proxies_and_staleness_unknown() {
    let (a, v) = (full(), refused(&[Input::Pod]));
    agrees(&a, &v);
    let reason = "unknown: pods are forbidden to this user";
    let web = row(&v, "on-default", "web");
    assert_eq!((web.pods, web.ready_pods, web.pods_with_proxy, &web.proxy_versions), (None, None, None, &None));
    assert_eq!(web.unknown.get("pods").map(String::as_str), Some(reason));
    assert_eq!((web.stale, web.stale_unknown.len()), (None, 6));
    // Injection is the template's: still known, and so is the ambient question it settles.
    assert_eq!((web.injection.expected, web.ambient), (Some(true), Some(false)));
    // Bare pods have no other trace.
    assert!(v.workloads.iter().all(|w| w.kind != "Pod"), "{:?}", v.workloads);
    let ns = v.namespaces.iter().find(|n| n.name == "on-default").expect("on-default");
    assert_eq!((ns.pods, ns.pods_with_proxy, ns.workloads), (None, None, 1));
    assert_eq!(v.control_plane.proxies, None);
    assert!(v.control_plane.revisions.iter().all(|r| r.proxies.is_none() && r.tags.is_some()));
}

#[test]
fn hidden_config_maps_leave_the_injector_config_images_and_root_namespace_unknown() {
    let (a, v) = (full(), refused(&[Input::ConfigMap]));
    agrees(&a, &v);
    let reason = "unknown: configmaps are forbidden to this user";
    // Stage B would read the injector's policy for a selected pod without its own choice.
    let web = row(&v, "on-default", "web");
    assert_eq!((web.injection.expected, web.injection.reason.as_str()), (None, reason));
    assert_eq!(row(&v, "plain", "opted-out").injection.expected, Some(false));
    // Nothing selects `plain-app`, so no injector config is read for it.
    assert_eq!(row(&v, "plain", "plain-app").injection.expected, Some(false));
    let in_place = row(&v, "on-default", "in-place");
    assert_eq!((in_place.stale_kinds.len(), in_place.stale), (0, None));
    assert!(in_place.stale_unknown.contains(&"STALE-IMAGE"), "{:?}", in_place.stale_unknown);
    // The mesh-wide PeerAuthentication is in istio-system, which is the root only if the
    // hidden mesh config says so.
    assert_eq!((web.mtls.mode, web.unknown.get("mtls").map(String::as_str)), (None, Some(reason)));
    // The AuthorizationPolicy lives in the workload's own namespace: no root can change it.
    assert_eq!(web.authorization, Some("allow-all"));
    assert_eq!(v.root_namespace, None);
    assert!(v.control_plane.revisions.iter().all(|r| r.expected_proxy_image.is_none()));
    assert_eq!(v.control_plane.unknown.get("expectedProxyImage").map(String::as_str), Some(reason));
}

#[test]
fn hidden_policies_leave_mtls_and_authorization_unknown() {
    let a = full();
    let v = refused(&[Input::PeerAuthentication]);
    agrees(&a, &v);
    assert!(v.workloads.iter().all(|w| w.mtls.mode.is_none() && w.authorization.is_some()));
    assert!(v.namespaces.iter().all(|n| n.mtls.mode.is_none()));
    assert_eq!(
        row(&v, "plain", "plain-app").unknown.get("mtls").map(String::as_str),
        Some("unknown: peerauthentications.security.istio.io are forbidden to this user")
    );
    let v = refused(&[Input::AuthorizationPolicy]);
    agrees(&a, &v);
    let web = row(&v, "on-default", "web");
    assert_eq!((web.authorization, &web.authorization_policies, web.mtls.mode.is_some()), (None, &None, true));
}

#[test]
fn hidden_services_and_deployments_leave_orphans_and_skew_unknown() {
    let a = full();
    let v = refused(&[Input::Service]);
    agrees(&a, &v);
    let old = row(&v, "legacy", "old");
    assert_eq!((old.stale, old.stale_unknown.clone()), (None, vec!["ORPHANED"]));
    assert_eq!(row(&v, "on-default", "web").services, None);
    // The full view warns that 1-22-0's webhook Service is missing; hidden Services cannot say.
    assert!(a.warnings.iter().any(|w| w.contains("istiod-1-22-0, which does not exist")));
    assert!(!v.warnings.iter().any(|w| w.contains("does not exist")), "{:?}", v.warnings);

    let v = refused(&[Input::Deployment]);
    agrees(&a, &v);
    // Rows of Deployments come from their pods; one without pods has no trace.
    assert!(row(&v, "on-default", "web").pods == Some(2));
    assert!(v.control_plane.revisions.is_empty());
    assert_eq!(
        v.control_plane.unknown.get("revisions").map(String::as_str),
        Some("unknown: deployments.apps are forbidden to this user")
    );
    let ahead = row(&v, "on-default", "ahead");
    assert_eq!(
        (ahead.stale, ahead.stale_kinds.clone(), ahead.stale_unknown.clone()),
        (Some(true), vec!["STALE-IMAGE"], vec!["UNSUPPORTED-SKEW"])
    );
    // The Service istiod still shows revision default exists.
    assert!(!row(&v, "on-default", "web").stale_unknown.contains(&"ORPHANED"));
}

#[test]
fn every_hidden_kind_is_warned_about_once_with_what_it_hides() {
    let v = refused(&Input::ALL);
    let forbidden: Vec<&str> = Input::ALL.iter().map(|i| i.resource()).collect();
    assert_eq!(v.forbidden, forbidden);
    assert_eq!(v.warnings.len(), Input::ALL.len());
    assert!(v.warnings.iter().zip(&forbidden).all(|(w, r)| w.starts_with(&format!("{r}: forbidden; "))));
    assert!(v.workloads.is_empty() && v.namespaces.is_empty());
}
