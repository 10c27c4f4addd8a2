use super::kind;
use crate::sim::kinds::Kind;
use crate::sim::patch::{Conflict, PatchError, PatchKind, apply_patch, server_side_apply, track_update};
use serde_json::{Value, json};

const T1: &str = "2025-03-01T10:00:00Z";
const T2: &str = "2025-03-01T10:05:00Z";
const T3: &str = "2025-03-01T10:09:00Z";

fn cm_kind() -> &'static Kind {
    kind("", "configmaps")
}

fn deploy_kind() -> &'static Kind {
    kind("apps", "deployments")
}

fn cm(labels: Value, data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "shop", "labels": labels},
           "data": data})
}

fn entry(manager: &str, operation: &str, time: &str, api_version: &str, fields: Value) -> Value {
    json!({"manager": manager, "operation": operation, "apiVersion": api_version, "time": time,
           "fieldsType": "FieldsV1", "fieldsV1": fields})
}

fn managed(obj: &Value) -> &Value {
    &obj["metadata"]["managedFields"]
}

fn conflicts(r: Result<Value, PatchError>) -> Vec<(String, String)> {
    match r {
        Err(PatchError::Conflicts(cs)) => cs.into_iter().map(|Conflict { manager, field }| (manager, field)).collect(),
        other => panic!("expected conflicts, got {other:?}"),
    }
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[test]
fn apply_creates_a_config_map_with_its_field_set() {
    let got = server_side_apply(
        cm_kind(),
        None,
        &cm(json!({"app": "web"}), json!({"mode": "fast", "size": "2"})),
        "meshdeck",
        false,
        T1,
    )
    .unwrap();
    assert_eq!(
        got,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
               "metadata": {"name": "cfg", "namespace": "shop", "labels": {"app": "web"},
                            "managedFields": [entry("meshdeck", "Apply", T1, "v1",
                                json!({"f:data": {"f:mode": {}, "f:size": {}}, "f:metadata": {"f:labels": {"f:app": {}}}}))]},
               "data": {"mode": "fast", "size": "2"}})
    );
    assert_eq!(
        serde_json::to_string(&managed(&got)[0]["fieldsV1"]).unwrap(),
        r#"{"f:data":{"f:mode":{},"f:size":{}},"f:metadata":{"f:labels":{"f:app":{}}}}"#
    );
}

fn deployment(image: &str, replicas: u32) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "app", "image": image,
                    "env": [{"name": "MODE", "value": "fast"}], "ports": [{"containerPort": 8080}]}]}
            }
        }
    })
}

#[test]
fn apply_creates_a_deployment_with_keyed_containers() {
    let got = server_side_apply(deploy_kind(), None, &deployment("web:1", 2), "meshdeck", false, T1).unwrap();
    let want = r#"{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:env":{"k:{\"name\":\"MODE\"}":{".":{},"f:name":{},"f:value":{}}},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}"#;
    assert_eq!(serde_json::to_string(&managed(&got)[0]["fieldsV1"]).unwrap(), want);
    assert_eq!(managed(&got)[0]["apiVersion"], json!("apps/v1"));
    let mut body = got.clone();
    body["metadata"].as_object_mut().unwrap().shift_remove("managedFields");
    assert_eq!(body, deployment("web:1", 2));
}

#[test]
fn conflicting_applies_name_the_owner_and_the_fields() {
    let live = server_side_apply(deploy_kind(), None, &deployment("web:1", 2), "meshdeck", false, T1).unwrap();
    let other = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "labels": {"app": "api"}},
        "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "app", "image": "web:2"}]}}}});
    let got = conflicts(server_side_apply(deploy_kind(), Some(&live), &other, "argocd", false, T2));
    assert_eq!(
        got,
        pairs(&[
            ("meshdeck", ".metadata.labels.app"),
            ("meshdeck", ".spec.replicas"),
            ("meshdeck", ".spec.template.spec.containers[name=\"app\"].image"),
        ])
    );
}

#[test]
fn equal_values_are_shared_and_force_moves_ownership() {
    let live =
        server_side_apply(cm_kind(), None, &cm(json!({"app": "web"}), json!({"mode": "fast"})), "meshdeck", false, T1)
            .unwrap();
    let same = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "labels": {"app": "web"}}});
    let shared = server_side_apply(cm_kind(), Some(&live), &same, "helm", false, T2).unwrap();
    assert_eq!(
        managed(&shared),
        &json!([
            entry(
                "meshdeck",
                "Apply",
                T1,
                "v1",
                json!({"f:data": {"f:mode": {}}, "f:metadata": {"f:labels": {"f:app": {}}}})
            ),
            entry("helm", "Apply", T2, "v1", json!({"f:metadata": {"f:labels": {"f:app": {}}}})),
        ])
    );
    assert_eq!(shared["metadata"]["labels"], json!({"app": "web"}));

    let different =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "labels": {"app": "api"}}});
    assert_eq!(
        conflicts(server_side_apply(cm_kind(), Some(&shared), &different, "argocd", false, T3)),
        pairs(&[("meshdeck", ".metadata.labels.app"), ("helm", ".metadata.labels.app")])
    );
    let forced = server_side_apply(cm_kind(), Some(&shared), &different, "argocd", true, T3).unwrap();
    assert_eq!(forced["metadata"]["labels"], json!({"app": "api"}));
    assert_eq!(
        managed(&forced),
        &json!([
            entry("meshdeck", "Apply", T1, "v1", json!({"f:data": {"f:mode": {}}})),
            entry("argocd", "Apply", T3, "v1", json!({"f:metadata": {"f:labels": {"f:app": {}}}})),
        ])
    );
}

