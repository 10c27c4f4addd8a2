//! ISTIO.md §5.2–5.3: which AuthorizationPolicies attach to a sidecar workload, and empty
//! versus allow-all versus deny.

use super::fixtures::*;
use crate::mesh::Snapshot;
use crate::mesh::authz::{AuthzIndex, AuthzResult};
use crate::mesh::mtls::RevScope;
use serde_json::{Value, json};

fn eval(objs: Vec<Value>, ns: &str, pod: &[(&str, &str)], rev: &str) -> AuthzResult {
    let snap = Snapshot::from_objects(objs);
    assert!(snap.warnings.is_empty(), "{:?}", snap.warnings);
    let idx = AuthzIndex::new(&snap, &snap.root_namespace());
    idx.workload(ns, &labels(pod), &RevScope { revision: Some(rev.into()), tags: vec![] })
}

fn names(r: &AuthzResult) -> Vec<(String, String, &'static str)> {
    r.policies.iter().map(|p| (p.name.clone(), p.action.clone(), p.effect.as_str())).collect()
}

fn n(name: &str, action: &str, effect: &'static str) -> (String, String, &'static str) {
    (name.to_string(), action.to_string(), effect)
}

#[test]
fn attachment() {
    let web = [("app", "web"), ("version", "v1")];
    let rule = json!([{"from": [{"source": {"principals": ["cluster.local/ns/shop/sa/front"]}}]}]);
    let objs = vec![
        ap(
            "istio-system",
            "mesh-wide",
            json!({"action": "DENY", "rules": [{"to": [{"operation": {"paths": ["/admin"]}}]}]}),
        ),
        ap("istio-system", "root-selector", json!({"selector": {"matchLabels": {"app": "web"}}, "rules": rule})),
        ap("istio-system", "root-selector-other", json!({"selector": {"matchLabels": {"app": "db"}}, "rules": rule})),
        ap("shop", "ns-wide", json!({"action": "AUDIT", "rules": [{}]})),
        ap("shop", "subset", json!({"selector": {"matchLabels": {"app": "web"}}, "rules": rule})),
        ap("shop", "not-subset", json!({"selector": {"matchLabels": {"app": "web", "version": "v2"}}, "rules": rule})),
        ap(
            "shop",
            "target-refs",
            json!({"targetRefs": [{"kind": "Service", "group": "", "name": "web"}], "action": "DENY", "rules": [{}]}),
        ),
        ap(
            "shop",
            "target-ref",
            json!({"targetRef": {"kind": "Gateway", "group": "gateway.networking.k8s.io", "name": "gw"}, "action": "DENY", "rules": [{}]}),
        ),
        ap("other", "elsewhere", json!({"action": "DENY", "rules": [{}]})),
        with_label(ap("shop", "canary-only", json!({"action": "DENY", "rules": [{}]})), "istio.io/rev", "canary"),
    ];
    let r = eval(objs.clone(), "shop", &web, "default");
    assert_eq!(
        names(&r),
        vec![
            n("istio-system/mesh-wide", "DENY", "deny-matching"),
            n("istio-system/root-selector", "ALLOW", "allow-matching"),
            n("shop/ns-wide", "AUDIT", "audit"),
            n("shop/subset", "ALLOW", "allow-matching"),
        ]
    );
    assert_eq!(r.verdict, "restricted");
    // The canary revision's istiod also sees the policy labelled for it.
    let r = eval(objs, "shop", &web, "canary");
    assert!(r.policies.iter().any(|p| p.name == "shop/canary-only"));
    assert_eq!(r.verdict, "deny-all");
}

