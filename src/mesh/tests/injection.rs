//! ISTIO.md §1: every row of the §1.3 decision table, the Stage B order, selectors,
//! tags, dangling and deactivated webhooks, overlaps, and the reasons shown to users.

use super::fixtures::*;
use crate::labels::Labels;
use crate::mesh::Snapshot;
use crate::mesh::injection::{Decision, Injectors, PodFacts, decide, namespace_injection};
use serde_json::{Value, json};

/// §1.3's assumptions: a default revision and revision `canary`, plus tag `prod-stable` → canary.
fn table_cluster() -> Vec<Value> {
    let mut objs = revision("default", "1.24.3");
    objs.extend(revision("canary", "1.25.0"));
    objs.push(tag_mwc("prod-stable", "canary"));
    objs
}

struct Case {
    name: &'static str,
    ns: &'static [(&'static str, &'static str)],
    pod: &'static [(&'static str, &'static str)],
    ann: &'static [(&'static str, &'static str)],
    want: Option<&'static str>,
}

fn run(
    objs: Vec<Value>,
    ns_name: &str,
    ns: &[(&str, &str)],
    pod: &[(&str, &str)],
    ann: &[(&str, &str)],
    host: bool,
) -> Decision {
    let mut objs = objs;
    objs.push(namespace(ns_name, ns));
    let snap = Snapshot::from_objects(objs);
    assert!(snap.warnings.is_empty(), "{:?}", snap.warnings);
    let inj = Injectors::new(&snap);
    let (l, a): (Labels, Labels) = (labels(pod), labels(ann));
    let facts = PodFacts { namespace: ns_name, labels: &l, annotations: &a, host_network: host };
    decide(&inj, &snap.namespace_labels(ns_name), &facts)
}

#[test]
fn decision_table_rows() {
    const INJ: &str = "sidecar.istio.io/inject";
    const REV: &str = "istio.io/rev";
    let cases = [
        Case { name: "none/none", ns: &[], pod: &[], ann: &[], want: None },
        Case { name: "pod inject=true", ns: &[], pod: &[(INJ, "true")], ann: &[], want: Some("default") },
        Case { name: "pod rev=canary", ns: &[], pod: &[(REV, "canary")], ann: &[], want: Some("canary") },
        Case {
            name: "pod rev=canary+inject=true",
            ns: &[],
            pod: &[(REV, "canary"), (INJ, "true")],
            ann: &[],
            want: Some("canary"),
        },
        Case {
            name: "pod rev=canary+inject=false",
            ns: &[],
            pod: &[(REV, "canary"), (INJ, "false")],
            ann: &[],
            want: None,
        },
        Case { name: "ns enabled", ns: &[("istio-injection", "enabled")], pod: &[], ann: &[], want: Some("default") },
        Case {
            name: "ns enabled, pod label false",
            ns: &[("istio-injection", "enabled")],
            pod: &[(INJ, "false")],
            ann: &[],
            want: None,
        },
        Case {
            name: "ns enabled, annotation false",
            ns: &[("istio-injection", "enabled")],
            pod: &[],
            ann: &[(INJ, "false")],
            want: None,
        },
        Case {
            name: "ns enabled, pod rev=canary",
            ns: &[("istio-injection", "enabled")],
            pod: &[(REV, "canary")],
            ann: &[],
            want: Some("default"),
        },
        Case {
            name: "ns enabled+rev=canary",
            ns: &[("istio-injection", "enabled"), (REV, "canary")],
            pod: &[],
            ann: &[],
            want: Some("default"),
        },
        Case {
            name: "ns enabled+rev=canary, pod rev",
            ns: &[("istio-injection", "enabled"), (REV, "canary")],
            pod: &[(REV, "canary")],
            ann: &[],
            want: Some("default"),
        },
        Case {
            name: "ns disabled, pod inject=true",
            ns: &[("istio-injection", "disabled")],
            pod: &[(INJ, "true")],
            ann: &[],
            want: None,
        },
        Case {
            name: "ns typo true, pod rev=canary",
            ns: &[("istio-injection", "true")],
            pod: &[(REV, "canary")],
            ann: &[],
            want: None,
        },
        Case { name: "ns rev=canary", ns: &[(REV, "canary")], pod: &[], ann: &[], want: Some("canary") },
        Case {
            name: "ns rev=canary, pod inject=true",
            ns: &[(REV, "canary")],
            pod: &[(INJ, "true")],
            ann: &[],
            want: Some("canary"),
        },
        Case {
            name: "ns rev=canary, pod rev=other",
            ns: &[(REV, "canary")],
            pod: &[(REV, "default")],
            ann: &[],
            want: Some("canary"),
        },
        Case {
            name: "ns rev=canary, pod inject=false",
            ns: &[(REV, "canary")],
            pod: &[(INJ, "false")],
            ann: &[],
            want: None,
        },
        Case { name: "ns rev=<tag>", ns: &[(REV, "prod-stable")], pod: &[], ann: &[], want: Some("canary") },
        Case { name: "ns rev dangling", ns: &[(REV, "1-19-0")], pod: &[(INJ, "true")], ann: &[], want: None },
        Case { name: "annotation true only", ns: &[], pod: &[], ann: &[(INJ, "true")], want: None },
    ];
    for c in &cases {
        let d = run(table_cluster(), "shop", c.ns, c.pod, c.ann, false);
        assert_eq!(d.inject, c.want.is_some(), "{}: {}", c.name, d.reason);
        assert_eq!(d.revision.as_deref(), c.want, "{}: {}", c.name, d.reason);
        assert!(!d.conflict, "{}: {}", c.name, d.reason);
    }
}