#[test]
fn dropping_a_field_removes_it_only_when_nobody_else_owns_it() {
    let two = cm(json!({"app": "web", "tier": "gold"}), json!({"mode": "fast"}));
    let live = server_side_apply(cm_kind(), None, &two, "meshdeck", false, T1).unwrap();

    // Alone: the label goes.
    let one = cm(json!({"app": "web"}), json!({"mode": "fast"}));
    let alone = server_side_apply(cm_kind(), Some(&live), &one, "meshdeck", false, T2).unwrap();
    assert_eq!(alone["metadata"]["labels"], json!({"app": "web"}));
    assert_eq!(
        managed(&alone),
        &json!([entry(
            "meshdeck",
            "Apply",
            T2,
            "v1",
            json!({"f:data": {"f:mode": {}}, "f:metadata": {"f:labels": {"f:app": {}}}})
        )])
    );

    // Dropping every label takes the emptied map along.
    let none = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}, "data": {"mode": "fast"}});
    let bare = server_side_apply(cm_kind(), Some(&alone), &none, "meshdeck", false, T3).unwrap();
    assert_eq!(bare["metadata"].get("labels"), None);

    // Shared: the label stays, now owned by the other manager only.
    let tier =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "labels": {"tier": "gold"}}});
    let shared = server_side_apply(cm_kind(), Some(&live), &tier, "helm", false, T2).unwrap();
    let kept = server_side_apply(cm_kind(), Some(&shared), &one, "meshdeck", false, T3).unwrap();
    assert_eq!(kept["metadata"]["labels"], json!({"app": "web", "tier": "gold"}));
    assert_eq!(
        managed(&kept),
        &json!([
            entry("helm", "Apply", T2, "v1", json!({"f:metadata": {"f:labels": {"f:tier": {}}}})),
            entry(
                "meshdeck",
                "Apply",
                T3,
                "v1",
                json!({"f:data": {"f:mode": {}}, "f:metadata": {"f:labels": {"f:app": {}}}})
            ),
        ])
    );
}

