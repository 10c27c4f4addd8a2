//! Reliability under the simulated cluster's faults: a random error rate (500s, or 429s with
//! Retry-After), latency, watches closed and history compacted while the client is behind.
//! The list/watch loop must still converge on the cluster's true state. Every fault a check
//! relies on is aimed and counted; the random ones are only noise on top, so no outcome depends
//! on chance or timing.

mod common;

use common::{DEADLINE, client, wait_for};
use meshdeck::cluster::watch::{ApiKind, Keyed, Reflector, SyncState, run};
use meshdeck::sim::api::faults::{Answer, Faults, Rule, Verb};
use meshdeck::sim::kinds;
use meshdeck::sim::ops::WriteOpts;
use meshdeck::sim::run::{SimHandle, SimOptions, start};
use serde_json::json;
use std::sync::Arc;

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

const CMS: ApiKind = ApiKind { group: "", version: "v1", plural: "configmaps", namespaced: true };

fn requests(h: &SimHandle, watch: bool) -> usize {
    h.log.entries().iter().filter(|e| e.path == "/api/v1/configmaps" && e.query.contains("watch=true") == watch).count()
}

fn create(h: &SimHandle, names: impl IntoIterator<Item = String>) {
    let k = kinds::by_group_plural("", "configmaps").unwrap();
    for n in names {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": n, "namespace": "default"}});
        h.cluster.create(k, "default", cm, WriteOpts::by("test")).unwrap();
    }
}

fn delete(h: &SimHandle, name: &str) {
    let k = kinds::by_group_plural("", "configmaps").unwrap();
    h.cluster.delete(k, "default", name, WriteOpts::by("test")).unwrap();
}

async fn holds_exactly(refl: &Arc<Reflector<Slim>>, want: &[String], what: &str) {
    let mut want = want.to_vec();
    want.sort();
    wait_for(what, DEADLINE, || async {
        let mut names: Vec<String> = refl.snapshot().iter().map(|s| s.metadata.name.clone()).collect();
        names.sort();
        (names == want).then_some(())
    })
    .await;
}

fn names(range: std::ops::Range<u32>) -> Vec<String> {
    range.map(|i| format!("c{i}")).collect()
}

#[tokio::test]
async fn watches_closed_every_second_and_failing_requests() {
    // Noise: a fifth of requests fail with 500, every request waits 5 ms, watches close every
    // second.
    let faults = Faults::parse("watch-close=1,error-rate=0.2,error-code=500,latency=5,seed=11").unwrap();
    let h = start(SimOptions { faults, ..SimOptions::default() }).await.unwrap();
    // Aimed: the first list and the first watch of config maps fail.
    let first_list = h.faults().add(Rule::new(Verb::List, Answer::Status(500)).resource("configmaps").times(1));
    let first_watch = h.faults().add(Rule::new(Verb::Watch, Answer::Status(500)).resource("configmaps").times(1));
    let refl = Reflector::<Slim>::new(CMS);
    let (tx, _rx) = tokio::sync::watch::channel(0u64);
    let task = tokio::spawn(run(client(&h, "sim-admin").await, refl.clone(), None, tx));

    let mut want = Vec::new();
    for batch in 0..4 {
        let fresh = names(batch * 10..batch * 10 + 10);
        create(&h, fresh.clone());
        want.extend(fresh);
        let gone = format!("c{}", batch * 10 + 4);
        delete(&h, &gone);
        want.retain(|n| *n != gone);
        holds_exactly(&refl, &want, &format!("batch {batch}")).await;
        // A watch closed under the client: it must open another and go on.
        let before = requests(&h, true);
        h.close_watches();
        wait_for("a new watch after the close", DEADLINE, || async { (requests(&h, true) > before).then_some(()) })
            .await;
    }
    create(&h, names(40..42));
    want.extend(names(40..42));
    holds_exactly(&refl, &want, "the objects made after the last close").await;
    assert_eq!(want.len(), 38);
    assert_eq!((h.faults().fired(first_list), h.faults().fired(first_watch)), (1, 1));
    task.abort();
}

#[tokio::test]
async fn throttled_requests_and_early_expiry() {
    // Noise: a fifth of requests are throttled (429 with Retry-After), and the history expires
    // every second.
    let faults = Faults::parse("error-rate=0.2,error-code=429,expire=1,seed=12").unwrap();
    let h = start(SimOptions { faults, ..SimOptions::default() }).await.unwrap();
    let throttled = h.faults().add(Rule::new(Verb::List, Answer::Status(429)).resource("configmaps").times(1));
    create(&h, names(0..20));
    let refl = Reflector::<Slim>::new(CMS);
    let (tx, _rx) = tokio::sync::watch::channel(0u64);
    let task = tokio::spawn(run(client(&h, "sim-admin").await, refl.clone(), None, tx));
    let mut want = names(0..20);
    holds_exactly(&refl, &want, "the initial list").await;
    wait_for("the watch", DEADLINE, || async { (refl.state() == SyncState::Synced).then_some(()) }).await;

    // The client is cut off, the cluster moves on and forgets the history the client would
    // need: when it comes back it gets 410 Gone and must list again.
    let lists = requests(&h, false);
    let outage = h.watch_outage();
    create(&h, names(20..30));
    want.extend(names(20..30));
    for gone in ["c3", "c13", "c23"] {
        delete(&h, gone);
        want.retain(|n| n != gone);
    }
    h.compact();
    drop(outage);
    holds_exactly(&refl, &want, "the objects changed while the client was cut off").await;
    assert!(requests(&h, false) > lists, "the client listed again after its history was gone");
    assert_eq!(h.faults().fired(throttled), 1);
    task.abort();
}

