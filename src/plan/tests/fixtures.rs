//! The demo scenario (assets/scenarios) as a snapshot, with the pods its controllers would
//! have made and a few objects the tests need besides: a Gateway in istio-system and a
//! namespace with injection disabled.

use crate::mesh::Snapshot;
use crate::plan::{Context, Expanded, JournalEntry, Plan, expand};
use serde::Deserialize;
use serde_json::{Value, json};

pub const NOW: &str = "2026-11-27T01:30:00Z";

fn yaml_docs(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .filter_map(|d| Value::deserialize(d).ok())
        .filter(|v| v.is_object())
        .collect()
}

/// A running pod of a Deployment (through its ReplicaSet), a Job, or bare (`owner` None).
pub fn pod(ns: &str, name: &str, owner: Option<(&str, &str)>, labels: Value, sa: &str) -> Value {
    let mut p = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {"serviceAccountName": sa, "containers": [{"name": "app", "image": "example/app:1"}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    });
    if let Some((kind, owner)) = owner {
        p["metadata"]["ownerReferences"] =
            json!([{"apiVersion": "v1", "kind": kind, "name": owner, "controller": true, "uid": "u"}]);
    }
    p
}

pub fn objects() -> Vec<Value> {
    let mut objs = yaml_docs(include_str!("../../../assets/scenarios/istio.yaml"));
    objs.extend(yaml_docs(include_str!("../../../assets/scenarios/demo/10-apps.yaml")));
    for (app, hash) in [("numbers-api", "7d4f9"), ("numbers-web", "5c8b2")] {
        for i in 0..2 {
            objs.push(pod(
                "rng",
                &format!("{app}-{hash}-p{i}"),
                Some(("ReplicaSet", &format!("{app}-{hash}"))),
                json!({"app": app, "version": "v1", "pod-template-hash": hash}),
                app,
            ));
        }
    }
    objs.push(pod(
        "legacy",
        "legacy-client-6f7a1-q1",
        Some(("ReplicaSet", "legacy-client-6f7a1")),
        json!({"app": "legacy-client", "pod-template-hash": "6f7a1"}),
        "legacy-client",
    ));
    objs.push(pod(
        "legacy",
        "nightly-report-x2",
        Some(("Job", "nightly-report")),
        json!({"app": "nightly-report"}),
        "default",
    ));
    objs.push(json!({
        "apiVersion": "networking.istio.io/v1", "kind": "Gateway",
        "metadata": {"name": "ingressgateway", "namespace": "istio-system"},
        "spec": {"selector": {"istio": "ingressgateway"}, "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*.example.com"]}]},
    }));
    objs.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "quiet", "labels": {"istio-injection": "disabled"}}}));
    objs.push(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "batch", "namespace": "quiet"},
        "spec": {"replicas": 10, "selector": {"matchLabels": {"app": "batch"}}, "template": {"metadata": {"labels": {"app": "batch"}}, "spec": {"containers": [{"name": "b"}]}}},
    }));
    objs
}

pub fn demo() -> Snapshot {
    let snap = Snapshot::from_objects(objects());
    assert!(snap.warnings.is_empty(), "fixture warnings: {:?}", snap.warnings);
    snap
}

/// Plan text from the `actions:` list alone.
pub fn plan(actions_yaml: &str) -> Plan {
    let text = format!("apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\nactions:\n{actions_yaml}");
    Plan::from_yaml(&text, "test-plan.yaml").unwrap_or_else(|e| panic!("{e}"))
}

pub fn run_with(snap: &Snapshot, p: &Plan, journal: &[JournalEntry]) -> Result<Expanded, String> {
    expand(p, &Context { snapshot: snap, journal, now: NOW })
}

pub fn run(p: &Plan) -> Result<Expanded, String> {
    run_with(&demo(), p, &[])
}

/// The JSON of every change, for comparing against hand-written expectations.
pub fn changes_json(e: &Expanded) -> Vec<Value> {
    e.changes.iter().map(|c| serde_json::to_value(c).expect("a change serializes")).collect()
}
