//! The byte path must write exactly what serializing the rendered value writes: same keys in
//! the same order, same values, same escaping, for every shape of the generated cluster.

use super::*;
use crate::sim::clock::Clock;
use crate::sim::kinds;
use crate::sim::ops::Cluster;
use crate::sim::scale::pod::PodVars;
use crate::sim::scale::render::{ApVars, DeployVars, NodeVars, NsVars, PaVars, RsVars, SaVars, ServiceVars};
use crate::sim::scale::{Layout, ScaleSpec, generate, id};
use std::collections::BTreeSet;

fn generator(namespaces: usize, workloads: usize, pods_per_workload: usize) -> Generated {
    let layout = Layout::new(ScaleSpec { namespaces, workloads, pods_per_workload });
    let at = |s: &str| format!("2025-03-0{s}T10:00:00Z");
    Generated::new(layout, [at("1"), at("2"), at("3"), at("4")])
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("UTF-8 JSON")
}

/// How many objects of a kind a generator holds ids for.
fn count(g: &Generated, tag: Tag) -> usize {
    let s = g.layout.spec;
    match tag {
        Tag::Namespace | Tag::DefaultSa | Tag::PeerAuthentication => s.namespaces,
        Tag::Node => g.layout.nodes,
        Tag::Pod => s.workloads * s.pods_per_workload,
        _ => s.workloads,
    }
}

#[test]
fn render_json_is_the_rendered_value_serialized_for_every_object() {
    // 21 namespaces reach every mesh state and both PeerAuthentication modes (0 and 10);
    // no pods per workload drops the replica counts from workload status.
    let cases = [(21, 45, 3), (3, 4, 0), (1, 1, 1)];
    for (namespaces, workloads, per) in cases {
        let g = generator(namespaces, workloads, per);
        let mut shapes = BTreeSet::new();
        for tag in TAGS {
            for i in 0..count(&g, tag) {
                let rv = [0, 1, 7, 48_213, u64::MAX][i % 5];
                let mut want = g.render(id(tag, i));
                want["metadata"]["resourceVersion"] = json!(rv.to_string());
                let got = g.render_json(id(tag, i), rv);
                assert_eq!(text(&got), text(&serde_json::to_vec(&want).unwrap()), "{tag:?} {i} rv {rv}");
                let parsed: Value = serde_json::from_slice(&got).unwrap();
                assert_eq!(parsed, want, "{tag:?} {i}");
                shapes.insert(format!("{tag:?} {}", want["kind"]));
            }
        }
        let want = if per == 0 { 9 } else { 10 };
        assert_eq!(shapes.len(), want, "{shapes:?}");
    }
}

#[test]
fn every_mesh_state_has_its_own_pod_and_namespace_template() {
    let g = generator(3, 3, 1);
    // Workload w lives in namespace w: enabled, canary, outside the mesh.
    let sidecars: Vec<bool> =
        (0..3).map(|w| text(&g.render_json(id(Tag::Pod, w), 1)).contains("\"name\":\"istio-proxy\"")).collect();
    assert_eq!(sidecars, [true, true, false]);
    let revs: Vec<Option<String>> = (0..3)
        .map(|i| {
            let v: Value = serde_json::from_slice(&g.render_json(id(Tag::Namespace, i), 1)).unwrap();
            v["metadata"]["labels"]["istio.io/rev"].as_str().map(String::from)
        })
        .collect();
    assert_eq!(revs, [None, Some("1-25-0".to_string()), None]);
}

#[test]
fn store_entries_list_as_their_values() {
    let cluster = Cluster::new(Clock::default());
    generate(&cluster, &ScaleSpec { namespaces: 4, workloads: 9, pods_per_workload: 2 });
    let mut seen = 0;
    for k in kinds::all().filter(|k| !k.virtual_only) {
        for obj in cluster.store.all(k, None) {
            let ns = obj["metadata"]["namespace"].as_str().unwrap_or_default();
            let name = obj["metadata"]["name"].as_str().unwrap();
            let entry = cluster.store.get(k, ns, name).unwrap();
            assert!(entry.is_lazy(), "{} {ns}/{name}", k.kind);
            let want = serde_json::to_vec(entry.value().as_ref()).unwrap();
            let mut json = Vec::new();
            entry.write_json(&mut json);
            assert_eq!(text(&json), text(&want), "{} {ns}/{name}", k.kind);
            seen += 1;
        }
    }
    // 4 ns + 1 node + (4 + 9) SAs + 9 services + 9 deployments + 9 RS + 18 pods + 1 PA + 1 AP.
    assert_eq!(seen, 65);
}

