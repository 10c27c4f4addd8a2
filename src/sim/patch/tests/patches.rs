use super::kind;
use crate::sim::patch::{PatchError, PatchKind, apply_patch};
use serde_json::{Value, json};

fn pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-1", "labels": {"app": "web", "tier": "front", "zone": "a"}},
        "spec": {"containers": [{"name": "app", "image": "web:1", "args": ["serve"]}]}
    })
}

fn invalid_starting(prefix: &str) -> Result<Value, String> {
    Err(prefix.to_string())
}

fn run(how: PatchKind, patch: Value) -> Result<Value, String> {
    match apply_patch(kind("", "pods"), &pod(), &patch, how) {
        Ok(v) => Ok(v),
        Err(PatchError::Invalid(m)) => Err(m),
        Err(e) => panic!("unexpected error {e:?}"),
    }
}

fn check(cases: Vec<(&str, PatchKind, Value, Result<Value, String>)>) {
    for (name, how, patch, want) in cases {
        let got = run(how, patch);
        match (&got, &want) {
            (Err(g), Err(w)) => assert!(g.starts_with(w.as_str()), "{name}: error {g:?} should start with {w:?}"),
            _ => assert_eq!(got, want, "{name}"),
        }
    }
}

#[test]
fn json_patch_cases() {
    let mut relabelled = pod();
    relabelled["metadata"]["labels"]["app"] = json!("canary");
    let mut new_image = pod();
    new_image["spec"]["containers"][0]["image"] = json!("web:2");
    let mut no_zone = pod();
    no_zone["metadata"]["labels"] = json!({"app": "web", "tier": "front"});
    check(vec![
        (
            "replace after a passing test",
            PatchKind::Json,
            json!([
                {"op": "test", "path": "/metadata/labels/app", "value": "web"},
                {"op": "replace", "path": "/metadata/labels/app", "value": "canary"}
            ]),
            Ok(relabelled),
        ),
        (
            "replace in a list element",
            PatchKind::Json,
            json!([{"op": "replace", "path": "/spec/containers/0/image", "value": "web:2"}]),
            Ok(new_image),
        ),
        ("remove", PatchKind::Json, json!([{"op": "remove", "path": "/metadata/labels/zone"}]), Ok(no_zone)),
        (
            "failed test op",
            PatchKind::Json,
            json!([
                {"op": "test", "path": "/metadata/labels/app", "value": "api"},
                {"op": "replace", "path": "/metadata/labels/app", "value": "canary"}
            ]),
            invalid_starting("json patch: testing value /metadata/labels/app failed"),
        ),
        (
            "missing path",
            PatchKind::Json,
            json!([{"op": "remove", "path": "/metadata/annotations/x"}]),
            invalid_starting("json patch: operation '/0' failed at path '/metadata/annotations/x'"),
        ),
        (
            "not a list",
            PatchKind::Json,
            json!({"op": "remove"}),
            invalid_starting("json patch: the patch is not a list"),
        ),
        (
            "replace the whole document with a scalar",
            PatchKind::Json,
            json!([{"op": "replace", "path": "", "value": 3}]),
            invalid_starting("the patched object is not a JSON object"),
        ),
    ]);
}

#[test]
fn merge_patch_cases() {
    check(vec![
        (
            "null deletes and order stays",
            PatchKind::Merge,
            json!({"metadata": {"labels": {"app": null, "version": "v2"}}}),
            Ok(json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "web-1", "labels": {"tier": "front", "zone": "a", "version": "v2"}},
                "spec": {"containers": [{"name": "app", "image": "web:1", "args": ["serve"]}]}
            })),
        ),
        (
            "lists are replaced, new maps lose their nulls",
            PatchKind::Merge,
            json!({"spec": {"containers": [{"name": "app", "image": "web:2"}]},
                   "metadata": {"annotations": {"a": "1", "b": null}}}),
            Ok(json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "web-1", "labels": {"app": "web", "tier": "front", "zone": "a"},
                             "annotations": {"a": "1"}},
                "spec": {"containers": [{"name": "app", "image": "web:2"}]}
            })),
        ),
        (
            "not an object",
            PatchKind::Merge,
            json!([1]),
            invalid_starting("merge patch: the patch must be a JSON object"),
        ),
    ]);
    // Key order is part of what kubectl prints.
    let got = run(PatchKind::Merge, json!({"metadata": {"labels": {"app": null}}})).unwrap();
    let keys: Vec<&String> = got["metadata"]["labels"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["tier", "zone"]);
}

#[test]
fn merge_patch_works_on_custom_resources() {
    let vs = json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "r"}, "spec": {"hosts": ["a"], "http": [{"route": [{"destination": {"host": "a"}}]}]}});
    let got = apply_patch(
        kind("networking.istio.io", "virtualservices"),
        &vs,
        &json!({"spec": {"hosts": ["b"]}}),
        PatchKind::Merge,
    )
    .unwrap();
    assert_eq!(got["spec"], json!({"hosts": ["b"], "http": [{"route": [{"destination": {"host": "a"}}]}]}));
}
