//! `meshdeck inventory -o json` against the demo scenario gives the values the scenario was
//! written to produce: the rng migration's starting point, bookinfo injected and PERMISSIVE,
//! legacy without sidecars, payments' proxies stale after the prod-stable tag moved. As the
//! viewer it is the same; as `sim-restricted` (no webhook configurations) what the webhooks
//! decide is unknown, said so, and nothing it states is contradicted by the admin's view.

mod common;

use common::{DEADLINE, sim, wait_for};
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Output};

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

    assert_eq!((&inv["context"], &inv["schemaVersion"]), (&json!("sim-admin"), &json!(2)));
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

/// `meshdeck inventory ARGS` as `context`, run where a blocking wait does not stall the sim.
async fn inventory(kubeconfig: &Path, context: &str, args: &[&str]) -> Output {
    let (kc, context) = (kubeconfig.to_path_buf(), context.to_string());
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_meshdeck"))
            .args(["--context", &context, "inventory"])
            .args(&args)
            .env("KUBECONFIG", kc)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

async fn json_as(kubeconfig: &Path, context: &str) -> (Value, String) {
    let out = inventory(kubeconfig, context, &["-o", "json"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    // A report, not a health check: a partial view still exits 0.
    assert_eq!(out.status.code(), Some(0), "{context}: {stderr}");
    (serde_json::from_slice(&out.stdout).expect("inventory prints JSON"), stderr)
}

/// The fields that legitimately differ between two runs of one cluster: who asked, and when.
fn without_run_fields(mut v: Value) -> Value {
    v["context"] = Value::Null;
    v["generatedAt"] = Value::Null;
    v
}

fn rows(inv: &Value) -> Vec<(String, String)> {
    let w = inv["workloads"].as_array().unwrap();
    w.iter().map(|w| (w["namespace"].as_str().unwrap().into(), w["name"].as_str().unwrap().into())).collect()
}

const WEBHOOKS: &str = "mutatingwebhookconfigurations.admissionregistration.k8s.io";

/// Every fact the partial view states is the admin's; every one it leaves null names why.
fn no_claim_contradicted(admin: &Value, part: &Value) {
    let facts = [
        "/injection/expected",
        "/injection/conflict",
        "/pods",
        "/readyPods",
        "/podsWithProxy",
        "/proxyRevisions",
        "/proxyVersions",
        "/stale",
        "/mtls",
        "/authorization",
        "/authorizationPolicies",
        "/services",
        "/ambient",
        "/gateway",
        "/serviceAccount",
    ];
    for w in part["workloads"].as_array().unwrap() {
        let (ns, name) = (w["namespace"].as_str().unwrap(), w["name"].as_str().unwrap());
        let a = workload(admin, ns, name);
        for f in facts {
            let (mine, theirs) = (&w.pointer(f).unwrap(), &a.pointer(f).unwrap());
            if mine.is_null() && !theirs.is_null() {
                assert!(!w["unknown"].as_object().unwrap().is_empty(), "{ns}/{name}{f} null without a reason");
            } else {
                assert_eq!(mine, theirs, "{ns}/{name}{f}");
            }
        }
        if w["injection"]["expected"] != Value::Null {
            assert_eq!(w["injection"]["revision"], a["injection"]["revision"], "{ns}/{name}");
        }
        let (found, open) = (w["staleKinds"].as_array().unwrap(), w["staleUnknown"].as_array().unwrap());
        for k in found {
            assert!(a["staleKinds"].as_array().unwrap().contains(k), "{ns}/{name}: {k} asserted, admin disagrees");
        }
        for k in a["staleKinds"].as_array().unwrap() {
            assert!(found.contains(k) || open.contains(k), "{ns}/{name}: {k} denied");
        }
    }
    for n in part["namespaces"].as_array().unwrap() {
        let a = by_name(&admin["namespaces"], "name", n["name"].as_str().unwrap());
        for f in
            ["/injection/mode", "/injection/expected", "/mtls", "/workloads", "/pods", "/podsWithProxy", "/ambient"]
        {
            let mine = n.pointer(f).unwrap();
            if !mine.is_null() {
                assert_eq!(mine, a.pointer(f).unwrap(), "{}{f}", n["name"]);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn inventory_as_admin_viewer_and_restricted() {
    let h = sim(&["demo"], 20.0).await;
    let kc = h.kubeconfig_path.clone();
    // The three views must be of one cluster state: an admin view before and after the other
    // two bounds them, and the set is taken again if anything moved in between (pods still
    // becoming ready just after the sim starts).
    let (admin, viewer, (restricted, stderr)) = wait_for("three inventories of one cluster state", DEADLINE, || {
        let kc = kc.clone();
        async move {
            let before = json_as(&kc, "sim-admin").await.0;
            let viewer = json_as(&kc, "sim-viewer").await.0;
            let restricted = json_as(&kc, "sim-restricted").await;
            let after = json_as(&kc, "sim-admin").await.0;
            let same = without_run_fields(before.clone()) == without_run_fields(after);
            same.then_some((before, viewer, restricted))
        }
    })
    .await;

    // The viewer may read everything the inventory reads: only who asked and when differ.
    assert_eq!(viewer["context"], "sim-viewer");
    assert_eq!(without_run_fields(viewer), without_run_fields(admin.clone()));
    assert_eq!((&admin["forbidden"], &admin["warnings"]), (&json!([]), &json!([])));

    // Restricted: the webhooks are named, with what they hide, in the JSON and on stderr.
    assert_eq!((&restricted["context"], &restricted["schemaVersion"]), (&json!("sim-restricted"), &json!(2)));
    assert_eq!(restricted["forbidden"], json!([WEBHOOKS]));
    assert_eq!(
        restricted["warnings"],
        json!([format!("{WEBHOOKS}: forbidden; injection expectations, revision tags and staleness are unknown")])
    );
    assert!(stderr.contains(&format!("{WEBHOOKS}: forbidden;")), "{stderr}");
    let unknown = format!("unknown: {WEBHOOKS} are forbidden to this user");

    // Tags come only from webhook configurations.
    assert_eq!(admin["controlPlane"]["tags"], json!({"default": "1-24-3", "prod-stable": "1-25-0"}));
    assert_eq!(restricted["controlPlane"]["tags"], Value::Null);
    assert_eq!(restricted["controlPlane"]["unknown"], json!({"tags": unknown}));
    for name in ["1-24-3", "1-25-0"] {
        let mut r = by_name(&restricted["controlPlane"]["revisions"], "name", name).clone();
        let mut a = by_name(&admin["controlPlane"]["revisions"], "name", name).clone();
        assert_eq!(r["tags"], Value::Null, "{name}");
        (r["tags"], a["tags"]) = (json!(null), json!(null));
        assert_eq!(r, a, "{name}: all but the tags are known");
    }

    // Per workload: (namespace, name, injection.expected, stale, staleUnknown). Every pod of
    // the demo is live except the finished Job's, which can never go stale.
    const SR_WLP: &[&str] = &["STALE-REVISION", "WILL-LOSE-PROXY"];
    const MISSING: &[&str] = &["MISSING-PROXY"];
    let expected: Vec<(&str, &str, Value, Value, &[&str])> = vec![
        ("bookinfo", "details-v1", json!(null), json!(null), SR_WLP),
        ("bookinfo", "productpage-v1", json!(null), json!(null), SR_WLP),
        ("bookinfo", "ratings-v1", json!(null), json!(null), SR_WLP),
        ("bookinfo", "reviews-v1", json!(null), json!(null), SR_WLP),
        ("bookinfo", "reviews-v2", json!(null), json!(null), SR_WLP),
        ("bookinfo", "reviews-v3", json!(null), json!(null), SR_WLP),
        // Labelled sidecar.istio.io/inject=false: istiod refuses them whatever selects them.
        ("istio-system", "istio-ingressgateway", json!(false), json!(false), &[]),
        ("istio-system", "istiod-1-24-3", json!(false), json!(false), &[]),
        ("istio-system", "istiod-1-25-0", json!(false), json!(false), &[]),
        ("legacy", "debug-shell", json!(null), json!(null), MISSING),
        ("legacy", "legacy-client", json!(null), json!(null), MISSING),
        ("legacy", "nightly-report", json!(null), json!(false), &[]),
        ("legacy", "report-db", json!(null), json!(null), MISSING),
        ("payments", "checkout", json!(null), json!(null), SR_WLP),
        ("payments", "ledger", json!(null), json!(null), SR_WLP),
        ("rng", "numbers-api", json!(null), json!(null), MISSING),
        ("rng", "numbers-web", json!(null), json!(null), MISSING),
    ];
    let names: Vec<(String, String)> = expected.iter().map(|e| (e.0.to_string(), e.1.to_string())).collect();
    assert_eq!((rows(&restricted), rows(&admin)), (names.clone(), names));
    for (ns, name, inject, stale, open) in &expected {
        let w = workload(&restricted, ns, name);
        assert_eq!(
            (&w["injection"]["expected"], &w["stale"], &w["staleKinds"], &w["staleUnknown"]),
            (inject, stale, &json!([]), &json!(open)),
            "{ns}/{name}"
        );
        // What once read "WILL-LOSE-PROXY … loses its proxy on the next restart" is not claimed.
        assert!(!w["staleReason"].as_str().unwrap_or("").contains("loses its proxy"), "{ns}/{name}");
        if inject.is_null() {
            assert_eq!(
                (&w["injection"]["reason"], &w["injection"]["revision"], &w["injection"]["conflict"]),
                (&json!(unknown), &json!(null), &json!(null)),
                "{ns}/{name}"
            );
            assert_eq!(w["unknown"]["injection.expected"], json!(unknown), "{ns}/{name}");
        }
    }
    let checkout = workload(&restricted, "payments", "checkout");
    assert_eq!(
        checkout["staleReason"],
        format!("unknown whether STALE-REVISION or WILL-LOSE-PROXY: {WEBHOOKS} are forbidden to this user")
    );
    assert_eq!(workload(&admin, "payments", "checkout")["staleKinds"], json!(["STALE-REVISION"]));
    assert_eq!(
        workload(&restricted, "istio-system", "istiod-1-24-3")["injection"]["reason"],
        "pod label sidecar.istio.io/inject=false: not injected, whichever webhook selects it"
    );

    // Namespaces: their own labels are known, what a plain pod would get is not, except where
    // istiod never injects.
    for (name, mode, inject) in [
        ("bookinfo", "enabled", json!(null)),
        ("payments", "enabled", json!(null)),
        ("rng", "unset", json!(null)),
        ("legacy", "unset", json!(null)),
        ("kube-system", "unset", json!(false)),
    ] {
        let n = by_name(&restricted["namespaces"], "name", name);
        assert_eq!((&n["injection"]["mode"], &n["injection"]["expected"]), (&json!(mode), &inject), "{name}");
    }
    assert_eq!(by_name(&admin["namespaces"], "name", "payments")["injection"]["expected"], true);

    no_claim_contradicted(&admin, &restricted);

    // The table marks the same cells with `?`.
    let out = inventory(&kc, "sim-restricted", &["-o", "table", "-n", "payments"]).await;
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8_lossy(&out.stdout);
    let ledger = table.lines().find(|l| l.contains("ledger")).unwrap_or_else(|| panic!("{table}"));
    let cells: Vec<&str> = ledger.split_whitespace().collect();
    assert_eq!(cells, ["payments", "StatefulSet", "ledger", "?", "2/2", "1.24.3", "?", "PERMISSIVE", "allow-all"]);
}
