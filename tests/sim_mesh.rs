//! The simulated cluster as a mesh, through kube-rs over its real TLS listener: a restart in
//! an injected namespace, server-side apply conflicts, dry-run patches, and workload
//! certificates read through port-forward as they expire and renew with istiod.

mod common;

use common::{DEADLINE, client, sim, wait_for};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use std::time::SystemTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn shop() -> (Namespace, Deployment) {
    let ns = serde_json::from_value(json!({"metadata": {"name": "shop", "labels": {"istio-injection": "enabled"}}}))
        .unwrap();
    let deploy = serde_json::from_value(json!({
        "metadata": {"name": "cart", "namespace": "shop"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "cart"}},
            "template": {
                "metadata": {"labels": {"app": "cart"}},
                "spec": {"serviceAccountName": "cart", "containers": [{"name": "cart", "image": "registry.example/cart:2.1"}]}
            }
        }
    }))
    .unwrap();
    (ns, deploy)
}

fn ready_count(p: &Pod) -> (usize, usize) {
    let st = p.status.as_ref();
    let main = st.and_then(|s| s.container_statuses.clone()).unwrap_or_default();
    let init = st.and_then(|s| s.init_container_statuses.clone()).unwrap_or_default();
    let sidecars: Vec<String> = p
        .spec
        .as_ref()
        .and_then(|s| s.init_containers.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"))
        .map(|c| c.name)
        .collect();
    let total = p.spec.as_ref().map_or(0, |s| s.containers.len()) + sidecars.len();
    let ready =
        main.iter().filter(|c| c.ready).count() + init.iter().filter(|c| c.ready && sidecars.contains(&c.name)).count();
    (ready, total)
}

async fn create_shop(c: &kube::Client) {
    let (ns, deploy) = shop();
    Api::<Namespace>::all(c.clone()).create(&PostParams::default(), &ns).await.unwrap();
    Api::<Deployment>::namespaced(c.clone(), "shop").create(&PostParams::default(), &deploy).await.unwrap();
}

#[tokio::test]
async fn restart_in_an_injected_namespace_ends_with_every_pod_on_the_new_template_with_a_proxy() {
    let h = sim(&["istio"], 20.0).await;
    let c = client(&h, "sim-admin").await;
    create_shop(&c).await;
    let pods: Api<Pod> = Api::namespaced(c.clone(), "shop");
    let deploys: Api<Deployment> = Api::namespaced(c.clone(), "shop");
    let first = wait_for("3 pods 2/2", DEADLINE, || async {
        let l = pods.list(&ListParams::default()).await.ok()?;
        (l.items.len() == 3 && l.items.iter().all(|p| ready_count(p) == (2, 2))).then_some(l.items)
    })
    .await;
    let old: Vec<String> = first.iter().map(|p| p.metadata.name.clone().unwrap()).collect();

    let restart = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-26T22:00:00Z"}}}}});
    deploys.patch("cart", &PatchParams::default(), &Patch::Strategic(&restart)).await.unwrap();

    let done = wait_for("the restart to complete", DEADLINE, || async {
        let d = deploys.get("cart").await.ok()?;
        let st = d.status.clone()?;
        let settled = st.observed_generation >= d.metadata.generation
            && st.updated_replicas == Some(3)
            && st.replicas == Some(3)
            && st.available_replicas == Some(3);
        let l = pods.list(&ListParams::default()).await.ok()?;
        (settled && l.items.len() == 3 && l.items.iter().all(|p| ready_count(p) == (2, 2))).then_some(l.items)
    })
    .await;
    for p in &done {
        let name = p.metadata.name.clone().unwrap();
        assert!(!old.contains(&name), "{name} is an old pod");
        let ann = p.metadata.annotations.clone().unwrap_or_default();
        assert_eq!(ann.get("istio.io/rev").map(String::as_str), Some("1-24-3"), "{name}");
        assert!(ann.contains_key("sidecar.istio.io/status"), "{name}");
        assert_eq!(ann.get("kubectl.kubernetes.io/restartedAt").map(String::as_str), Some("2026-11-26T22:00:00Z"));
        let images: Vec<String> =
            p.spec.as_ref().unwrap().containers.iter().map(|c| c.image.clone().unwrap()).collect();
        assert_eq!(images, vec!["registry.example/cart:2.1", "docker.io/istio/proxyv2:1.24.3"], "{name}");
    }
    no_refusals(&h);
}

/// Validation refused nothing the scenario, the controllers or the test wrote: the simulated
/// cluster's own writes are all ones a real API server accepts.
fn no_refusals(h: &meshdeck::sim::run::SimHandle) {
    let refused = h.cluster.refusals();
    assert!(refused.is_empty(), "{refused:#?}");
}

#[tokio::test]
async fn server_side_apply_conflicts_between_managers_and_dry_run_patches_change_nothing() {
    let h = sim(&[], 1.0).await;
    let c = client(&h, "sim-admin").await;
    let cms: Api<ConfigMap> = Api::namespaced(c, "default");
    let doc = |owner: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "labels": {"owner": owner}}, "data": {"mode": owner}});

    cms.patch("settings", &PatchParams::apply("alice"), &Patch::Apply(doc("alice"))).await.unwrap();
    let err = cms.patch("settings", &PatchParams::apply("bob"), &Patch::Apply(doc("bob"))).await.unwrap_err();
    let kube::Error::Api(s) = err else { panic!("{err:?}") };
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        s.message,
        "Apply failed with 2 conflicts: conflict with \"alice\": .data.mode conflict with \"alice\": .metadata.labels.owner"
    );
    // The same values from bob share ownership without a conflict; force takes it over.
    cms.patch("settings", &PatchParams::apply("bob"), &Patch::Apply(doc("alice"))).await.unwrap();
    let forced = cms.patch("settings", &PatchParams::apply("bob").force(), &Patch::Apply(doc("bob"))).await.unwrap();
    assert_eq!(forced.data.unwrap()["mode"], "bob");
    let managers: Vec<String> =
        forced.metadata.managed_fields.unwrap().into_iter().map(|m| m.manager.unwrap_or_default()).collect();
    assert_eq!(managers, vec!["bob"], "alice owned nothing more after the forced apply");

    // Dry-run patches of every kind answer with the result and store nothing.
    let before = h.cluster.store.current_rv();
    let dry = PatchParams { dry_run: true, ..PatchParams::apply("carol").force() };
    let out = cms.patch("settings", &dry, &Patch::Apply(doc("carol"))).await.unwrap();
    assert_eq!(out.data.unwrap()["mode"], "carol");
    let dry_merge = PatchParams { dry_run: true, ..Default::default() };
    let out = cms.patch("settings", &dry_merge, &Patch::Merge(json!({"data": {"mode": "dave"}}))).await.unwrap();
    assert_eq!(out.data.unwrap()["mode"], "dave");
    assert_eq!(h.cluster.store.current_rv(), before);
    assert_eq!(cms.get("settings").await.unwrap().data.unwrap()["mode"], "bob");
}

