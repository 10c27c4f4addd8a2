//! Who injects, row by row: ISTIO.md's decision table (1.3) with the scenario's revisions
//! (`canary` is 1-25-0, the default tag points at 1-24-3), then istiod's own checks (1.2).

use super::*;

const CANARY: &str = "1-25-0";
const STABLE: &str = "1-24-3";

struct Row {
    what: &'static str,
    ns: &'static [(&'static str, &'static str)],
    labels: &'static [(&'static str, &'static str)],
    annotations: &'static [(&'static str, &'static str)],
    want: Option<&'static str>,
}

const fn row(
    what: &'static str,
    ns: &'static [(&'static str, &'static str)],
    labels: &'static [(&'static str, &'static str)],
    annotations: &'static [(&'static str, &'static str)],
    want: Option<&'static str>,
) -> Row {
    Row { what, ns, labels, annotations, want }
}

const INJECT_TRUE: (&str, &str) = ("sidecar.istio.io/inject", "true");
const INJECT_FALSE: (&str, &str) = ("sidecar.istio.io/inject", "false");
const ENABLED: (&str, &str) = ("istio-injection", "enabled");
const REV_CANARY: (&str, &str) = ("istio.io/rev", CANARY);
const REV_STABLE: (&str, &str) = ("istio.io/rev", STABLE);

const TABLE: &[Row] = &[
    row("no labels anywhere", &[], &[], &[], None),
    row("pod opts in with the label", &[], &[INJECT_TRUE], &[], Some(STABLE)),
    row("pod names the canary", &[], &[REV_CANARY], &[], Some(CANARY)),
    row("pod names the canary and opts in", &[], &[REV_CANARY, INJECT_TRUE], &[], Some(CANARY)),
    row("pod names the canary but opts out", &[], &[REV_CANARY, INJECT_FALSE], &[], None),
    row("istio-injection=enabled", &[ENABLED], &[], &[], Some(STABLE)),
    row("enabled namespace, pod label opts out", &[ENABLED], &[INJECT_FALSE], &[], None),
    row("enabled namespace, legacy annotation opts out", &[ENABLED], &[], &[INJECT_FALSE], None),
    row("enabled namespace ignores the pod's rev label", &[ENABLED], &[REV_CANARY], &[], Some(STABLE)),
    row("istio-injection beats the namespace rev label", &[ENABLED, REV_CANARY], &[], &[], Some(STABLE)),
    row("istio-injection=disabled, pod opts in", &[("istio-injection", "disabled")], &[INJECT_TRUE], &[], None),
    row("istio-injection=disabled, pod names a revision", &[("istio-injection", "disabled")], &[REV_CANARY], &[], None),
    row("istio-injection typo 'true'", &[("istio-injection", "true")], &[], &[], None),
    row("namespace names the canary", &[REV_CANARY], &[], &[], Some(CANARY)),
    row("namespace names the canary, pod opts in", &[REV_CANARY], &[INJECT_TRUE], &[], Some(CANARY)),
    row("namespace rev wins over the pod rev", &[REV_CANARY], &[REV_STABLE], &[], Some(CANARY)),
    row("namespace names the canary, pod opts out", &[REV_CANARY], &[INJECT_FALSE], &[], None),
    row("namespace names the default tag", &[("istio.io/rev", "default")], &[], &[], Some(STABLE)),
    row("namespace names a revision with no webhook", &[("istio.io/rev", "1-23-0")], &[INJECT_TRUE], &[], None),
    row("annotation alone cannot opt in", &[], &[], &[INJECT_TRUE], None),
    row("pod names the default tag", &[], &[("istio.io/rev", "default")], &[], Some(STABLE)),
];

