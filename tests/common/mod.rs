//! Shared helpers for integration tests: an in-process simulated cluster, kube clients for
//! its contexts, and condition waits with generous deadlines.
#![allow(dead_code)]

pub mod cli;
pub mod tmux;

use meshdeck::sim::run::{SimHandle, SimOptions, start};
use std::future::Future;
use std::time::Duration;

pub async fn sim(scenarios: &[&str], time_scale: f64) -> SimHandle {
    sim_with_faults(scenarios, time_scale, "").await
}

/// A simulated cluster started with `--faults SPEC`.
pub async fn sim_with_faults(scenarios: &[&str], time_scale: f64, faults: &str) -> SimHandle {
    let opts = SimOptions {
        scenarios: scenarios.iter().map(|s| s.to_string()).collect(),
        time_scale,
        faults: meshdeck::sim::api::faults::Faults::parse(faults).expect("a fault spec"),
        ..SimOptions::default()
    };
    start(opts).await.expect("simulated cluster starts")
}

/// The parts of an object an apply sets and its undo must restore exactly (the rollout
/// controller's own revision annotation moves with every rollout).
pub fn restorable(v: &serde_json::Value) -> serde_json::Value {
    let mut annotations = v.pointer("/metadata/annotations").cloned().unwrap_or(serde_json::json!({}));
    if let Some(a) = annotations.as_object_mut() {
        a.remove("deployment.kubernetes.io/revision");
    }
    serde_json::json!({"labels": v.pointer("/metadata/labels"), "annotations": annotations, "spec": v["spec"]})
}

pub async fn client(h: &SimHandle, context: &str) -> kube::Client {
    let kc = kube::config::Kubeconfig::from_yaml(&h.kubeconfig).expect("kubeconfig parses");
    let opts = kube::config::KubeConfigOptions { context: Some(context.to_string()), ..Default::default() };
    let cfg = kube::Config::from_custom_kubeconfig(kc, &opts).await.expect("kubeconfig loads");
    kube::Client::try_from(cfg).expect("client builds")
}

/// Polls `f` until it returns Some, or panics naming `what` after `deadline`.
pub async fn wait_for<T, F, Fut>(what: &str, deadline: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let end = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if tokio::time::Instant::now() > end {
            panic!("timed out after {deadline:?} waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Generous: these run on a loaded 2-core machine.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// Every pod of the app is 2/2 ready with an istio-proxy container, and none is terminating.
pub async fn all_injected_and_ready(client: &kube::Client, namespace: &str, app: &str) -> Option<usize> {
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(client.clone(), namespace);
    let list = pods.list(&kube::api::ListParams::default().labels(&format!("app={app}"))).await.ok()?;
    let ok = !list.items.is_empty()
        && list.items.iter().all(|p| {
            let names: Vec<&str> =
                p.spec.as_ref().map_or(vec![], |s| s.containers.iter().map(|c| c.name.as_str()).collect());
            let statuses = p.status.as_ref().and_then(|s| s.container_statuses.clone()).unwrap_or_default();
            p.metadata.deletion_timestamp.is_none()
                && names.contains(&"istio-proxy")
                && names.len() == 2
                && statuses.len() == 2
                && statuses.iter().all(|c| c.ready)
        });
    ok.then_some(list.items.len())
}
