//! The simulated API server refuses the invalid edits a real one refuses, through its HTTP API
//! as meshdeck and kubectl reach it, for real and as dry runs, and stores nothing when it does;
//! its own controllers and scenarios write nothing a real server would refuse.

use crate::common::{DEADLINE, all_injected_and_ready, client, sim, wait_for};
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};

fn api(c: &kube::Client, group: &str, version: &str, kind: &str, plural: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk(group, version, kind);
    Api::namespaced_with(c.clone(), "rng", &ApiResource::from_gvk_with_plural(&gvk, plural))
}

fn deployment(app: &str, replicas: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "rng"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": app}},
            "template": {"metadata": {"labels": {"app": app}}, "spec": {"containers": [{"name": "web", "image": "registry.example/web:1"}]}}
        }
    })
}

/// The refusal's code, reason and message, and its causes' fields.
fn refusal(e: kube::Error) -> (u16, String, String) {
    match e {
        kube::Error::Api(s) => (s.code, s.reason, s.message),
        other => panic!("not a refusal from the API server: {other:?}"),
    }
}

/// An empty cluster with the namespace `rng`, and an admin client.
async fn with_rng() -> (meshdeck::sim::run::SimHandle, kube::Client) {
    let h = sim(&[], 1.0).await;
    let c = client(&h, "sim-admin").await;
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "rng"}});
    let nss: Api<DynamicObject> =
        Api::all_with(c.clone(), &ApiResource::from_gvk(&GroupVersionKind::gvk("", "v1", "Namespace")));
    nss.patch("rng", &PatchParams::apply("meshdeck"), &Patch::Apply(&ns)).await.unwrap();
    (h, c)
}

#[tokio::test]
async fn the_three_invalid_edits_are_refused_and_nothing_changes() {
    let (h, c) = with_rng().await;
    let pas = api(&c, "security.istio.io", "v1", "PeerAuthentication", "peerauthentications");
    let deploys = api(&c, "apps", "v1", "Deployment", "deployments");
    let pa = |mode: &str| json!({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication", "metadata": {"name": "default", "namespace": "rng"}, "spec": {"mtls": {"mode": mode}}});
    pas.patch("default", &PatchParams::apply("meshdeck"), &Patch::Apply(pa("PERMISSIVE"))).await.unwrap();
    deploys.patch("web", &PatchParams::apply("meshdeck"), &Patch::Apply(deployment("web", json!(2)))).await.unwrap();
    let pa_before = pas.get("default").await.unwrap();
    let deploy_before = deploys.get("web").await.unwrap();
    let rv = h.cluster.store.current_rv();

    for dry_run in [true, false] {
        let apply = PatchParams { dry_run, ..PatchParams::apply("meshdeck") };
        let merge = PatchParams { dry_run, ..Default::default() };

        let err = pas.patch("default", &apply, &Patch::Apply(pa("BOGUS"))).await.unwrap_err();
        assert_eq!(
            refusal(err),
            (
                422,
                "Invalid".into(),
                "PeerAuthentication.security.istio.io \"default\" is invalid: spec.mtls.mode: Unsupported value: \"BOGUS\": supported values: \"UNSET\", \"DISABLE\", \"PERMISSIVE\", \"STRICT\"".into()
            ),
            "dry run: {dry_run}"
        );

        let err = deploys.patch("web", &apply, &Patch::Apply(deployment("web", json!("many")))).await.unwrap_err();
        assert_eq!(
            refusal(err),
            (
                500,
                String::new(),
                "failed to create typed patch object (rng/web; apps/v1, Kind=Deployment): .spec.replicas: expected numeric (int or float), got string".into()
            ),
            "dry run: {dry_run}"
        );
        let err = deploys.patch("web", &merge, &Patch::Merge(json!({"spec": {"replicas": "many"}}))).await.unwrap_err();
        let (code, reason, message) = refusal(err);
        assert_eq!((code, reason.as_str()), (422, "Invalid"), "{message}");
        assert!(
            message.ends_with(
                ": json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
            ),
            "{message}"
        );

        let err = deploys.patch("web", &apply, &Patch::Apply(deployment("web-v2", json!(2)))).await.unwrap_err();
        assert_eq!(
            refusal(err),
            (
                422,
                "Invalid".into(),
                "Deployment.apps \"web\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web-v2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable".into()
            ),
            "dry run: {dry_run}"
        );
    }

    assert_eq!(h.cluster.store.current_rv(), rv, "nothing was written");
    assert_eq!(pas.get("default").await.unwrap().data, pa_before.data);
    let after = deploys.get("web").await.unwrap();
    assert_eq!(
        (after.data, after.metadata.resource_version),
        (deploy_before.data, deploy_before.metadata.resource_version)
    );
}

/// What kubectl shows for the changed selector: the Status' causes name the field.
#[tokio::test]
async fn a_refusal_names_its_fields_in_the_status_details() {
    let (_h, c) = with_rng().await;
    let deploys = api(&c, "apps", "v1", "Deployment", "deployments");
    deploys.patch("web", &PatchParams::apply("meshdeck"), &Patch::Apply(deployment("web", json!(2)))).await.unwrap();
    let req = hyper::Request::patch("/apis/apps/v1/namespaces/rng/deployments/web?fieldManager=meshdeck&dryRun=All")
        .header("content-type", "application/apply-patch+yaml")
        .body(kube::client::Body::from(serde_json::to_vec(&deployment("other", json!(2))).unwrap()))
        .unwrap();
    let resp = c.send(req).await.unwrap();
    assert_eq!(resp.status().as_u16(), 422);
    let body: Value = serde_json::from_slice(&resp.into_body().collect_bytes().await.unwrap()).unwrap();
    assert_eq!(body["details"]["kind"], "Deployment");
    assert_eq!(body["details"]["group"], "apps");
    assert_eq!(body["details"]["causes"][0]["field"], "spec.selector");
    assert_eq!(body["details"]["causes"][0]["reason"], "FieldValueInvalid");
}

/// The demo scenario and the controllers that run it (rollouts, injection, istiod) write only
/// what a real API server accepts: validation refused none of their writes.
#[tokio::test]
async fn the_demo_and_its_controllers_write_nothing_a_real_server_refuses() {
    let h = sim(&["demo"], 20.0).await;
    let c = client(&h, "sim-admin").await;
    wait_for("the demo's bookinfo pods", DEADLINE, || async {
        all_injected_and_ready(&c, "bookinfo", "productpage").await
    })
    .await;
    let refused = h.cluster.refusals();
    assert!(refused.is_empty(), "{refused:#?}");
}
