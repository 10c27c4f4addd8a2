//! Preflight against the demo: the migration's mTLS change, the plaintext callers STRICT
//! cuts off, and an ALLOW policy that leaves out the gateway.

use super::fixtures::*;
use crate::plan::{Finding, ObjRef, Severity, preflight};
use serde_json::{Value, json};

/// The live object of the demo, changed as a dry-run would return it.
fn live_with(kind: &str, ns: &str, name: &str, patch: Value) -> (ObjRef, Option<Value>) {
    let mut obj = objects()
        .into_iter()
        .find(|o| o["kind"] == kind && o["metadata"]["namespace"] == ns && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("{kind} {ns}/{name} is in the fixture"));
    json_patch::merge(&mut obj, &patch);
    let r = ObjRef::new(obj["apiVersion"].as_str().unwrap(), kind, ns, name);
    (r, Some(obj))
}

fn messages(f: &[Finding], sev: Severity) -> Vec<&str> {
    f.iter().filter(|x| x.severity == sev).map(|x| x.message.as_str()).collect()
}

#[test]
fn strict_mtls_names_changed_workloads_and_cut_off_callers() {
    let p = plan(
        "- {action: inject, target: deploy/rng/numbers-api, restartedAt: T1}\n\
         - {action: inject, target: deploy/rng/numbers-web, restartedAt: T1}\n\
         - {action: mtls, target: ns/rng, mode: STRICT}",
    );
    let e = run(&p).unwrap();
    let inject = json!({"spec": {"template": {"metadata": {"labels": {"sidecar.istio.io/inject": "true"}}}}});
    let results = vec![
        live_with("Deployment", "rng", "numbers-api", inject.clone()),
        live_with("Deployment", "rng", "numbers-web", inject),
        live_with("PeerAuthentication", "rng", "default", json!({"spec": {"mtls": {"mode": "STRICT"}}})),
    ];
    let f = preflight(&demo(), &e, &results, NOW);
    assert_eq!(
        messages(&f, Severity::Info),
        [
            "rng/numbers-api: mTLS PERMISSIVE → STRICT (rng/default)",
            "rng/numbers-api: new pods get a sidecar of revision 1-24-3",
            "rng/numbers-web: mTLS PERMISSIVE → STRICT (rng/default)",
            "rng/numbers-web: new pods get a sidecar of revision 1-24-3",
        ]
    );
    // The rng workloads roll onto sidecars; the legacy pods stay plaintext.
    assert_eq!(
        messages(&f, Severity::Warning),
        [
            "STRICT mTLS on rng/numbers-api, rng/numbers-web refuses plaintext: 3 pods without a sidecar could call them and would be cut off — in other namespaces: legacy/debug-shell (Pod, 1 pod), legacy/legacy-client (Deployment, 1 pod), legacy/nightly-report (Job, 1 pod)"
        ]
    );
}

#[test]
fn an_allow_policy_that_leaves_out_the_gateway_is_flagged() {
    let p = plan(
        "- {action: allow, target: deploy/rng/numbers-web, from: [sa/rng/numbers-api, sa/rng/ghost]}\n\
         - {action: route, service: svc/rng/numbers-web, hosts: [rng.example.com], gateway: istio-system/ingressgateway}",
    );
    let e = run(&p).unwrap();
    let f = preflight(&demo(), &e, &[], NOW);
    assert_eq!(
        messages(&f, Severity::Warning),
        [
            "AuthorizationPolicy rng/numbers-web-allow: principal cluster.local/ns/rng/sa/ghost matches no service account",
            "AuthorizationPolicy rng/numbers-web-allow does not allow gateway istio-system/istio-ingressgateway (principal cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account), which VirtualService rng/numbers-web routes here through istio-system/ingressgateway: its requests will be denied",
        ]
    );
    assert!(messages(&f, Severity::Info).contains(
        &"AuthorizationPolicy rng/numbers-web-allow: the workloads it selects deny every caller it does not list"
    ));

    let p = plan(
        "- {action: allow, target: deploy/rng/numbers-web, from: [sa/istio-system/istio-ingressgateway-service-account]}\n\
         - {action: route, service: svc/rng/numbers-web, hosts: [rng.example.com], gateway: istio-system/ingressgateway}",
    );
    let f = preflight(&demo(), &run(&p).unwrap(), &[], NOW);
    assert!(messages(&f, Severity::Warning).is_empty(), "{f:?}");
}