#[test]
fn decision_table_reasons() {
    let reason = |ns: &[(&str, &str)], pod: &[(&str, &str)], ann: &[(&str, &str)]| {
        run(table_cluster(), "shop", ns, pod, ann, false).reason
    };
    assert_eq!(reason(&[], &[], &[]), "no injection label on the namespace or the pod; no webhook selects it");
    assert_eq!(
        reason(&[], &[("sidecar.istio.io/inject", "true")], &[]),
        "pod label sidecar.istio.io/inject=true → webhook istio-sidecar-injector/object.sidecar-injector.istio.io (revision default)"
    );
    assert_eq!(
        reason(&[], &[("istio.io/rev", "canary")], &[]),
        "pod label istio.io/rev=canary → webhook istio-sidecar-injector-canary/rev.object.sidecar-injector.istio.io (revision canary)"
    );
    assert_eq!(
        reason(&[("istio-injection", "enabled")], &[], &[("sidecar.istio.io/inject", "false")]),
        "namespace label istio-injection=enabled → webhook istio-sidecar-injector/namespace.sidecar-injector.istio.io \
         (revision default), but pod annotation sidecar.istio.io/inject=false: not injected"
    );
    assert_eq!(
        reason(&[("istio-injection", "enabled")], &[("sidecar.istio.io/inject", "false")], &[]),
        "pod label sidecar.istio.io/inject=false: no webhook is called"
    );
    assert_eq!(
        reason(&[("istio-injection", "enabled"), ("istio.io/rev", "canary")], &[], &[]),
        "namespace label istio-injection=enabled → webhook istio-sidecar-injector/namespace.sidecar-injector.istio.io \
         (revision default); istio-injection wins over namespace label istio.io/rev=canary (IST0123)"
    );
    assert_eq!(
        reason(&[("istio-injection", "true")], &[("istio.io/rev", "canary")], &[]),
        "namespace label istio-injection=true disables injection (not a recognised value; only enabled injects)"
    );
    assert_eq!(
        reason(&[("istio-injection", "disabled")], &[], &[]),
        "namespace label istio-injection=disabled disables injection"
    );
    assert_eq!(
        reason(&[("istio.io/rev", "prod-stable")], &[], &[]),
        "namespace label istio.io/rev=prod-stable → webhook istio-revision-tag-prod-stable/rev.namespace.sidecar-injector.istio.io \
         (revision canary via tag prod-stable)"
    );
    assert_eq!(
        reason(&[("istio.io/rev", "1-19-0")], &[], &[]),
        "namespace label istio.io/rev=1-19-0 names no revision or tag; nothing injects (dangling)"
    );
    assert_eq!(
        reason(&[], &[], &[("sidecar.istio.io/inject", "true")]),
        "annotation sidecar.istio.io/inject=true cannot opt in; only a label or namespace label selects a webhook"
    );
}

#[test]
fn istio_injection_wins_and_needs_a_default_injector() {
    // Only revision canary: istio-injection=enabled selects nothing, even with istio.io/rev=canary.
    let only_canary = revision("canary", "1.25.0");
    let d = run(
        only_canary.clone(),
        "shop",
        &[("istio-injection", "enabled"), ("istio.io/rev", "canary")],
        &[],
        &[],
        false,
    );
    assert!(!d.inject);
    assert_eq!(
        d.reason,
        "namespace label istio-injection=enabled, but no default revision or default tag webhook is active; nothing injects"
    );
    let d = run(only_canary, "shop", &[], &[("sidecar.istio.io/inject", "true")], &[], false);
    assert!(!d.inject);
    assert_eq!(
        d.reason,
        "pod label sidecar.istio.io/inject=true, but no default revision or default tag webhook is active"
    );
}

