//! The built-in kinds' own validation (`pkg/apis/{apps,batch,core}/validation`) for the fields
//! meshdeck's writes and the scenarios touch: workload selectors (required, well formed,
//! matching the template's labels, immutable after create), pod templates (containers need a
//! name and an image), StatefulSet fields that cannot change, Job selector and template, and a
//! Service's cluster IP. Values are read as JSON that has already decoded into the typed struct.

use super::field::{self, FieldError, Shown, go_quote, go_string_list, go_string_map};
use super::meta::labels_errors;
use super::names;
use crate::sim::kinds::Kind;
use serde_json::{Map, Value};

pub fn validate(kind: &Kind, new: &Value, old: Option<&Value>, errs: &mut Vec<FieldError>) {
    let spec = new.get("spec").unwrap_or(&Value::Null);
    match (kind.group, kind.plural) {
        ("apps", "deployments") => {
            workload_spec(spec, "deployment", true, errs);
            strategy(spec, errs);
            if let Some(old) = old {
                immutable_selector(spec, old, errs);
            }
        }
        ("apps", "replicasets") => {
            // The ReplicaSet validation shares the Deployment's wording for an empty selector.
            workload_spec(spec, "deployment", true, errs);
            if let Some(old) = old {
                immutable_selector(spec, old, errs);
            }
        }
        ("apps", "daemonsets") => {
            workload_spec(spec, "daemonset", false, errs);
            if let Some(old) = old {
                immutable_selector(spec, old, errs);
            }
        }
        ("apps", "statefulsets") => {
            workload_spec(spec, "statefulset", true, errs);
            if let Some(old) = old {
                statefulset_update(spec, old.get("spec").unwrap_or(&Value::Null), errs);
            }
        }
        ("batch", "jobs") => match old {
            None => {
                if let Some(t) = spec.get("template") {
                    pod_template(t, "spec.template", errs);
                }
            }
            Some(old) => job_update(spec, old.get("spec").unwrap_or(&Value::Null), errs),
        },
        ("", "pods") if old.is_none() => pod_spec(spec, "spec", errs),
        ("", "services") => service(spec, old.and_then(|o| o.get("spec")), errs),
        _ => {}
    }
}

/// `v1.LabelSelector{...}` as Go's `%#v` prints the selector it was given.
pub fn go_selector(sel: &Value) -> String {
    if sel.is_null() {
        return "null".into();
    }
    let labels = match sel.get("matchLabels") {
        Some(m) if m.is_object() => go_string_map(m),
        _ => "map[string]string(nil)".into(),
    };
    let exprs = match sel.get("matchExpressions").and_then(Value::as_array) {
        Some(a) if !a.is_empty() => {
            let items: Vec<String> = a
                .iter()
                .map(|e| {
                    let values = match e.get("values") {
                        Some(v) if v.is_array() => go_string_list(v),
                        _ => "[]string(nil)".into(),
                    };
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{values}}}",
                        go_quote(e["key"].as_str().unwrap_or_default()),
                        go_quote(e["operator"].as_str().unwrap_or_default())
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", items.join(", "))
        }
        Some(_) => "[]v1.LabelSelectorRequirement{}".into(),
        None => "[]v1.LabelSelectorRequirement(nil)".into(),
    };
    format!("v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:{exprs}}}")
}

/// Go's semantic equality treats an absent map or list like an empty one.
fn normalized(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !is_empty(v))
                .map(|(k, v)| (k.clone(), normalized(v)))
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalized).collect()),
        other => other.clone(),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    normalized(a.unwrap_or(&Value::Null)) == normalized(b.unwrap_or(&Value::Null))
}

fn selector_errors(sel: &Value, path: &str, errs: &mut Vec<FieldError>) {
    if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
        labels_errors(m, &format!("{path}.matchLabels"), errs);
    }
    for (i, e) in sel.get("matchExpressions").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let p = format!("{path}.matchExpressions[{i}]");
        let op = e["operator"].as_str().unwrap_or_default();
        let has_values = e["values"].as_array().is_some_and(|v| !v.is_empty());
        match op {
            "In" | "NotIn" if !has_values => errs
                .push(field::required(format!("{p}.values"), "must be specified when `operator` is 'In' or 'NotIn'")),
            "Exists" | "DoesNotExist" if has_values => errs.push(field::forbidden(
                format!("{p}.values"),
                "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
            )),
            "In" | "NotIn" | "Exists" | "DoesNotExist" => {}
            other => {
                errs.push(field::invalid(format!("{p}.operator"), Shown::str(other), "not a valid selector operator"))
            }
        }
        let key = e["key"].as_str().unwrap_or_default();
        for m in names::qualified_name(key) {
            errs.push(field::invalid(format!("{p}.key"), Shown::str(key), m));
        }
    }
}

