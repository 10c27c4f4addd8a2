//! When the webhook call fails, when istiod rejects the request, and when two injectors
//! overlap.

use super::*;

const ISTIOD_STABLE_POD: &str = "istiod-1-24-3-5d9c8b7f6-x7k2p";

#[test]
fn no_ready_istiod_refuses_matching_pods() {
    let store = cluster();
    set_ready(&store, ISTIOD_STABLE_POD, false);
    namespace(&store, "apps", &[("istio-injection", "enabled")]);
    let err = admit(&store, app_pod("apps", "web", &[], &[])).unwrap_err();
    assert_eq!(
        err,
        Denied {
            code: 500,
            reason: "InternalError".into(),
            message: "Internal error occurred: failed calling webhook \"namespace.sidecar-injector.istio.io\": \
                      failed to call webhook: Post \"https://istiod-1-24-3.istio-system.svc:443/inject?timeout=10s\": \
                      no endpoints available for service \"istiod-1-24-3\""
                .into(),
        }
    );
    // Pods no webhook selects, and pods the other revision serves, are unaffected.
    namespace(&store, "plain", &[]);
    assert_eq!(admit(&store, app_pod("plain", "web", &[], &[])).map(|p| injected_revision(&p)), Ok(None));
    namespace(&store, "canary", &[("istio.io/rev", "1-25-0")]);
    let out = admit(&store, app_pod("canary", "web", &[], &[])).unwrap();
    assert_eq!(injected_revision(&out).as_deref(), Some("1-25-0"));
    // The label opt-out keeps the webhook from being called at all.
    assert!(admit(&store, app_pod("apps", "job", &[("sidecar.istio.io/inject", "false")], &[])).is_ok());
}

#[test]
fn a_terminating_istiod_is_no_endpoint() {
    let store = cluster();
    edit(&store, kind("", "pods"), "istio-system", ISTIOD_STABLE_POD, |p| {
        p["metadata"]["deletionTimestamp"] = json!("2025-03-01T10:00:00Z");
    });
    namespace(&store, "apps", &[("istio-injection", "enabled")]);
    let err = admit(&store, app_pod("apps", "web", &[], &[])).unwrap_err();
    assert!(err.message.ends_with("no endpoints available for service \"istiod-1-24-3\""), "{}", err.message);
}

#[test]
fn missing_service_refuses_with_not_found() {
    let store = cluster();
    store.delete(kind("", "services"), "istio-system", "istiod-1-25-0").unwrap();
    namespace(&store, "canary", &[("istio.io/rev", "1-25-0")]);
    let err = admit(&store, app_pod("canary", "web", &[], &[])).unwrap_err();
    assert_eq!(err.code, 500);
    assert_eq!(
        err.message,
        "Internal error occurred: failed calling webhook \"rev.namespace.sidecar-injector.istio.io\": \
         failed to call webhook: Post \"https://istiod-1-25-0.istio-system.svc:443/inject?timeout=10s\": \
         service \"istiod-1-25-0\" not found"
    );
}

#[test]
fn failure_policy_ignore_admits_uninjected() {
    let store = cluster();
    set_ready(&store, ISTIOD_STABLE_POD, false);
    edit(&store, mwc_kind(), "", "istio-revision-tag-default", |mwc| {
        for w in mwc["webhooks"].as_array_mut().unwrap() {
            w["failurePolicy"] = json!("Ignore");
            w["timeoutSeconds"] = json!(5);
        }
    });
    namespace(&store, "apps", &[("istio-injection", "enabled")]);
    let out = admit(&store, app_pod("apps", "web", &[], &[])).unwrap();
    assert_eq!(injected_revision(&out), None);
    assert_eq!(names(&out, "containers"), ["app"]);
}

#[test]
fn unknown_template_is_a_webhook_denial() {
    let store = cluster();
    namespace(&store, "apps", &[("istio-injection", "enabled")]);
    let pod = app_pod("apps", "web", &[], &[("inject.istio.io/templates", "sidecar,spire")]);
    let err = admit(&store, pod).unwrap_err();
    assert_eq!(
        err,
        Denied {
            code: 400,
            reason: String::new(),
            message: "admission webhook \"namespace.sidecar-injector.istio.io\" denied the request: \
                      failed to run injection template: requested template \"spire\" not found; have sidecar"
                .into(),
        }
    );
    // An alias naming known templates is fine.
    edit_yaml_key(&store, "istio-sidecar-injector-1-24-3", "config", |c| {
        c["aliases"] = json!({"spire": ["sidecar"]});
    });
    let pod = app_pod("apps", "web", &[], &[("inject.istio.io/templates", "sidecar,spire")]);
    assert_eq!(admit(&store, pod).map(|p| injected_revision(&p)), Ok(Some("1-24-3".into())));
}

