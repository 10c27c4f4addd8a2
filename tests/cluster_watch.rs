//! meshdeck's own list/watch loop against the simulated cluster: initial sync, live changes,
//! re-list after a 410 met while behind, and a malformed object skipped with a warning that
//! names it.

mod common;

use common::{DEADLINE, client, sim, wait_for};
use meshdeck::cluster::watch::{ApiKind, Keyed, Reflector, SyncState, run};
use meshdeck::sim::kinds;
use meshdeck::sim::ops::{PatchHow, WriteOpts};
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
    // A real API server refuses this; it is planted to test how the client copes.
    h.cluster.create(k, "default", mk("bad", json!(5)), WriteOpts::by("test").skip_validation()).unwrap();

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

/// A 410 met while the client is behind: its watch is cut, objects change and the history it
/// would resume from is compacted away before it is back. Resuming cannot work; only a new list
/// brings it up to date, and everything it missed must then be there.
#[tokio::test]
async fn gone_while_behind_relists_and_sees_what_it_missed() {
    let h = sim(&[], 1.0).await;
    let k = kinds::by_group_plural("", "configmaps").unwrap();
    let mk = |name: &str, v: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "default"}, "data": {"v": v}});
    for n in ["a", "b"] {
        h.cluster.create(k, "default", mk(n, "1"), WriteOpts::by("test")).unwrap();
    }
    let refl = Reflector::<SlimCm>::new(CMS);
    let (tx, _rx) = tokio::sync::watch::channel(0u64);
    let task = tokio::spawn(run(client(&h, "sim-admin").await, refl.clone(), None, tx));
    wait_for("initial sync", DEADLINE, || async {
        (refl.state() == SyncState::Synced && refl.len() == 2).then_some(())
    })
    .await;
    let lists =
        || h.log.entries().iter().filter(|e| e.path == "/api/v1/configmaps" && !e.query.contains("watch=true")).count();
    let lists_before = lists();

    let outage = h.watch_outage();
    h.cluster.create(k, "default", mk("c", "1"), WriteOpts::by("test")).unwrap();
    h.cluster
        .patch(k, "default", "a", &json!({"data": {"v": "2"}}), PatchHow::Merge, WriteOpts::by("test"), false)
        .unwrap();
    h.cluster.delete(k, "default", "b", WriteOpts::by("test")).unwrap();
    h.compact();
    drop(outage);

    let seen = |refl: &Reflector<SlimCm>| {
        let mut v: Vec<(String, String)> = refl
            .snapshot()
            .iter()
            .map(|c| (c.metadata.name.clone(), c.data.get("v").cloned().unwrap_or_default()))
            .collect();
        v.sort();
        v
    };
    let want = vec![("a".to_string(), "2".to_string()), ("c".to_string(), "1".to_string())];
    wait_for("the changes made while the client was cut off", DEADLINE, || async {
        (seen(&refl) == want).then_some(())
    })
    .await;
    assert_eq!(lists(), lists_before + 1, "exactly one new list, after the 410");
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
        let opts = if name == "bad" { WriteOpts::by("test").skip_validation() } else { WriteOpts::by("test") };
        h.cluster.create(k, "default", svc(name, sel), opts).unwrap();
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

/// A list longer than one page: pages are requested as soon as the previous one's continue
/// token has arrived and decode two at a time, and every object still lands exactly once; a
/// malformed pod in the middle page skips only itself.
#[tokio::test]
async fn a_list_of_several_pages_keeps_every_object_once() {
    let h = sim(&[], 1.0).await;
    let ns = kinds::by_group_plural("", "namespaces").unwrap();
    let pods = kinds::by_group_plural("", "pods").unwrap();
    let ns_obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "load"}});
    h.cluster.create(ns, "", ns_obj, WriteOpts::by("test")).unwrap();
    for i in 0..1234 {
        let name = format!("p{i:04}");
        let labels = if i == 700 { json!({"app": 5}) } else { json!({"app": "load", "i": i.to_string()}) };
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "load", "labels": labels},
                         "spec": {"containers": [{"name": "c", "image": "busybox"}]}});
        let opts = if i == 700 { WriteOpts::by("test").skip_validation() } else { WriteOpts::by("test") };
        h.cluster.create(pods, "load", pod, opts).unwrap();
    }
    let live = meshdeck::cluster::live::Live::start(client(&h, "sim-admin").await, "sim-admin".into());
    live.synced(DEADLINE).await.unwrap();
    let names: Vec<String> = {
        let snap = live.snapshot();
        let snap = snap.read().unwrap();
        snap.pods.keys().filter(|(ns, _)| ns == "load").map(|(_, n)| n.clone()).collect()
    };
    let want: Vec<String> = (0..1234).filter(|i| *i != 700).map(|i| format!("p{i:04}")).collect();
    assert_eq!(names, want);
    let warnings = live.warnings();
    assert!(warnings.iter().any(|w| w.starts_with("pods load/p0700:")), "{warnings:?}");
    // Three pages of 500, the later two asked for with the token the earlier one carried.
    let lists: Vec<String> = h
        .log
        .entries()
        .iter()
        .filter(|e| e.path == "/api/v1/pods" && !e.query.contains("watch=true"))
        .map(|e| e.query.clone())
        .collect();
    assert_eq!(lists.len(), 3, "{lists:?}");
    assert_eq!(lists.iter().filter(|q| q.contains("continue=")).count(), 2, "{lists:?}");
}