/// Replicas, selector and template, as Deployments, ReplicaSets, StatefulSets and DaemonSets
/// share them (`ValidatePodTemplateSpecForReplicaSet` and friends).
fn workload_spec(spec: &Value, what: &str, has_replicas: bool, errs: &mut Vec<FieldError>) {
    if has_replicas && let Some(r) = spec.get("replicas").and_then(Value::as_i64).filter(|r| *r < 0) {
        errs.push(field::invalid("spec.replicas", Shown::Raw(r.to_string()), "must be greater than or equal to 0"));
    }
    let sel = spec.get("selector").filter(|s| !s.is_null());
    match sel {
        None => errs.push(field::required("spec.selector", "")),
        Some(s) => {
            selector_errors(s, "spec.selector", errs);
            let n = s.get("matchLabels").and_then(Value::as_object).map_or(0, Map::len)
                + s.get("matchExpressions").and_then(Value::as_array).map_or(0, Vec::len);
            if n == 0 {
                errs.push(field::invalid(
                    "spec.selector",
                    Shown::Raw(go_selector(s)),
                    format!("empty selector is invalid for {what}"),
                ));
            }
        }
    }
    let Some(template) = spec.get("template").filter(|t| !t.is_null()) else {
        errs.push(field::required("spec.template", ""));
        return;
    };
    if let Some(s) = sel
        && (s.get("matchLabels").and_then(Value::as_object).is_some_and(|m| !m.is_empty())
            || s.get("matchExpressions").and_then(Value::as_array).is_some_and(|a| !a.is_empty()))
        && !crate::labels::selector_matches(Some(s), &crate::labels::labels_of(template))
    {
        let shown = match template.pointer("/metadata/labels") {
            Some(l) if l.is_object() => go_string_map(l),
            _ => "map[string]string(nil)".into(),
        };
        errs.push(field::invalid(
            "spec.template.metadata.labels",
            Shown::Raw(shown),
            "`selector` does not match template `labels`",
        ));
    }
    pod_template(template, "spec.template", errs);
    let restart = template.pointer("/spec/restartPolicy").and_then(Value::as_str).unwrap_or("Always");
    if restart != "Always" {
        errs.push(field::not_supported("spec.template.spec.restartPolicy", Shown::str(restart), &["Always"]));
    }
}

fn strategy(spec: &Value, errs: &mut Vec<FieldError>) {
    let Some(s) = spec.get("strategy").filter(|s| s.is_object()) else { return };
    match s.get("type").and_then(Value::as_str).unwrap_or("RollingUpdate") {
        "Recreate" if s.get("rollingUpdate").is_some_and(|r| !r.is_null()) => errs.push(field::forbidden(
            "spec.strategy.rollingUpdate",
            "may not be specified when strategy `type` is 'Recreate'",
        )),
        "Recreate" | "RollingUpdate" => {}
        other => {
            errs.push(field::not_supported("spec.strategy.type", Shown::str(other), &["Recreate", "RollingUpdate"]))
        }
    }
}

fn immutable_selector(spec: &Value, old: &Value, errs: &mut Vec<FieldError>) {
    let new_sel = spec.get("selector");
    if !same(new_sel, old.pointer("/spec/selector")) {
        errs.push(field::invalid(
            "spec.selector",
            Shown::Raw(go_selector(new_sel.unwrap_or(&Value::Null))),
            "field is immutable",
        ));
    }
}

/// `ValidatePodTemplateSpec`: template labels and annotations, then the pod spec. The labels'
/// path leaves out `metadata`, as the API server's does.
fn pod_template(template: &Value, path: &str, errs: &mut Vec<FieldError>) {
    if let Some(l) = template.pointer("/metadata/labels").and_then(Value::as_object) {
        labels_errors(l, &format!("{path}.labels"), errs);
    }
    pod_spec(template.get("spec").unwrap_or(&Value::Null), &format!("{path}.spec"), errs);
}

/// Containers: at least one, each with a DNS-label name unique in the pod and an image.
fn pod_spec(spec: &Value, path: &str, errs: &mut Vec<FieldError>) {
    let mut seen: Vec<String> = Vec::new();
    for list in ["initContainers", "containers"] {
        let items = spec.get(list).and_then(Value::as_array);
        if list == "containers" && items.is_none_or(Vec::is_empty) {
            errs.push(field::required(format!("{path}.containers"), ""));
            continue;
        }
        for (i, c) in items.into_iter().flatten().enumerate() {
            let p = format!("{path}.{list}[{i}]");
            let name = c.get("name").and_then(Value::as_str).unwrap_or_default();
            if name.is_empty() {
                errs.push(field::required(format!("{p}.name"), ""));
            } else {
                for m in names::dns1123_label(name) {
                    errs.push(field::invalid(format!("{p}.name"), Shown::str(name), m));
                }
                if seen.iter().any(|s| s == name) {
                    errs.push(field::duplicate(format!("{p}.name"), Shown::str(name)));
                }
                seen.push(name.to_string());
            }
            let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
            if image.is_empty() {
                errs.push(field::required(format!("{p}.image"), ""));
            } else if image.trim() != image {
                errs.push(field::invalid(
                    format!("{p}.image"),
                    Shown::str(image),
                    "must not have leading or trailing whitespace",
                ));
            }
            for (j, port) in c.get("ports").and_then(Value::as_array).into_iter().flatten().enumerate() {
                let n = port.get("containerPort").and_then(Value::as_i64).unwrap_or(0);
                if !(1..=65535).contains(&n) {
                    errs.push(field::invalid(
                        format!("{p}.ports[{j}].containerPort"),
                        Shown::Raw(n.to_string()),
                        "must be between 1 and 65535, inclusive",
                    ));
                }
            }
        }
    }
    if let Some(r) = spec.get("restartPolicy").and_then(Value::as_str)
        && !matches!(r, "Always" | "OnFailure" | "Never")
    {
        errs.push(field::not_supported(
            format!("{path}.restartPolicy"),
            Shown::str(r),
            &["Always", "OnFailure", "Never"],
        ));
    }
}