/// GET `path` from the pod's Envoy admin port through pods/portforward.
async fn envoy_get(pods: &Api<Pod>, pod: &str, path: &str) -> Value {
    let mut pf = pods.portforward(pod, &[15000]).await.expect("port-forward opens");
    let mut stream = pf.take_stream(15000).expect("stream for 15000");
    stream
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    drop(stream);
    // The server closes after a `Connection: close` response; kube-rs then reports its own
    // close as an error, which says nothing about the data.
    let _ = pf.join().await;
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    serde_json::from_str(body).unwrap()
}

fn leaf(certs: &Value) -> (String, SystemTime) {
    let l = &certs["certificates"][0]["cert_chain"][0];
    let exp = meshdeck::sim::clock::parse_rfc3339(l["expiration_time"].as_str().unwrap()).unwrap();
    (l["serial_number"].as_str().unwrap().to_string(), exp)
}

#[tokio::test]
async fn workload_certificates_expire_without_istiod_and_renew_when_it_returns() {
    // 24 h / 21600 = 4 s certificates, renewed about every 2 s while istiod is ready.
    let h = sim(&["istio"], 21600.0).await;
    let c = client(&h, "sim-admin").await;
    create_shop(&c).await;
    let pods: Api<Pod> = Api::namespaced(c.clone(), "shop");
    let pod = wait_for("a ready injected pod", DEADLINE, || async {
        let l = pods.list(&ListParams::default()).await.ok()?;
        l.items.into_iter().find(|p| ready_count(p) == (2, 2)).and_then(|p| p.metadata.name)
    })
    .await;

    let certs = envoy_get(&pods, &pod, "/certs").await;
    let san = &certs["certificates"][0]["cert_chain"][0]["subject_alt_names"][0]["uri"];
    assert_eq!(san, "spiffe://cluster.local/ns/shop/sa/cart");
    let (serial, not_after) = leaf(&certs);
    assert!(not_after > SystemTime::now(), "a fresh certificate is valid");
    let server_info = envoy_get(&pods, &pod, "/server_info").await;
    assert_eq!(server_info["node"]["metadata"]["ISTIO_VERSION"], "1.24.3");

    // While istiod runs, the certificate is renewed (a new serial, a later expiry).
    wait_for("a renewal", DEADLINE, || async {
        let (s, exp) = leaf(&envoy_get(&pods, &pod, "/certs").await);
        (s != serial && exp > not_after).then_some(())
    })
    .await;

    let istiod: Api<Deployment> = Api::namespaced(c.clone(), "istio-system");
    let scale = |n: i32| json!({"spec": {"replicas": n}});
    istiod.patch("istiod-1-24-3", &PatchParams::default(), &Patch::Merge(scale(0))).await.unwrap();
    wait_for("istiod to have no ready replica", DEADLINE, || async {
        let d = istiod.get("istiod-1-24-3").await.ok()?;
        (d.status?.ready_replicas.unwrap_or(0) == 0).then_some(())
    })
    .await;
    let (_, down_exp) = leaf(&envoy_get(&pods, &pod, "/certs").await);
    let expired = wait_for("the certificate to expire", DEADLINE, || async {
        let (s, exp) = leaf(&envoy_get(&pods, &pod, "/certs").await);
        (exp < SystemTime::now()).then_some((s, exp))
    })
    .await;
    assert!(expired.1 <= down_exp + std::time::Duration::from_secs(5), "at most one renewal raced the scale-down");

    istiod.patch("istiod-1-24-3", &PatchParams::default(), &Patch::Merge(scale(1))).await.unwrap();
    wait_for("a renewed, valid certificate", DEADLINE, || async {
        let (s, exp) = leaf(&envoy_get(&pods, &pod, "/certs").await);
        (s != expired.0 && exp > SystemTime::now()).then_some(())
    })
    .await;
    no_refusals(&h);
}
