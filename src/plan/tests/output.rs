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
    assert!(err.starts_with("p.yaml:5:11: "), "{err}");
    assert!(err.contains("a target is mesh, ns/NS"), "{err}");
    let unknown = "apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\nactions:\n- action: explode\n";
    assert!(Plan::from_yaml(unknown, "p.yaml").unwrap_err().contains("unknown variant `explode`"));
}

/// Errors inside an action name the line and column of the field at fault, counted by hand
/// in each text; only what cannot be pinned to a field names the action's start.
#[test]
fn plan_file_errors_point_at_the_field() {
    let head = "apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\nactions:\n\
- action: inject\n  target: ns/rng\n";
    // The second action starts on line 6.
    let cases = [
        (
            "- action: mtls\n  target: ns/rng\n  mdoe: STRICT\n",
            "p.yaml:8:3: actions[1]: unknown field `mdoe`, expected `target` or `mode`",
        ),
        (
            "- action: mtls\n  target: ns/rng\n  mode: BOGUS\n",
            "p.yaml:8:9: actions[1].mode: unknown variant `BOGUS`, expected one of `PERMISSIVE`, `STRICT`, `DISABLE`",
        ),
        (
            "- action: allow\n  target: deploy/rng/a\n  from: [ns/x]\n  ports: \"8080\"\n",
            "p.yaml:9:10: actions[1].ports: invalid type: string \"8080\", expected a sequence",
        ),
        (
            "- action: allow\n  target: deploy/rng/a\n  from: [ns/x]\n  ports: [80, http]\n",
            "p.yaml:9:15: actions[1].ports[1]: invalid type: string \"http\", expected u16",
        ),
        (
            "- action: allow\n  target: deploy/rng/a\n  from: [ns/x, user/y]\n",
            "p.yaml:8:16: actions[1].from[1]: `user/y`: a caller is",
        ),
        (
            "- action: route\n  service: svc/rng/web\n  hosts: a.example.com\n  gateway: gw/gw\n",
            "p.yaml:8:10: actions[1].hosts: invalid type: string \"a.example.com\", expected a sequence",
        ),
        (
            "- action: revision\n  target: ns/rng\n  to: [canary]\n",
            "p.yaml:8:7: actions[1].to: invalid type: sequence, expected a string",
        ),
        (
            "- action: explode\n  target: ns/rng\n",
            "p.yaml:6:11: actions[1].action: unknown variant `explode`, expected one of `inject`,",
        ),
        (
            "- action: mtls\n  target: ns/rng\n  mode: STRICT\n  action: mtls\n",
            "p.yaml:9:3: actions[1]: unknown field `action`",
        ),
        // Written before `action:`, a field is read ahead and its error names the action.
        ("- mode: BOGUS\n  action: mtls\n  target: ns/rng\n", "p.yaml:6:3: actions[1]: unknown variant `BOGUS`"),
        ("- action: mtls\n  mode: STRICT\n", "p.yaml:6:3: actions[1]: missing field `target`"),
        ("- target: ns/rng\n  mode: STRICT\n", "p.yaml:6:3: actions[1]: missing field `action`"),
        ("- mtls\n", "p.yaml:6:3: actions[1]: invalid type: string \"mtls\", expected an action"),
    ];
    for (action, want) in cases {
        let err = Plan::from_yaml(&format!("{head}{action}"), "p.yaml").unwrap_err();
        assert!(err.starts_with(want), "{action}\n got: {err}\nwant: {want}");
        assert!(!err.contains(" at line "), "the place is said once: {err}");
    }
    // The action key first or last, the plan is the same.
    let last = format!("{head}- target: ns/rng\n  mode: STRICT\n  action: mtls\n");
    let first = format!("{head}- action: mtls\n  target: ns/rng\n  mode: STRICT\n");
    assert_eq!(Plan::from_yaml(&last, "p").unwrap(), Plan::from_yaml(&first, "p").unwrap());
    assert_eq!(Plan::from_yaml(&last, "p").unwrap().to_yaml(), first);
    // The journal stores plans as JSON: the same form.
    let plan = Plan::from_yaml(&first, "p").unwrap();
    let text = serde_json::to_string(&plan.actions[1]).unwrap();
    assert_eq!(text, r#"{"action":"mtls","target":"ns/rng","mode":"STRICT"}"#);
    assert_eq!(serde_json::from_str::<crate::plan::Action>(&text).unwrap(), plan.actions[1]);
}