#[test]
fn dropping_a_container_keeps_only_what_others_own() {
    let mut two = deployment("web:1", 2);
    two["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "proxy", "image": "proxy:1", "args": ["run"]}));
    let live = server_side_apply(deploy_kind(), None, &two, "meshdeck", false, T1).unwrap();

    let alone = server_side_apply(deploy_kind(), Some(&live), &deployment("web:1", 2), "meshdeck", false, T2).unwrap();
    let names: Vec<&Value> =
        alone["spec"]["template"]["spec"]["containers"].as_array().unwrap().iter().map(|c| &c["name"]).collect();
    assert_eq!(names, [&json!("app")]);

    // Someone edits the proxy's image: that field survives the apply that drops the proxy.
    let mut edited = live.clone();
    edited["spec"]["template"]["spec"]["containers"][1]["image"] = json!("proxy:2");
    track_update(deploy_kind(), Some(&live), &mut edited, "kubectl-edit", T2);
    let kept = server_side_apply(deploy_kind(), Some(&edited), &deployment("web:1", 2), "meshdeck", false, T3).unwrap();
    assert_eq!(kept["spec"]["template"]["spec"]["containers"][1], json!({"name": "proxy", "image": "proxy:2"}));
    assert_eq!(
        managed(&kept)[1],
        entry(
            "kubectl-edit",
            "Update",
            T2,
            "apps/v1",
            json!({"f:spec": {"f:template": {"f:spec": {"f:containers": {
            "k:{\"name\":\"proxy\"}": {"f:image": {}}}}}}})
        )
    );
}

#[test]
fn a_label_patched_by_kubectl_label_then_conflicts_with_the_applier() {
    let live =
        server_side_apply(cm_kind(), None, &cm(json!({"app": "web"}), json!({"mode": "fast"})), "meshdeck", false, T1)
            .unwrap();
    let mut patched =
        apply_patch(cm_kind(), &live, &json!({"metadata": {"labels": {"app": "canary"}}}), PatchKind::Merge).unwrap();
    track_update(cm_kind(), Some(&live), &mut patched, "kubectl-label", T2);
    assert_eq!(
        managed(&patched),
        &json!([
            entry("meshdeck", "Apply", T1, "v1", json!({"f:data": {"f:mode": {}}})),
            entry("kubectl-label", "Update", T2, "v1", json!({"f:metadata": {"f:labels": {"f:app": {}}}})),
        ])
    );
    let again = cm(json!({"app": "web"}), json!({"mode": "fast"}));
    assert_eq!(
        conflicts(server_side_apply(cm_kind(), Some(&patched), &again, "meshdeck", false, T3)),
        pairs(&[("kubectl-label", ".metadata.labels.app")])
    );
    // Agreeing with the current value is fine and shares the label.
    let agree = cm(json!({"app": "canary"}), json!({"mode": "fast"}));
    let shared = server_side_apply(cm_kind(), Some(&patched), &agree, "meshdeck", false, T3).unwrap();
    assert_eq!(
        managed(&shared)[0]["fieldsV1"],
        json!({"f:data": {"f:mode": {}}, "f:metadata": {"f:labels": {"f:app": {}}}})
    );
    assert_eq!(managed(&shared)[1]["manager"], json!("kubectl-label"));
}

#[test]
fn track_update_on_create_and_with_no_manager() {
    let mut obj = cm(json!({"app": "web"}), json!({"mode": "fast"}));
    obj["metadata"]["uid"] = json!("u-1");
    obj["metadata"]["creationTimestamp"] = json!(T1);
    let mut created = obj.clone();
    track_update(cm_kind(), None, &mut created, "kubectl-create", T1);
    assert_eq!(
        managed(&created),
        &json!([entry(
            "kubectl-create",
            "Update",
            T1,
            "v1",
            json!({"f:data": {".": {}, "f:mode": {}}, "f:metadata": {"f:labels": {".": {}, "f:app": {}}}})
        )])
    );
    let mut untracked = obj.clone();
    track_update(cm_kind(), None, &mut untracked, "", T1);
    assert_eq!(untracked, obj);
}

#[test]
fn a_repeated_apply_changes_nothing() {
    let body = cm(json!({"app": "web"}), json!({"mode": "fast"}));
    let live = server_side_apply(cm_kind(), None, &body, "meshdeck", false, T1).unwrap();
    assert_eq!(server_side_apply(cm_kind(), Some(&live), &body, "meshdeck", false, T2).unwrap(), live);
}

#[test]
fn applied_keyed_lists_need_their_keys() {
    let mut bad = deployment("web:1", 1);
    bad["spec"]["template"]["spec"]["containers"][0].as_object_mut().unwrap().shift_remove("name");
    assert_eq!(
        server_side_apply(deploy_kind(), None, &bad, "meshdeck", false, T1),
        Err(PatchError::Invalid(
            ".spec.template.spec.containers: element 0: associative list with keys has an element that omits key field \"name\" (and doesn't have default value)".into()
        ))
    );
}

#[test]
fn updates_take_fields_from_other_entries_and_ignore_status() {
    let mut live = cm(json!({"app": "web"}), json!({"mode": "fast"}));
    track_update(cm_kind(), None, &mut live, "kubectl-create", T1);
    let mut labelled = live.clone();
    labelled["metadata"]["labels"]["app"] = json!("api");
    labelled["data"]["mode"] = json!("slow");
    track_update(cm_kind(), Some(&live), &mut labelled, "kubectl-edit", T2);
    // kubectl-create keeps the maps it created, loses both values; nothing is left empty.
    assert_eq!(
        managed(&labelled),
        &json!([
            entry("kubectl-create", "Update", T1, "v1", json!({"f:data": {}, "f:metadata": {"f:labels": {}}})),
            entry(
                "kubectl-edit",
                "Update",
                T2,
                "v1",
                json!({"f:data": {"f:mode": {}}, "f:metadata": {"f:labels": {"f:app": {}}}})
            ),
        ])
    );
    let mut removed = labelled.clone();
    removed.as_object_mut().unwrap().shift_remove("data");
    track_update(cm_kind(), Some(&labelled), &mut removed, "cleaner", T3);
    assert_eq!(
        managed(&removed),
        &json!([
            entry("kubectl-create", "Update", T1, "v1", json!({"f:metadata": {"f:labels": {}}})),
            entry("kubectl-edit", "Update", T2, "v1", json!({"f:metadata": {"f:labels": {"f:app": {}}}})),
        ])
    );
    let mut status = removed.clone();
    status["status"] = json!({"phase": "Ready"});
    let before = status.clone();
    track_update(cm_kind(), Some(&removed), &mut status, "controller", T3);
    assert_eq!(status, before);
}

#[test]
fn istio_lists_are_atomic() {
    let vs_kind = kind("networking.istio.io", "virtualservices");
    let vs = |hosts: Value| {
        json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "r", "namespace": "shop"},
               "spec": {"hosts": hosts, "http": [{"route": [{"destination": {"host": "web"}}]}]}})
    };
    let live = server_side_apply(vs_kind, None, &vs(json!(["web"])), "meshdeck", false, T1).unwrap();
    assert_eq!(
        managed(&live),
        &json!([entry(
            "meshdeck",
            "Apply",
            T1,
            "networking.istio.io/v1",
            json!({"f:spec": {"f:hosts": {}, "f:http": {}}})
        )])
    );
    assert_eq!(
        conflicts(server_side_apply(vs_kind, Some(&live), &vs(json!(["web", "api"])), "argocd", false, T2)),
        pairs(&[("meshdeck", ".spec.hosts")])
    );
}