/// Values no generated name has, to show the builders only place vars and the byte path
/// escapes them like serde_json, however deep they sit.
fn awkward(i: usize) -> String {
    format!("v{i} \"q\" \\ \n\t \u{1} é ✓ </x>")
}

#[test]
fn awkward_vars_are_escaped_like_serde_json() {
    let g = generator(2, 2, 2);
    let t = g.templates().expect("every shape cuts");
    let check = |what: &str, template: &Template, mut shape: Value, mut values: Vec<&str>| {
        values.push("42");
        shape["metadata"]["resourceVersion"] = json!("42");
        let mut written = Vec::new();
        template.write(&values, &mut written);
        assert_eq!(text(&written), text(&serde_json::to_vec(&shape).unwrap()), "{what}");
    };
    for mesh in MESHES {
        let v = PodVars::from_fn(awkward);
        check(&format!("pod {mesh:?}"), &t.pods[mesh as usize], g.pod(&v, mesh), v.slots());
        let v = NsVars::from_fn(awkward);
        check(&format!("namespace {mesh:?}"), &t.namespaces[mesh as usize], g.namespace(&v, mesh), v.slots());
    }
    let v = NodeVars::from_fn(awkward);
    check("node", &t.node, g.node(&v), v.slots());
    let v = SaVars::from_fn(awkward);
    check("default sa", &t.default_sa, g.default_sa(&v), v.slots());
    check("workload sa", &t.workload_sa, g.workload_sa(&v), v.slots());
    let v = ServiceVars::from_fn(awkward);
    check("service", &t.service, g.service(&v), v.slots());
    let v = DeployVars::from_fn(awkward);
    check("deployment", &t.deployment, g.deployment(&v), v.slots());
    let v = RsVars::from_fn(awkward);
    check("replicaset", &t.replica_set, g.replica_set(&v), v.slots());
    let v = PaVars::from_fn(awkward);
    check("peerauthentication", &t.peer_authentication, g.peer_authentication(&v), v.slots());
    let v = ApVars::from_fn(awkward);
    check("authorizationpolicy", &t.authorization_policy, g.authorization_policy(&v), v.slots());
}

#[test]
fn ids_outside_the_generator_render_as_before() {
    let g = generator(1, 1, 1);
    assert_eq!(split(id(Tag::Pod, 5)).map(|(t, i)| (t as u64, i)), Some((Tag::Pod as u64, 5)));
    assert_eq!(split(0), None);
    assert_eq!(g.render(11 << TAG_SHIFT), Value::Null);
    assert_eq!(text(&g.render_json(11 << TAG_SHIFT, 3)), r#"{"metadata":{"resourceVersion":"3"}}"#);
}

/// A measurement, not a test: run by hand with
/// `cargo test --release --lib sim::scale::fast::tests::render_json_speed -- --ignored --nocapture`.
#[test]
#[ignore]
fn render_json_speed() {
    let layout = Layout::new(ScaleSpec { namespaces: 1000, workloads: 10_000, pods_per_workload: 10 });
    let t = "2025-01-01T00:00:00Z".to_string();
    let g = Generated::new(layout, [t.clone(), t.clone(), t.clone(), t]);
    let kinds = [(Tag::Pod, 100_000), (Tag::Deployment, 10_000), (Tag::ReplicaSet, 10_000), (Tag::Service, 10_000)];
    for (tag, count) in kinds {
        let start = std::time::Instant::now();
        let bytes: usize = (0..count).map(|i| g.render_json(id(tag, i), 7).len()).sum();
        let took = start.elapsed();
        println!(
            "{tag:?}: {count} in {took:.2?}, {:.2} µs each, {} bytes each",
            took.as_secs_f64() * 1e6 / count as f64,
            bytes / count
        );
    }
}