#[test]
fn enable_namespaces_by_default_uses_auto_webhook() {
    let mut objs = istiod("default", "1.24.3", 1, 1);
    objs.push(with_auto(revision_mwc("default")));
    let d = run(objs.clone(), "shop", &[], &[], &[], false);
    assert_eq!((d.inject, d.revision.as_deref()), (true, Some("default")), "{}", d.reason);
    assert_eq!(d.matches[0].webhook, "auto.sidecar-injector.istio.io");
    // auto. excludes kube-system by namespace name; Stage B would refuse anyway.
    let d = run(objs.clone(), "kube-system", &[], &[], &[], false);
    assert!(!d.inject && d.matches.is_empty(), "{}", d.reason);
    // A pod that says anything about injection is outside auto.
    let d = run(objs, "shop", &[], &[("sidecar.istio.io/inject", "false")], &[], false);
    assert!(!d.inject);
}

#[test]
fn stage_b_order() {
    let enabled = [("istio-injection", "enabled")];
    let cm = |policy: &str, never: Value, always: Value| {
        let mut objs = istiod("default", "1.24.3", 1, 1);
        objs.push(revision_mwc("default"));
        objs.push(injector_cm("default", policy, never, always, Some("1.24.3")));
        objs
    };
    let plain = || cm("enabled", json!([]), json!([]));
    // 1. hostNetwork beats an explicit opt-in.
    let d = run(plain(), "shop", &enabled, &[("sidecar.istio.io/inject", "true")], &[], true);
    assert!(!d.inject && d.matches.len() == 1);
    assert!(
        d.reason.ends_with("but the pod uses hostNetwork, which istiod never injects: not injected"),
        "{}",
        d.reason
    );
    // 2. Ignored namespaces, even when labelled; istio-system is not ignored.
    for ns in ["kube-system", "kube-public", "kube-node-lease", "local-path-storage"] {
        let d = run(plain(), ns, &enabled, &[("sidecar.istio.io/inject", "true")], &[], false);
        assert!(!d.inject, "{ns}");
        assert!(d.reason.contains(&format!("namespace {ns} is ignored by the injector")), "{}", d.reason);
    }
    assert!(run(plain(), "istio-system", &enabled, &[], &[], false).inject);
    // 3. The label wins over the annotation; an invalid label value counts as unset and
    //    hides the annotation.
    assert!(
        run(
            plain(),
            "shop",
            &enabled,
            &[("sidecar.istio.io/inject", "true")],
            &[("sidecar.istio.io/inject", "false")],
            false
        )
        .inject
    );
    assert!(
        run(
            plain(),
            "shop",
            &enabled,
            &[("sidecar.istio.io/inject", "True")],
            &[("sidecar.istio.io/inject", "false")],
            false
        )
        .inject
    );
    let off = cm("disabled", json!([]), json!([]));
    assert!(!run(off.clone(), "shop", &enabled, &[("sidecar.istio.io/inject", "True")], &[], false).inject);
    // 4./5. never before always; both after the explicit choice.
    let never = json!([{"matchLabels": {"team": "legacy"}}]);
    let always = json!([{"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]}]);
    let sel = cm("disabled", never.clone(), always.clone());
    let d = run(sel.clone(), "shop", &enabled, &[("team", "legacy"), ("tier", "web")], &[], false);
    assert!(!d.inject);
    assert!(
        d.reason.contains("but pod labels match neverInjectSelector of istio-sidecar-injector: not injected"),
        "{}",
        d.reason
    );
    let d = run(sel.clone(), "shop", &enabled, &[("tier", "web")], &[], false);
    assert!(d.inject);
    assert!(
        d.reason.ends_with("(revision default); pod labels match alwaysInjectSelector of istio-sidecar-injector"),
        "{}",
        d.reason
    );
    assert!(
        run(sel.clone(), "shop", &enabled, &[("team", "legacy"), ("sidecar.istio.io/inject", "true")], &[], false)
            .inject
    );
    // 6. policy.
    let d = run(sel.clone(), "shop", &enabled, &[("tier", "api")], &[], false);
    assert!(!d.inject);
    assert!(
        d.reason.contains("but injector policy is disabled in istio-sidecar-injector: not injected"),
        "{}",
        d.reason
    );
    let d = run(cm("Enabled", json!([]), json!([])), "shop", &enabled, &[], &[], false);
    assert!(!d.inject);
    assert!(
        d.reason.contains("injector policy \"Enabled\" in istio-sidecar-injector is invalid and disables injection")
    );
    // Stage B only runs when Stage A called the webhook: always-selector pods in an
    // unlabelled namespace stay uninjected.
    let d = run(sel, "shop", &[], &[("tier", "web")], &[], false);
    assert!(!d.inject && d.matches.is_empty());
}

#[test]
fn tag_resolution_and_brief_example() {
    let mut objs = revision("1-24-3", "1.24.3");
    objs.push(tag_mwc("default", "1-24-3"));
    let d = run(objs.clone(), "shop", &[("istio-injection", "enabled")], &[], &[], false);
    assert_eq!(
        d.reason,
        "namespace label istio-injection=enabled → webhook istio-revision-tag-default/namespace.sidecar-injector.istio.io \
         (revision 1-24-3 via tag default)"
    );
    assert_eq!((d.revision.as_deref(), d.tag.as_deref()), (Some("1-24-3"), Some("default")));
    // istio.io/rev=default names the tag, sidecar.istio.io/inject=true its object. webhook.
    assert_eq!(
        run(objs.clone(), "shop", &[("istio.io/rev", "default")], &[], &[], false).revision.as_deref(),
        Some("1-24-3")
    );
    assert_eq!(
        run(objs.clone(), "shop", &[], &[("sidecar.istio.io/inject", "true")], &[], false).revision.as_deref(),
        Some("1-24-3")
    );
    // The namespace view resolves the tag too (§9.3).
    objs.push(namespace("shop", &[("istio.io/rev", "default")]));
    let snap = Snapshot::from_objects(objs);
    let inj = Injectors::new(&snap);
    let ni = namespace_injection(&inj, "shop", &snap.namespace_labels("shop"));
    assert_eq!((ni.mode, ni.revision.as_deref()), ("enabled", Some("1-24-3")));
    assert_eq!(inj.tags_of("1-24-3"), vec!["default".to_string()]);
}

#[test]
fn deactivated_default_and_overlapping_webhooks() {
    // After `istioctl tag set default --revision canary` the old default webhooks never match.
    let mut objs = istiod("default", "1.24.3", 1, 1);
    objs.extend(revision("canary", "1.25.0"));
    objs.push(deactivated(revision_mwc("default")));
    objs.push(tag_mwc("default", "canary"));
    let d = run(objs, "shop", &[("istio-injection", "enabled")], &[], &[], false);
    assert_eq!((d.inject, d.revision.as_deref(), d.conflict), (true, Some("canary"), false), "{}", d.reason);

    // Left active, both default injectors match: double injection.
    let mut objs = revision("default", "1.24.3");
    objs.extend(revision("canary", "1.25.0"));
    objs.push(tag_mwc("default", "canary"));
    let d = run(objs, "shop", &[("istio-injection", "enabled")], &[], &[], false);
    assert!(d.conflict && d.inject);
    assert_eq!(d.revision, None);
    assert_eq!(
        d.reason,
        "CONFLICT: 2 webhooks select this pod: istio-revision-tag-default/namespace.sidecar-injector.istio.io \
         (revision canary via tag default), istio-sidecar-injector/namespace.sidecar-injector.istio.io (revision default); \
         it would be injected twice or unpredictably (IST0139)"
    );
}

#[test]
fn namespace_modes() {
    let mut objs = table_cluster();
    for (name, l) in [
        ("a", vec![("istio-injection", "enabled")]),
        ("b", vec![("istio-injection", "disabled")]),
        ("c", vec![("istio.io/rev", "prod-stable")]),
        ("d", vec![]),
        ("e", vec![("istio.io/rev", "gone")]),
        ("kube-system", vec![("istio-injection", "enabled")]),
    ] {
        objs.push(namespace(name, &l));
    }
    let snap = Snapshot::from_objects(objs);
    let inj = Injectors::new(&snap);
    let got = |ns: &str| {
        let n = namespace_injection(&inj, ns, &snap.namespace_labels(ns));
        (n.mode, n.revision)
    };
    assert_eq!(got("a"), ("enabled", Some("default".into())));
    assert_eq!(got("b"), ("disabled", None));
    assert_eq!(got("c"), ("enabled", Some("canary".into())));
    assert_eq!(got("d"), ("unset", None));
    assert_eq!(got("e"), ("enabled", None));
    assert_eq!(got("kube-system"), ("enabled", None));
}
