//! The inverse of journal entries: created objects deleted by uid, changed fields tested and
//! restored, removed labels put back.

use super::fixtures::*;
use crate::plan::{Change, ItemState, JournalEntry, JournalItem, ObjRef, Op, Plan, Restart, inverse};
use serde_json::{Value, json};

fn item(target: ObjRef, op: Op, before: Option<Value>, after: Option<Value>, state: ItemState) -> JournalItem {
    JournalItem {
        change: Change { target, op, action: 0, why: "w".into() },
        before,
        after,
        state,
        error: None,
        notes: vec![],
    }
}

fn entry(items: Vec<JournalItem>) -> JournalEntry {
    JournalEntry {
        id: "20261127T013000Z-1a2b".into(),
        time: NOW.into(),
        context: "sim".into(),
        server: "https://127.0.0.1".into(),
        cluster_uid: None,
        user: "admin".into(),
        plan: Plan::default(),
        items,
        undoes: None,
        undone: None,
    }
}

fn sample() -> JournalEntry {
    let ap = ObjRef::new("security.istio.io/v1", "AuthorizationPolicy", "rng", "numbers-api-allow");
    let pa = ObjRef::new("security.istio.io/v1", "PeerAuthentication", "rng", "default");
    let dep = ObjRef::new("apps/v1", "Deployment", "rng", "numbers-api");
    let ns = ObjRef::new("v1", "Namespace", "", "bookinfo");
    let dep_body = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "numbers-api", "namespace": "rng"},
        "spec": {"template": {"metadata": {"labels": {"sidecar.istio.io/inject": "true"}, "annotations": {"kubectl.kubernetes.io/restartedAt": "T1"}}}}});
    entry(vec![
        item(
            ap.clone(),
            Op::Apply { body: json!({"kind": "AuthorizationPolicy"}) },
            None,
            Some(json!({"metadata": {"name": "numbers-api-allow", "uid": "uid-ap"}})),
            ItemState::Applied,
        ),
        item(
            pa,
            Op::Apply {
                body: json!({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
                 "metadata": {"name": "default", "namespace": "rng"}, "spec": {"mtls": {"mode": "STRICT"}}}),
            },
            Some(
                json!({"metadata": {"name": "default", "namespace": "rng"}, "spec": {"mtls": {"mode": "PERMISSIVE"}}}),
            ),
            Some(json!({"metadata": {"name": "default", "namespace": "rng"}, "spec": {"mtls": {"mode": "STRICT"}}})),
            ItemState::Applied,
        ),
        item(
            dep,
            Op::Apply { body: dep_body },
            Some(json!({"spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "numbers-api"}}}}})),
            Some(json!({"spec": {"replicas": 2, "template": {"metadata": {
                 "labels": {"app": "numbers-api", "sidecar.istio.io/inject": "true"},
                 "annotations": {"kubectl.kubernetes.io/restartedAt": "T1"}}}}})),
            ItemState::Applied,
        ),
        item(
            ns.clone(),
            Op::Patch {
                ops: vec![
                    json!({"op": "test", "path": "/metadata/labels/istio-injection", "value": "enabled"}),
                    json!({"op": "remove", "path": "/metadata/labels/istio-injection"}),
                ],
            },
            Some(json!({"metadata": {"name": "bookinfo", "labels": {"istio-injection": "enabled"}}})),
            Some(json!({"metadata": {"name": "bookinfo", "labels": {}}})),
            ItemState::Applied,
        ),
        // Never written: nothing to undo.
        item(
            ns,
            Op::Apply { body: json!({"metadata": {"labels": {"x": "y"}}}) },
            Some(json!({"metadata": {"name": "bookinfo"}})),
            None,
            ItemState::Skipped,
        ),
    ])
}

#[test]
fn inverse_restores_in_reverse_order_and_deletes_what_was_created() {
    let got: Vec<Value> = inverse(&sample())
        .iter()
        .map(|c| json!({"ref": c.target.display(), "op": c.op, "why": c.why, "action": c.action}))
        .collect();
    assert_eq!(
        got,
        vec![
            json!({"ref": "Namespace bookinfo", "action": 0, "why": "undo: w", "op": {"type": "patch", "ops": [
                {"op": "add", "path": "/metadata/labels/istio-injection", "value": "enabled"}]}}),
            json!({"ref": "Deployment rng/numbers-api", "action": 0, "why": "undo: w", "op": {"type": "patch", "ops": [
                {"op": "test", "path": "/spec/template/metadata/labels/sidecar.istio.io~1inject", "value": "true"},
                {"op": "test", "path": "/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt", "value": "T1"},
                {"op": "remove", "path": "/spec/template/metadata/labels/sidecar.istio.io~1inject"},
                {"op": "remove", "path": "/spec/template/metadata/annotations"}]}}),
            json!({"ref": "PeerAuthentication rng/default", "action": 0, "why": "undo: w", "op": {"type": "patch", "ops": [
                {"op": "test", "path": "/spec/mtls/mode", "value": "STRICT"},
                {"op": "replace", "path": "/spec/mtls/mode", "value": "PERMISSIVE"}]}}),
            json!({"ref": "AuthorizationPolicy rng/numbers-api-allow", "action": 0, "why": "undo: w",
                   "op": {"type": "delete", "uid": "uid-ap"}}),
        ]
    );
}

#[test]
fn the_inverse_of_a_patched_value_tests_then_restores() {
    let r = ObjRef::new("v1", "Namespace", "", "rng");
    let e = entry(vec![item(
        r,
        Op::Patch {
            ops: vec![
                json!({"op": "replace", "path": "/metadata/labels/team", "value": "mesh"}),
                json!({"op": "add", "path": "/metadata/labels/new", "value": "1"}),
            ],
        },
        Some(json!({"metadata": {"labels": {"team": "numbers"}}})),
        None,
        ItemState::Applied,
    )]);
    assert_eq!(
        inverse(&e)[0].op,
        Op::Patch {
            ops: vec![
                json!({"op": "test", "path": "/metadata/labels/new", "value": "1"}),
                json!({"op": "test", "path": "/metadata/labels/team", "value": "mesh"}),
                json!({"op": "remove", "path": "/metadata/labels/new"}),
                json!({"op": "replace", "path": "/metadata/labels/team", "value": "numbers"}),
            ]
        }
    );
}

#[test]
fn undo_action_expands_from_the_journal() {
    let journal = [sample()];
    let p = plan("- {action: mtls, target: ns/rng, mode: STRICT}\n- {action: undo, entry: last}");
    let e = run_with(&demo(), &p, &journal).unwrap();
    assert_eq!(e.changes.len(), 5);
    assert_eq!(e.changes[0].action, 0);
    assert!(e.changes[1..].iter().all(|c| c.action == 1));
    assert_eq!(e.changes[4].op, Op::Delete { uid: Some("uid-ap".into()) });
    // Putting numbers-api's template back rolls it.
    assert_eq!(
        e.restarts,
        [Restart { workload: "Deployment rng/numbers-api".into(), pods: 2, batch: 1, cannot_roll: None }]
    );
    let err = run_with(&demo(), &plan("- {action: undo, entry: nope}"), &journal).unwrap_err();
    assert_eq!(
        err,
        "action 1 (undo journal entry nope): journal entry nope does not exist (the latest is 20261127T013000Z-1a2b)"
    );
}
