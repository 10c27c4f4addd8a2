//! meshdeck's own list/watch loop against the simulated cluster: initial sync, live changes,
//! re-list after 410, and a malformed object skipped with a warning that names it.

mod common;

use common::{DEADLINE, client, sim, wait_for};
use meshdeck::cluster::watch::{ApiKind, Keyed, Reflector, SyncState, run};
use meshdeck::sim::kinds;
use meshdeck::sim::ops::WriteOpts;
use serde_json::json;
use std::collections::BTreeMap;

#[derive(serde::Deserialize)]
struct SlimCm {
    metadata: Meta,
    #[serde(default)]
    data: BTreeMap<String, String>,
}

#[derive(serde::Deserialize)]
struct Meta {
    name: String,
    #[serde(default)]
    namespace: String,
}

impl Keyed for SlimCm {
    fn key(&self) -> (String, String) {
        (self.metadata.namespace.clone(), self.metadata.name.clone())
    }
}

const CMS: ApiKind = ApiKind { group: "", version: "v1", plural: "configmaps", namespaced: true };

#[tokio::test]
async fn syncs_follows_changes_relists_and_skips_malformed_objects() {
    let h = sim(&[], 1.0).await;
    let k = kinds::by_group_plural("", "configmaps").unwrap();
    let mk = |name: &str, data: serde_json::Value| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}, "data": data});
    h.cluster.create(k, "default", mk("a", json!({"x": "1"})), WriteOpts::by("test")).unwrap();
    h.cluster.create(k, "default", mk("bad", json!(5)), WriteOpts::by("test")).unwrap();

    let refl = Reflector::<SlimCm>::new(CMS);
    let (tx, mut rx) = tokio::sync::watch::channel(0u64);
    let task = tokio::spawn(run(client(&h, "sim-admin").await, refl.clone(), None, tx));

    wait_for("initial sync", DEADLINE, || async { (refl.state() == SyncState::Synced).then_some(()) }).await;
    assert_eq!(refl.len(), 1);
    assert!(
        refl.warnings().iter().any(|w| w.starts_with("configmaps default/bad: skipped, cannot be read:")),
        "{:?}",
        refl.warnings()
    );

    rx.borrow_and_update();
    h.cluster.create(k, "default", mk("b", json!({"y": "2"})), WriteOpts::by("test")).unwrap();
    wait_for("the new object", DEADLINE, || async { (refl.len() == 2).then_some(()) }).await;
    assert!(rx.has_changed().unwrap(), "a change bumps the channel");

    // After an expiry the loop lists again and still has everything, including objects made
    // while it was away.
    h.expire_watches();
    h.cluster.create(k, "default", mk("c", json!({"z": "3"})), WriteOpts::by("test")).unwrap();
    wait_for("the object made across the expiry", DEADLINE, || async {
        refl.snapshot()
            .iter()
            .any(|c| c.metadata.name == "c" && c.data.get("z").map(String::as_str) == Some("3"))
            .then_some(())
    })
    .await;
    assert_eq!(refl.len(), 3);
    task.abort();
}

/// The live snapshot decodes whole pages in one pass; a page with a malformed object falls
/// back to reading item by item, so only that object is skipped and the warning names it.
#[tokio::test]
async fn a_malformed_object_in_a_page_skips_only_itself() {
    let h = sim(&[], 1.0).await;
    let k = kinds::by_group_plural("", "services").unwrap();
    let svc = |name: &str, selector: serde_json::Value| {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"},
               "spec": {"selector": selector, "ports": [{"port": 80}]}})
    };
    for (name, sel) in [("a", json!({"app": "a"})), ("bad", json!(5)), ("c", json!({"app": "c"}))] {
        h.cluster.create(k, "default", svc(name, sel), WriteOpts::by("test")).unwrap();
    }
    let live = meshdeck::cluster::live::Live::start(client(&h, "sim-admin").await, "sim-admin".into());
    live.synced(DEADLINE).await.unwrap();
    let names: Vec<String> = {
        let snap = live.snapshot();
        let snap = snap.read().unwrap();
        snap.services.keys().filter(|(ns, _)| ns == "default").map(|(_, n)| n.clone()).collect()
    };
    assert_eq!(names, ["a", "c"]);
    let warnings = live.warnings();
    assert!(warnings.iter().any(|w| w.starts_with("services default/bad:")), "{warnings:?}");
}