/// A leftover unrevisioned control plane (`istiod`, its injector ConfigMap and its
/// `istio-sidecar-injector` webhook) next to the `default` tag.
fn add_leftover_default_revision(store: &Store) {
    load(
        store,
        r#"
apiVersion: v1
kind: Service
metadata: {name: istiod, namespace: istio-system, labels: {app: istiod, istio.io/rev: default}}
spec:
  ports: [{name: https-webhook, port: 443, targetPort: 15017}, {name: tls-xds, port: 15012}]
  selector: {app: istiod, istio.io/rev: default}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio-sidecar-injector, namespace: istio-system, labels: {istio.io/rev: default}}
data:
  config: |
    policy: enabled
    defaultTemplates: [sidecar]
    templates: {sidecar: "-"}
  values: '{"global":{"hub":"docker.io/istio","tag":"1.23.2","proxy":{"image":"proxyv2"},"istioNamespace":"istio-system"},"revision":""}'
---
apiVersion: v1
kind: Pod
metadata:
  name: istiod-7b69f9b9c-old
  namespace: istio-system
  labels: {app: istiod, istio.io/rev: default, sidecar.istio.io/inject: "false"}
spec:
  containers: [{name: discovery, image: docker.io/istio/pilot:1.23.2}]
status:
  phase: Running
  conditions: [{type: Ready, status: "True"}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: istio-sidecar-injector
  labels: {app: sidecar-injector, istio.io/rev: default}
webhooks:
- name: namespace.sidecar-injector.istio.io
  clientConfig:
    service: {name: istiod, namespace: istio-system, path: /inject, port: 443}
  rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods]}]
  failurePolicy: Fail
  sideEffects: None
  reinvocationPolicy: Never
  admissionReviewVersions: [v1]
  namespaceSelector:
    matchExpressions: [{key: istio-injection, operator: In, values: [enabled]}]
  objectSelector:
    matchExpressions: [{key: sidecar.istio.io/inject, operator: NotIn, values: ["false"]}]
"#,
    );
}

/// Both webhooks are called, tag first (`istio-revision-tag-default` sorts before
/// `istio-sidecar-injector`). The second istiod re-renders over the first: one proxy, the
/// last injector's revision, image and CA address. See the module comment of `inject`.
#[test]
fn overlapping_injectors_last_one_wins_without_doubling() {
    let store = cluster();
    add_leftover_default_revision(&store);
    namespace(&store, "apps", &[("istio-injection", "enabled")]);
    let mut pod = app_pod("apps", "web", &[], &[]);
    pod["spec"]["containers"][0]["readinessProbe"] = json!({"httpGet": {"path": "/ready", "port": 8080}});
    let out = admit(&store, pod).unwrap();
    assert_eq!(injected_revision(&out).as_deref(), Some("default"));
    assert_eq!(names(&out, "containers"), ["app", "istio-proxy"]);
    assert_eq!(names(&out, "initContainers"), ["istio-init"]);
    let proxy = container(&out, "istio-proxy");
    assert_eq!(proxy["image"], "docker.io/istio/proxyv2:1.23.2");
    assert_eq!(env_value(proxy, "CA_ADDR").as_deref(), Some("istiod.istio-system.svc:15012"));
    // The probe rewritten by the first injection keeps working through the second.
    assert_eq!(
        env_value(proxy, "ISTIO_KUBE_APP_PROBERS").as_deref(),
        Some(
            r#"{"/app-health/app/readyz":{"httpGet":{"path":"/ready","port":8080,"scheme":"HTTP"},"timeoutSeconds":1}}"#
        )
    );
    assert_eq!(proxy["env"].as_array().unwrap().iter().filter(|e| e["name"] == "ISTIO_KUBE_APP_PROBERS").count(), 1);
    assert_eq!(names(&out, "volumes").len(), 8, "volumes merge by name");

    // If the leftover istiod is down, the pod is refused even though the tag injected it.
    set_ready(&store, "istiod-7b69f9b9c-old", false);
    let err = admit(&store, app_pod("apps", "web2", &[], &[])).unwrap_err();
    assert!(err.message.contains("no endpoints available for service \"istiod\""), "{}", err.message);

    // Deactivating the old webhook (never-match selectors) leaves the tag alone.
    edit(&store, mwc_kind(), "", "istio-sidecar-injector", |mwc| {
        let never = json!({"matchLabels": {"istio.io/deactivated": "never-match"}});
        mwc["webhooks"][0]["namespaceSelector"] = never.clone();
        mwc["webhooks"][0]["objectSelector"] = never;
    });
    let out = admit(&store, app_pod("apps", "web3", &[], &[])).unwrap();
    assert_eq!(injected_revision(&out).as_deref(), Some("1-24-3"));
    assert_eq!(container(&out, "istio-proxy")["image"], "docker.io/istio/proxyv2:1.24.3");
}

