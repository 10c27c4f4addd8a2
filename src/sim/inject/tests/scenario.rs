//! The `istio` scenario file itself: the objects it holds, that each is a well-formed
//! Kubernetes object, and that the control plane's own pods stay uninjected.

use super::*;
use k8s_openapi::api::admissionregistration::v1::{MutatingWebhookConfiguration, ValidatingWebhookConfiguration};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Service, ServiceAccount};

#[test]
fn scenario_holds_the_canary_control_plane() {
    let got: Vec<(String, String, String)> = documents(ISTIO_YAML)
        .iter()
        .map(|d| {
            let s = |p: &str| d.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
            (s("/kind"), s("/metadata/namespace"), s("/metadata/name"))
        })
        .collect();
    let want: Vec<(String, String, String)> = [
        ("Namespace", "", "istio-system"),
        ("ServiceAccount", "istio-system", "istiod-1-24-3"),
        ("ConfigMap", "istio-system", "istio-1-24-3"),
        ("ConfigMap", "istio-system", "istio-sidecar-injector-1-24-3"),
        ("Service", "istio-system", "istiod-1-24-3"),
        ("Deployment", "istio-system", "istiod-1-24-3"),
        ("MutatingWebhookConfiguration", "", "istio-sidecar-injector-1-24-3"),
        ("ValidatingWebhookConfiguration", "", "istio-validator-1-24-3-istio-system"),
        ("ServiceAccount", "istio-system", "istiod-1-25-0"),
        ("ConfigMap", "istio-system", "istio-1-25-0"),
        ("ConfigMap", "istio-system", "istio-sidecar-injector-1-25-0"),
        ("Service", "istio-system", "istiod-1-25-0"),
        ("Deployment", "istio-system", "istiod-1-25-0"),
        ("MutatingWebhookConfiguration", "", "istio-sidecar-injector-1-25-0"),
        ("ValidatingWebhookConfiguration", "", "istio-validator-1-25-0-istio-system"),
        ("MutatingWebhookConfiguration", "", "istio-revision-tag-default"),
        ("Service", "istio-system", "istiod-revision-tag-default"),
        ("ValidatingWebhookConfiguration", "", "istiod-default-validator"),
        ("ServiceAccount", "istio-system", "istio-ingressgateway-service-account"),
        ("Deployment", "istio-system", "istio-ingressgateway"),
        ("Service", "istio-system", "istio-ingressgateway"),
    ]
    .iter()
    .map(|(k, n, m)| (k.to_string(), n.to_string(), m.to_string()))
    .collect();
    assert_eq!(got, want);
}

/// Every document survives a round trip through the typed Kubernetes API structs
/// unchanged, so no field is misspelled, misplaced or of the wrong type.
#[test]
fn every_document_is_a_well_formed_object() {
    fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(doc: &Value) -> Result<Value, serde_json::Error> {
        serde_json::to_value(serde_json::from_value::<T>(doc.clone())?)
    }
    for doc in documents(ISTIO_YAML) {
        let name = format!("{} {}", doc["kind"], doc["metadata"]["name"]);
        let typed = match doc["kind"].as_str().unwrap_or_default() {
            "Namespace" => round_trip::<Namespace>(&doc),
            "ServiceAccount" => round_trip::<ServiceAccount>(&doc),
            "ConfigMap" => round_trip::<ConfigMap>(&doc),
            "Service" => round_trip::<Service>(&doc),
            "Deployment" => round_trip::<Deployment>(&doc),
            "MutatingWebhookConfiguration" => round_trip::<MutatingWebhookConfiguration>(&doc),
            "ValidatingWebhookConfiguration" => round_trip::<ValidatingWebhookConfiguration>(&doc),
            other => panic!("unexpected kind {other} in the scenario"),
        };
        assert_eq!(typed.as_ref().ok(), Some(&doc), "{name}: {typed:?}");
    }
}

#[test]
fn injector_config_and_values_parse() {
    let store = cluster();
    for rev in ["1-24-3", "1-25-0"] {
        let cm = store
            .get(kind("", "configmaps"), "istio-system", &format!("istio-sidecar-injector-{rev}"))
            .unwrap()
            .value();
        let config: Value = serde_yaml::from_str(cm["data"]["config"].as_str().unwrap()).unwrap();
        assert_eq!(config["policy"], "enabled");
        assert_eq!(config["defaultTemplates"], json!(["sidecar"]));
        assert!(config["templates"]["sidecar"].is_string());
        let values: Value = serde_json::from_str(cm["data"]["values"].as_str().unwrap()).unwrap();
        assert_eq!(values["revision"], rev);
        assert_eq!(values["global"]["tag"], rev.replace('-', "."));
        assert_eq!(values["sidecarInjectorWebhook"]["enableNamespacesByDefault"], false);
        let mesh_cm = store.get(kind("", "configmaps"), "istio-system", &format!("istio-{rev}")).unwrap().value();
        let mesh: Value = serde_yaml::from_str(mesh_cm["data"]["mesh"].as_str().unwrap()).unwrap();
        assert_eq!(
            (mesh["rootNamespace"].as_str(), mesh["trustDomain"].as_str()),
            (Some("istio-system"), Some("cluster.local"))
        );
    }
}

#[test]
fn control_plane_pods_are_not_injected() {
    let store = cluster();
    // Even with injection switched on for istio-system, the inject=false label keeps them out.
    edit(&store, kind("", "namespaces"), "", "istio-system", |ns| {
        ns["metadata"]["labels"]["istio-injection"] = json!("enabled")
    });
    for deployment in ["istiod-1-24-3", "istiod-1-25-0", "istio-ingressgateway"] {
        let mut pod = ready_pod_of(&store, "istio-system", deployment);
        pod["metadata"]["name"] = json!(format!("{deployment}-new"));
        let out = admit(&store, pod).unwrap();
        assert_eq!(injected_revision(&out), None, "{deployment}");
    }
}
