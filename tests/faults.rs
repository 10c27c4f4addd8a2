//! Reliability under the simulated cluster's faults: watches closed every second, a fifth of
//! requests failing with 500 or 429, latency, and resource versions expiring early. The
//! list/watch loop must still converge on the cluster's true state.

mod common;

use common::{DEADLINE, client, wait_for};
use meshdeck::cluster::watch::{ApiKind, Keyed, Reflector, run};
use meshdeck::sim::api::faults::Faults;
use meshdeck::sim::kinds;
use meshdeck::sim::ops::WriteOpts;
use meshdeck::sim::run::{SimOptions, start};
use serde_json::json;

#[derive(serde::Deserialize)]
struct Slim {
    metadata: Meta,
}

#[derive(serde::Deserialize)]
struct Meta {
    name: String,
    namespace: String,
}

impl Keyed for Slim {
    fn key(&self) -> (String, String) {
        (self.metadata.namespace.clone(), self.metadata.name.clone())
    }
}

async fn converges_under(spec: &str) {
    let faults = Faults::parse(spec).unwrap();
    let h = start(SimOptions { faults, ..SimOptions::default() }).await.unwrap();
    let k = kinds::by_group_plural("", "configmaps").unwrap();
    let refl = Reflector::<Slim>::new(ApiKind { group: "", version: "v1", plural: "configmaps", namespaced: true });
    let (tx, _rx) = tokio::sync::watch::channel(0u64);
    let task = tokio::spawn(run(client(&h, "sim-admin").await, refl.clone(), None, tx));
    for i in 0..40 {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("c{i}"), "namespace": "default"}});
        h.cluster.create(k, "default", cm, WriteOpts::by("test")).unwrap();
        if i % 10 == 9 {
            h.cluster.delete(k, "default", &format!("c{}", i - 5), WriteOpts::by("test")).unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
    }
    wait_for(&format!("36 objects under {spec}"), DEADLINE, || async { (refl.len() == 36).then_some(()) }).await;
    let mut names: Vec<String> = refl.snapshot().iter().map(|s| s.metadata.name.clone()).collect();
    names.sort_by_key(|n| n[1..].parse::<u32>().unwrap());
    let want: Vec<String> = (0..40).filter(|i| ![4, 14, 24, 34].contains(i)).map(|i| format!("c{i}")).collect();
    assert_eq!(names, want);
    // The faults really struck: the loop had to open its watch more than once.
    let watches =
        h.log.entries().iter().filter(|e| e.path.ends_with("/configmaps") && e.query.contains("watch=true")).count();
    assert!(watches >= 2, "{watches} watch requests under {spec}");
    task.abort();
}

#[tokio::test]
async fn watches_closed_every_second_and_failing_requests() {
    converges_under("watch-close=1,error-rate=0.2,error-code=500,latency=5").await;
}

#[tokio::test]
async fn throttled_requests_and_early_expiry() {
    converges_under("error-rate=0.2,error-code=429,expire=1").await;
}
