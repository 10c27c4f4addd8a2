//! Expansion, action by action: hand-written bodies and ops.

use super::fixtures::*;
use crate::plan::{Restart, Severity};
use serde_json::{Value, json};

fn ns_apply(ns: &str, labels: Value, action: usize, why: &str) -> Value {
    json!({"ref": {"apiVersion": "v1", "kind": "Namespace", "name": ns},
           "op": {"type": "apply", "body": {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}}},
           "action": action, "why": why})
}

fn ns_remove(ns: &str, key_escaped: &str, value: &str, action: usize, why: &str) -> Value {
    let path = format!("/metadata/labels/{key_escaped}");
    json!({"ref": {"apiVersion": "v1", "kind": "Namespace", "name": ns},
           "op": {"type": "patch", "ops": [{"op": "test", "path": path, "value": value}, {"op": "remove", "path": path}]},
           "action": action, "why": why})
}

fn deploy_apply(ns: &str, name: &str, template_meta: Value, why: &str) -> Value {
    json!({"ref": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": ns, "name": name},
           "op": {"type": "apply", "body": {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": name, "namespace": ns},
                  "spec": {"template": {"metadata": template_meta}}}},
           "action": 0, "why": why})
}

fn restart(workload: &str, pods: usize, batch: usize, cannot: Option<&str>) -> Restart {
    Restart { workload: workload.into(), pods, batch, cannot_roll: cannot.map(String::from) }
}

#[test]
fn namespace_injection_labels_are_never_both() {
    let cases: Vec<(&str, Vec<Value>)> = vec![
        (
            "- {action: inject, target: ns/rng}",
            vec![ns_apply("rng", json!({"istio-injection": "enabled"}), 0, "opt in to injection")],
        ),
        (
            "- {action: inject, target: ns/payments}",
            vec![
                ns_apply("payments", json!({"istio-injection": "enabled"}), 0, "opt in to injection"),
                ns_remove("payments", "istio.io~1rev", "prod-stable", 0, "istio-injection and istio.io/rev never both"),
            ],
        ),
        (
            "- {action: inject, target: ns/rng, revision: 1-25-0}",
            vec![ns_apply("rng", json!({"istio.io/rev": "1-25-0"}), 0, "opt in to injection")],
        ),
        (
            "- {action: inject, target: ns/bookinfo, revision: prod-stable}",
            vec![
                ns_apply("bookinfo", json!({"istio.io/rev": "prod-stable"}), 0, "opt in to injection"),
                ns_remove("bookinfo", "istio-injection", "enabled", 0, "istio-injection would override istio.io/rev"),
            ],
        ),
        // The second action takes back what the first set: one body, and the first action's
        // removal of the live istio.io/rev is dropped since the label is set again.
        (
            "- {action: inject, target: ns/payments}\n- {action: inject, target: ns/payments, revision: 1-25-0}",
            vec![ns_apply("payments", json!({"istio.io/rev": "1-25-0"}), 0, "opt in to injection")],
        ),
        (
            "- {action: uninject, target: ns/bookinfo}",
            vec![ns_remove("bookinfo", "istio-injection", "enabled", 0, "opt out of injection")],
        ),
        (
            "- {action: uninject, target: ns/payments}",
            vec![ns_remove("payments", "istio.io~1rev", "prod-stable", 0, "opt out of injection")],
        ),
        (
            "- {action: revision, target: ns/bookinfo, to: 1-25-0}",
            vec![
                ns_apply("bookinfo", json!({"istio.io/rev": "1-25-0"}), 0, "move to revision"),
                ns_remove("bookinfo", "istio-injection", "enabled", 0, "istio-injection would override istio.io/rev"),
            ],
        ),
    ];
    for (actions, want) in cases {
        let e = run(&plan(actions)).unwrap_or_else(|err| panic!("{actions}: {err}"));
        assert_eq!(changes_json(&e), want, "{actions}");
        assert!(e.restarts.is_empty(), "{actions}: nothing restarts without restartedAt");
    }
}

#[test]
fn namespace_inject_without_restart_says_running_pods_keep_going() {
    let e = run(&plan("- {action: inject, target: ns/rng}")).unwrap();
    assert_eq!(e.findings.len(), 1);
    assert_eq!(e.findings[0].severity, Severity::Info);
    assert_eq!(e.findings[0].action, Some(0));
    assert_eq!(
        e.findings[0].message,
        "running pods in rng get a sidecar only when restarted; stage a restart of ns/rng or its workloads"
    );
}

