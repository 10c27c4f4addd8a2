use super::kind;
use crate::sim::patch::{PatchError, PatchKind, apply_patch};
use serde_json::{Value, json};

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web", "team": "a"}, "finalizers": ["x/keep", "x/drop"]},
        "spec": {
            "replicas": 2,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {"name": "app", "image": "web:1", "args": ["serve", "--fast"],
                         "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                         "ports": [{"containerPort": 8080, "protocol": "TCP"}]},
                        {"name": "proxy", "image": "proxy:1"}
                    ],
                    "tolerations": [{"key": "k", "operator": "Exists"}]
                }
            }
        }
    })
}

/// The deployment after `edit` changed it.
fn expect(edit: impl FnOnce(&mut Value)) -> Result<Value, String> {
    let mut d = deployment();
    edit(&mut d);
    Ok(d)
}

#[test]
fn strategic_merge_patch_cases() {
    let cases: Vec<(&str, Value, Result<Value, String>)> = vec![
        (
            "containers merge by name",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "web:2"}]}}}}),
            expect(|d| d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("web:2")),
        ),
        (
            "a new container is appended",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "debug", "image": "busybox"}]}}}}),
            expect(|d| {
                d["spec"]["template"]["spec"]["containers"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"name": "debug", "image": "busybox"}))
            }),
        ),
        (
            "$patch: delete removes a container",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "proxy", "$patch": "delete"}]}}}}),
            expect(|d| d["spec"]["template"]["spec"]["containers"].as_array_mut().unwrap().truncate(1)),
        ),
        (
            "env merges by name, args are replaced",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "args": ["serve"],
                "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]}]}}}}),
            expect(|d| {
                let c = &mut d["spec"]["template"]["spec"]["containers"][0];
                c["args"] = json!(["serve"]);
                c["env"] =
                    json!([{"name": "A", "value": "1"}, {"name": "B", "value": "3"}, {"name": "C", "value": "4"}]);
            }),
        ),
        (
            "null deletes a label, a key inside an element and a whole field",
            json!({"metadata": {"labels": {"team": null}},
                   "spec": {"strategy": {"rollingUpdate": null},
                            "template": {"spec": {"containers": [{"name": "app", "args": null}]}}}}),
            expect(|d| {
                d["metadata"]["labels"] = json!({"app": "web"});
                d["spec"]["strategy"] = json!({"type": "RollingUpdate"});
                d["spec"]["template"]["spec"]["containers"][0].as_object_mut().unwrap().shift_remove("args");
            }),
        ),
        (
            "$setElementOrder is honoured and stripped",
            json!({"spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "proxy"}, {"name": "app"}],
                "containers": [{"name": "app", "image": "web:3"}]}}}}),
            expect(|d| {
                let cs = d["spec"]["template"]["spec"]["containers"].as_array().unwrap().clone();
                let mut app = cs[0].clone();
                app["image"] = json!("web:3");
                d["spec"]["template"]["spec"]["containers"] = json!([cs[1].clone(), app]);
            }),
        ),
        (
            "tolerations have no merge key and are replaced",
            json!({"spec": {"template": {"spec": {"tolerations": [{"key": "other", "operator": "Exists"}]}}}}),
            expect(|d| d["spec"]["template"]["spec"]["tolerations"] = json!([{"key": "other", "operator": "Exists"}])),
        ),
        (
            "finalizers merge as a set; $deleteFromPrimitiveList removes",
            json!({"metadata": {"finalizers": ["x/keep", "x/new"], "$deleteFromPrimitiveList/finalizers": ["x/drop"]}}),
            expect(|d| d["metadata"]["finalizers"] = json!(["x/keep", "x/new"])),
        ),
        (
            "$retainKeys clears the fields it does not list",
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
            expect(|d| d["spec"]["strategy"] = json!({"type": "Recreate"})),
        ),
        (
            "$patch: replace on a map",
            json!({"spec": {"template": {"metadata": {"labels": {"$patch": "replace", "v": "2"}}}}}),
            expect(|d| d["spec"]["template"]["metadata"]["labels"] = json!({"v": "2"})),
        ),
        (
            "$patch: replace in a list replaces the list",
            json!({"spec": {"template": {"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "o:1"}]}}}}),
            expect(|d| d["spec"]["template"]["spec"]["containers"] = json!([{"name": "only", "image": "o:1"}])),
        ),
        (
            "container ports merge by containerPort",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "app",
                "ports": [{"containerPort": 8080, "name": "http"}, {"containerPort": 9090}]}]}}}}),
            expect(|d| {
                d["spec"]["template"]["spec"]["containers"][0]["ports"] =
                    json!([{"containerPort": 8080, "protocol": "TCP", "name": "http"}, {"containerPort": 9090}])
            }),
        ),
        (
            "unknown fields merge like a merge patch",
            json!({"spec": {"extra": {"a": 1, "b": null}, "template": {"spec": {"future": [1, 2]}}}}),
            expect(|d| {
                d["spec"]["extra"] = json!({"a": 1});
                d["spec"]["template"]["spec"]["future"] = json!([1, 2]);
            }),
        ),
        (
            "an element without its merge key",
            json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}),
            Err(".spec.template.spec.containers: map: {\"image\":\"x\"} does not contain declared merge key: name"
                .into()),
        ),
        (
            "an unknown $patch directive",
            json!({"spec": {"strategy": {"$patch": "shuffle"}}}),
            Err(".spec.strategy: unknown patch type: \"shuffle\"".into()),
        ),
    ];
    for (name, patch, want) in cases {
        let got =
            apply_patch(kind("apps", "deployments"), &deployment(), &patch, PatchKind::Strategic).map_err(
                |e| match e {
                    PatchError::Invalid(m) => m,
                    other => panic!("{name}: unexpected {other:?}"),
                },
            );
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn service_ports_merge_by_port() {
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}, {"name": "grpc", "port": 90}]}});
    let got = apply_patch(
        kind("", "services"),
        &svc,
        &json!({"spec": {"ports": [{"port": 90, "targetPort": 9090}]}}),
        PatchKind::Strategic,
    )
    .unwrap();
    assert_eq!(
        got["spec"]["ports"],
        json!([{"name": "http", "port": 80, "targetPort": 8080}, {"name": "grpc", "port": 90, "targetPort": 9090}])
    );
}

#[test]
fn strategic_merge_patch_is_refused_for_istio_resources() {
    let vs = json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "r"}});
    let err = apply_patch(
        kind("networking.istio.io", "virtualservices"),
        &vs,
        &json!({"metadata": {"labels": {"a": "b"}}}),
        PatchKind::Strategic,
    )
    .unwrap_err();
    match err {
        PatchError::Invalid(m) => {
            assert!(m.starts_with("strategic merge patch is not supported for custom resources"), "{m}")
        }
        other => panic!("unexpected {other:?}"),
    }
}
