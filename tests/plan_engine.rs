//! The engine as the terminal UI calls it, against the simulated cluster: what the preview
//! shows is what the cluster stores; an object changed after the preview stops the apply; a
//! read-only client sends reads and dry-runs but no write.

mod common;

use common::sim;
use meshdeck::apply::http::{self, Write};
use meshdeck::apply::{ApplyOptions, ApplyRefusal, Engine, EngineOptions};
use meshdeck::plan::{self, ItemStatus, ObjRef, Plan};
use meshdeck::sim::kinds;
use meshdeck::sim::ops::{PatchHow, WriteOpts};
use meshdeck::sim::run::SimHandle;
use serde_json::json;

async fn engine(h: &SimHandle, context: &str, read_only: bool, journal: &std::path::Path) -> Engine {
    let (client, conn) =
        meshdeck::cluster::client::connect_with(Some(&h.kubeconfig_path), Some(context), read_only).await.unwrap();
    Engine::new(client, conn, EngineOptions { journal_dir: Some(journal.to_path_buf()), ..Default::default() }).unwrap()
}

fn plan(yaml: &str) -> Plan {
    Plan::from_yaml(&format!("apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\nactions:\n{yaml}"), "test").unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_diff_shown_is_what_gets_stored() {
    let h = sim(&["demo"], 50.0).await;
    let dir = tempfile::tempdir().unwrap();
    let e = engine(&h, "sim-admin", false, dir.path()).await;
    let p = plan(concat!(
        "- action: inject\n  target: ns/legacy\n",
        "- action: inject\n  target: deploy/legacy/legacy-client\n  restartedAt: 2026-11-27T01:00:00Z\n",
        "- action: mtls\n  target: ns/bookinfo\n  mode: STRICT\n",
        "- action: allow\n  target: deploy/bookinfo/productpage-v1\n  from: [ns/istio-system]\n  methods: [GET]\n",
        "- action: route\n  service: svc/bookinfo/productpage\n  hosts: [bookinfo.example.com]\n  gateway: bookinfo/bookinfo-gateway\n",
    ));
    let preview = e.preview(&p).await.unwrap();
    let statuses: Vec<(String, ItemStatus)> =
        preview.items.iter().map(|i| (i.change.target.display(), i.status)).collect();
    assert_eq!(
        statuses,
        [
            ("Namespace legacy".to_string(), ItemStatus::Change),
            ("Deployment legacy/legacy-client".to_string(), ItemStatus::Change),
            ("PeerAuthentication bookinfo/default".to_string(), ItemStatus::Create),
            ("AuthorizationPolicy bookinfo/productpage-v1-allow".to_string(), ItemStatus::Create),
            ("VirtualService bookinfo/productpage".to_string(), ItemStatus::Create),
        ]
    );
    let report = e.apply(&p, &preview, &ApplyOptions::default()).await.unwrap();
    assert!(report.ok(), "{}", report.describe());
    for (item, done) in preview.items.iter().zip(&report.entry.items) {
        let shown = plan::for_display(item.result.as_ref().expect("a dry-run result"));
        // The write's own answer, before any controller touched the object.
        assert_eq!(plan::for_display(done.after.as_ref().unwrap()), shown, "{}", item.change.target.display());
        if item.change.target.kind != "Deployment" {
            // Deployments get the rollout controller's revision annotation after the write.
            let stored = http::get(e.client(), &item.change.target).await.unwrap().unwrap();
            assert_eq!(plan::for_display(&stored), shown, "{}", item.change.target.display());
        }
    }
    assert_eq!(e.journal().get("last").unwrap(), report.entry);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_after_the_preview_stops_the_apply_only_where_it_matters() {
    let h = sim(&["demo"], 50.0).await;
    let dir = tempfile::tempdir().unwrap();
    let e = engine(&h, "sim-admin", false, dir.path()).await;
    let p = plan("- action: inject\n  target: ns/legacy\n");
    let preview = e.preview(&p).await.unwrap();
    assert_eq!(preview.items[0].status, ItemStatus::Change);

    // Someone else sets the very label the plan sets, after the preview.
    let ns = ObjRef::new("v1", "Namespace", "", "legacy");
    let kubectl = |ops: serde_json::Value| {
        let k = kinds::by_group_plural("", "namespaces").unwrap();
        h.cluster.patch(k, "", "legacy", &ops, PatchHow::Json, WriteOpts::by("kubectl"), false).unwrap();
    };
    kubectl(json!([{"op": "add", "path": "/metadata/labels/istio-injection", "value": "disabled"}]));

    let err = e.apply(&p, &preview, &ApplyOptions::default()).await.unwrap_err();
    assert_eq!(
        err.downcast_ref::<ApplyRefusal>(),
        Some(&ApplyRefusal::ChangedSincePreview(vec![
            "Namespace legacy (metadata.labels.istio-injection is \"disabled\", the preview showed absent)".into()
        ]))
    );
    assert!(err.to_string().contains("nothing was applied"), "{err}");
    let live = http::get(e.client(), &ns).await.unwrap().unwrap();
    assert_eq!(live["metadata"]["labels"]["istio-injection"], "disabled", "not overwritten");
    assert!(e.journal().list().unwrap().is_empty());
    kubectl(json!([{"op": "remove", "path": "/metadata/labels/istio-injection"}]));

    // Previewed again, it applies; a change elsewhere on the object since does not matter.
    let preview = e.preview(&p).await.unwrap();
    kubectl(json!([{"op": "add", "path": "/metadata/labels/team", "value": "ops"}]));
    let report = e.apply(&p, &preview, &ApplyOptions::default()).await.unwrap();
    assert!(report.ok(), "{}", report.describe());
    let live = http::get(e.client(), &ns).await.unwrap().unwrap();
    assert_eq!(live["metadata"]["labels"]["istio-injection"], "enabled");
    assert_eq!(live["metadata"]["labels"]["team"], "ops", "the other client's change stays");
    // The journal's "before" is what the write overwrote: the other client's label is in it.
    let before = report.entry.items[0].before.as_ref().unwrap();
    assert_eq!(before["metadata"]["labels"]["team"], "ops");
    assert_eq!(before["metadata"]["resourceVersion"], live_version_before(&report.entry.items[0]));
}

/// The version the write replaced: one below the version it produced on this quiet object.
fn live_version_before(item: &meshdeck::plan::JournalItem) -> String {
    let after: u64 = item.after.as_ref().unwrap()["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
    (after - 1).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_sends_no_write() {
    let h = sim(&["demo"], 50.0).await;
    let dir = tempfile::tempdir().unwrap();
    let e = engine(&h, "sim-admin", true, dir.path()).await;
    let pa = ObjRef::new("security.istio.io/v1", "PeerAuthentication", "rng", "default");
    let body = json!({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
        "metadata": {"name": "default", "namespace": "rng"}, "spec": {"mtls": {"mode": "STRICT"}}});
    let before = h.log.entries().len();

    assert!(http::get(e.client(), &pa).await.unwrap().is_some());
    let dry = http::apply(e.client(), &pa, &body, true, Write::DryRun).await.unwrap();
    assert_eq!(dry["spec"]["mtls"]["mode"], "STRICT");
    let err = http::apply(e.client(), &pa, &body, true, Write::Real).await.unwrap_err();
    assert!(err.message.contains("read-only mode (--read-only): refused PATCH"), "{err}");
    let err = http::delete(e.client(), &pa, None, Write::Real).await.unwrap_err();
    assert!(err.message.contains("refused DELETE"), "{err}");

    let p = plan("- action: mtls\n  target: ns/rng\n  mode: STRICT\n");
    let preview = e.preview(&p).await.unwrap();
    let err = e.apply(&p, &preview, &ApplyOptions { force_conflicts: true, ..Default::default() }).await.unwrap_err();
    assert_eq!(err.downcast_ref::<ApplyRefusal>(), Some(&ApplyRefusal::ReadOnly));

    let sent: Vec<String> = h.log.entries()[before..]
        .iter()
        .filter(|r| r.is_mutating() && !r.query.contains("dryRun=All"))
        .map(|r| format!("{} {}?{}", r.method, r.path, r.query))
        .collect();
    assert_eq!(sent, [] as [String; 0], "no write left the process");
    let live = http::get(e.client(), &pa).await.unwrap().unwrap();
    assert_eq!(live["spec"]["mtls"]["mode"], "PERMISSIVE");
}

#[tokio::test(flavor = "multi_thread")]
async fn deletes_only_the_object_with_the_expected_uid() {
    let h = sim(&["demo"], 50.0).await;
    let dir = tempfile::tempdir().unwrap();
    let e = engine(&h, "sim-admin", false, dir.path()).await;
    let pa = ObjRef::new("security.istio.io/v1", "PeerAuthentication", "rng", "default");
    let live = http::get(e.client(), &pa).await.unwrap().unwrap();
    let uid = live["metadata"]["uid"].as_str().unwrap().to_string();
    for mode in [Write::DryRun, Write::Real] {
        let err = http::delete(e.client(), &pa, Some("not-the-uid"), mode).await.unwrap_err();
        assert_eq!(err.code, 409, "{mode:?}");
        assert!(err.message.contains("Precondition failed: UID in precondition: not-the-uid"), "{err}");
    }
    http::delete(e.client(), &pa, Some(&uid), Write::DryRun).await.unwrap();
    assert!(http::get(e.client(), &pa).await.unwrap().is_some(), "a dry-run deletes nothing");
    http::delete(e.client(), &pa, Some(&uid), Write::Real).await.unwrap();
    assert_eq!(http::get(e.client(), &pa).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_later_plan_keeps_what_an_earlier_one_applied() {
    let h = sim(&["demo"], 50.0).await;
    let dir = tempfile::tempdir().unwrap();
    let e = engine(&h, "sim-admin", false, dir.path()).await;
    let first = plan("- action: inject\n  target: deploy/legacy/legacy-client\n");
    let preview = e.preview(&first).await.unwrap();
    assert!(e.apply(&first, &preview, &ApplyOptions::default()).await.unwrap().ok());

    // A restart alone must not take the injection label back out of the template.
    let second =
        plan("- action: restart\n  target: deploy/legacy/legacy-client\n  restartedAt: 2026-11-27T02:00:00Z\n");
    let preview = e.preview(&second).await.unwrap();
    assert!(!preview.items[0].diff.contains("-        sidecar.istio.io/inject"), "{}", preview.items[0].diff);
    assert!(e.apply(&second, &preview, &ApplyOptions::default()).await.unwrap().ok());
    let deploy = ObjRef::new("apps/v1", "Deployment", "legacy", "legacy-client");
    let stored = http::get(e.client(), &deploy).await.unwrap().unwrap();
    let template = &stored["spec"]["template"]["metadata"];
    assert_eq!(template["labels"]["sidecar.istio.io/inject"], "true");
    assert_eq!(template["annotations"]["kubectl.kubernetes.io/restartedAt"], "2026-11-27T02:00:00Z");
}
