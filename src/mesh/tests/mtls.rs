//! ISTIO.md §4.2: mesh/namespace/workload precedence, UNSET inheritance, port-level modes,
//! oldest policy wins (ties by name, then namespace), root-namespace selector policies
//! ignored, and `istio.io/rev` scoping.

use super::fixtures::*;
use crate::mesh::Snapshot;
use crate::mesh::istio_types::PeerAuthentication;
use crate::mesh::mtls::{MtlsMode, RevScope, effective_mtls, pick};
use serde_json::{Value, json};

const T1: &str = "2024-01-01T00:00:00Z";
const T2: &str = "2024-06-01T00:00:00Z";
const T3: &str = "2025-01-01T00:00:00Z";

fn scope(rev: &str) -> RevScope {
    RevScope { revision: Some(rev.into()), tags: vec![] }
}

fn mode(objs: Vec<Value>, ns: &str, pod: &[(&str, &str)]) -> (&'static str, Option<String>) {
    let snap = Snapshot::from_objects(objs);
    assert!(snap.warnings.is_empty(), "{:?}", snap.warnings);
    let r = effective_mtls(&snap, ns, &labels(pod), &scope("default"));
    (r.mode.as_str(), r.source)
}

fn src(s: &str) -> Option<String> {
    Some(s.to_string())
}

#[test]
fn precedence_and_inheritance() {
    let web = [("app", "web")];
    let mesh_strict = || pa("istio-system", "default", T1, Some("STRICT"), &[]);
    type Case = (&'static str, Vec<Value>, (&'static str, Option<String>));
    let cases: Vec<Case> = vec![
        ("nothing", vec![], ("PERMISSIVE", None)),
        ("mesh only", vec![mesh_strict()], ("STRICT", src("istio-system/default"))),
        (
            "ns overrides mesh",
            vec![mesh_strict(), pa("shop", "ns", T1, Some("PERMISSIVE"), &[])],
            ("PERMISSIVE", src("shop/ns")),
        ),
        (
            "workload overrides ns",
            vec![
                mesh_strict(),
                pa("shop", "ns", T1, Some("PERMISSIVE"), &[]),
                pa("shop", "wl", T1, Some("DISABLE"), &web),
            ],
            ("DISABLE", src("shop/wl")),
        ),
        (
            "workload UNSET inherits ns",
            vec![mesh_strict(), pa("shop", "ns", T1, Some("DISABLE"), &[]), pa("shop", "wl", T1, Some("UNSET"), &web)],
            ("DISABLE", src("shop/ns")),
        ),
        (
            "ns without mode inherits mesh",
            vec![mesh_strict(), pa("shop", "ns", T1, None, &[])],
            ("STRICT", src("istio-system/default")),
        ),
        (
            "workload selector not a subset",
            vec![
                pa("shop", "ns", T1, Some("STRICT"), &[]),
                pa("shop", "wl", T1, Some("DISABLE"), &[("app", "web"), ("v", "2")]),
            ],
            ("STRICT", src("shop/ns")),
        ),
        ("other namespace ignored", vec![pa("other", "ns", T1, Some("STRICT"), &[])], ("PERMISSIVE", None)),
        (
            "root selector policy ignored",
            vec![pa("istio-system", "sel", T1, Some("STRICT"), &web)],
            ("PERMISSIVE", None),
        ),
        (
            "oldest ns policy wins",
            vec![pa("shop", "b", T1, Some("STRICT"), &[]), pa("shop", "a", T2, Some("DISABLE"), &[])],
            ("STRICT", src("shop/b")),
        ),
        (
            "same age: lower name wins",
            vec![pa("shop", "b", T1, Some("STRICT"), &[]), pa("shop", "a", T1, Some("DISABLE"), &[])],
            ("DISABLE", src("shop/a")),
        ),
        (
            "oldest workload policy wins",
            vec![pa("shop", "a-new", T3, Some("STRICT"), &web), pa("shop", "z-old", T2, Some("DISABLE"), &web)],
            ("DISABLE", src("shop/z-old")),
        ),
        (
            "oldest mesh policy wins",
            vec![pa("istio-system", "a", T2, Some("DISABLE"), &[]), pa("istio-system", "b", T1, Some("STRICT"), &[])],
            ("STRICT", src("istio-system/b")),
        ),
    ];
    for (name, objs, want) in cases {
        assert_eq!(mode(objs, "shop", &web), want, "{name}");
    }
}

#[test]
fn workloads_in_the_root_namespace_get_the_mesh_policy_only() {
    let objs = vec![
        pa("istio-system", "default", T1, Some("PERMISSIVE"), &[]),
        pa("istio-system", "gw", T1, Some("STRICT"), &[("app", "gw")]),
    ];
    assert_eq!(mode(objs, "istio-system", &[("app", "gw")]), ("PERMISSIVE", src("istio-system/default")));
}

