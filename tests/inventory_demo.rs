//! `meshdeck inventory -o json` against the demo scenario gives the values the scenario was
//! written to produce: the rng migration's starting point, bookinfo injected and PERMISSIVE,
//! legacy without sidecars, payments' proxies stale after the prod-stable tag moved.

mod common;

use common::sim;
use serde_json::{Value, json};
use std::process::Command;

fn by_name<'a>(list: &'a Value, key: &str, name: &str) -> &'a Value {
    list.as_array().unwrap().iter().find(|v| v[key] == name).unwrap_or_else(|| panic!("{name} missing from {list}"))
}

fn workload<'a>(inv: &'a Value, ns: &str, name: &str) -> &'a Value {
    inv["workloads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["namespace"] == ns && w["name"] == name)
        .unwrap_or_else(|| panic!("{ns}/{name} missing"))
}

#[tokio::test(flavor = "multi_thread")]
async fn inventory_json_of_the_demo() {
    let h = sim(&["demo"], 20.0).await;
    let kc = h.kubeconfig_path.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_meshdeck"))
            .args(["inventory", "-o", "json"])
            .env("KUBECONFIG", kc)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let inv: Value = serde_json::from_slice(&out.stdout).expect("inventory prints JSON");

    assert_eq!(inv["context"], "sim-admin");
    let revs = &inv["controlPlane"]["revisions"];
    let r1 = by_name(revs, "name", "1-24-3");
    assert_eq!(
        (&r1["namespace"], &r1["version"], &r1["readyReplicas"], &r1["replicas"], &r1["tags"]),
        (&json!("istio-system"), &json!("1.24.3"), &json!(1), &json!(1), &json!(["default"]))
    );
    let r2 = by_name(revs, "name", "1-25-0");
    assert_eq!((&r2["version"], &r2["tags"]), (&json!("1.25.0"), &json!(["prod-stable"])));

    let ns = &inv["namespaces"];
    let rng = by_name(ns, "name", "rng");
    assert_eq!(rng["injection"]["mode"], "unset");
    assert_eq!(rng["injection"]["revision"], Value::Null);
    assert_eq!(rng["mtls"], json!({"mode": "PERMISSIVE", "source": "rng/default"}));
    assert_eq!((&rng["workloads"], &rng["pods"], &rng["podsWithProxy"]), (&json!(2), &json!(4), &json!(0)));
    let bookinfo = by_name(ns, "name", "bookinfo");
    assert_eq!(
        (&bookinfo["injection"]["mode"], &bookinfo["injection"]["revision"]),
        (&json!("enabled"), &json!("1-24-3"))
    );
    assert_eq!(bookinfo["mtls"], json!({"mode": "PERMISSIVE", "source": null}));
    assert_eq!(
        (&bookinfo["workloads"], &bookinfo["pods"], &bookinfo["podsWithProxy"]),
        (&json!(6), &json!(6), &json!(6))
    );
    let payments = by_name(ns, "name", "payments");
    assert_eq!(
        (&payments["injection"]["mode"], &payments["injection"]["revision"]),
        (&json!("enabled"), &json!("1-25-0"))
    );
    let legacy = by_name(ns, "name", "legacy");
    assert_eq!(legacy["podsWithProxy"], 0);

    let api = workload(&inv, "rng", "numbers-api");
    assert_eq!((&api["kind"], &api["serviceAccount"]), (&json!("Deployment"), &json!("numbers-api")));
    assert_eq!(api["injection"]["expected"], false);
    assert_eq!((&api["pods"], &api["podsWithProxy"], &api["stale"]), (&json!(2), &json!(0), &json!(false)));
    assert_eq!(api["mtls"], json!({"mode": "PERMISSIVE", "source": "rng/default", "ports": {}}));
    assert_eq!(api["authorizationPolicies"], json!([]));

    let ratings = workload(&inv, "bookinfo", "ratings-v1");
    assert_eq!(ratings["injection"]["revision"], "1-24-3");
    assert_eq!((&ratings["proxyRevisions"], &ratings["proxyVersions"]), (&json!(["1-24-3"]), &json!(["1.24.3"])));
    let policies: Vec<(Value, Value)> = ratings["authorizationPolicies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].clone(), p["action"].clone()))
        .collect();
    assert_eq!(policies, vec![(json!("bookinfo/ratings-viewer"), json!("ALLOW"))]);

    for name in ["checkout", "ledger"] {
        let w = workload(&inv, "payments", name);
        assert_eq!(w["injection"]["revision"], "1-25-0", "{name}");
        assert_eq!(w["proxyRevisions"], json!(["1-24-3"]), "{name}");
        assert_eq!(w["stale"], true, "{name}");
        assert!(w["staleReason"].as_str().unwrap().starts_with("STALE-REVISION"), "{name}: {}", w["staleReason"]);
    }
    assert_eq!(workload(&inv, "payments", "ledger")["kind"], "StatefulSet");
    assert_eq!(workload(&inv, "legacy", "debug-shell")["kind"], "Pod");
    assert_eq!(workload(&inv, "legacy", "nightly-report")["kind"], "Job");

    // -n limits the output to one namespace.
    let kc = h.kubeconfig_path.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_meshdeck"))
            .args(["inventory", "-o", "json", "-n", "rng"])
            .env("KUBECONFIG", kc)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let inv: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(inv["namespaces"].as_array().unwrap().len(), 1);
    assert_eq!(inv["workloads"].as_array().unwrap().len(), 2);
}