#[test]
fn unknown_revision_lists_the_known_ones() {
    let err = run(&plan(
        "- {action: mtls, target: ns/rng, mode: STRICT}\n- {action: inject, target: ns/rng, revision: canary}",
    ))
    .unwrap_err();
    assert_eq!(
        err,
        "action 2 (inject ns/rng (revision canary)): revision or tag canary is not known; known: 1-24-3, 1-25-0, default, prod-stable"
    );
}

#[test]
fn errors_name_the_action_and_the_missing_object() {
    let cases = [
        (
            "- {action: mtls, target: ns/nope, mode: STRICT}",
            "action 1 (mtls ns/nope STRICT): namespace nope does not exist",
        ),
        (
            "- {action: restart, target: deploy/rng/nope, restartedAt: x}",
            "action 1 (restart deploy/rng/nope): Deployment rng/nope does not exist",
        ),
        (
            "- {action: inject, target: mesh}",
            "action 1 (inject mesh): inject takes a namespace or a workload, not the whole mesh",
        ),
        (
            "- {action: allow, target: ns/rng, from: [ns/legacy]}",
            "action 1 (allow ns/rng from ns/legacy): allow takes a workload (deploy/NS/NAME, sts/NS/NAME or ds/NS/NAME), not ns/rng",
        ),
        (
            "- {action: route, service: svc/rng/nope, hosts: [a.example.com], gateway: istio-system/ingressgateway}",
            "action 1 (route a.example.com via istio-system/ingressgateway to svc/rng/nope): service rng/nope does not exist",
        ),
        (
            "- {action: route, service: svc/rng/numbers-web, hosts: [a.example.com], gateway: istio-system/nope}",
            "action 1 (route a.example.com via istio-system/nope to svc/rng/numbers-web): gateway istio-system/nope does not exist",
        ),
        (
            "- {action: undo, entry: 20260101T000000Z-aaaa}",
            "action 1 (undo journal entry 20260101T000000Z-aaaa): journal entry 20260101T000000Z-aaaa does not exist: the journal is empty",
        ),
    ];
    for (actions, want) in cases {
        assert_eq!(run(&plan(actions)).unwrap_err(), want, "{actions}");
    }
}

#[test]
fn workload_inject_labels_the_template_and_always_rolls() {
    let e =
        run(&plan("- {action: inject, target: deploy/rng/numbers-api, restartedAt: '2026-11-27T01:00:00Z'}")).unwrap();
    assert_eq!(
        changes_json(&e),
        vec![deploy_apply(
            "rng",
            "numbers-api",
            json!({"labels": {"sidecar.istio.io/inject": "true"}, "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-27T01:00:00Z"}}),
            "opt in to injection; restart"
        )]
    );
    assert_eq!(e.restarts, vec![restart("Deployment rng/numbers-api", 2, 1, None)]);
    assert!(e.findings.is_empty(), "{:?}", e.findings);

    // Without a stamp the template still changes, so it still rolls.
    let e = run(&plan("- {action: inject, target: deploy/rng/numbers-web, revision: 1-25-0}")).unwrap();
    assert_eq!(
        changes_json(&e),
        vec![deploy_apply(
            "rng",
            "numbers-web",
            json!({"labels": {"sidecar.istio.io/inject": "true", "istio.io/rev": "1-25-0"}}),
            "opt in to injection"
        )]
    );
    assert_eq!(e.restarts, vec![restart("Deployment rng/numbers-web", 2, 1, None)]);

    let e = run(&plan("- {action: uninject, target: deploy/rng/numbers-web}")).unwrap();
    assert_eq!(
        changes_json(&e),
        vec![deploy_apply(
            "rng",
            "numbers-web",
            json!({"labels": {"sidecar.istio.io/inject": "false"}}),
            "opt out of injection"
        )]
    );
}