#[test]
fn root_namespace_comes_from_mesh_config() {
    let mesh_cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "istio", "namespace": "istio-system"},
        "data": {"mesh": "rootNamespace: mesh-root\ntrustDomain: cluster.local\n"}});
    let objs = vec![
        mesh_cm,
        pa("istio-system", "default", T1, Some("DISABLE"), &[]),
        pa("mesh-root", "default", T1, Some("STRICT"), &[]),
    ];
    assert_eq!(mode(objs, "shop", &[]), ("STRICT", src("mesh-root/default")));
}

#[test]
fn port_level_modes() {
    let web = [("app", "web")];
    let mut wl = pa("shop", "wl", T1, Some("STRICT"), &web);
    wl["spec"]["portLevelMtls"] = json!({"8080": {"mode": "DISABLE"}, "9090": {"mode": "UNSET"}, "15021": {}});
    let snap = Snapshot::from_objects(vec![wl]);
    let r = effective_mtls(&snap, "shop", &labels(&web), &scope("default"));
    assert_eq!(r.mode, MtlsMode::Strict);
    let ports: Vec<(u32, &str)> = r.ports.iter().map(|(p, m)| (*p, m.as_str())).collect();
    assert_eq!(ports, vec![(8080, "DISABLE"), (9090, "STRICT"), (15021, "STRICT")]);

    // A workload policy that only sets ports: the mode is inherited and UNSET ports follow it.
    let mut wl = pa("shop", "wl", T1, None, &web);
    wl["spec"]["portLevelMtls"] = json!({"8080": {"mode": "PERMISSIVE"}, "9090": {"mode": "UNSET"}});
    let snap = Snapshot::from_objects(vec![pa("shop", "ns", T1, Some("STRICT"), &[]), wl]);
    let r = effective_mtls(&snap, "shop", &labels(&web), &scope("default"));
    assert_eq!((r.mode, r.source.as_deref()), (MtlsMode::Strict, Some("shop/ns")));
    let ports: Vec<(u32, &str)> = r.ports.iter().map(|(p, m)| (*p, m.as_str())).collect();
    assert_eq!(ports, vec![(8080, "PERMISSIVE"), (9090, "STRICT")]);
}

#[test]
fn revision_scoped_policies() {
    let objs = || {
        vec![
            pa("shop", "ns", T1, Some("PERMISSIVE"), &[]),
            with_label(pa("shop", "canary-only", T1, Some("STRICT"), &[("app", "web")]), "istio.io/rev", "canary"),
            with_label(pa("shop", "tagged", T2, Some("DISABLE"), &[("app", "api")]), "istio.io/rev", "prod-stable"),
        ]
    };
    let snap = Snapshot::from_objects(objs());
    let get = |app: &str, s: RevScope| {
        let r = effective_mtls(&snap, "shop", &labels(&[("app", app)]), &s);
        (r.mode.as_str(), r.source)
    };
    assert_eq!(get("web", scope("default")), ("PERMISSIVE", src("shop/ns")));
    assert_eq!(get("web", scope("canary")), ("STRICT", src("shop/canary-only")));
    assert_eq!(get("web", RevScope::default()), ("PERMISSIVE", src("shop/ns")));
    // Config labelled with a tag is seen by the revision the tag points at.
    assert_eq!(get("api", scope("canary")), ("PERMISSIVE", src("shop/ns")));
    assert_eq!(
        get("api", RevScope { revision: Some("canary".into()), tags: vec!["prod-stable".into()] }),
        ("DISABLE", src("shop/tagged"))
    );
}

#[test]
fn pick_breaks_ties_by_name_then_namespace() {
    let decode = |v: Value| serde_json::from_value::<PeerAuthentication>(v).expect("fixture decodes");
    let a = decode(pa("zeta", "same", T1, Some("STRICT"), &[]));
    let b = decode(pa("alpha", "same", T1, Some("DISABLE"), &[]));
    let c = decode(pa("alpha", "later", T2, Some("DISABLE"), &[]));
    let d = decode(json!({"metadata": {"name": "zz-no-timestamp", "namespace": "zeta"}, "spec": {}}));
    let any = RevScope::default();
    assert_eq!(pick([&a, &b, &c], &any).map(|p| p.metadata.ns_name()), Some("alpha/same".into()));
    // A policy without a timestamp counts as oldest, like Go's zero time.
    assert_eq!(pick([&a, &b, &c, &d], &any).map(|p| p.metadata.ns_name()), Some("zeta/zz-no-timestamp".into()));
    // Sub-second timestamps order correctly.
    let e = decode(pa("x", "e", "2024-01-01T00:00:00.5Z", Some("STRICT"), &[]));
    let f = decode(pa("x", "f", "2024-01-01T00:00:00.25Z", Some("STRICT"), &[]));
    assert_eq!(pick([&e, &f], &any).map(|p| p.metadata.name.clone()), Some("f".into()));
}
