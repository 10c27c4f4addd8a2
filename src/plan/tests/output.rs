//! GitOps ownership, diffs, export and the plan file.

use super::fixtures::*;
use crate::plan::*;
use serde_json::json;

#[test]
fn managed_by_reads_helm_argo_and_flux_marks() {
    let obj = |labels: serde_json::Value, annotations: serde_json::Value| json!({"metadata": {"name": "x", "labels": labels, "annotations": annotations}});
    let cases = [
        (
            obj(json!({"app.kubernetes.io/managed-by": "Helm"}), json!({"meta.helm.sh/release-name": "bookinfo"})),
            Some("Helm release bookinfo"),
        ),
        (
            obj(json!({"app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/instance": "istiod"}), json!({})),
            Some("Helm release istiod"),
        ),
        (obj(json!({"argocd.argoproj.io/instance": "shop"}), json!({})), Some("Argo CD application shop")),
        (
            obj(
                json!({"app.kubernetes.io/instance": "shop"}),
                json!({"argocd.argoproj.io/tracking-id": "shop:apps/Deployment:rng/web"}),
            ),
            Some("Argo CD application shop"),
        ),
        (
            obj(
                json!({"kustomize.toolkit.fluxcd.io/name": "apps", "kustomize.toolkit.fluxcd.io/namespace": "flux-system"}),
                json!({}),
            ),
            Some("Flux Kustomization flux-system/apps"),
        ),
        (
            obj(
                json!({"helm.toolkit.fluxcd.io/name": "istiod", "helm.toolkit.fluxcd.io/namespace": "flux-system", "app.kubernetes.io/managed-by": "Helm"}),
                json!({"meta.helm.sh/release-name": "istiod"}),
            ),
            Some("Flux HelmRelease flux-system/istiod"),
        ),
        (obj(json!({"app": "x"}), json!({})), None),
        (json!({"metadata": {"name": "bare"}}), None),
    ];
    for (live, want) in cases {
        assert_eq!(managed_by(&live).as_deref(), want, "{live}");
    }
}

#[test]
fn unified_diff_of_the_live_and_dry_run_objects() {
    let live = json!({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
        "metadata": {"name": "default", "namespace": "rng", "uid": "u1", "resourceVersion": "7", "managedFields": [{"manager": "kubectl"}]},
        "spec": {"mtls": {"mode": "PERMISSIVE"}}});
    let mut result = live.clone();
    result["spec"]["mtls"]["mode"] = json!("STRICT");
    result["metadata"]["resourceVersion"] = json!("8");
    result["status"] = json!({"x": 1});
    assert_eq!(
        unified(Some(&live), Some(&result), "PeerAuthentication/rng/default"),
        "--- live/PeerAuthentication/rng/default\n\
         +++ dry-run/PeerAuthentication/rng/default\n\
         @@ -5,4 +5,4 @@\n   namespace: rng\n spec:\n   mtls:\n-    mode: PERMISSIVE\n+    mode: STRICT\n"
    );
    assert_eq!(unified(Some(&live), Some(&live), "x"), "");
    assert_eq!(
        unified(None, Some(&json!({"kind": "Namespace", "metadata": {"name": "a"}})), "Namespace/a"),
        "--- live/Namespace/a\n+++ dry-run/Namespace/a\n@@ -0,0 +1,3 @@\n+kind: Namespace\n+metadata:\n+  name: a\n"
    );
}

#[test]
fn export_writes_resources_patches_and_a_kustomization() {
    let e = run(&plan(
        "- {action: inject, target: ns/payments}\n- {action: mtls, target: deploy/rng/numbers-api, mode: STRICT}",
    ))
    .unwrap();
    let items: Vec<PreviewItem> = e
        .changes
        .iter()
        .map(|c| PreviewItem {
            change: c.clone(),
            live: (c.target.kind == "Namespace").then(|| json!({"metadata": {"name": "payments"}})),
            result: None,
            diff: String::new(),
            status: ItemStatus::Change,
            conflicts: vec![],
            error: None,
            managed_by: None,
        })
        .collect();
    let files = export(&items).unwrap();
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "01-namespace-payments.yaml",
            "02-namespace-payments.yaml",
            "03-peerauthentication-rng-numbers-api.yaml",
            "kustomization.yaml"
        ]
    );
    assert_eq!(
        files[0].1,
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: payments\n  labels:\n    istio-injection: enabled\n"
    );
    assert_eq!(files[1].1, "- op: remove\n  path: /metadata/labels/istio.io~1rev\n");
    assert_eq!(
        files[2].1,
        "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: numbers-api\n  namespace: rng\nspec:\n  selector:\n    matchLabels:\n      app: numbers-api\n  mtls:\n    mode: STRICT\n"
    );
    assert_eq!(
        files[3].1,
        "# Exported by meshdeck. `resources` are new objects; `patches` change existing ones and\n\
         # apply to the base that holds them: add that base to `resources`.\n\
         apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- 03-peerauthentication-rng-numbers-api.yaml\n\
         patches:\n- path: 01-namespace-payments.yaml\n- path: 02-namespace-payments.yaml\n  target:\n    group: ''\n    version: v1\n    kind: Namespace\n    name: payments\n"
    );
    assert!(export(&[]).is_err());
}

#[test]
fn plan_file_round_trips_and_errors_give_line_and_column() {
    let text = "apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\nactions:\n\
- action: inject\n  target: deploy/rng/numbers-api\n  restartedAt: 2026-11-27T01:00:00Z\n\
- action: mtls\n  target: ns/rng\n  mode: STRICT\n\
- action: allow\n  target: deploy/rng/numbers-api\n  from:\n  - sa/rng/numbers-web\n  methods:\n  - GET\n\
- action: route\n  service: svc/rng/numbers-web\n  hosts:\n  - rng.example.com\n  gateway: istio-system/ingressgateway\n  exportTo:\n  - istio-system\n";
    let p = Plan::from_yaml(text, "p.yaml").unwrap();
    assert_eq!(p.actions.len(), 4);
    assert_eq!(p.to_yaml(), text);
    assert_eq!(Plan::from_yaml(&p.to_yaml(), "p.yaml").unwrap(), p);

    let bad = "apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\nactions:\n- action: inject\n  target: pod/rng/x\n";
    let err = Plan::from_yaml(bad, "p.yaml").unwrap_err();
    assert!(err.starts_with("p.yaml:4:1: "), "{err}");
    assert!(err.contains("a target is mesh, ns/NS"), "{err}");
    let unknown = "apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\nactions:\n- action: explode\n";
    assert!(Plan::from_yaml(unknown, "p.yaml").unwrap_err().contains("unknown variant `explode`"));
}
