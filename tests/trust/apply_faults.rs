//! Writes that fail, race or lose their answers, aimed at one object by the simulated
//! cluster's fault rules and taps, so each case happens for certain: the apply stops at a
//! failed write, reads again after a lost race, checks a lost answer against the cluster, and
//! never writes over an object another client made while it ran.

use crate::common::sim;
use crate::support::{engine, forced, plan};
use meshdeck::apply::ApplyOptions;
use meshdeck::apply::http;
use meshdeck::plan::{ItemState, ObjRef};
use meshdeck::sim::api::faults::{Answer, Rule, Verb};
use meshdeck::sim::kinds;
use meshdeck::sim::ops::WriteOpts;
use meshdeck::sim::run::SimHandle;
use serde_json::json;

fn states(r: &meshdeck::apply::ApplyReport) -> Vec<ItemState> {
    r.entry.items.iter().map(|i| i.state).collect()
}

/// Real (not dry-run) writes the cluster was sent for one object path.
fn real_writes(h: &SimHandle, path: &str) -> usize {
    h.log.entries().iter().filter(|r| r.path == path && r.is_mutating() && !r.query.contains("dryRun=All")).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_write_stops_the_apply_there() {
    let h = sim(&["demo"], 50.0).await;
    let dir = tempfile::tempdir().unwrap();
    let e = engine(&h, dir.path()).await;
    let p = plan(concat!(
        "- action: inject\n  target: ns/legacy\n",
        "- action: mtls\n  target: ns/bookinfo\n  mode: STRICT\n",
        "- action: allow\n  target: deploy/bookinfo/productpage-v1\n  from: [ns/istio-system]\n",
    ));
    let preview = e.preview(&p).await.unwrap();
    let rule = h.faults().add(
        Rule::new(Verb::Patch, Answer::Status(403))
            .resource("peerauthentications")
            .namespace("bookinfo")
            .name("default")
            .dry_run(false)
            .times(1),
    );
    let report = e.apply(&p, &preview, &ApplyOptions::default()).await.unwrap();
    assert_eq!(h.faults().fired(rule), 1);
    assert_eq!(states(&report), [ItemState::Applied, ItemState::Failed, ItemState::Skipped], "{}", report.describe());
    assert!(report.describe().contains("stopped at the first failure: 1 of 3 changes applied, the rest not sent"));
    let ap = ObjRef::new("security.istio.io/v1", "AuthorizationPolicy", "bookinfo", "productpage-v1-allow");
    assert_eq!(http::get(e.client(), &ap).await.unwrap(), None, "nothing after the failure was written");
    assert_eq!(
        real_writes(&h, "/apis/security.istio.io/v1/namespaces/bookinfo/authorizationpolicies/productpage-v1-allow"),
        0
    );
    assert_eq!(e.journal().get(&report.entry.id).unwrap(), report.entry, "the journal says the same");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_that_lost_a_race_reads_again() {
    let h = sim(&["demo"], 50.0).await;
    let dir = tempfile::tempdir().unwrap();
    let e = engine(&h, dir.path()).await;
    let p = plan("- action: restart\n  target: deploy/rng/numbers-web\n  restartedAt: 2026-11-27T01:00:00Z\n");
    let preview = e.preview(&p).await.unwrap();
    let rule = h.faults().add(
        Rule::new(Verb::Patch, Answer::Status(409)).resource("deployments").name("numbers-web").dry_run(false).times(1),
    );
    let report = e.apply(&p, &preview, &ApplyOptions::default()).await.unwrap();
    assert!(report.ok(), "{}", report.describe());
    assert_eq!(h.faults().fired(rule), 1);
    assert_eq!(
        report.entry.items[0].notes,
        ["attempt 1: the object changed between its read and the write; read again"]
    );
    assert_eq!(real_writes(&h, "/apis/apps/v1/namespaces/rng/deployments/numbers-web"), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn lost_answers_are_checked_against_the_cluster_not_resent_blindly() {
    let h = sim(&["demo"], 50.0).await;
    let dir = tempfile::tempdir().unwrap();
    let e = engine(&h, dir.path()).await;
    let p = plan(concat!(
        "- action: inject\n  target: ns/legacy\n",
        "- action: mtls\n  target: ns/rng\n  mode: STRICT\n",
        "- action: restart\n  target: deploy/rng/numbers-api\n  restartedAt: 2026-11-27T01:00:00Z\n",
    ));
    let preview = e.preview(&p).await.unwrap();
    let real = |r: Rule| r.dry_run(false);
    // The namespace's write is committed, then the connection drops without an answer.
    let dropped = h
        .faults()
        .add(real(Rule::new(Verb::Patch, Answer::Drop).resource("namespaces").name("legacy").after().times(1)));
    // The PeerAuthentication's write is committed, then answered 500.
    let after = h.faults().add(real(
        Rule::new(Verb::Patch, Answer::Status(500)).resource("peerauthentications").name("default").after().times(1),
    ));
    // The Deployment's write is refused twice with 503 before it reaches the store.
    let before = h.faults().add(real(
        Rule::new(Verb::Patch, Answer::Status(503)).resource("deployments").name("numbers-api").retry_after(0).times(2),
    ));
    let report = e.apply(&p, &preview, &forced()).await.unwrap();
    assert!(report.ok(), "{}", report.describe());
    assert_eq!((h.faults().fired(dropped), h.faults().fired(after), h.faults().fired(before)), (1, 1, 2));

    let notes: Vec<Vec<String>> = report.entry.items.iter().map(|i| i.notes.clone()).collect();
    assert_eq!(notes[0].len(), 1, "{notes:?}");
    assert!(notes[0][0].starts_with("attempt 1: answered with no answer: "), "{notes:?}");
    assert!(notes[0][0].ends_with(", but the change is on the cluster: recorded as applied"), "{notes:?}");
    assert_eq!(notes[1].len(), 1, "{notes:?}");
    assert!(notes[1][0].starts_with("attempt 1: answered with "), "{notes:?}");
    assert!(notes[1][0].contains("(500 "), "{notes:?}");
    assert!(notes[1][0].ends_with("but the change is on the cluster: recorded as applied"), "{notes:?}");
    assert_eq!(notes[2].len(), 2, "{notes:?}");
    assert!(
        notes[2].iter().all(|n| n.contains("(503 ") && n.ends_with("the change is not on the cluster: sent again")),
        "{notes:?}"
    );
    // Exactly one write of each reached the store: the committed ones were not sent again.
    assert_eq!(real_writes(&h, "/api/v1/namespaces/legacy"), 1);
    assert_eq!(real_writes(&h, "/apis/security.istio.io/v1/namespaces/rng/peerauthentications/default"), 1);
    assert_eq!(real_writes(&h, "/apis/apps/v1/namespaces/rng/deployments/numbers-api"), 3);
    let d = http::get(e.client(), &ObjRef::new("apps/v1", "Deployment", "rng", "numbers-api")).await.unwrap().unwrap();
    let before_gen = report.entry.items[2].before.as_ref().unwrap()["metadata"]["generation"].as_i64().unwrap();
    assert_eq!(d["metadata"]["generation"].as_i64(), Some(before_gen + 1), "the template changed once");

    // What the journal recorded is true, so the undo puts it all back.
    let undo = plan(&format!("- action: undo\n  entry: {}\n", report.entry.id));
    let preview = e.preview(&undo).await.unwrap();
    let undone = e.apply(&undo, &preview, &ApplyOptions::default()).await.unwrap();
    assert!(undone.ok(), "{}", undone.describe());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_object_created_while_the_apply_runs_is_not_written_over() {
    let h = sim(&["demo"], 50.0).await;
    let dir = tempfile::tempdir().unwrap();
    let e = engine(&h, dir.path()).await;
    let p = plan(concat!(
        "- action: inject\n  target: ns/legacy\n",
        "- action: mtls\n  target: ns/bookinfo\n  mode: STRICT\n"
    ));
    let preview = e.preview(&p).await.unwrap();
    // The moment the apply writes its first object, another client creates the second one.
    let cluster = h.cluster.clone();
    h.faults().tap(move |r| {
        if !(r.resource == "namespaces" && r.name == "legacy" && r.mutating && !r.dry_run) {
            return false;
        }
        let k = kinds::by_group_plural("security.istio.io", "peerauthentications").unwrap();
        let theirs = json!({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
            "metadata": {"name": "default", "namespace": "bookinfo"}, "spec": {"mtls": {"mode": "DISABLE"}}});
        cluster.create(k, "bookinfo", theirs, WriteOpts::by("kubectl")).unwrap();
        true
    });
    let report = e.apply(&p, &preview, &ApplyOptions::default()).await.unwrap();
    assert_eq!(states(&report), [ItemState::Applied, ItemState::Failed], "{}", report.describe());
    assert_eq!(
        report.entry.items[1].error.as_deref(),
        Some(
            "PeerAuthentication bookinfo/default changed since the preview: it did not exist in the preview and has since been created (by kubectl); not written — preview the plan again"
        )
    );
    let pa = ObjRef::new("security.istio.io/v1", "PeerAuthentication", "bookinfo", "default");
    assert_eq!(http::get(e.client(), &pa).await.unwrap().unwrap()["spec"]["mtls"]["mode"], "DISABLE");
}
