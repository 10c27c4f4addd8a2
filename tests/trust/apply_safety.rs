//! Applies that race each other, objects that move between preview and apply, and the
//! journal's ties to its cluster, against the simulated cluster through the engine.

use crate::common::{DEADLINE, sim, wait_for};
use crate::support::{engine, forced, plan};
use meshdeck::apply::http;
use meshdeck::apply::{ApplyOptions, ApplyRefusal, Engine, lock};
use meshdeck::plan::{ItemStatus, ObjRef};
use meshdeck::sim::kinds;
use meshdeck::sim::ops::WriteOpts;
use serde_json::{Value, json};

fn pa(ns: &str) -> ObjRef {
    ObjRef::new("security.istio.io/v1", "PeerAuthentication", ns, "default")
}

fn deploy(ns: &str, name: &str) -> ObjRef {
    ObjRef::new("apps/v1", "Deployment", ns, name)
}

async fn live(e: &Engine, r: &ObjRef) -> Value {
    http::get(e.client(), r).await.unwrap().unwrap()
}

fn refusal(err: &anyhow::Error) -> ApplyRefusal {
    err.downcast_ref::<ApplyRefusal>().cloned().unwrap_or_else(|| panic!("not a refusal: {err:#}"))
}

/// Two operators on two machines (two journals, so no shared lock) preview plans that touch
/// the same PeerAuthentication and Deployment; the first applies. The second must stop before
/// writing anything, naming what moved, and the first stays undoable.
#[tokio::test(flavor = "multi_thread")]
async fn the_second_of_two_racing_applies_stops_and_nothing_is_lost() {
    let h = sim(&["demo"], 50.0).await;
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (engine(&h, da.path()).await, engine(&h, db.path()).await);
    let plan_a = plan(concat!(
        "- action: inject\n  target: deploy/rng/numbers-api\n  restartedAt: 2026-11-27T01:00:00Z\n",
        "- action: mtls\n  target: ns/rng\n  mode: STRICT\n",
    ));
    let plan_b = plan(concat!(
        "- action: mtls\n  target: ns/rng\n  mode: DISABLE\n",
        "- action: restart\n  target: deploy/rng/numbers-api\n  restartedAt: 2026-11-27T02:00:00Z\n",
    ));
    let (pa_, pb) = (a.preview(&plan_a).await.unwrap(), b.preview(&plan_b).await.unwrap());
    let report = a.apply(&plan_a, &pa_, &forced()).await.unwrap();
    assert!(report.ok(), "{}", report.describe());
    let requests_before_b = h.log.entries().len();

    let err = b.apply(&plan_b, &pb, &forced()).await.unwrap_err();
    let ApplyRefusal::ChangedSincePreview(moved) = refusal(&err) else { panic!("{err:#}") };
    assert_eq!(
        moved,
        [
            "PeerAuthentication rng/default (spec.mtls.mode is \"STRICT\", the preview showed \"PERMISSIVE\"; \
             another apply by meshdeck has since set spec.mtls.mode, which the previewed body would remove)",
            "Deployment rng/numbers-api (spec.template.metadata.annotations.kubectl.kubernetes.io/restartedAt is \
             \"2026-11-27T01:00:00Z\", the preview showed absent; another apply by meshdeck has since set \
             spec.template.metadata.annotations.kubectl.kubernetes.io/restartedAt, \
             spec.template.metadata.labels.sidecar.istio.io/inject, which the previewed body would remove)",
        ]
    );
    let writes: Vec<String> = h.log.entries()[requests_before_b..]
        .iter()
        .filter(|r| r.is_mutating() && !r.query.contains("dryRun=All") && !r.path.contains("selfsubject"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(writes, [] as [String; 0], "the second apply wrote nothing");
    assert!(b.journal().list().unwrap().is_empty(), "and left no journal entry claiming it did");
    assert_eq!(live(&a, &pa("rng")).await["spec"]["mtls"]["mode"], "STRICT");
    let template = live(&a, &deploy("rng", "numbers-api")).await["spec"]["template"]["metadata"].clone();
    assert_eq!(template["labels"]["sidecar.istio.io/inject"], "true");

    // The first apply's journal is true, so its undo puts everything back.
    let undo = plan(&format!("- action: undo\n  entry: {}\n", report.entry.id));
    let preview = a.preview(&undo).await.unwrap();
    let undone = a.apply(&undo, &preview, &ApplyOptions::default()).await.unwrap();
    assert!(undone.ok(), "{}", undone.describe());
    assert_eq!(live(&a, &pa("rng")).await["spec"]["mtls"]["mode"], "PERMISSIVE");
    let template = live(&a, &deploy("rng", "numbers-api")).await["spec"]["template"]["metadata"].clone();
    assert_eq!(template["labels"].get("sidecar.istio.io/inject"), None, "{template}");
}

/// An object the preview showed as "create" that another client creates before the apply:
/// the apply must not write over it.
#[tokio::test(flavor = "multi_thread")]
async fn an_object_created_after_the_preview_is_not_written_over() {
    let h = sim(&["demo"], 50.0).await;
    let dir = tempfile::tempdir().unwrap();
    let e = engine(&h, dir.path()).await;
    let p = plan("- action: mtls\n  target: ns/bookinfo\n  mode: STRICT\n");
    let preview = e.preview(&p).await.unwrap();
    assert_eq!(preview.items[0].status, ItemStatus::Create);

    let k = kinds::by_group_plural("security.istio.io", "peerauthentications").unwrap();
    let theirs = json!({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
        "metadata": {"name": "default", "namespace": "bookinfo"}, "spec": {"mtls": {"mode": "DISABLE"}}});
    h.cluster.create(k, "bookinfo", theirs, WriteOpts::by("kubectl")).unwrap();

    let err = e.apply(&p, &preview, &ApplyOptions::default()).await.unwrap_err();
    assert_eq!(
        refusal(&err),
        ApplyRefusal::ChangedSincePreview(vec![
            "PeerAuthentication bookinfo/default (it did not exist in the preview and has since been created (by kubectl))"
                .into()
        ])
    );
    assert_eq!(live(&e, &pa("bookinfo")).await["spec"]["mtls"]["mode"], "DISABLE");
}

/// A rollout moves a Deployment's status and annotations every moment; undoing the restart
/// that started it must not fail as "changed since the preview" for as long as it lasts.
#[tokio::test(flavor = "multi_thread")]
async fn status_churn_does_not_invalidate_a_preview() {
    let h = sim(&["demo"], 50.0).await;
    let dir = tempfile::tempdir().unwrap();
    let e = engine(&h, dir.path()).await;
    let restart = plan("- action: restart\n  target: deploy/rng/numbers-web\n  restartedAt: 2026-11-27T01:00:00Z\n");
    let preview = e.preview(&restart).await.unwrap();
    let report = e.apply(&restart, &preview, &ApplyOptions::default()).await.unwrap();
    assert!(report.ok(), "{}", report.describe());

    let undo = plan(&format!("- action: undo\n  entry: {}\n", report.entry.id));
    let preview = e.preview(&undo).await.unwrap();
    // The controllers move status and bookkeeping after the preview (and a controller's
    // status write lands here for certain, whatever the rollout's timing).
    let k = kinds::by_group_plural("apps", "deployments").unwrap();
    h.cluster
        .mutate(k, "rng", "numbers-web", "deployment-controller", |d| {
            d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!("99");
            d["status"]["conditions"] =
                json!([{"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}]);
        })
        .unwrap();
    let before = live(&e, &deploy("rng", "numbers-web")).await["metadata"]["resourceVersion"].clone();
    assert_ne!(Some(&before), preview.items[0].live.as_ref().map(|l| &l["metadata"]["resourceVersion"]));

    let undone = e.apply(&undo, &preview, &ApplyOptions::default()).await.unwrap();
    assert!(undone.ok(), "{}", undone.describe());
    let d = live(&e, &deploy("rng", "numbers-web")).await;
    assert_eq!(d["spec"]["template"]["metadata"]["annotations"].get("kubectl.kubernetes.io/restartedAt"), None);
}

/// A second apply to the same cluster from this machine is told who holds the lock.
#[tokio::test(flavor = "multi_thread")]
async fn a_second_apply_is_told_who_holds_the_lock() {
    let h = sim(&["demo"], 50.0).await;
    let dir = tempfile::tempdir().unwrap();
    let e = engine(&h, dir.path()).await;
    let p = plan("- action: mtls\n  target: ns/rng\n  mode: STRICT\n");
    let preview = e.preview(&p).await.unwrap();
    let uid = e.cluster_uid().await.expect("the admin reads kube-system");
    let held =
        lock::try_acquire(&lock::lock_path(e.journal().dir(), &uid), "meshdeck (pid 4242), user ana").unwrap().unwrap();
    let err = e.apply(&p, &preview, &forced()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "another apply to this cluster is running: meshdeck (pid 4242), user ana; wait for it to finish and preview again"
    );
    assert_eq!(live(&e, &pa("rng")).await["spec"]["mtls"]["mode"], "PERMISSIVE");
    drop(held);
    assert!(e.apply(&p, &preview, &forced()).await.unwrap().ok());
}

/// One journal, two clusters: each lists and undoes only its own entries, and an entry
/// undone once says so when undone again.
#[tokio::test(flavor = "multi_thread")]
async fn the_journal_knows_its_cluster() {
    let (h1, h2) = (sim(&[], 1.0).await, sim(&[], 1.0).await);
    let dir = tempfile::tempdir().unwrap();
    let (e1, e2) = (engine(&h1, dir.path()).await, engine(&h2, dir.path()).await);
    let p = plan("- action: mtls\n  target: ns/default\n  mode: STRICT\n");
    let preview = e1.preview(&p).await.unwrap();
    let applied = e1.apply(&p, &preview, &ApplyOptions::default()).await.unwrap();
    assert!(applied.ok(), "{}", applied.describe());
    assert_eq!(applied.entry.cluster_uid, e1.cluster_uid().await);

    assert_eq!(e1.entries(false).await.unwrap().len(), 1);
    assert_eq!(e2.entries(false).await.unwrap().len(), 0);
    assert_eq!(e2.entries(true).await.unwrap().len(), 1);
    let undo = plan(&format!("- action: undo\n  entry: {}\n", applied.entry.id));
    let err = e2.preview(&undo).await.unwrap_err().to_string();
    assert!(
        err.starts_with(&format!(
            "journal entry {} was applied to another cluster ({}, kube-system uid",
            applied.entry.id,
            h1.server()
        )),
        "{err}"
    );
    assert!(http::get(e2.client(), &pa("default")).await.unwrap().is_none(), "nothing happened on the second cluster");

    let preview = e1.preview(&undo).await.unwrap();
    let undone = e1.apply(&undo, &preview, &ApplyOptions::default()).await.unwrap();
    assert!(undone.ok(), "{}", undone.describe());
    let entry = e1.journal().get(&applied.entry.id).unwrap();
    assert_eq!(entry.undone.as_ref().map(|u| u.by.as_str()), Some(undone.entry.id.as_str()));
    assert_eq!(entry.state(), "undone");
    let err = e1.preview(&undo).await.unwrap_err().to_string();
    assert!(
        err.contains(&format!("journal entry {} was already undone by {}", applied.entry.id, undone.entry.id)),
        "{err}"
    );
    wait_for("the first cluster without the policy", DEADLINE, || async {
        http::get(e1.client(), &pa("default")).await.unwrap().is_none().then_some(())
    })
    .await;
}