#[test]
fn empty_versus_allow_all_versus_deny() {
    type Case = (&'static str, Vec<Value>, &'static str, Vec<(String, String, &'static str)>);
    let cases: Vec<Case> = vec![
        ("no policy", vec![], "allow-all", vec![]),
        (
            "spec {} denies all",
            vec![ap("shop", "nothing", json!({}))],
            "deny-all",
            vec![n("shop/nothing", "ALLOW", "allow-nothing")],
        ),
        (
            "ALLOW with selector and no rules",
            vec![ap("shop", "sel", json!({"selector": {"matchLabels": {"app": "web"}}}))],
            "deny-all",
            vec![n("shop/sel", "ALLOW", "allow-nothing")],
        ),
        (
            "rules [{}] allows all",
            vec![ap("shop", "all", json!({"rules": [{}]}))],
            "allow-all",
            vec![n("shop/all", "ALLOW", "allow-all")],
        ),
        (
            "empty from/to lists still match all",
            vec![ap("shop", "all", json!({"action": "ALLOW", "rules": [{"from": [], "to": null}]}))],
            "allow-all",
            vec![n("shop/all", "ALLOW", "allow-all")],
        ),
        (
            "allow-nothing plus allow-all",
            vec![ap("shop", "nothing", json!({})), ap("shop", "all", json!({"rules": [{}]}))],
            "allow-all",
            vec![n("shop/all", "ALLOW", "allow-all"), n("shop/nothing", "ALLOW", "allow-nothing")],
        ),
        (
            "DENY without rules has no effect",
            vec![ap("shop", "d", json!({"action": "DENY"}))],
            "allow-all",
            vec![n("shop/d", "DENY", "no-effect")],
        ),
        (
            "DENY [{}] denies all",
            vec![ap("shop", "d", json!({"action": "DENY", "rules": [{}]}))],
            "deny-all",
            vec![n("shop/d", "DENY", "deny-all")],
        ),
        (
            "DENY all beats ALLOW all",
            vec![ap("shop", "a", json!({"rules": [{}]})), ap("shop", "d", json!({"action": "DENY", "rules": [{}]}))],
            "deny-all",
            vec![n("shop/a", "ALLOW", "allow-all"), n("shop/d", "DENY", "deny-all")],
        ),
        (
            "AUDIT never changes the outcome",
            vec![ap("shop", "au", json!({"action": "AUDIT", "rules": [{}]}))],
            "allow-all",
            vec![n("shop/au", "AUDIT", "audit")],
        ),
        (
            "CUSTOM may deny",
            vec![ap(
                "shop",
                "ext",
                json!({"action": "CUSTOM", "provider": {"name": "opa"}, "rules": [{"to": [{"operation": {"paths": ["/x"]}}]}]}),
            )],
            "restricted",
            vec![n("shop/ext", "CUSTOM", "custom")],
        ),
        (
            "dry-run is not enforced",
            vec![with_annotation(ap("shop", "trial", json!({})), "istio.io/dry-run", "true")],
            "allow-all",
            vec![n("shop/trial", "ALLOW", "allow-nothing")],
        ),
    ];
    for (name, objs, verdict, want) in cases {
        let r = eval(objs, "shop", &[("app", "web")], "default");
        assert_eq!(r.verdict, verdict, "{name}");
        assert_eq!(names(&r), want, "{name}");
    }
}

#[test]
fn notes_flag_surprises() {
    let objs = vec![
        ap("shop", "nothing", json!({})),
        ap("shop", "deny-none", json!({"action": "DENY"})),
        with_annotation(ap("shop", "trial", json!({"action": "DENY", "rules": [{}]})), "istio.io/dry-run", "true"),
    ];
    let r = eval(objs, "shop", &[], "default");
    assert_eq!(
        r.notes,
        vec![
            "shop/deny-none is a DENY policy without rules: no effect",
            "shop/nothing is an ALLOW policy without rules: it denies every request",
            "shop/trial is dry-run: not enforced",
        ]
    );
    assert!(r.policies.iter().find(|p| p.name == "shop/trial").is_some_and(|p| p.dry_run));
    assert_eq!(r.verdict, "deny-all");
}
