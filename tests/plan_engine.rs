//! The engine as the terminal UI calls it, against the simulated cluster: what the preview
//! shows is what the cluster stores; an object changed after the preview stops the apply; a
//! read-only client sends reads and dry-runs but no write.

mod common;

use common::sim;
use meshdeck::apply::http::{self, Write};
use meshdeck::apply::{ApplyOptions, ApplyRefusal, Engine, EngineOptions};
use meshdeck::plan::{self, ItemStatus, ObjRef, Plan};
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
async fn a_change_after_the_preview_stops_the_apply() {
    let h = sim(&["demo"], 50.0).await;
    let dir = tempfile::tempdir().unwrap();
    let e = engine(&h, "sim-admin", false, dir.path()).await;
    let p = plan("- action: inject\n  target: ns/legacy\n");
    let preview = e.preview(&p).await.unwrap();
    assert_eq!(preview.items[0].status, ItemStatus::Change);

    // Someone else labels the namespace after the preview.
    let ns = ObjRef::new("v1", "Namespace", "", "legacy");
    let ops = vec![json!({"op": "add", "path": "/metadata/labels/team", "value": "ops"})];
    http::json_patch(e.client(), &ns, &ops, Write::Real).await.unwrap();

    let err = e.apply(&p, &preview, &ApplyOptions::default()).await.unwrap_err();
    assert_eq!(
        err.downcast_ref::<ApplyRefusal>(),
        Some(&ApplyRefusal::ChangedSincePreview(vec!["Namespace legacy".into()]))
    );
    assert!(err.to_string().contains("changed since the preview: Namespace legacy; nothing was applied"), "{err}");
    let live = http::get(e.client(), &ns).await.unwrap().unwrap();
    assert_eq!(live["metadata"]["labels"].get("istio-injection"), None, "not overwritten");
    assert!(e.journal().list().unwrap().is_empty());

    // Previewed again, it applies.
    let preview = e.preview(&p).await.unwrap();
    assert!(e.apply(&p, &preview, &ApplyOptions::default()).await.unwrap().ok());
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
    let err = e.apply(&p, &preview, &ApplyOptions { force_conflicts: true, progress: None }).await.unwrap_err();
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