/// Aimed faults strike exactly the request they are aimed at, each the way it says: an error
/// after the write was committed, a dropped connection before or after, a throttle with
/// Retry-After, dry runs apart from real writes, reviews like any request; rules come from the
/// `--faults` form as well as from the running controller.
#[tokio::test]
async fn aimed_faults_strike_one_request_each() {
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::{Api, Patch, PatchParams, PostParams};
    let faults = Faults::parse("rule=patch:configmaps:default/a:500:after:real:times=1").unwrap();
    let h = start(SimOptions { faults, ..SimOptions::default() }).await.unwrap();
    let from_spec = h.faults().rules()[0].0;
    // kube-rs retries 429, 503 and 504 by itself unless told not to; this test must see each
    // answer as the server gave it.
    let kc = kube::config::Kubeconfig::from_yaml(&h.kubeconfig).unwrap();
    let opts = kube::config::KubeConfigOptions { context: Some("sim-admin".into()), ..Default::default() };
    let mut cfg = kube::Config::from_custom_kubeconfig(kc, &opts).await.unwrap();
    cfg.default_retry = false;
    let c = kube::Client::try_from(cfg).unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    let cm = |name: &str, v: &str| -> ConfigMap {
        serde_json::from_value(json!({"metadata": {"name": name}, "data": {"v": v}})).unwrap()
    };
    let data = |m: ConfigMap| m.data.unwrap_or_default().get("v").cloned().unwrap_or_default();
    let code = |e: kube::Error| match e {
        kube::Error::Api(s) => s.code,
        _ => 0,
    };
    cms.create(&PostParams::default(), &cm("a", "1")).await.unwrap();

    // Committed, then answered 500: the client cannot tell it took effect.
    let merge = |v: &str| Patch::Merge(json!({"data": {"v": v}}));
    let err = cms.patch("a", &PatchParams::default(), &merge("2")).await.unwrap_err();
    assert_eq!(code(err), 500);
    assert_eq!(data(cms.get("a").await.unwrap()), "2");
    assert_eq!(h.faults().fired(from_spec), 1);
    cms.patch("a", &PatchParams::default(), &merge("3")).await.unwrap();

    // Dry runs and real writes are told apart.
    let dry = h.faults().add(Rule::new(Verb::Patch, Answer::Status(409)).resource("configmaps").dry_run(true).times(1));
    let dry_run = PatchParams { dry_run: true, ..Default::default() };
    assert_eq!(code(cms.patch("a", &dry_run, &merge("4")).await.unwrap_err()), 409);
    cms.patch("a", &dry_run, &merge("4")).await.unwrap();
    assert_eq!((h.faults().fired(dry), data(cms.get("a").await.unwrap())), (1, "3".to_string()));

    // A create whose answer never comes, though the object was made.
    let lost = h.faults().add(Rule::new(Verb::Create, Answer::Drop).resource("configmaps").name("b").after().times(1));
    let err = cms.create(&PostParams::default(), &cm("b", "1")).await.unwrap_err();
    assert_eq!(code(err), 0, "no answer, no status");
    assert_eq!(data(cms.get("b").await.unwrap()), "1");
    assert_eq!(h.faults().fired(lost), 1);

    // A read whose connection drops before anything is served.
    let cut = h
        .faults()
        .add(Rule::new(Verb::Get, Answer::Drop).resource("configmaps").namespace("default").name("a").times(1));
    assert_eq!(code(cms.get("a").await.unwrap_err()), 0);
    assert_eq!(data(cms.get("a").await.unwrap()), "3");
    assert_eq!(h.faults().fired(cut), 1);

    // A throttled list says when to come back.
    h.faults().add(Rule::new(Verb::List, Answer::Status(429)).resource("configmaps").retry_after(7).times(1));
    let req = hyper::Request::get("/api/v1/namespaces/default/configmaps").body(kube::client::Body::empty()).unwrap();
    let resp = c.send(req).await.unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(resp.headers().get("retry-after").unwrap(), "7");

    // The error rate reaches reviews too, and strikes real writes after they commit.
    h.faults().set_error_answers(&[Answer::Status(503)]);
    h.faults().set_write_after(1.0);
    h.faults().set_error_rate(1.0);
    let review = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"});
    let req = hyper::Request::post("/apis/authentication.k8s.io/v1/selfsubjectreviews")
        .header("content-type", "application/json")
        .body(kube::client::Body::from(serde_json::to_vec(&review).unwrap()))
        .unwrap();
    assert_eq!(c.send(req).await.unwrap().status().as_u16(), 503);
    assert_eq!(code(cms.patch("a", &PatchParams::default(), &merge("5")).await.unwrap_err()), 503);
    assert_eq!(code(cms.patch("a", &dry_run, &merge("6")).await.unwrap_err()), 503);
    h.faults().set_error_rate(0.0);
    assert_eq!(data(cms.get("a").await.unwrap()), "5", "the real write committed, the dry run did not");
    assert_eq!(h.faults().injected(), 3);
    let whoami = hyper::Request::post("/apis/authentication.k8s.io/v1/selfsubjectreviews")
        .header("content-type", "application/json")
        .body(kube::client::Body::from(serde_json::to_vec(&review).unwrap()))
        .unwrap();
    let body = c.send(whoami).await.unwrap().into_body().collect_bytes().await.unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["status"]["userInfo"]["username"], "sim-admin");
}