#[test]
fn decision_table_of_istio_md() {
    let mut wrong = Vec::new();
    for (i, r) in TABLE.iter().enumerate() {
        let store = cluster();
        let ns = format!("row-{i}");
        namespace(&store, &ns, r.ns);
        let pod = app_pod(&ns, "web", r.labels, r.annotations);
        let got = admit(&store, pod).map(|p| injected_revision(&p));
        if got != Ok(r.want.map(str::to_string)) {
            wrong.push(format!("{}: want {:?}, got {got:?}", r.what, r.want));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// With `enableNamespacesByDefault=true` the chart renders an `auto.` webhook into the
/// default revision's (here: the default tag's) configuration.
#[test]
fn namespaces_by_default_adds_the_auto_webhook() {
    let store = cluster();
    edit(&store, mwc_kind(), "", "istio-revision-tag-default", |mwc| {
        let mut auto = mwc["webhooks"][3].clone();
        auto["name"] = json!("auto.sidecar-injector.istio.io");
        auto["namespaceSelector"] = json!({"matchExpressions": [
            {"key": "istio-injection", "operator": "DoesNotExist"},
            {"key": "istio.io/rev", "operator": "DoesNotExist"},
            {"key": "kubernetes.io/metadata.name", "operator": "NotIn",
             "values": ["kube-system", "kube-public", "kube-node-lease", "local-path-storage"]}]});
        auto["objectSelector"] = json!({"matchExpressions": [
            {"key": "sidecar.istio.io/inject", "operator": "DoesNotExist"},
            {"key": "istio.io/rev", "operator": "DoesNotExist"}]});
        mwc["webhooks"].as_array_mut().unwrap().push(auto);
    });
    namespace(&store, "plain", &[]);
    let out = admit(&store, app_pod("plain", "web", &[], &[])).unwrap();
    assert_eq!(injected_revision(&out).as_deref(), Some(STABLE));
    // The label opt-out still works: `auto.` requires the label to be absent.
    let out = admit(&store, app_pod("plain", "batch", &[INJECT_FALSE], &[])).unwrap();
    assert_eq!(injected_revision(&out), None);
}

#[test]
fn without_a_default_tag_istio_injection_selects_nothing() {
    let store = cluster();
    store.delete(mwc_kind(), "", "istio-revision-tag-default").unwrap();
    namespace(&store, "both", &[ENABLED, REV_CANARY]);
    namespace(&store, "enabled", &[ENABLED]);
    for ns in ["both", "enabled"] {
        let out = admit(&store, app_pod(ns, "web", &[], &[])).unwrap();
        assert_eq!(injected_revision(&out), None, "{ns}");
    }
}

/// A tag other than `default` only gets the two `rev.` webhooks, pointing at its target.
#[test]
fn a_tag_resolves_to_the_revision_it_points_at() {
    let store = cluster();
    let mut tag = (*store.get(mwc_kind(), "", "istio-sidecar-injector-1-25-0").unwrap().value()).clone();
    tag["metadata"] = json!({"name": "istio-revision-tag-prod-canary",
        "labels": {"app": "sidecar-injector", "istio.io/tag": "prod-canary", "istio.io/rev": CANARY}});
    for w in tag["webhooks"].as_array_mut().unwrap() {
        let exprs = if w["name"] == "rev.namespace.sidecar-injector.istio.io" {
            &mut w["namespaceSelector"]["matchExpressions"][0]
        } else {
            &mut w["objectSelector"]["matchExpressions"][1]
        };
        exprs["values"] = json!(["prod-canary"]);
    }
    store.create(mwc_kind(), tag).unwrap();
    namespace(&store, "tagged", &[("istio.io/rev", "prod-canary")]);
    let out = admit(&store, app_pod("tagged", "web", &[], &[])).unwrap();
    // The annotation names the real revision, never the tag; the pod's intent label stays.
    assert_eq!(injected_revision(&out).as_deref(), Some(CANARY));
    namespace(&store, "plain", &[]);
    let out = admit(&store, app_pod("plain", "web", &[("istio.io/rev", "prod-canary")], &[])).unwrap();
    assert_eq!(injected_revision(&out).as_deref(), Some(CANARY));
    assert_eq!(out["metadata"]["labels"]["istio.io/rev"], "prod-canary");
}

#[test]
fn istiod_refuses_host_network_and_system_namespaces() {
    let store = cluster();
    namespace(&store, "apps", &[ENABLED]);
    let mut pod = app_pod("apps", "node-agent", &[INJECT_TRUE], &[]);
    pod["spec"]["hostNetwork"] = json!(true);
    assert_eq!(admit(&store, pod).map(|p| injected_revision(&p)), Ok(None));
    // The namespace webhook is called for a labelled kube-system, but istiod declines.
    namespace(&store, "kube-system", &[ENABLED]);
    let out = admit(&store, app_pod("kube-system", "coredns", &[INJECT_TRUE], &[])).unwrap();
    assert_eq!(injected_revision(&out), None);
    // istio-system is not on istiod's list: only the inject=false label keeps istiod's pods out.
    edit(&store, kind("", "namespaces"), "", "istio-system", |ns| {
        ns["metadata"]["labels"]["istio-injection"] = json!("enabled")
    });
    let out = admit(&store, app_pod("istio-system", "debug", &[], &[])).unwrap();
    assert_eq!(injected_revision(&out).as_deref(), Some(STABLE));
}

#[test]
fn explicit_choice_label_and_annotation() {
    let cases: &[(&str, Pairs, Pairs, Option<&str>)] = &[
        ("label true beats annotation false", &[INJECT_TRUE], &[INJECT_FALSE], Some(STABLE)),
        // The label "False" passes the webhook's NotIn ["false"]; istiod treats it as unset.
        ("label 'False' is not a valid opt-out", &[("sidecar.istio.io/inject", "False")], &[], Some(STABLE)),
        ("annotation 'no' is not a valid opt-out", &[], &[("sidecar.istio.io/inject", "no")], Some(STABLE)),
    ];
    for (what, labels, annotations, want) in cases {
        let store = cluster();
        namespace(&store, "apps", &[ENABLED]);
        let out = admit(&store, app_pod("apps", "web", labels, annotations)).unwrap();
        assert_eq!(injected_revision(&out).as_deref(), *want, "{what}");
    }
}

#[test]
fn never_and_always_inject_selectors() {
    let store = cluster();
    namespace(&store, "apps", &[ENABLED]);
    edit_yaml_key(&store, "istio-sidecar-injector-1-24-3", "config", |c| {
        c["neverInjectSelector"] =
            json!([{}, {"matchExpressions": [{"key": "openshift.io/build.name", "operator": "Exists"}]}]);
        c["alwaysInjectSelector"] =
            json!([{"matchLabels": {"openshift.io/build.name": "x"}}, {"matchLabels": {"tier": "edge"}}]);
    });
    let cases: &[(&str, Pairs, Option<&str>)] = &[
        // The empty selector matches nothing; the real one refuses even though always matches too.
        ("never selector wins over always", &[("openshift.io/build.name", "x")], None),
        ("explicit label beats the never selector", &[("openshift.io/build.name", "x"), INJECT_TRUE], Some(STABLE)),
        ("no selector matches: policy enabled", &[("tier", "back")], Some(STABLE)),
    ];
    for (what, labels, want) in cases {
        let out = admit(&store, app_pod("apps", "web", labels, &[])).unwrap();
        assert_eq!(injected_revision(&out).as_deref(), *want, "{what}");
    }

    edit_yaml_key(&store, "istio-sidecar-injector-1-24-3", "config", |c| c["policy"] = json!("disabled"));
    let cases: &[(&str, Pairs, Option<&str>)] = &[
        ("policy disabled: nothing by default", &[], None),
        ("always selector under policy disabled", &[("tier", "edge")], Some(STABLE)),
        ("explicit opt-in under policy disabled", &[INJECT_TRUE], Some(STABLE)),
    ];
    for (what, labels, want) in cases {
        let out = admit(&store, app_pod("apps", "web", labels, &[])).unwrap();
        assert_eq!(injected_revision(&out).as_deref(), *want, "{what}");
    }

    edit_yaml_key(&store, "istio-sidecar-injector-1-24-3", "config", |c| c["policy"] = json!("Enabled"));
    let out = admit(&store, app_pod("apps", "web", &[INJECT_TRUE], &[])).unwrap();
    assert_eq!(injected_revision(&out), None, "an illegal policy disables injection outright");
}