/// `ValidateStatefulSetUpdate`: only these spec fields may change.
fn statefulset_update(spec: &Value, old: &Value, errs: &mut Vec<FieldError>) {
    const MUTABLE: [&str; 7] = [
        "replicas",
        "ordinals",
        "template",
        "updateStrategy",
        "revisionHistoryLimit",
        "persistentVolumeClaimRetentionPolicy",
        "minReadySeconds",
    ];
    let strip = |v: &Value| -> Value {
        let mut m = v.as_object().cloned().unwrap_or_default();
        for f in MUTABLE {
            m.remove(f);
        }
        normalized(&Value::Object(m))
    };
    if strip(spec) != strip(old) {
        errs.push(field::forbidden(
            "spec",
            "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ));
    }
}

/// `ValidateJobUpdate`: the selector and the pod template are fixed once the Job exists.
fn job_update(spec: &Value, old: &Value, errs: &mut Vec<FieldError>) {
    if !same(spec.get("selector"), old.get("selector")) {
        errs.push(field::invalid(
            "spec.selector",
            Shown::Raw(go_selector(spec.get("selector").unwrap_or(&Value::Null))),
            "field is immutable",
        ));
    }
    if !same(spec.get("template"), old.get("template")) {
        // Go prints the whole internal PodTemplateSpec; its JSON stands in for that here.
        let shown = format!("core.PodTemplateSpec{}", spec.get("template").unwrap_or(&Value::Null));
        errs.push(field::invalid("spec.template", Shown::Raw(shown), "field is immutable"));
    }
    if !same(spec.get("completions"), old.get("completions")) {
        let shown = spec.get("completions").map_or("null".to_string(), Value::to_string);
        errs.push(field::invalid("spec.completions", Shown::Raw(shown), "field is immutable"));
    }
}

fn cluster_ips(spec: &Value) -> Vec<String> {
    let ips: Vec<String> = spec
        .get("clusterIPs")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    if !ips.is_empty() {
        return ips;
    }
    spec.get("clusterIP")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(|s| vec![s.to_string()])
        .unwrap_or_default()
}

/// Ports on create; on update, an allocated cluster IP cannot change (a client that leaves it
/// out keeps the old one, as the API server fills it in before validating).
fn service(spec: &Value, old: Option<&Value>, errs: &mut Vec<FieldError>) {
    let typ = spec.get("type").and_then(Value::as_str).unwrap_or("ClusterIP");
    let headless = spec.get("clusterIP").and_then(Value::as_str) == Some("None");
    let ports = spec.get("ports").and_then(Value::as_array);
    if ports.is_none_or(Vec::is_empty) && !headless && typ != "ExternalName" {
        errs.push(field::required("spec.ports", ""));
    }
    for (i, p) in ports.into_iter().flatten().enumerate() {
        let n = p.get("port").and_then(Value::as_i64).unwrap_or(0);
        if !(1..=65535).contains(&n) {
            errs.push(field::invalid(
                format!("spec.ports[{i}].port"),
                Shown::Raw(n.to_string()),
                "must be between 1 and 65535, inclusive",
            ));
        }
    }
    let Some(old) = old else { return };
    let old_type = old.get("type").and_then(Value::as_str).unwrap_or("ClusterIP");
    if typ == "ExternalName" || old_type == "ExternalName" {
        return;
    }
    let (new_ips, old_ips) = (cluster_ips(spec), cluster_ips(old));
    if new_ips.is_empty() || old_ips.is_empty() {
        return;
    }
    let shown = go_string_list(&Value::Array(new_ips.iter().map(|s| Value::String(s.clone())).collect()));
    for (i, ip) in old_ips.iter().enumerate() {
        if new_ips.get(i).is_some_and(|n| n != ip) {
            errs.push(field::invalid(
                format!("spec.clusterIPs[{i}]"),
                Shown::Raw(shown.clone()),
                "may not change once set",
            ));
        }
    }
}