#[test]
fn workload_inject_in_a_disabled_namespace_is_an_error_finding() {
    let e = run(&plan("- {action: inject, target: deploy/quiet/batch}")).unwrap();
    assert_eq!(e.findings.len(), 1, "{:?}", e.findings);
    assert_eq!(e.findings[0].severity, Severity::Error);
    assert_eq!(
        e.findings[0].message,
        "namespace quiet has istio-injection=disabled: no injector webhook selects its pods, so the pod label cannot opt batch in (ISTIO.md §1.3); set the namespace label to enabled or remove it"
    );
}

#[test]
fn namespace_restart_lists_what_cannot_roll() {
    let e = run(&plan("- {action: restart, target: ns/legacy, restartedAt: T1}")).unwrap();
    let stamp = json!({"annotations": {"kubectl.kubernetes.io/restartedAt": "T1"}});
    assert_eq!(
        changes_json(&e),
        vec![
            deploy_apply("legacy", "legacy-client", stamp.clone(), "restart"),
            deploy_apply("legacy", "report-db", stamp, "restart")
        ]
    );
    assert_eq!(
        e.restarts,
        vec![
            restart("Deployment legacy/legacy-client", 1, 1, None),
            restart("Deployment legacy/report-db", 1, 1, None),
            restart("Pod legacy/debug-shell", 1, 0, Some("a bare pod: delete it to replace it")),
            restart(
                "Job legacy/nightly-report",
                1,
                0,
                Some("a Job: its pods are never replaced; the next run gets the change")
            ),
        ]
    );
    let e = run(&plan("- {action: restart, target: sts/payments/ledger, restartedAt: T1}")).unwrap();
    assert_eq!(
        e.restarts,
        vec![restart("StatefulSet payments/ledger", 2, 0, Some("OnDelete: pods change only when deleted"))]
    );
}

#[test]
fn namespace_inject_with_restart_rolls_every_workload() {
    let e = run(&plan("- {action: revision, target: ns/payments, to: 1-25-0, restartedAt: T2}")).unwrap();
    let kinds: Vec<String> = e.changes.iter().map(|c| c.target.display()).collect();
    assert_eq!(kinds, ["Namespace payments", "Deployment payments/checkout", "StatefulSet payments/ledger"]);
    assert_eq!(
        e.restarts,
        vec![
            restart("Deployment payments/checkout", 2, 1, None),
            restart("StatefulSet payments/ledger", 2, 0, Some("OnDelete: pods change only when deleted")),
        ]
    );
}