#[test]
fn admitting_an_injected_pod_again_is_stable() {
    let store = cluster();
    namespace(&store, "apps", &[("istio-injection", "enabled")]);
    let mut pod = app_pod("apps", "web", &[], &[("prometheus.io/port", "9090")]);
    pod["spec"]["containers"][0]["livenessProbe"] = json!({"tcpSocket": {"port": "http"}, "timeoutSeconds": 2});
    let once = admit(&store, pod).unwrap();
    let twice = admit(&store, once.clone()).unwrap();
    assert_eq!(twice["spec"], once["spec"]);
    assert_eq!(twice["metadata"]["annotations"], once["metadata"]["annotations"]);
}

#[test]
fn webhooks_not_backed_by_istiod_admit_unchanged() {
    let store = cluster();
    load(
        &store,
        r#"
apiVersion: v1
kind: Service
metadata: {name: policy-agent, namespace: istio-system}
spec:
  ports: [{port: 443, targetPort: 8443}]
  selector: {app: policy-agent}
---
apiVersion: v1
kind: Pod
metadata: {name: policy-agent-0, namespace: istio-system, labels: {app: policy-agent}}
spec: {containers: [{name: agent, image: example/agent:1}]}
status: {conditions: [{type: Ready, status: "True"}]}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: aaa-policy-agent}
webhooks:
- name: pods.policy-agent.example.com
  clientConfig: {service: {name: policy-agent, namespace: istio-system, port: 443}}
  rules: [{operations: ["*"], apiGroups: ["*"], apiVersions: ["*"], resources: ["*/*"], scope: Namespaced}]
  sideEffects: None
  admissionReviewVersions: [v1]
- name: nodes.policy-agent.example.com
  clientConfig: {url: "https://agent.example.com/mutate"}
  rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [nodes]}]
  sideEffects: None
  admissionReviewVersions: [v1]
"#,
    );
    namespace(&store, "apps", &[("istio-injection", "enabled")]);
    let out = admit(&store, app_pod("apps", "web", &[], &[])).unwrap();
    assert_eq!(injected_revision(&out).as_deref(), Some("1-24-3"));
    // An external URL webhook for pods cannot be reached from the simulation.
    edit(&store, mwc_kind(), "", "aaa-policy-agent", |mwc| {
        mwc["webhooks"][1]["rules"][0]["resources"] = json!(["pods"]);
    });
    let err = admit(&store, app_pod("apps", "web2", &[], &[])).unwrap_err();
    assert_eq!(
        err.message,
        "Internal error occurred: failed calling webhook \"nodes.policy-agent.example.com\": failed to call webhook: \
         Post \"https://agent.example.com/mutate?timeout=10s\": dial tcp: lookup agent.example.com: no such host"
    );
}

#[test]
fn malformed_pods_are_admitted_without_panicking() {
    let store = cluster();
    namespace(&store, "apps", &[("istio-injection", "enabled")]);
    let odd = [
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "apps"}}),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b", "namespace": "apps", "labels": 5,
               "annotations": {"sidecar.istio.io/status": "not json", "proxy.istio.io/config": "[1, 2"}},
               "spec": {"containers": "none", "volumes": {}}}),
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "c", "namespace": "apps"},
               "spec": {"containers": [7, {"name": "x", "readinessProbe": {"httpGet": {"port": "nope"}}}]}}),
    ];
    for pod in odd {
        let name = pod["metadata"]["name"].clone();
        let out = admit(&store, pod).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(injected_revision(&out).as_deref(), Some("1-24-3"), "{name}");
    }
}
