//! Discovery documents (`/version`, `/api`, `/apis`, resource lists) and the minimal OpenAPI v3
//! documents kubectl reads to decide that the server validates fields itself. Built from the
//! kinds table; holds no state.

use super::super::kinds::{self, Kind};
use serde_json::{Value, json};

pub fn version() -> Value {
    json!({
        "major": "1", "minor": "33", "gitVersion": "v1.33.1-meshdeck-sim",
        "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.24.0", "compiler": "gc",
        "platform": "linux/amd64"
    })
}

pub fn core_versions() -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]})
}

fn group_doc(group: &str, versions: &[&str]) -> Value {
    let vs: Vec<Value> =
        versions.iter().map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v})).collect();
    json!({"name": group, "versions": vs.clone(), "preferredVersion": vs[0]})
}

pub fn group_list() -> Value {
    let groups: Vec<Value> = kinds::groups().iter().map(|(g, vs)| group_doc(g, vs)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub fn group(name: &str) -> Option<Value> {
    kinds::groups().into_iter().find(|(g, _)| *g == name).map(|(g, vs)| {
        let mut d = group_doc(g, &vs);
        d["kind"] = json!("APIGroup");
        d["apiVersion"] = json!("v1");
        d
    })
}

fn resource_entry(k: &Kind) -> Value {
    let mut e = json!({
        "name": k.plural, "singularName": k.singular, "namespaced": k.namespaced,
        "kind": k.kind, "verbs": k.verbs(),
    });
    if !k.short_names.is_empty() {
        e["shortNames"] = json!(k.short_names);
    }
    if matches!(k.plural, "pods" | "services" | "deployments" | "replicasets" | "statefulsets" | "daemonsets") {
        e["categories"] = json!(["all"]);
    }
    e
}

/// `APIResourceList` for one group version, or None when it is not served.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for k in kinds::all().filter(|k| k.group == group && k.versions.contains(&version)) {
        resources.push(resource_entry(k));
        if !k.virtual_only {
            let sub = |name: &str, kind: &str, verbs: &[&str]| {
                json!({"name": format!("{}/{name}", k.plural), "singularName": "", "namespaced": k.namespaced,
                    "kind": kind, "verbs": verbs})
            };
            if matches!(
                k.plural,
                "pods" | "deployments" | "replicasets" | "statefulsets" | "daemonsets" | "jobs" | "namespaces"
            ) {
                resources.push(sub("status", k.kind, &["get", "patch", "update"]));
            }
            if k.plural == "pods" {
                resources.push(sub("portforward", "PodPortForwardOptions", &["create", "get"]));
            }
        }
    }
    if resources.is_empty() {
        return None;
    }
    let gv = if group.is_empty() { version.to_string() } else { format!("{group}/{version}") };
    Some(json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}))
}

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() { format!("api/{version}") } else { format!("apis/{group}/{version}") }
}

/// `/openapi/v3`: one entry per served group version.
pub fn openapi_root() -> Value {
    let mut paths = serde_json::Map::new();
    let mut add = |g: &str, v: &str| {
        let p = gv_path(g, v);
        paths.insert(p.clone(), json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash=meshdeck-sim-1")}));
    };
    add("", "v1");
    for (g, vs) in kinds::groups() {
        for v in vs {
            add(g, v);
        }
    }
    json!({"paths": paths})
}

/// A minimal OpenAPI v3 document for a group version: each resource's item path carries a
/// `patch` operation with the GVK extension and the `fieldValidation` parameter, which is what
/// kubectl looks for before it leaves validation to the server.
pub fn openapi_doc(path: &str) -> Option<Value> {
    let rest = path.trim_start_matches('/');
    let (group, version) = match rest.split('/').collect::<Vec<_>>().as_slice() {
        ["api", v] => ("", v.to_string()),
        ["apis", g, v] => (*g, v.to_string()),
        _ => return None,
    };
    let mut paths = serde_json::Map::new();
    for k in kinds::all().filter(|k| k.group == group && k.versions.contains(&version.as_str())) {
        let base = format!("/{}", gv_path(group, &version));
        let item = if k.namespaced {
            format!("{base}/namespaces/{{namespace}}/{}/{{name}}", k.plural)
        } else {
            format!("{base}/{}/{{name}}", k.plural)
        };
        let gvk = json!([{"group": k.group, "version": version, "kind": k.kind}]);
        let params = json!([
            {"name": "dryRun", "in": "query", "schema": {"type": "string"}},
            {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
            {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
            {"name": "force", "in": "query", "schema": {"type": "boolean"}}
        ]);
        paths.insert(
            item,
            json!({
                "get": {"operationId": format!("read{}", k.kind), "x-kubernetes-action": "get",
                        "x-kubernetes-group-version-kind": gvk[0].clone(), "responses": {"200": {"description": "OK"}}},
                "patch": {"operationId": format!("patch{}", k.kind), "x-kubernetes-action": "patch",
                          "x-kubernetes-group-version-kind": gvk[0].clone(), "parameters": params,
                          "responses": {"200": {"description": "OK"}}}
            }),
        );
    }
    if paths.is_empty() {
        return None;
    }
    Some(json!({"openapi": "3.0.0", "info": {"title": "meshdeck sim", "version": "v1.33.1"}, "paths": paths,
        "components": {"schemas": {}}}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_lists_aliases_and_short_names() {
        let l = resource_list("networking.istio.io", "v1alpha3").unwrap();
        let names: Vec<&str> = l["resources"].as_array().unwrap().iter().filter_map(|r| r["name"].as_str()).collect();
        assert!(names.contains(&"virtualservices"));
        let core = resource_list("", "v1").unwrap();
        let ns = core["resources"].as_array().unwrap().iter().find(|r| r["name"] == "namespaces").unwrap();
        assert_eq!(ns["shortNames"], json!(["ns"]));
        assert!(resource_list("apps", "v2").is_none());
        let doc = openapi_doc("/apis/apps/v1").unwrap();
        let p = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
        assert_eq!(p["x-kubernetes-group-version-kind"]["kind"], "Deployment");
    }
}