#[test]
fn batch_sizes_follow_each_kind_rule() {
    use crate::mesh::Snapshot;
    let wl = |kind: &str, replicas: i64, strategy: Value, status: Value| {
        let key = if kind == "Deployment" { "strategy" } else { "updateStrategy" };
        json!({"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "w", "namespace": "n"},
               "spec": {"replicas": replicas, key: strategy, "template": {}}, "status": status})
    };
    let cases = [
        (
            "deployment defaults: 25% surge up + 25% unavailable down",
            wl("Deployment", 10, json!(null), json!({})),
            Ok(5),
        ),
        ("deployment of 2: surge 1, unavailable 0", wl("Deployment", 2, json!(null), json!({})), Ok(1)),
        (
            "deployment ints",
            wl("Deployment", 10, json!({"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}), json!({})),
            Ok(1),
        ),
        ("deployment recreate", wl("Deployment", 4, json!({"type": "Recreate"}), json!({})), Ok(4)),
        ("statefulset rolling", wl("StatefulSet", 3, json!({"type": "RollingUpdate"}), json!({})), Ok(1)),
        (
            "statefulset on delete",
            wl("StatefulSet", 3, json!({"type": "OnDelete"}), json!({})),
            Err("OnDelete: pods change only when deleted".to_string()),
        ),
        ("daemonset default", wl("DaemonSet", 0, json!(null), json!({"desiredNumberScheduled": 10})), Ok(1)),
        (
            "daemonset 25% of 10 rounds up",
            wl(
                "DaemonSet",
                0,
                json!({"rollingUpdate": {"maxUnavailable": "25%"}}),
                json!({"desiredNumberScheduled": 10}),
            ),
            Ok(3),
        ),
    ];
    for (what, obj, want) in cases {
        let snap = Snapshot::from_objects([obj]);
        let w = snap.workloads.values().next().expect(what);
        assert_eq!(crate::plan::batch_size(w), want, "{what}");
    }
}

fn pa(ns: &str, name: &str, spec: Value) -> Value {
    json!({"ref": {"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "namespace": ns, "name": name},
           "op": {"type": "apply", "body": {"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
                  "metadata": {"name": name, "namespace": ns}, "spec": spec}},
           "action": 0, "why": format!("mTLS {}", spec["mtls"]["mode"].as_str().unwrap())})
}

#[test]
fn mtls_at_each_scope() {
    let cases = [
        (
            "- {action: mtls, target: mesh, mode: STRICT}",
            pa("istio-system", "default", json!({"mtls": {"mode": "STRICT"}})),
        ),
        ("- {action: mtls, target: ns/rng, mode: STRICT}", pa("rng", "default", json!({"mtls": {"mode": "STRICT"}}))),
        (
            "- {action: mtls, target: ns/legacy, mode: DISABLE}",
            pa("legacy", "default", json!({"mtls": {"mode": "DISABLE"}})),
        ),
        (
            "- {action: mtls, target: deploy/rng/numbers-api, mode: PERMISSIVE}",
            pa(
                "rng",
                "numbers-api",
                json!({"selector": {"matchLabels": {"app": "numbers-api"}}, "mtls": {"mode": "PERMISSIVE"}}),
            ),
        ),
    ];
    for (actions, want) in cases {
        assert_eq!(changes_json(&run(&plan(actions)).unwrap()), vec![want], "{actions}");
    }
}

#[test]
fn mtls_updates_the_oldest_scope_policy_that_exists() {
    let mut objs = objects();
    for (name, created) in [("zz-older", "2024-01-01T00:00:00Z"), ("aa-newer", "2025-01-01T00:00:00Z")] {
        objs.push(json!({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
            "metadata": {"name": name, "namespace": "legacy", "creationTimestamp": created}, "spec": {"mtls": {"mode": "PERMISSIVE"}}}));
    }
    let snap = crate::mesh::Snapshot::from_objects(objs);
    let e = run_with(&snap, &plan("- {action: mtls, target: ns/legacy, mode: STRICT}"), &[]).unwrap();
    assert_eq!(changes_json(&e), vec![pa("legacy", "zz-older", json!({"mtls": {"mode": "STRICT"}}))]);
}

#[test]
fn allow_actions_on_one_workload_merge_into_one_policy() {
    let e = run(&plan(
        "- {action: allow, target: deploy/rng/numbers-api, from: [sa/rng/numbers-web], methods: [GET]}\n\
         - {action: allow, target: deploy/rng/numbers-api, from: [sa/legacy/ghost, ns/legacy], paths: [/stats], ports: [8080]}",
    ))
    .unwrap();
    assert_eq!(
        changes_json(&e),
        vec![json!({
            "ref": {"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy", "namespace": "rng", "name": "numbers-api-allow"},
            "op": {"type": "apply", "body": {
                "apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
                "metadata": {"name": "numbers-api-allow", "namespace": "rng"},
                "spec": {
                    "selector": {"matchLabels": {"app": "numbers-api"}},
                    "action": "ALLOW",
                    "rules": [
                        {"from": [{"source": {"principals": ["cluster.local/ns/rng/sa/numbers-web"]}}],
                         "to": [{"operation": {"methods": ["GET"]}}]},
                        {"from": [{"source": {"principals": ["cluster.local/ns/legacy/sa/ghost"]}}, {"source": {"namespaces": ["legacy"]}}],
                         "to": [{"operation": {"paths": ["/stats"], "ports": ["8080"]}}]},
                    ],
                },
            }},
            "action": 0, "why": "allow callers",
        })]
    );
    assert_eq!(e.findings.len(), 1);
    assert_eq!(e.findings[0].severity, Severity::Warning);
    assert_eq!(e.findings[0].action, Some(1));
    assert_eq!(
        e.findings[0].message,
        "service account legacy/ghost does not exist: the rule lets in nobody until it does"
    );
}

#[test]
fn route_binds_a_virtual_service_to_the_gateway() {
    let e = run(&plan(
        "- {action: route, service: svc/rng/numbers-web, hosts: [rng.example.com], gateway: istio-system/ingressgateway, exportTo: [istio-system]}",
    ))
    .unwrap();
    assert_eq!(
        changes_json(&e),
        vec![json!({
            "ref": {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "namespace": "rng", "name": "numbers-web"},
            "op": {"type": "apply", "body": {
                "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                "metadata": {"name": "numbers-web", "namespace": "rng"},
                "spec": {
                    "hosts": ["rng.example.com"],
                    "gateways": ["istio-system/ingressgateway"],
                    "exportTo": ["istio-system"],
                    "http": [{"route": [{"destination": {"host": "numbers-web.rng.svc.cluster.local", "port": {"number": 80}}}]}],
                },
            }},
            "action": 0, "why": "route through the gateway",
        })]
    );
    assert!(e.findings.is_empty(), "{:?}", e.findings);

    let e = run(&plan(
        "- {action: route, service: svc/istio-system/istio-ingressgateway, hosts: [shop.other.org], gateway: istio-system/ingressgateway, exportTo: [.]}",
    ))
    .unwrap();
    let messages: Vec<&str> = e.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "service istio-system/istio-ingressgateway has 3 ports: routing to the first, 15021; edit the VirtualService to pick another",
            "gateway istio-system/ingressgateway lists no server host matching shop.other.org: the gateway will not route it (IST0132)",
        ]
    );
    let e = run(&plan("- {action: route, service: svc/rng/numbers-web, hosts: [rng.example.com], gateway: istio-system/ingressgateway, exportTo: [.]}")).unwrap();
    assert_eq!(e.findings[0].message, "exportTo . hides the VirtualService from the gateway's pods in istio-system");
}

#[test]
fn edits_replace_the_staged_body_or_are_reported() {
    let mut p = plan("- {action: mtls, target: ns/rng, mode: STRICT}");
    let target = crate::plan::ObjRef::new("security.istio.io/v1", "PeerAuthentication", "rng", "default");
    let edited = json!({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
        "metadata": {"name": "default", "namespace": "rng"}, "spec": {"mtls": {"mode": "STRICT"}, "portLevelMtls": {"9000": {"mode": "DISABLE"}}}});
    p.edits.push(crate::plan::Edit { target: target.clone(), body: edited.clone() });
    let stray = crate::plan::ObjRef::new("security.istio.io/v1", "PeerAuthentication", "legacy", "default");
    p.edits.push(crate::plan::Edit { target: stray, body: json!({}) });
    let e = run(&p).unwrap();
    assert_eq!(e.changes.len(), 1);
    assert_eq!(e.changes[0].op, crate::plan::Op::Apply { body: edited.clone() });
    assert_eq!(e.findings.len(), 1);
    assert_eq!(e.findings[0].severity, Severity::Error);
    assert_eq!(
        e.findings[0].message,
        "edit 2 (PeerAuthentication legacy/default): the plan applies no such object, so the edit replaces nothing"
    );

    let cases = [
        (
            "/metadata/name",
            json!("other"),
            "edit 1 (PeerAuthentication rng/default): metadata.name is `other`; the staged object's is `default`, and an edit cannot change it",
        ),
        (
            "/kind",
            json!("AuthorizationPolicy"),
            "edit 1 (PeerAuthentication rng/default): kind is `AuthorizationPolicy`; the staged object's is `PeerAuthentication`, and an edit cannot change it",
        ),
        (
            "/metadata/namespace",
            json!(null),
            "edit 1 (PeerAuthentication rng/default): metadata.namespace is missing; the staged object's is `rng`",
        ),
    ];
    for (ptr, value, want) in cases {
        let mut p = plan("- {action: mtls, target: ns/rng, mode: STRICT}");
        let mut body = edited.clone();
        *body.pointer_mut(ptr).unwrap() = value;
        p.edits.push(crate::plan::Edit { target: target.clone(), body });
        assert_eq!(run(&p).unwrap_err(), want);
    }
}

#[test]
fn parse_edit_gives_line_and_column() {
    let target = crate::plan::ObjRef::new("v1", "Namespace", "", "rng");
    let err = crate::plan::parse_edit(&target, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: [rng\n", "edit")
        .unwrap_err();
    assert!(err.starts_with("edit:5:1: "), "{err}");
    let ok =
        crate::plan::parse_edit(&target, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: rng\n", "edit").unwrap();
    assert_eq!(ok["metadata"]["name"], "rng");
}
